"""Turn pydantic's ``ValidationError`` into findings a person can act on.

Pydantic reports each error with a ``loc`` tuple that mixes data keys, list indexes and, for
discriminated unions, the tag it chose (``("components", 0, "BODY", "text")``, or a
function's choice such as ``("qps", "map", "ListChatappTemplate")``). Walking the
model types alongside the ``loc`` separates the tags from the data path, finds the model that
refused an unknown key (to suggest the key meant), and the allowed values of a ``Literal``.

Messages never quote the offending value except where it is a short enum-like word (a
``type`` or ``provider`` tag, a ``Literal``): config errors must not print credentials.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic.fields import FieldInfo

from wasync.spec.yaml import DataPath, PathPart


@dataclass(frozen=True)
class Finding:
    """One thing wrong, relative to the value that was validated.

    ``path`` is the breadcrumb shown to the user; ``at`` is where to point (the mapping that
    lacks a field, the key that is unknown); ``key`` points at the key of ``at`` rather than
    its value.
    """

    path: DataPath
    message: str
    at: DataPath
    key: bool = False


def format_path(path: Sequence[PathPart]) -> str:
    """``("components", 0, "buttons", 2, "text")`` -> ``components[0].buttons[2].text``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def describe(value: Any) -> str:
    """What kind of value this is, in words (never the value itself)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """The choice closest to ``word``, if one is close enough to be a likely typo."""
    for choice in choices:
        if choice.lower() == word.lower() or choice.replace("_", "-") == word:
            return choice
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], 1, 0.6)
        if close:
            return next(c for c in choices if c.lower() == close[0])
    return close[0] if close else None


def explain(
    error: ValidationError, root: Any, data: Any, shown_as: Mapping[str, str] | None = None
) -> list[Finding]:
    """The findings of ``error``, raised validating ``data`` as type ``root``.

    ``shown_as`` maps values that must not be quoted to what to show instead: a value read
    from the environment appears as the ``${VAR}`` it came from, never as itself."""
    findings: list[Finding] = []
    for item in error.errors(include_url=False, include_context=True, include_input=True):
        findings.append(_explain_one(item, root, data, shown_as or {}))
    return findings


# --- walking types along a loc -------------------------------------------------------------


@dataclass(frozen=True)
class _Union:
    """A discriminated union: its discriminator field and its members by tag."""

    field: str
    members: dict[str, Any]


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None``; a discriminated union becomes ``_Union`` (one
    chosen by a field's value, or by a function, whose members carry a ``Tag``)."""
    discriminator: str | None = None
    chosen = False  # a callable Discriminator: members are Annotated[X, Tag(name)]
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            args = get_args(tp)
            for annotation in args[1:]:
                if isinstance(annotation, FieldInfo) and isinstance(annotation.discriminator, str):
                    discriminator = annotation.discriminator
                elif isinstance(annotation, Discriminator) and callable(annotation.discriminator):
                    chosen = True
            tp = args[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(tp) if a is not type(None)]
            if chosen:
                return _Union("", _tagged(members))
            if discriminator is not None:
                return _Union(discriminator, _tags(members, discriminator))
            if len(members) == 1:
                tp = members[0]
            else:
                return tp
        else:
            return tp


def _tags(members: list[Any], field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member in members:
        annotation = member.model_fields[field].annotation
        for tag in get_args(annotation):
            out[str(tag)] = member
    return out


def _tagged(members: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member in members:
        args = get_args(member) if get_origin(member) is typing.Annotated else (member,)
        for annotation in args[1:]:
            if isinstance(annotation, Tag):
                out[annotation.tag] = args[0]
    return out


def _field_type(model: type[BaseModel], name: str) -> Any:
    info = model.model_fields.get(name)
    if info is None:
        return None
    if info.discriminator is not None:  # Field(discriminator=...) on the field itself
        return typing.Annotated[info.annotation, info]
    return info.annotation


def _walk(root: Any, loc: Sequence[PathPart]) -> tuple[DataPath, Any]:
    """The data path of ``loc`` (union tags removed) and the type found at its end."""
    path: list[PathPart] = []
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp) if tp is not None else None
        if isinstance(tp, _Union):
            tp = tp.members.get(str(part))
            continue  # the tag pydantic chose: not part of the data
        path.append(part)
        origin = get_origin(tp)
        if origin in (list, tuple):
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            tp = _field_type(tp, part)
        else:
            tp = None
    return tuple(path), (_unwrap(tp) if tp is not None else None)


def _value_at(data: Any, path: Sequence[PathPart]) -> Any:
    for part in path:
        found = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if not found:
            return None
        data = data[part]
    return data


# --- one error -----------------------------------------------------------------------------

_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping (key: value pairs)",
    "model_attributes_type": "a mapping (key: value pairs)",
}


def _what(union: _Union) -> str:
    """What a union's tag chooses, in words: ``button type``, ``component type``; for a
    union on another field than ``type``, the field's name."""
    if union.field != "type":
        return union.field
    names = {m.__name__ for m in union.members.values()}
    if {"QuickReplyButton", "UrlButton"} & names:
        return "button type"
    return "component type"


def _explain_one(item: Any, root: Any, data: Any, shown_as: Mapping[str, str]) -> Finding:
    kind: str = item["type"]
    loc: tuple[PathPart, ...] = tuple(item["loc"])
    value = item.get("input")

    if kind == "missing":
        parent_path, _ = _walk(root, loc[:-1])
        path = (*parent_path, loc[-1])
        return Finding(path, "required, but missing", at=parent_path)

    if kind == "extra_forbidden":
        parent_path, model = _walk(root, loc[:-1])
        key = str(loc[-1])
        path = (*parent_path, loc[-1])
        keys = list(model.model_fields) if _is_model(model) else []
        message = "unknown key"
        if keys:
            # also what an entry may add to its fields (fan-out: overrides, translations)
            guess = did_you_mean(key, [*keys, *getattr(model, "ENTRY_KEYS", ())])
            message += f"; did you mean `{guess}`?" if guess else ""
            message += f" (allowed: {', '.join(keys)})"
        return Finding(path, message, at=path, key=True)

    if kind in ("union_tag_invalid", "union_tag_not_found"):
        path, tp = _walk(root, loc)
        union = tp if isinstance(tp, _Union) else _Union("type", {})
        tags = list(union.members)
        allowed = f"allowed: {', '.join(tags)}"
        container = _value_at(data, path)
        if not isinstance(container, dict):
            return _wrong_type(path, "a mapping (key: value pairs)", container)
        field = union.field
        if field not in container:
            return Finding((*path, field), f"missing; {allowed}", at=path)
        tag = container[field]
        if not isinstance(tag, str):
            return _wrong_type((*path, field), f"one of {', '.join(tags)}", tag)
        what = _what(union)
        guess = did_you_mean(tag, tags)
        hint = f"did you mean {guess}? ({allowed})" if guess else allowed
        shown = quoted(shown_as.get(tag, tag))
        return Finding((*path, field), f"{shown} is not a {what}; {hint}", (*path, field))

    path, tp = _walk(root, loc)

    if kind == "literal_error":
        options = [str(o) for o in get_args(tp)] if get_origin(tp) is Literal else []
        allowed = ", ".join(options) if options else item.get("ctx", {}).get("expected", "")
        if isinstance(value, str):
            guess = did_you_mean(value, options) if options else None
            hint = f"; did you mean {guess}?" if guess else ""
            shown = quoted(shown_as.get(value, value))
            return Finding(path, f"{shown} is not allowed{hint} (allowed: {allowed})", path)
        return _wrong_type(path, f"one of {allowed}", value)

    if kind in _TYPE_WORDS:
        return _wrong_type(path, _TYPE_WORDS[kind], value)

    message = str(item.get("msg", "not valid"))
    message = message.removeprefix("Input ").removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    message = message.replace("should be", "must be", 1)
    return Finding(path, message, at=path)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def quoted(text: str, limit: int = 40) -> str:
    """``text`` in quotes, cut to ``limit`` characters: for short enum-like words only."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return json.dumps(shown, ensure_ascii=False)


def _wrong_type(path: DataPath, expected: str, value: Any) -> Finding:
    message = f"expected {expected}, got {describe(value)}"
    if expected == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        message += "; put it in quotes to make it text"
    if expected == "text" and isinstance(value, bool):
        message += "; put it in quotes to make it text"
    return Finding(path, message, at=path)

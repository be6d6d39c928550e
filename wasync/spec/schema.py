"""The JSON Schemas of spec files and of wasync.yaml, generated from the models, for editors.

yaml-language-server picks a schema up from a modeline at the top of a file, a path
relative to that file::

    # yaml-language-server: $schema=.schema/wasync-spec.schema.json

after ``wasync schema > specs/.schema/wasync-spec.schema.json`` (and ``wasync schema
--config`` for wasync.yaml). The schemas check shape only (keys, types, allowed values);
``wasync validate`` checks WhatsApp's rules too.

Written so that a mistake is one error on the field at fault, which is what an editor then
underlines. A union that a field tells apart (``type`` for components and buttons,
``provider`` for accounts) is one ``if``/``then`` per value of that field, with the values
in an ``enum``: a wrong ``type`` is one error on that ``type``, and a mistake inside a
button is reported against the one kind of button it says it is, not as a list of every
kind it fails to be (what ``oneOf`` gives). An optional value takes ``null`` without an
``anyOf`` (``_nullable``), which would report one error on the whole value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from wasync.model import QrCode, Strict, Template

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
TITLE = "wasync spec file"
# Where the example spec folders keep their schemas (a hidden folder: not a spec file).
SCHEMA_FOLDER = ".schema"
SPEC_SCHEMA_FILE = "wasync-spec.schema.json"
CONFIG_SCHEMA_FILE = "wasync-config.schema.json"


class SpecFile(Strict):
    """A wasync spec file: the QR codes and templates that should exist."""

    qr_codes: list[QrCode] | None = Field(
        None, description="Message QR codes; each has the address qr.<account>.<phone>.<label>."
    )
    templates: list[Template] | None = Field(
        None,
        description="Message templates; each has the address "
        "template.<account>[.<phone>].<name>.<language>.",
    )


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file.

    Pydantic writes JSON Schema 2020-12, but what it writes for these models (``$defs``
    with ``$ref``, ``const``, ``enum``, ``additionalProperties``), with the unions
    rewritten by ``tagged_unions``, means the same under draft-07, which
    yaml-language-server and most editors support best; so it is declared as draft-07.
    """
    schema = tagged_unions(SpecFile.model_json_schema())
    schema.pop("title", None)
    _fan_out(schema["$defs"])
    return {"$schema": SCHEMA_DIALECT, "title": TITLE, **schema}


# --- fan-out (wasync.spec.fanout): what an entry may add to a resource's own fields -------

NAME_PATTERN = "^[a-z0-9][a-z0-9_-]*$"
GROUP_REF = {
    "type": "object",
    "description": "A group of wasync.yaml (its `groups:`): every account or number in it.",
    "additionalProperties": False,
    "required": ["group"],
    "properties": {"group": {"type": "string", "pattern": NAME_PATTERN}},
}


def _targets(one: dict[str, Any], what: str, nullable: bool = False) -> dict[str, Any]:
    """One value (``one``), a non-empty list of values or groups, or one group."""
    single = {**one, "type": ["string", "null"]} if nullable else one
    single.pop("title", None)
    single.pop("default", None)
    item = {"if": {"type": "object"}, "then": {"$ref": "#/$defs/GroupRef"}, "else": single}
    return {
        "description": f"{single.get('description', what).rstrip('.')}; or a list of {what}s "
        "and {group: NAME}, or {group: NAME}: the entry is then one resource per target.",
        "if": {"type": "array"},
        "then": {"type": "array", "minItems": 1, "items": item},
        "else": item,
    }


def _fan_out(defs: dict[str, Any]) -> None:
    """Fan-out in the resources' schemas: ``account``/``phone`` lists and groups,
    ``overrides`` (every field but the identity, per target), and a template's
    ``translations`` (each language's components, in the entry's structure)."""
    defs["GroupRef"] = GROUP_REF
    # ``phone`` may be overridden where an entry fans out over accounts (each account's
    # own number); the loader refuses it where the entry fans out over numbers.
    for name, identity in (("QrCode", ("account", "label")),
                           ("Template", ("account", "name", "language"))):  # fmt: skip
        model = defs[name]
        props = model["properties"]
        override = {
            "type": "object",
            "description": "Fields that differ for this target; each replaces the entry's.",
            "additionalProperties": False,
            "properties": {k: v for k, v in props.items() if k not in identity},
        }
        defs[f"{name}Override"] = override
        props["account"] = _targets(
            {**props["account"], "description": "An account of wasync.yaml."}, "account"
        )
        props["phone"] = _targets(dict(props["phone"]), "number", nullable=name == "Template")
        props["overrides"] = {
            "type": "object",
            "description": "Per target (an account, or a number when the entry fans out over "
            "numbers): the fields that differ for it. Not the fields that say which resource "
            "it is.",
            "additionalProperties": {"$ref": f"#/$defs/{name}Override"},
        }
        if name == "QrCode":  # an account's number may come from its override
            model["required"] = [r for r in model["required"] if r != "phone"]
    defs["Template"]["properties"]["translations"] = {
        "type": "object",
        "description": "Other languages of this template, each its own resource sharing the "
        "entry's name, category and structure: per language, its components in the same "
        "order (only texts and examples; {} for one it does not change).",
        "propertyNames": {"pattern": "^[A-Za-z]{2,3}(_[A-Za-z0-9]+)*$"},
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["components"],
            "properties": {
                "components": {
                    "type": "array",
                    "items": {"type": ["object", "null"]},
                    "description": "The entry's components in order, with this language's "
                    "texts and examples.",
                }
            },
        },
    }


def tagged_union(tag: str, mapping: Mapping[str, str], description: str = "") -> dict[str, Any]:
    """A value that is one of several objects, told apart by its ``tag`` field:
    ``mapping`` is tag value -> ``$ref`` of the object it selects."""
    values: dict[str, Any] = {"enum": sorted(mapping)}
    if description:
        values["description"] = description
    return {
        "type": "object",
        "required": [tag],
        "properties": {tag: values},
        "allOf": [
            {
                "if": {"properties": {tag: {"const": value}}, "required": [tag]},
                "then": {"$ref": ref},
            }
            for value, ref in sorted(mapping.items())
        ],
    }


def tagged_unions(node: Any) -> Any:
    """``node`` with each of pydantic's discriminated unions (``oneOf`` plus an OpenAPI
    ``discriminator``, which JSON Schema validators and editors ignore) made a
    ``tagged_union``."""
    if isinstance(node, list):
        return [tagged_unions(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: tagged_unions(value) for key, value in node.items()}
    discriminator = out.get("discriminator")
    if isinstance(discriminator, dict) and "oneOf" in out:
        rest = {k: v for k, v in out.items() if k not in ("oneOf", "discriminator")}
        return {**rest, **tagged_union(discriminator["propertyName"], discriminator["mapping"])}
    return _nullable(_by_type(out))


def _by_type(node: dict[str, Any]) -> dict[str, Any]:
    """A union told apart by the value's JSON type (pydantic's ``oneOf`` for a union with a
    callable discriminator, e.g. ``qps``: a number or a map) as ``if``/``then``/``else`` on
    the type, so that a mistake is reported inside the one alternative it meant."""
    options = node.get("oneOf")
    if not isinstance(options, list) or len(options) < 2 or "discriminator" in node:
        return node
    kinds = [o.get("type") if isinstance(o, dict) else None for o in options]
    if not all(isinstance(k, str) for k in kinds) or len(set(kinds)) != len(kinds):
        return node
    rest = {k: v for k, v in node.items() if k != "oneOf"}
    choice: dict[str, Any] = options[-1]
    for option, kind in zip(reversed(options[:-1]), reversed(kinds[:-1]), strict=True):
        choice = {"if": {"type": kind}, "then": option, "else": choice}
    return {**rest, **choice}


NULL = {"type": "null"}


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """An optional value (pydantic's ``anyOf: [X, null]``) written so that a mistake
    inside X is reported inside X: ``anyOf`` reports one error on the whole value ("not
    valid under any of the given schemas") and hides where. A typed X takes ``null`` as a
    second type; a ``$ref`` is checked unless the value is null."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or NULL not in options:
        return node
    (inner,) = [o for o in options if o != NULL]
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    kind = inner.get("type")
    if isinstance(kind, str) and "$ref" not in inner:
        return {**rest, **inner, "type": [kind, "null"]}
    return {**rest, "if": NULL, "else": inner}

"""Field-level differences between canonical forms, as readable leaf paths.

``components[1].buttons[0].text: "Track" -> "Track order"``. A quick ``==`` decides whether
two values differ at all; deepdiff, which is slow, only runs on values that do, and only on
the components that differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wasync.plan.model import FieldDiff


def join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def strip_keys(value: Any, keys: frozenset[str]) -> Any:
    """``value`` without the mapping keys in ``keys``, anywhere in the tree. A mapping left
    empty goes too, as the canonical form has no empty values (``example: {header_url}``
    and no ``example`` at all compare equal)."""
    if not keys:
        return value
    if isinstance(value, Mapping) and type(value) is not dict:
        value = dict(value)
    return _strip(value, keys) if type(value) in _CONTAINERS else value


_CONTAINERS = (dict, list, tuple)


def _strip(value: Any, keys: frozenset[str]) -> Any:
    # Canonical forms are plain JSON (dict, list); exact type checks keep this cheap, as it
    # runs on both sides of every template that differs at first sight.
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if k in keys:
                continue
            kept = _strip(v, keys) if type(v) in _CONTAINERS else v
            if not (type(kept) is dict and not kept):
                out[k] = kept
        return out
    return [_strip(v, keys) if type(v) in _CONTAINERS else v for v in value]


Part = str | int


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Leaf (path, value) pairs in document order; empty containers are leaves."""
    out: list[tuple[str, Any]] = []
    _flatten(value, prefix, out)
    return out


def _flatten(value: Any, prefix: str, out: list[tuple[str, Any]]) -> None:
    # What ``_leaves`` and ``_path`` give, with each path written as it goes down (every
    # leaf of every created template is shown: 200,000 of them for 10,000 templates).
    if value and isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif value and isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out.append((prefix, list(value) if isinstance(value, tuple) else value))


def _leaves(value: Any, parts: tuple[Part, ...]) -> list[tuple[tuple[Part, ...], Any]]:
    if isinstance(value, Mapping) and value:
        out: list[tuple[tuple[Part, ...], Any]] = []
        for k, v in value.items():
            out += _leaves(v, (*parts, str(k)))
        return out
    if isinstance(value, list | tuple) and value:
        out = []
        for i, v in enumerate(value):
            out += _leaves(v, (*parts, i))
        return out
    return [(parts, _plain(value))]


def _path(prefix: str, parts: tuple[Part, ...]) -> str:
    for part in parts:
        prefix = join(prefix, part)
    return prefix


def created(value: Any, prefix: str = "") -> list[FieldDiff]:
    return [FieldDiff(p, None, v) for p, v in flatten(value, prefix)]


def deleted(value: Any, prefix: str = "") -> list[FieldDiff]:
    return [FieldDiff(p, v, None) for p, v in flatten(value, prefix)]


def diff(before: Any, after: Any, prefix: str = "") -> list[FieldDiff]:
    """Leaf differences from ``before`` to ``after``; [] when equal.

    Containers of the same shape (mappings; lists of the same length) are walked here, so
    an edited text costs one comparison per level. deepdiff, which is slow, aligns the rest:
    lists whose length changed (a button or component inserted or removed)."""
    if before == after:
        return []
    if type(before) is dict and type(after) is dict:
        out: list[FieldDiff] = []
        for k, v in after.items():  # document order of the new value, then removed keys
            path = join(prefix, k)
            out += diff(before[k], v, path) if k in before else created(v, path)
        for k, v in before.items():
            if k not in after:
                out += deleted(v, join(prefix, k))
        return out
    if _is_list(before) and _is_list(after) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out += diff(b, a, join(prefix, i))
        return out
    return _deep(before, after, prefix)


def _deep(before: Any, after: Any, prefix: str) -> list[FieldDiff]:
    if not _is_container(before) and not _is_container(after):
        return [FieldDiff(prefix, _plain(before), _plain(after))]
    # Imported here: only a list whose length changed needs deepdiff, and importing it costs
    # more than a whole plan of a small folder (a tenth of the time to start wasync).
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    tree = DeepDiff(before, after, view="tree", ignore_order=False, verbose_level=2)
    old: dict[tuple[Part, ...], Any] = {}
    new: dict[tuple[Part, ...], Any] = {}
    for levels in tree.values():
        for level in levels:
            parts = tuple(level.path(output_format="list"))
            if not isinstance(level.t1, NotPresent):
                old.update(_leaves(level.t1, parts))
            if not isinstance(level.t2, NotPresent):
                new.update(_leaves(level.t2, parts))
    # Document order: list items by index, keys in the order the documents use them.
    rank: dict[str, int] = {}
    for parts, _ in (*_leaves(after, ()), *_leaves(before, ())):
        for part in parts:
            if isinstance(part, str):
                rank.setdefault(part, len(rank))

    def order(parts: tuple[Part, ...]) -> tuple[tuple[int, int, str], ...]:
        return tuple((0, p, "") if isinstance(p, int) else (1, rank[p], p) for p in parts)

    out = []
    for parts in sorted(old.keys() | new.keys(), key=order):
        b, a = old.get(parts), new.get(parts)
        if b != a or type(b) is not type(a):
            out.append(FieldDiff(_path(prefix, parts), b, a))
    return out


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _plain(value: Any) -> Any:
    """JSON-able leaf: tuples as lists, everything else as is."""
    if isinstance(value, tuple):
        return list(value)
    return value

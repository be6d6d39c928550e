"""Fan-out: one spec entry, several resources.

An entry may name several targets, and a template several languages:

- ``account:`` a list of accounts, or a group of wasync.yaml (``{group: all-brands}``),
  or a list mixing both;
- ``phone:`` the same, for numbers (templates of per-number providers, QR codes);
- ``overrides: {<target>: {field: value}}``: fields that differ for one target (the
  target is an account name, or a number when the entry fans out over numbers);
- ``translations: {<language>: {components: [...]}}`` (templates): each language's texts
  and examples, in the base's structure (same components, buttons and cards, in the same
  order: only what differs needs writing), sharing its name, category and formats.

Each (target, language) is its own resource, with the address a one-target entry would
have. Its fields are the entry's, with the target's override replacing whole top-level
fields, then the translation's texts merged in by position. This module works on the
plain data of an entry (before the models): ``expand`` gives each resource's data and
where each of its fields is written, and the problems of the fan-out keys themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wasync.errors import Location
from wasync.spec.explain import describe, did_you_mean, format_path
from wasync.spec.yaml import DataPath, PathPart, Positions

OVERRIDES = "overrides"
TRANSLATIONS = "translations"
GROUP = "group"
# The fields that say which resource an entry is: a target or a translation picks them.
IDENTITY = {
    "qr_codes": ("account", "phone", "label"),
    "templates": ("account", "phone", "name", "language"),
}
# What every translation shares with the base: fixed by the base, a translation may repeat
# it (for readability) but not change it.
SHARED = frozenset(
    {
        "type",
        "format",
        "otp_type",
        "supported_apps",
        "zero_tap_terms_accepted",
        "add_security_recommendation",
        "code_expiration_minutes",
        "flow_id",
        "flow_name",
        "flow_json",
        "flow_action",
        "navigate_screen",
    }
)
# Lists that are structure (merged item by item, same length); any other list is a value.
STRUCTURE_LISTS = frozenset({"components", "buttons", "cards"})
_VARIABLE = re.compile(r"\{\{(.*?)\}\}")


@dataclass(frozen=True)
class FanProblem:
    """A problem of the fan-out keys: ``at`` relative to the entry (``key``: its key)."""

    at: DataPath
    message: str
    key: bool = False
    field: DataPath | None = None  # the breadcrumb, when not ``at``


@dataclass(frozen=True)
class Expanded:
    """One resource of an entry: its data, and where its fields are written.

    ``overlays`` are the places (relative to the entry) that mirror the resource's fields,
    most specific first (``("translations", "pt_BR")``, ``("overrides", "shop-b")``);
    ``redirects`` send a field of the resource to where the entry writes it
    (``("account",)`` -> ``("account", 2)``), with whether it is a key."""

    data: dict[str, Any]
    target: str | None  # the override key: an account, or a number; None: one target
    language: str | None  # a translation's language; None: the base's
    overlays: tuple[DataPath, ...] = ()
    redirects: Mapping[DataPath, tuple[DataPath, bool]] = field(default_factory=dict)


def is_fanned(raw: Any) -> bool:
    """Whether an entry uses fan-out (anything ``expand`` must handle); cheap, since most
    entries do not."""
    if type(raw) is not dict:
        return False
    return (
        OVERRIDES in raw
        or TRANSLATIONS in raw
        or isinstance(raw.get("account"), list | dict)
        or isinstance(raw.get("phone"), list | dict)
    )


@dataclass
class _Pick:
    """A target as written: its value, and where (relative to the entry)."""

    value: str
    at: DataPath


def _picks(
    raw: Any, fieldname: str, groups: Mapping[str, Sequence[str]], problems: list[FanProblem]
) -> list[_Pick] | None:
    """The targets ``raw`` (the value of ``account:`` or ``phone:``) names, in order;
    None where it is one plain value (or a mistake the model reports)."""
    what = "account name" if fieldname == "account" else "number"
    here: DataPath = (fieldname,)

    def group(value: Any, at: DataPath) -> list[_Pick]:
        extra = [k for k in value if k != GROUP]
        if extra or GROUP not in value:
            problems.append(
                FanProblem(
                    (*at, extra[0]) if extra else at,
                    f"expected {{group: NAME}} (a group of wasync.yaml), got keys "
                    f"{', '.join(map(str, value))}",
                    key=bool(extra),
                )
            )
            return []
        name = value[GROUP]
        if not isinstance(name, str) or name not in groups:
            names = sorted(groups)
            guess = did_you_mean(name, names) if isinstance(name, str) else None
            hint = f"did you mean {guess!r}? " if guess else ""
            have = ", ".join(names) if names else "none"
            shown = repr(name) if isinstance(name, str) else describe(name)
            problems.append(
                FanProblem(
                    (*at, GROUP),
                    f"no group {shown} in wasync.yaml; {hint}groups there: {have} "
                    "(define it under `groups:` in wasync.yaml)",
                )
            )
            return []
        return [_Pick(member, (*at, GROUP)) for member in groups[name]]

    if isinstance(raw, dict):
        found = group(raw, here)
    elif isinstance(raw, list):
        if not raw:
            problems.append(FanProblem(here, f"empty list; give at least one {what}"))
            return []
        found = []
        for i, item in enumerate(raw):
            if isinstance(item, str):
                found.append(_Pick(item, (fieldname, i)))
            elif isinstance(item, dict):
                found += group(item, (fieldname, i))
            else:
                quote = " (in quotes, so it stays text)" if fieldname == "phone" else ""
                problems.append(
                    FanProblem(
                        (fieldname, i),
                        f"expected an {what}{quote} or {{group: NAME}}, got {describe(item)}",
                    )
                )
    else:
        return None
    seen: dict[str, DataPath] = {}
    unique = []
    for pick in found:
        if pick.value in seen:
            problems.append(
                FanProblem(
                    pick.at,
                    f"{pick.value!r} is named twice (also at {format_path(seen[pick.value])}); "
                    f"each {what} once",
                )
            )
            continue
        seen[pick.value] = pick.at
        unique.append(pick)
    return unique


def expand(
    kind: str, raw: dict[str, Any], groups: Mapping[str, Sequence[str]]
) -> tuple[list[Expanded], list[FanProblem]]:
    """The resources of the entry ``raw`` (of ``kind``: ``qr_codes`` or ``templates``), and
    the problems of its fan-out keys (none of its resources is given when there are some
    that leave its targets unclear)."""
    problems: list[FanProblem] = []
    accounts = _picks(raw.get("account"), "account", groups, problems)
    phones = _picks(raw.get("phone"), "phone", groups, problems) if "phone" in raw else None
    if accounts is not None and phones is not None:
        problems.append(
            FanProblem(
                ("phone",),
                "an entry fans out over accounts or over numbers, not both (a number "
                "belongs to one account); write one entry per account",
            )
        )
        return [], problems
    if problems or accounts == [] or phones == []:
        return [], problems
    by = "account" if accounts is not None else "phone" if phones is not None else None
    picks = accounts if accounts is not None else phones
    if picks is None:  # one target, written plainly
        single = raw.get("account") if isinstance(raw.get("account"), str) else None
        if single is None:
            problems.append(
                FanProblem(
                    ("account",),
                    "expected an account of wasync.yaml, a list of them, or {group: NAME}, "
                    f"got {describe(raw.get('account'))}",
                )
            )
            return [], problems
        picks = [_Pick(single, ())]
    overrides = _overrides(kind, raw, [p.value for p in picks], by, problems)
    translations = _translations(kind, raw, problems)
    if kind == "qr_codes" and len(picks) > 1 and "code" in raw:
        problems.append(
            FanProblem(
                ("code",),
                "a code belongs to one target; pin each under overrides: "
                "{<target>: {code: ...}}, or remove `code`",
            )
        )
    if problems:
        return [], problems
    base = {k: v for k, v in raw.items() if k not in (OVERRIDES, TRANSLATIONS)}
    out: list[Expanded] = []
    for pick in picks:
        data = dict(base)
        redirects: dict[DataPath, tuple[DataPath, bool]] = {}
        target = pick.value if by is not None else None
        if by is not None:
            data[by] = pick.value
            redirects[(by,)] = (pick.at, False)
        override = overrides.get(pick.value)
        overlays: list[DataPath] = []
        if override is not None:
            data.update(override)
            overlays.append((OVERRIDES, pick.value))
        out.append(Expanded(data, target, None, tuple(overlays), redirects))
        for language, merged in _translated(data, translations, problems):
            out.append(
                Expanded(
                    merged,
                    target,
                    language,
                    ((TRANSLATIONS, language), *overlays),
                    {**redirects, ("language",): ((TRANSLATIONS, language), True)},
                )
            )
    if problems:
        return [], list(dict.fromkeys(problems))  # a translation's, once for every target
    return out, problems


def _overrides(
    kind: str,
    raw: dict[str, Any],
    targets: Sequence[str],
    by: str | None,
    problems: list[FanProblem],
) -> dict[str, dict[str, Any]]:
    given = raw.get(OVERRIDES)
    if given is None:
        return {}
    if not isinstance(given, dict):
        problems.append(
            FanProblem(
                (OVERRIDES,),
                f"expected a mapping of target -> fields to change, got {describe(given)}",
            )
        )
        return {}
    identity = IDENTITY[kind]
    out: dict[str, dict[str, Any]] = {}
    for key, fields in given.items():
        at: DataPath = (OVERRIDES, key)
        if key not in targets:
            what = "accounts" if by in (None, "account") else "numbers"
            guess = did_you_mean(key, list(targets))
            hint = f"did you mean {guess!r}? " if guess else ""
            problems.append(
                FanProblem(
                    at,
                    f"{key!r} is not a target of this entry; {hint}its {what}: "
                    f"{', '.join(targets)}",
                    key=True,
                )
            )
            continue
        if not isinstance(fields, dict):
            problems.append(
                FanProblem(at, f"expected a mapping of fields to change, got {describe(fields)}")
            )
            continue
        ok = True
        for name in fields:
            # An account's own number is the one identity field a target may set.
            if name == "phone" and by in (None, "account"):
                continue
            if name in identity or name in (OVERRIDES, TRANSLATIONS):
                problems.append(
                    FanProblem(
                        (*at, name),
                        f"`{name}` says which resource this is; an override cannot change "
                        "it: write a separate entry for that resource",
                        key=True,
                    )
                )
                ok = False
        if ok:
            out[key] = fields
    return out


def _translations(
    kind: str, raw: dict[str, Any], problems: list[FanProblem]
) -> dict[str, dict[str, Any]]:
    given = raw.get(TRANSLATIONS)
    if given is None:
        return {}
    if kind != "templates":
        problems.append(FanProblem((TRANSLATIONS,), "only templates have translations", key=True))
        return {}
    if not isinstance(given, dict) or not given:
        problems.append(
            FanProblem(
                (TRANSLATIONS,),
                f"expected a mapping of language -> {{components: [...]}}, got {describe(given)}",
            )
        )
        return {}
    out: dict[str, dict[str, Any]] = {}
    for language, body in given.items():
        at: DataPath = (TRANSLATIONS, language)
        if language == raw.get("language"):
            problems.append(
                FanProblem(
                    at,
                    f"{language!r} is the entry's own language; translations are the other "
                    "languages",
                    key=True,
                )
            )
            continue
        if not isinstance(body, dict):
            problems.append(
                FanProblem(at, f"expected a mapping with `components:`, got {describe(body)}")
            )
            continue
        extra = [k for k in body if k != "components"]
        for name in extra:
            what = (
                "shared by every language; set it on the entry"
                if name in raw or name in ("category", "parameter_format", "name")
                else "a translation holds only `components:` (its texts and examples)"
            )
            problems.append(FanProblem((*at, name), f"not allowed here: {what}", key=True))
        if extra:
            continue
        out[language] = body
    return out


def _translated(
    data: dict[str, Any], translations: Mapping[str, dict[str, Any]], problems: list[FanProblem]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each translation of ``data`` (one target's fields), merged into its structure."""
    for language, body in translations.items():
        at: DataPath = (TRANSLATIONS, language)
        before = len(problems)
        components = data.get("components")
        merged_components = _merge(
            components, body.get("components", []), ("components",), at, problems
        )
        if len(problems) > before:
            continue
        merged = {**data, "language": language, "components": merged_components}
        _same_variables(components, merged_components, ("components",), at, language, problems)
        if len(problems) == before:
            yield language, merged


def _merge(base: Any, given: Any, path: DataPath, at: DataPath, problems: list[FanProblem]) -> Any:
    """``given`` (a translation's part at ``path``) merged into ``base``: mappings key by key,
    structural lists (components, buttons, cards) item by item and of the same length, any
    other value replaced; what every language shares may be repeated, not changed."""
    if isinstance(base, dict) and isinstance(given, dict):
        out = dict(base)
        for key, value in given.items():
            here = (*path, key)
            if key in SHARED:
                if value != base.get(key):
                    has = f"has {base[key]!r}" if key in base else "leaves it out"
                    problems.append(
                        FanProblem(
                            (*at, *here),
                            f"shared by every language: the entry {has}; a translation "
                            "changes only texts and examples (set it on the entry)",
                        )
                    )
                continue
            if key in STRUCTURE_LISTS and key in base:
                out[key] = _merge(base[key], value, here, at, problems)
            else:
                out[key] = value
        return out
    if isinstance(base, list) and path[-1] in STRUCTURE_LISTS:
        if not isinstance(given, list) or len(given) != len(base):
            count = len(given) if isinstance(given, list) else describe(given)
            problems.append(
                FanProblem(
                    (*at, *path),
                    f"{count} items where the entry has {len(base)}; a translation lists the "
                    "same items in the same order (empty {} for one it does not change)",
                )
            )
            return base
        return [
            _merge(b, g if g is not None else {}, (*path, i), at, problems)
            for i, (b, g) in enumerate(zip(base, given, strict=True))
        ]
    if isinstance(base, dict | list):
        problems.append(
            FanProblem((*at, *path), f"expected a mapping like the entry's, got {describe(given)}")
        )
        return base
    return given


def variables(text: str) -> set[str]:
    """The variables written in ``text``: ``{{1}}``, ``{{first_name}}``, as their keys."""
    return {m.strip() for m in _VARIABLE.findall(text)}


def _text_fields(value: Any, path: DataPath) -> Iterator[tuple[DataPath, str]]:
    """Every text that may hold variables (``text``, a button's ``url``), with its path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("text", "url") and isinstance(inner, str):
                yield (*path, key), inner
            elif isinstance(inner, list | dict):
                yield from _text_fields(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _text_fields(inner, (*path, i))


def _same_variables(
    base: Any,
    merged: Any,
    path: DataPath,
    at: DataPath,
    language: str,
    problems: list[FanProblem],
) -> None:
    mine = dict(_text_fields(merged, path))
    for where, text in _text_fields(base, path):
        other = mine.get(where, text)
        want, got = variables(text), variables(other)
        if want != got:
            missing = ", ".join("{{" + v + "}}" for v in sorted(want - got))
            extra = ", ".join("{{" + v + "}}" for v in sorted(got - want))
            parts = [f"lacks {missing}" if missing else "", f"adds {extra}" if extra else ""]
            problems.append(
                FanProblem(
                    (*at, *where),
                    f"the {language} text {' and '.join(p for p in parts if p)}; every "
                    "translation has the same variables as the entry's text",
                )
            )


# --- positions -----------------------------------------------------------------------------


class FannedPositions(Positions):
    """The positions of one fanned-out resource: a field is found where the entry writes it
    for this resource (its translation, its override, its target in the list), else in the
    entry itself. Paths are as for ``Positions`` (from the file's root)."""

    __slots__ = ("base", "inner", "overlays", "redirects")

    def __init__(self, inner: Positions, base: DataPath, expanded: Expanded) -> None:
        super().__init__(inner.file, inner.root)
        self.inner = inner
        self.base = base
        self.overlays = expanded.overlays
        self.redirects = expanded.redirects

    def _exists(self, path: DataPath) -> bool:
        try:
            self.inner.sub(path)
        except KeyError:
            return False
        return True

    def locate(self, path: Sequence[PathPart] = (), *, key: bool = False) -> Location:
        n = len(self.base)
        if tuple(path[:n]) != self.base or len(path) == n:
            return self.inner.locate(path, key=key)
        rel = tuple(path[n:])
        for size in range(len(rel), 0, -1):
            redirect = self.redirects.get(rel[:size])
            if redirect is not None:
                target, as_key = redirect
                full = (*self.base, *target, *rel[size:])
                return self.inner.locate(full, key=key or (as_key and size == len(rel)))
        for overlay in self.overlays:
            full = (*self.base, *overlay, *rel)
            if self._exists(full):
                return self.inner.locate(full, key=key)
        return self.inner.locate(path, key=key)

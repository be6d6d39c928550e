"""Variables (placeholders) in template text: ``{{1}}``, ``{{2}}``, ... or, in a template
with ``parameter_format: NAMED``, ``{{first_name}}``.

Positional variables are numbered from 1 in order of first appearance; named ones are
lowercase letters and underscores (Meta's rule). Either way each has an example value.
Which providers take named variables is a trait (``NAMED_PARAMETERS``); URL buttons keep
their one positional ``{{1}}`` in both formats.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from wasync.model import NamedExample
from wasync.spec.rules.base import Ctx, plural
from wasync.spec.yaml import PathPart

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAMED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Meta: "lowercase letters and underscores" (Template components, named parameters).
NAMED_VARIABLE = re.compile(r"[a-z_]+")
_DIGITS = re.compile(r"[0-9]+")


class Variable(NamedTuple):
    key: str  # "1" or "first_name", as written between the braces
    start: int
    end: int

    @property
    def number(self) -> int:
        """A positional variable's number (0 for a named one)."""
        return int(self.key) if self.key.isdigit() else 0

    @property
    def shown(self) -> str:
        return "{{" + self.key + "}}"


class Scan:
    """The variables of one text, and what is wrong with their syntax."""

    __slots__ = ("errors", "variables")

    def __init__(self) -> None:
        self.variables: list[Variable] = []
        self.errors: list[str] = []

    @property
    def order(self) -> list[int]:
        """Distinct variable numbers in order of first appearance (positional text)."""
        return list(dict.fromkeys(v.number for v in self.variables))

    @property
    def names(self) -> list[str]:
        """Distinct variables as written, in order of first appearance."""
        return list(dict.fromkeys(v.key for v in self.variables))


_NONE = Scan()  # what text without braces has (never modified)


@functools.lru_cache(maxsize=4096)
def scan(text: str, *, named: bool = False) -> Scan:
    """Find ``{{n}}`` placeholders (``{{name}}`` ones where ``named``); report malformed
    ones (each once).

    The answer is shared by every caller with the same text (a text repeats across the
    accounts, numbers and languages of large spec sets): never modify it."""
    if "{" not in text and "}" not in text:
        return _NONE
    out = Scan()
    rest: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        rest.append(text[last : m.start()])
        last = m.end()
        inner = m.group(1)
        shown = m.group(0)
        if "{" in inner or "}" in inner or text[m.end() : m.end() + 1] == "}":
            out.errors.append(f"unbalanced braces in {_quote(shown)}; write variables as {{{{1}}}}")
        elif not inner:
            out.errors.append("empty variable {{}}; number variables {{1}}, {{2}}, ...")
        elif inner != inner.strip():
            fixed = "{{" + inner.strip() + "}}"
            out.errors.append(f"spaces inside {_quote(shown)}; write {_quote(fixed)}")
        elif named and _DIGITS.fullmatch(inner):
            out.errors.append(
                f"positional variable {_quote(shown)} in a template with parameter_format: "
                "NAMED; name it, e.g. {{first_name}} (lowercase letters and _)"
            )
        elif _DIGITS.fullmatch(inner):
            number = int(inner)
            if number == 0:
                out.errors.append("variable {{0}}; variables are numbered from {{1}}")
            elif inner != str(number):
                out.errors.append(f"{_quote(shown)} has a leading zero; write {{{{{number}}}}}")
            else:
                out.variables.append(Variable(inner, m.start(), m.end()))
        elif named and NAMED_VARIABLE.fullmatch(inner):
            out.variables.append(Variable(inner, m.start(), m.end()))
        elif named and _NAMED.fullmatch(inner):
            out.errors.append(
                f"{_quote(shown)}: a named variable is lowercase letters and underscores "
                f"only; write {_quote('{{' + _snake(inner) + '}}')}"
            )
        elif _NAMED.fullmatch(inner):
            out.errors.append(
                f"named variable {_quote(shown)} needs parameter_format: NAMED on the "
                "template (where the provider takes it); or use positional variables "
                "{{1}}, {{2}}, ... (with an example for each)"
            )
        else:
            out.errors.append(
                f"{_quote(shown)} is not a variable; variables are {{{{1}}}}, {{{{2}}}}, ..."
            )
    rest.append(text[last:])
    leftover = "".join(rest)
    if "{{" in leftover:
        out.errors.append("unbalanced braces: '{{' without a closing '}}'")
    elif "}}" in leftover:
        out.errors.append("unbalanced braces: '}}' without an opening '{{'")
    return out


def _quote(text: str) -> str:
    return f"'{text}'"


def _snake(name: str) -> str:
    """``firstName2`` -> ``first_name``: a suggestion that fits Meta's rule."""
    out = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()
    return re.sub(r"[^a-z_]", "", out) or "name"


def check_numbering(
    ctx: Ctx, path: Sequence[PathPart], found: Scan, *, named: bool = False
) -> bool:
    """Variables are exactly {{1}}..{{N}} in order of first appearance (or, ``named``,
    any distinct names); syntax is valid."""
    for message in found.errors:
        ctx.error(path, message)
    if found.errors:
        return False
    if named:
        return True
    order = found.order
    if order != list(range(1, len(order) + 1)):
        listed = ", ".join(f"{{{{{n}}}}}" for n in order)
        ctx.error(
            path,
            f"variables must be {{{{1}}}} to {{{{{len(order)}}}}} in order of first "
            f"appearance; found {listed}",
        )
        return False
    return True


def check_placement(ctx: Ctx, path: Sequence[PathPart], text: str, found: Scan) -> None:
    """Body text may not start or end with a variable, nor put two side by side."""
    if not found.variables:
        return
    first, final = found.variables[0], found.variables[-1]
    stripped_start = len(text) - len(text.lstrip())
    stripped_end = len(text.rstrip())
    if first.start == stripped_start:
        ctx.error(
            path,
            f"starts with variable {first.shown}; WhatsApp rejects text that starts "
            "with a variable: put words before it",
        )
    if final.end == stripped_end:
        ctx.error(
            path,
            f"ends with variable {final.shown}; WhatsApp rejects text that ends with "
            "a variable: put words or a full stop after it",
        )
    for a, b in zip(found.variables, found.variables[1:], strict=False):
        if not text[a.end : b.start].strip():
            ctx.error(
                path,
                f"variables {a.shown} and {b.shown} have no text between "
                "them; WhatsApp rejects adjacent variables",
            )


def check_examples(
    ctx: Ctx,
    example_path: Sequence[PathPart],
    values: Sequence[str] | None,
    count: int,
    *,
    where: Sequence[PathPart],
    how: str,
) -> None:
    """``count`` variables need exactly ``count`` example values (``how`` shows the form)."""
    if count and values is None:
        ctx.error(
            where,
            f"{plural(count, 'variable')} but no example; add {how} with {plural(count, 'value')}",
        )
        return
    if values is None:
        return
    if not count:
        ctx.error(example_path, "example given, but the text has no variables; remove it")
        return
    if len(values) != count:
        ctx.error(
            example_path,
            f"{plural(len(values), 'example value')} for {plural(count, 'variable')}; "
            "give one value per variable, in order",
        )
        return
    for i, value in enumerate(values):
        if not value.strip():
            ctx.error((*example_path, i), "empty example value; give a realistic sample")


def check_named_examples(
    ctx: Ctx,
    example_path: Sequence[PathPart],
    given: Sequence[NamedExample] | None,
    names: Sequence[str],
    *,
    where: Sequence[PathPart],
    how: str,
) -> None:
    """Named variables need one example each, by name, in any order, none left over."""
    if names and given is None:
        listed = ", ".join(names)
        ctx.error(
            where, f"{plural(len(names), 'named variable')} ({listed}) but no example; add {how}"
        )
        return
    if given is None:
        return
    if not names:
        ctx.error(example_path, "example given, but the text has no variables; remove it")
        return
    seen: set[str] = set()
    for i, entry in enumerate(given):
        at = (*example_path, i)
        if entry.param_name in seen:
            ctx.error((*at, "param_name"), f"{entry.param_name!r} has two examples; give one")
        elif entry.param_name not in names:
            ctx.error(
                (*at, "param_name"),
                f"{entry.param_name!r} is not a variable of the text ({', '.join(names)}); "
                "remove it or fix the name",
            )
        elif not entry.example.strip():
            ctx.error((*at, "example"), "empty example value; give a realistic sample")
        seen.add(entry.param_name)
    missing = [n for n in names if n not in seen]
    if missing:
        ctx.error(
            example_path,
            f"no example for {', '.join('{{' + n + '}}' for n in missing)}; add "
            "{param_name: ..., example: ...} for each",
        )

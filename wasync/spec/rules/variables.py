"""Variables (placeholders) in template text: ``{{1}}``, ``{{2}}``, ...

WhatsApp (and both providers) take positional placeholders only: numbered from 1 in order of
first appearance, each with an example value. Named placeholders (``{{first_name}}``) need
Meta's ``parameter_format: NAMED``, which neither provider exposes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from wasync.spec.rules.base import Ctx, plural
from wasync.spec.yaml import PathPart

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAMED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")


class Variable(NamedTuple):
    number: int
    start: int
    end: int


class Scan:
    """The variables of one text, and what is wrong with their syntax."""

    __slots__ = ("errors", "variables")

    def __init__(self) -> None:
        self.variables: list[Variable] = []
        self.errors: list[str] = []

    @property
    def order(self) -> list[int]:
        """Distinct variable numbers in order of first appearance."""
        return list(dict.fromkeys(v.number for v in self.variables))


_NONE = Scan()  # what text without braces has (never modified)


def scan(text: str) -> Scan:
    """Find ``{{n}}`` placeholders; report malformed ones (each once)."""
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
        elif _DIGITS.fullmatch(inner):
            number = int(inner)
            if number == 0:
                out.errors.append("variable {{0}}; variables are numbered from {{1}}")
            elif inner != str(number):
                out.errors.append(f"{_quote(shown)} has a leading zero; write {{{{{number}}}}}")
            else:
                out.variables.append(Variable(number, m.start(), m.end()))
        elif _NAMED.fullmatch(inner):
            out.errors.append(
                f"named variable {_quote(shown)} is not supported; "
                "use positional variables {{1}}, {{2}}, ... (with an example for each)"
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


def check_numbering(ctx: Ctx, path: Sequence[PathPart], found: Scan) -> bool:
    """Variables are exactly {{1}}..{{N}} in order of first appearance; syntax is valid."""
    for message in found.errors:
        ctx.error(path, message)
    if found.errors:
        return False
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
            f"starts with variable {{{{{first.number}}}}}; WhatsApp rejects text that starts "
            "with a variable: put words before it",
        )
    if final.end == stripped_end:
        ctx.error(
            path,
            f"ends with variable {{{{{final.number}}}}}; WhatsApp rejects text that ends with "
            "a variable: put words or a full stop after it",
        )
    for a, b in zip(found.variables, found.variables[1:], strict=False):
        if not text[a.end : b.start].strip():
            ctx.error(
                path,
                f"variables {{{{{a.number}}}}} and {{{{{b.number}}}}} have no text between "
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

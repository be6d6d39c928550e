"""The README's reference tables. The exit codes are one table (a blank line would end a
Markdown table, and GitHub would show the rest as text). The troubleshooting table quotes
messages as wasync writes them: each quoted message is a string in the code (``X``,
``DIR`` and ``...`` stand for any text, as a value filled in does in the code), so a
reworded message cannot leave the table behind."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from .readme import README
from .support import REPO

PACKAGE = REPO / "wasync"
PLACEHOLDER = re.compile(r"\.\.\.|\bX\b|\bDIR\b")
HOLE = "{}"  # what a value filled into a message in the code is written as here
# Quoted in the table without being a message.
NOT_MESSAGES = {
    # The shape of a location (file:line:column: address: field: problem); real ones are
    # checked by the validate tests.
    "specs/x.yaml:14:7: templates[2]...: ...",
}


def section(title: str) -> str:
    return README.read_text("utf-8").split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_exit_codes_are_one_table_naming_each_code() -> None:
    text = section("Exit codes")
    tables = re.findall(r"(?:^\|.*\|\n)+", text, re.MULTILINE)
    assert len(tables) == 1, f"the exit codes are split into {len(tables)} tables"
    codes = re.findall(r"^\| (\d+) \|", tables[0], re.MULTILINE)
    assert {"0", "1", "2", "3", "130", "141"} <= set(codes)
    assert codes == sorted(codes, key=int)


def troubleshooting_quotes() -> list[str]:
    quotes = []
    for row in section("Troubleshooting").splitlines():
        if not row.startswith("| ") or row.startswith(("| you see", "|---")):
            continue
        first_cell = row.split(" | ", 1)[0]
        quotes += [
            q
            for q in re.findall(r"`([^`]+)`", first_cell)
            if not q.startswith("wasync ") and q not in NOT_MESSAGES
        ]
    return quotes


def _module(path: Path) -> object:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    return importlib.import_module(name)


def _render(node: ast.JoinedStr, path: Path) -> str:
    """An f-string as text, its values as ``{}``; a module constant (``CONFIG_FILE``) as
    its value."""
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
        elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
            value = getattr(_module(path), part.value.id, None)
            out.append(value if isinstance(value, str) else HOLE)
        else:
            out.append(HOLE)
    return "".join(out)


@cache
def code_literals() -> tuple[frozenset[str], frozenset[int]]:
    """Every string (f-strings rendered) and integer the package's code holds, but its
    docstrings."""
    strings: set[str] = set()
    numbers: set[int] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        # Docstrings (and other bare strings) say things about messages; they are not ones.
        prose = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if id(node) in prose:
                continue
            if isinstance(node, ast.JoinedStr):
                strings.add(_render(node, path))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.Constant) and type(node.value) is int:
                numbers.add(node.value)
    return frozenset(strings), frozenset(numbers)


def matches(quote: str) -> Iterator[str]:
    strings, numbers = code_literals()
    if quote.isdigit():
        if int(quote) in numbers:
            yield quote
        return
    pattern = re.compile(".*?".join(re.escape(p) for p in PLACEHOLDER.split(quote)))
    yield from (s for s in strings if pattern.search(s))


def test_the_table_is_found() -> None:
    quotes = troubleshooting_quotes()
    assert len(quotes) >= 15
    assert "environment variable X is not set" in quotes


@pytest.mark.parametrize("quote", troubleshooting_quotes())
def test_each_quoted_message_is_one_wasync_writes(quote: str) -> None:
    assert next(matches(quote), None) is not None, (
        f"README troubleshooting quotes `{quote}`, which no string in wasync/ says; quote "
        "the message as the code writes it (X, DIR or ... where a value goes)"
    )


def test_a_reworded_message_is_caught() -> None:
    assert next(matches("apply needs confirmation, and there is no terminal"), None) is None
    assert next(matches("no wasync.yaml in DIR"), None) is not None  # a constant, inlined

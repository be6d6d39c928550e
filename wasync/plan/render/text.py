"""The terminal rendering: Terraform-like, coloured on a terminal, plain text elsewhere.

Colour only when writing to a terminal and NO_COLOR is unset; otherwise no escape codes at
all, so the output can be piped, saved or compared.
"""

from __future__ import annotations

import io
import os
from typing import TextIO

from rich.console import Console
from rich.text import Text

from wasync.plan.render import common
from wasync.plan.render.common import Data

STYLE = {
    "+": "green",
    "~": "yellow",
    "-": "red",
    common.HAZARD: "bold magenta",
    common.BLOCKED: "bold red",
    common.UNMANAGED: "cyan",
}
HEADER_STYLE = {"create": "bold green", "update": "bold yellow", "delete": "bold red"}


def console_for(file: TextIO) -> Console:
    """A console for ``file``: colour if it is a terminal and NO_COLOR is unset."""
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file,
        color_system=None if plain else "auto",
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,  # never break a long value across lines
    )


def render(data: Data, console: Console) -> None:
    """Print the plan to ``console``."""
    changes = data["changes"]
    if changes:
        console.print("wasync will make these changes:")
    for change in changes:
        console.print()
        _change(change, console)
    if data["unmanaged"]:
        console.print()
        console.print(f"Unmanaged: {common.UNMANAGED_NOTE}")
        for item in data["unmanaged"]:
            _line(console, 2, common.UNMANAGED, common.unmanaged_label(item))
    if data["warnings"]:
        console.print()
        console.print("Warnings:")
        for w in data["warnings"]:
            _line(console, 2, common.HAZARD, f"{w['address']}: {w['message']}")
    if data["threshold_violations"]:
        console.print()
        console.print("Thresholds:")
        for v in data["threshold_violations"]:
            _line(console, 2, common.BLOCKED, common.threshold_line(v))
    console.print()
    console.print(Text(common.summary_line(data), style="bold"))


def to_text(data: Data) -> str:
    """The plan as plain text (no colour), e.g. for a file or a test."""
    buffer = io.StringIO()
    render(
        data,
        Console(
            file=buffer,
            color_system=None,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        ),
    )
    return buffer.getvalue()


def _change(change: Data, console: Console) -> None:
    style = "bold red" if change["blocked"] else HEADER_STYLE[change["action"]]
    console.print(Text(f"  # {common.header(change)}", style=style))
    for symbol, text in common.field_lines(change):
        _line(console, 4, symbol, text)
    for hazard in change["hazards"]:
        _line(console, 4, common.HAZARD, hazard["reason"])
    if change["blocked"]:
        _line(console, 4, common.BLOCKED, f"blocked: {change['blocked']['reason']}")


def _line(console: Console, indent: int, symbol: str, text: str) -> None:
    line = Text(" " * indent)
    line.append(symbol, style=STYLE[symbol])
    line.append(" ")
    line.append(text)
    console.print(line)

"""The terminal rendering: Terraform-like, coloured on a terminal, plain text elsewhere.

Colour only when writing to a terminal and NO_COLOR is unset; otherwise no escape codes at
all, so the output can be piped, saved or compared. Plain output skips rich altogether:
rich costs about a microsecond per character, and a first import can plan tens of
thousands of changes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TextIO

from rich.console import Console
from rich.control import strip_control_codes
from rich.text import Text

from wasync.plan.render import common, escape, grouping
from wasync.plan.render.common import Data

STYLE = {
    "+": "green",
    "~": "yellow",
    "-": "red",
    common.REPLACE: "bold red",
    common.HAZARD: "bold magenta",
    common.BLOCKED: "bold red",
    common.UNMANAGED: "cyan",
}
HEADER_STYLE = {
    "create": "bold green",
    "update": "bold yellow",
    "replace": "bold red",
    "delete": "bold red",
}

# A line is a list of (text, style) pieces; a block is lines printed together.
Piece = tuple[str, str | None]
Line = list[Piece]


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
    """Print the plan to ``console`` (plain text when it has no colour)."""
    if console.color_system is None:
        console.file.write(to_text(data))
        return
    for block in _blocks(data):
        text = Text()
        for i, line in enumerate(block):
            if i:
                text.append("\n")
            for piece, style in line:
                text.append(escape.line(piece), style=style)
        console.print(text)


def to_text(data: Data) -> str:
    """The plan as plain text, without colour."""
    out = io.StringIO()
    for block in _blocks(data):
        for line in block:
            # Each piece is one line's worth: a newline in a remote name or reason is shown,
            # never written (it would start a line that looks like wasync's own).
            out.write(strip_control_codes("".join(escape.line(p) for p, _ in line)) + "\n")
    return out.getvalue()


def _blocks(data: Data) -> Iterator[list[Line]]:
    changes = data["changes"]
    if changes:
        yield [[("wasync will make these changes:", None)]]
    for group in grouping.group_changes(changes):
        yield [[]]
        yield _change(group.first) if len(group.changes) == 1 else _grouped(group)
    blocked = grouping.once(common.blocked_changes(data))
    if blocked:
        yield [[]]
        lines: list[Line] = [[(f"{common.CANNOT_APPLY} ({common.CANNOT_APPLY_NOTE}):", None)]]
        for c in blocked:
            reason = c["blocked"]["reason"]
            lines.append(_item(2, common.BLOCKED, f"{c['address']} ({c['action']}): {reason}"))
            if common.way_out(c):
                lines.append([(f"      way out: {common.way_out(c)}", None)])
        yield lines
    sections = [
        (
            f"Unmanaged: {common.UNMANAGED_NOTE}",
            [(common.UNMANAGED, common.unmanaged_label(u)) for u in data["unmanaged"]],
        ),
        (
            "Warnings:",
            [(common.HAZARD, f"{w['address']}: {w['message']}") for w in data["warnings"]],
        ),
        (
            "Thresholds:",
            [(common.BLOCKED, common.threshold_line(v)) for v in data["threshold_violations"]],
        ),
    ]
    for title, items in sections:
        if items:
            yield [[]]
            yield [[(title, None)], *(_item(2, symbol, text) for symbol, text in items)]
    if changes or any(items for _, items in sections):
        yield [[]]  # a blank line before the summary, unless it is all there is
    yield [[(common.summary_line(data), "bold")]]


def _change(change: Data) -> list[Line]:
    style = "bold red" if change["blocked"] else HEADER_STYLE[change["action"]]
    lines: list[Line] = [[(f"  # {common.header(change)}", style)]]
    replaced = common.replaced_line(change)
    if replaced:
        lines.append(_item(4, common.REPLACE, replaced))
    lines += [_item(4, symbol, text) for symbol, text in common.field_lines(change)]
    lines += [_item(4, common.HAZARD, h["reason"]) for h in change["hazards"]]
    if change["blocked"]:
        lines.append(_item(4, common.BLOCKED, f"blocked: {change['blocked']['reason']}"))
    return lines


def _grouped(group: grouping.Group) -> list[Line]:
    """The same change on several targets: what and where, then the change once."""
    lines = _change(group.standing_for_all())
    style = lines[0][0][1]
    return [[(f"  # {group.headline()}", style)], *lines]


def _item(indent: int, symbol: str, text: str) -> Line:
    return [(" " * indent, None), (symbol, STYLE[symbol]), (" " + text, None)]

"""The pull-request comment: a compact Markdown summary, bounded in size.

Layout: a hidden marker (so a workflow finds and updates its comment in place), a title and
the summary sentence, a table per account, what needs attention (blocked changes, hazards,
thresholds) first, then the diffs in a collapsible ``<details>`` block per account. The
whole stays under ``LIMIT`` characters (GitHub refuses comments over 65,536); changes that
do not fit are counted in a closing note.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from wasync.plan.render import common
from wasync.plan.render.common import Data

MARKER = "<!-- wasync-plan -->"
LIMIT = 60_000
RESERVE = 400  # room kept for the closing note and the last closing tags

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")


def render(data: Data, *, limit: int = LIMIT) -> str:
    """The comment for ``data``, at most ``limit`` characters."""
    out = _Budget(limit - RESERVE)
    title = [MARKER, "## wasync plan", "", f"**{_esc(common.summary_line(data))}**", ""]
    out.force("\n".join(title) + "\n")
    if data["accounts"]:
        out.force(_table(data["accounts"]) + "\n")

    attention = _attention(data)
    if attention:
        out.force("### Needs attention\n\n")
        shown = 0
        for line in attention:
            if not out.add(line + "\n"):
                break
            shown += 1
        if shown < len(attention):
            out.force(f"- ... and {len(attention) - shown} more; see the plan below or locally\n")
        out.force("\n")

    if data["warnings"]:
        lines = [f"- {_code(w['address'])}: {_esc(w['message'])}" for w in data["warnings"]]
        if not out.add("### Warnings\n\n" + "\n".join(lines) + "\n\n"):
            out.force(f"{len(lines)} warnings are not listed here, for length.\n\n")

    left_out = 0
    for account in data["accounts"]:
        changes = [c for c in data["changes"] if c["account"] == account["account"]]
        if changes:
            left_out += _details(out, account, changes)

    if data["unmanaged"]:
        items = [
            f"- {_code(u['address'])}" + (f" ({_esc(u['status'])})" if u["status"] else "")
            for u in data["unmanaged"]
        ]
        block = (
            f"<details><summary>{len(items)} unmanaged, not touched</summary>\n\n"
            f"{_esc(common.UNMANAGED_NOTE[0].upper() + common.UNMANAGED_NOTE[1:])}.\n\n"
            + "\n".join(items)
            + "\n\n</details>\n"
        )
        if not out.add(block):
            out.force(f"{len(items)} unmanaged resources are not listed here, for length.\n")

    if left_out:
        total = len(data["changes"])
        out.force(
            f"\n_{left_out} of {total} changes are not shown, to keep this comment under "
            f"{limit:,} characters. Run `wasync plan` locally to see the whole plan._\n"
        )
    return out.text()


def _table(accounts: Sequence[Data]) -> str:
    rows = [
        "| Account | Provider | Create | Update | Delete | Blocked | Unmanaged |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for a in accounts:
        rows.append(
            f"| {_esc(a['account'])} | {_esc(a['provider'])} | {a['create']} | {a['update']} "
            f"| {a['delete']} | {a['blocked']} | {a['unmanaged']} |"
        )
    return "\n".join(rows) + "\n"


def _attention(data: Data) -> list[str]:
    lines = [f"- :no_entry: {_esc(common.threshold_line(v))}" for v in data["threshold_violations"]]
    for c in data["changes"]:
        what = f"{_code(c['address'])} ({c['action']})"
        if c["blocked"]:
            lines.append(f"- :no_entry: **blocked** {what}: {_esc(c['blocked']['reason'])}")
        elif c["hazards"]:
            reasons = "; ".join(h["reason"] for h in c["hazards"])
            lines.append(f"- :warning: {what}: {_esc(reasons)}")
    return lines


def _details(out: _Budget, account: Data, changes: Sequence[Data]) -> int:
    """Add an account's diffs, as many as fit; return how many did not."""
    opening = f"<details><summary>{html.escape(common.account_line(account))}</summary>\n\n"
    closing = "\n</details>\n\n"
    blocks: list[str] = []
    room = out.room() - len(opening) - len(closing) - 2 * len("```diff\n")
    for change in changes:  # blocks are built only while they fit: plans can be huge
        block = _diff_block(change)
        if len(block) + 1 > room:
            break
        blocks.append(block)
        room -= len(block) + 1
    while blocks:
        # A fence longer than any backtick run inside, so user text cannot close it.
        fence = "`" * max(3, 1 + max(_longest_backticks(b) for b in blocks))
        text = f"{opening}{fence}diff\n" + "\n".join(blocks) + f"{fence}\n{closing}"
        if out.add(text):
            break
        blocks.pop()  # the longer fence did not fit: show one change less
    return len(changes) - len(blocks)


def _diff_block(change: Data) -> str:
    # In a diff block GitHub colours - and + lines; a changed value is a - and + pair,
    # hazards and blocked reasons are ! lines.
    lines = [f"# {common.header(change)}"]
    for symbol, path, before, after in common.field_rows(change):
        if symbol in "-~":
            lines.append(f"- {path} = {common.value(before)}")
        if symbol in "+~":
            lines.append(f"+ {path} = {common.value(after)}")
    lines += [f"! {h['reason']}" for h in change["hazards"]]
    if change["blocked"]:
        lines.append(f"! blocked: {change['blocked']['reason']}")
    return "\n".join(lines) + "\n"


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.used = 0

    def add(self, text: str, keep: int = 0) -> bool:
        """Append ``text`` if it fits, leaving ``keep`` characters free."""
        if self.used + len(text) + keep > self.limit:
            return False
        self.force(text)
        return True

    def room(self) -> int:
        return self.limit - self.used

    def force(self, text: str) -> None:
        self.parts.append(text)
        self.used += len(text)

    def text(self) -> str:
        return "".join(self.parts).rstrip("\n") + "\n"


def _esc(text: str) -> str:
    """Plain text safe in Markdown and HTML: no formatting, links or tags from user data."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def _code(text: str) -> str:
    ticks = "`" * (1 + _longest_backticks(text))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)

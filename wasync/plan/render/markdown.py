"""The pull-request comment: a compact Markdown summary, bounded in size.

Layout: a hidden marker (so a workflow finds and updates its comment in place), a title and
the summary sentence, a table per account, what cannot be applied (each blocked change and
its way out), what needs attention (thresholds, hazards), then the changes in a collapsible
``<details>`` block per account. A template create or update shows the message as the
customer will see it (``message.to_markdown``; before and after for an update); a create is
one compact block; other changes are diff lines. The whole stays under ``LIMIT`` characters
(GitHub refuses comments over 65,536): what does not fit is left out, and a closing block
lists the addresses of the changes left out (as many as fit, then a count).

All text from the specs or the remote is escaped (``_esc``, ``_code``, fences longer than
any backtick run inside, ``message.md_text``) and kept on its line (``escape.line``): none
can open or close a fence, a ``<details>`` block or an HTML comment, or add a line to a
diff block.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence

from wasync.plan.render import common, escape, grouping, message
from wasync.plan.render.common import Data

MARKER = "<!-- wasync-plan -->"
LIMIT = 60_000
RESERVE = 400  # room kept for the closing note and the last closing tags
LEFT_OUT_ROOM = 6_000  # room for the addresses of changes left out, when some are

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")


def render(data: Data, *, limit: int = LIMIT) -> str:
    """The comment for ``data``, at most ``limit`` characters."""
    text = _render(data, limit, left_out_room=0)
    if text is None:  # not every change fits: keep room to name the ones left out
        text = _render(data, limit, left_out_room=LEFT_OUT_ROOM)
    assert text is not None
    return text


def _render(data: Data, limit: int, *, left_out_room: int) -> str | None:
    """The comment, or None when some change did not fit and ``left_out_room`` is 0."""
    out = _Budget(limit - RESERVE)
    title = [MARKER, "## wasync plan", "", f"**{_esc(common.summary_line(data))}**", ""]
    out.force("\n".join(title) + "\n")
    if data["accounts"]:
        out.force(_table(data["accounts"]) + "\n")

    _bounded_list(out, f"### {common.CANNOT_APPLY}", _cannot_apply(data), _cannot_apply_note())
    _bounded_list(out, "### Needs attention", _attention(data))

    if data["warnings"]:
        lines = [f"- {_code(w['address'])}: {_esc(w['message'])}" for w in data["warnings"]]
        if not out.add("### Warnings\n\n" + "\n".join(lines) + "\n\n"):
            out.force(f"{len(lines)} warnings are not listed here, for length.\n\n")

    left_out: list[str] = []
    room_kept = left_out_room
    groups = [g for g in grouping.group_changes(data["changes"]) if len(g.changes) > 1]
    grouped = {id(c) for g in groups for c in g.changes}
    for group in groups:
        if not _group_details(out, group, keep=room_kept):
            left_out += group.addresses
    for account in data["accounts"]:
        changes = [
            c
            for c in data["changes"]
            if c["account"] == account["account"] and id(c) not in grouped
        ]
        if changes:
            shown = _details(out, account, changes, keep=room_kept)
            left_out += [c["address"] for c in changes[shown:]]
    if left_out and not left_out_room:
        return None

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
        if not out.add(block, keep=room_kept if left_out else 0):
            out.force(f"{len(items)} unmanaged resources are not listed here, for length.\n")

    if left_out:
        _left_out(out, left_out, len(data["changes"]), limit)
    return out.text()


def _cannot_apply_note() -> str:
    note = common.CANNOT_APPLY_NOTE
    return f"_{_esc(note[0].upper() + note[1:])}._\n\n"


def _bounded_list(out: _Budget, title: str, lines: Sequence[str], intro: str = "") -> None:
    if not lines:
        return
    out.force(f"{title}\n\n{intro}")
    shown = 0
    for line in lines:
        if not out.add(line + "\n"):
            break
        shown += 1
    if shown < len(lines):
        out.force(f"- ... and {len(lines) - shown} more; see the plan below or locally\n")
    out.force("\n")


def _table(accounts: Sequence[Data]) -> str:
    rows = [
        "| Account | Provider | Create | Update | Replace | Delete | Blocked | Unmanaged |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for a in accounts:
        rows.append(
            f"| {_esc(a['account'])} | {_esc(a['provider'])} | {a['create']} | {a['update']} "
            f"| {a.get('replace', 0)} | {a['delete']} | {a['blocked']} | {a['unmanaged']} |"
        )
    return "\n".join(rows) + "\n"


def _cannot_apply(data: Data) -> list[str]:
    lines = []
    for c in grouping.once(common.blocked_changes(data)):
        line = f"- :no_entry: {_code(c['address'])} ({c['action']}): {_esc(c['blocked']['reason'])}"
        if common.way_out(c):
            line += f"<br>**Way out:** {_esc(common.way_out(c))}"
        lines.append(line)
    return lines


def _attention(data: Data) -> list[str]:
    lines = [f"- :no_entry: {_esc(common.threshold_line(v))}" for v in data["threshold_violations"]]
    for c in grouping.once(data["changes"]):
        if c["hazards"] and not c["blocked"]:
            reasons = "; ".join(h["reason"] for h in c["hazards"])
            lines.append(f"- :warning: {_code(c['address'])} ({c['action']}): {_esc(reasons)}")
    return lines


# --- the changes of an account -----------------------------------------------------------------


def _details(out: _Budget, account: Data, changes: Sequence[Data], *, keep: int) -> int:
    """Add an account's changes, as many as fit while leaving ``keep`` characters; return
    how many were shown (always the first ones, in plan order)."""
    summary = html.escape(escape.line(common.account_line(account)))
    opening = f"<details><summary>{summary}</summary>\n\n"
    closing = "</details>\n\n"
    room = out.room() - keep - len(opening) - len(closing)
    parts: list[str] = []
    shown = 0
    for part, count in _parts(changes):  # built only while they fit: plans can be huge
        if len(part) > room:
            break
        parts.append(part)
        room -= len(part)
        shown += count
    if parts:
        out.force(opening + "".join(parts) + closing)
    return shown


def _group_details(out: _Budget, group: grouping.Group, *, keep: int) -> bool:
    """The same change on several targets, once (``grouping``): a block titled with what
    and where, the change with a wildcard for the target. False if it does not fit."""
    body = "".join(part for part, _ in _parts([group.standing_for_all()]))
    summary = html.escape(escape.line(group.headline()))
    block = f"<details><summary>{summary}</summary>\n\n{body}</details>\n\n"
    return out.add(block, keep=keep)


def _parts(changes: Sequence[Data]) -> Iterator[tuple[str, int]]:
    """Each change's Markdown, in order; consecutive changes without a preview share one
    diff block, split where a diff block would grow past a few thousand characters (so that
    one long run never decides alone what fits)."""
    run: list[str] = []

    def flush() -> Iterator[tuple[str, int]]:
        if run:
            yield _fenced(run), len(run)
            run.clear()

    for change in changes:
        if change.get("preview") and change["action"] in ("create", "update"):
            yield from flush()
            yield _previewed(change), 1
        else:
            run.append(_diff_lines(change))
            if sum(len(r) for r in run) > 2_000:
                yield from flush()
    yield from flush()


def _fenced(blocks: Sequence[str]) -> str:
    # A fence longer than any backtick run inside, so user text cannot close it.
    fence = "`" * max(3, 1 + max(_longest_backticks(b) for b in blocks))
    return f"{fence}diff\n" + "\n".join(blocks) + f"{fence}\n\n"


def _diff_lines(change: Data) -> str:
    # In a diff block GitHub colours - and + lines; a changed value is a - and + pair,
    # hazards and blocked reasons are ! lines. A create is one line of fields.
    lines = [f"# {common.header(change)}"]
    replaced = common.replaced_line(change)
    if replaced:
        lines.append(f"{common.REPLACE} {replaced}")
    if change["action"] == "create":
        lines.append(f"+ {common.compact_fields(change)}")
    else:
        for symbol, path, before, after in common.field_rows(change):
            if symbol in "-~":
                lines.append(f"- {path} = {common.value(before)}")
            if symbol in "+~":
                lines.append(f"+ {path} = {common.value(after)}")
    lines += _notes(change)
    return "\n".join(escape.line(line) for line in lines) + "\n"


def _notes(change: Data) -> list[str]:
    lines = [f"! {h['reason']}" for h in change["hazards"]]
    if change["blocked"]:
        lines.append(f"! blocked: {change['blocked']['reason']}")
    return lines


def _previewed(change: Data) -> str:
    """A template create or update: its header line, the message as the customer sees it
    (before and after for an update), and the field diff or notes in a diff block."""
    preview = change["preview"]
    head = f"**{_esc(common.header_tail(change))}**"
    parts = [f"{_code(change['address'])} {head}"]
    if change["action"] == "create":
        rest = [f for f in change["fields"] if not f["path"].startswith("components")]
        if rest:
            parts[0] += " · " + _esc(", ".join(f"{f['path']} {f['after']}" for f in rest))
        parts.append(_message(preview["after"]))
        notes = _notes(change)
    else:
        parts.append(_before_after(preview["before"], preview["after"]))
        notes = _diff_lines(change).splitlines()[1:]  # the header is above
    text = "\n\n".join(parts) + "\n\n"
    if notes:
        text += _fenced(["\n".join(notes) + "\n"])
    return text


def _message(components: Sequence[Data] | None) -> str:
    if components is None:
        return "> _(the provider's listing had no components to show)_"
    return message.to_markdown(message.message_of(components))


def _before_after(before: Sequence[Data] | None, after: Sequence[Data] | None) -> str:
    if before == after:  # only the category or the TTL changes: one message
        return _message(after)
    return (
        "<table><tr><th>before</th><th>after</th></tr><tr><td>\n\n"
        f"{_message(before)}\n\n</td><td>\n\n{_message(after)}\n\n</td></tr></table>"
    )


def _left_out(out: _Budget, addresses: Sequence[str], total: int, limit: int) -> None:
    """The closing block: how many changes were left out, and their addresses (as many as
    fit, then a count)."""
    head = (
        f"\n<details><summary>{len(addresses)} of {total} changes are not shown, to keep "
        f"this comment under {limit:,} characters</summary>\n\n"
    )
    tail_room = 200
    out.force(head)
    named = 0
    for address in addresses:
        if not out.add(f"- {_code(address)}\n", keep=tail_room):
            break
        named += 1
    if named < len(addresses):
        out.force(f"- ... and {len(addresses) - named} more\n")
    out.force(
        "\n</details>\n\n"
        f"_{len(addresses)} of {total} changes are not shown. Run `wasync plan` locally, "
        "or `wasync show PLAN.json` on the saved plan, to see the whole plan._\n"
    )


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
    """Plain text safe in Markdown and HTML, on one line: no formatting, links, tags or
    line structure from user data."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text).replace("&", "&amp;"))


def _one_line(text: str) -> str:
    return escape.line(text)


def _code(text: str) -> str:
    text = _one_line(text)  # a blank line would end the code span, and the paragraph
    ticks = "`" * (1 + _longest_backticks(text))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)

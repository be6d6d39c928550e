"""Wording shared by the renderers, so text and Markdown say the same thing the same way.

Every function here reads the plan's data view (``Plan.data()``), never a ``Plan``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from wasync.output import visible

Data = Mapping[str, Any]

PAST = {"create": "created", "update": "updated in place", "delete": "deleted"}
INFINITIVE = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}
# Why a replacement matters, by kind (the provider retires the old identity).
REPLACED_BECAUSE = {"qr": "the printed code stops working"}
REPLACE = "-/+"
HAZARD = "!"
BLOCKED = "x"
UNMANAGED = "?"
PATH_WIDTH = 40  # paths longer than this are not padded to a common column


def shown(data: Any) -> Any:
    """``data`` with every string passed through ``wasync.output.visible``: what the text
    and Markdown renderers print, so a control character, a bidi override or an invisible
    character in a spec or a remote name shows as ``<U+XXXX>`` instead of acting."""
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, Mapping):
        return {k: shown(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [shown(v) for v in data]
    return data


def value(v: Any) -> str:
    """A field value as JSON (quoted strings, escaped newlines), or (absent)."""
    if v is None:
        return "(absent)"
    if type(v) is str:  # most values; what json.dumps(v, ensure_ascii=False) writes
        return _quoted(v)
    return _JSON.encode(v)


# json.dumps(v, ensure_ascii=False) builds an encoder per call: one per field of a plan
# that creates 10,000 templates is a second of CPU.
_JSON = json.JSONEncoder(ensure_ascii=False)
_quoted = json.encoder.encode_basestring


def header(change: Data) -> str:
    """``qr.shop.861.poster will be created`` / ``... will not be updated: blocked``."""
    return f"{change['address']} {header_tail(change)}"


def header_tail(change: Data) -> str:
    """``will be created`` / ``will be updated in place (status APPROVED)`` / ``must be
    replaced (the printed code stops working)`` / ``will not be updated: blocked``: the
    header after the address."""
    action = change["action"]
    if change["blocked"]:
        return f"will not be {INFINITIVE[action]}: blocked"
    if action == "replace":
        why = REPLACED_BECAUSE.get(change["kind"])
        return f"must be replaced ({why})" if why else "must be replaced"
    text = f"will be {PAST[action]}"
    status = change.get("remote_status")
    return f"{text} (status {status})" if status else text


def replaced_line(change: Data) -> str | None:
    """``code = "M1" -> a new code`` for a replacement: the identity that goes."""
    if change["action"] != "replace":
        return None
    word = "code" if change["kind"] == "qr" else "id"
    return f"{word} = {value(change['remote_id'])} -> (new {word}, known after apply)"


def field_rows(change: Data) -> list[tuple[str, str, Any, Any]]:
    """(symbol, path, before, after) per field, the paths padded to a common column;
    the symbol is + for a value that appears, - for one that goes, ~ for one that changes."""
    fields: Sequence[Data] = change["fields"]
    width = min(PATH_WIDTH, max((len(f["path"]) for f in fields), default=0))
    out = []
    for f in fields:
        before, after = f["before"], f["after"]
        symbol = "+" if before is None else "-" if after is None else "~"
        out.append((symbol, f["path"].ljust(width), before, after))
    return out


def field_lines(change: Data) -> list[tuple[str, str]]:
    """(symbol, text): ``+ path = after``, ``- path = before``, ``~ path = before -> after``."""
    out = []
    for symbol, path, before, after in field_rows(change):
        if symbol == "+":
            out.append((symbol, f"{path} = {value(after)}"))
        elif symbol == "-":
            out.append((symbol, f"{path} = {value(before)}"))
        else:
            out.append((symbol, f"{path} = {value(before)} -> {value(after)}"))
    return out


def summary_line(data: Data) -> str:
    s = data["summary"]
    tail = f"{s['unmanaged']} unmanaged, not touched." if s["unmanaged"] else ""
    if not data["changes"]:
        return "No changes. The remote matches the specs." + (f" {tail}" if tail else "")
    replace = f", {s['replace']} to replace" if s.get("replace") else ""
    parts = [f"{s['create']} to create, {s['update']} to update{replace}, {s['delete']} to delete"]
    if s["blocked"]:
        parts.append(f"{s['blocked']} blocked")
    text = "Plan: " + "; ".join(parts)
    return f"{text}; {tail}" if tail else f"{text}."


def account_line(account: Data) -> str:
    """``shop-cams: 1 to create, 2 to update; 1 blocked`` (only the non-zero counts)."""
    actions = ("create", "update", "replace", "delete")
    parts = [f"{account[a]} to {a}" for a in actions if account.get(a)]
    text = ", ".join(parts) or "nothing to apply"
    if account["blocked"]:
        text += f"; {account['blocked']} blocked"
    return f"{account['account']}: {text}"


CANNOT_APPLY = "Cannot be applied"
CANNOT_APPLY_NOTE = (
    "apply skips these; until each is resolved the specs and the remote disagree, and "
    "plan --detailed-exitcode exits 4 when nothing else is left"
)


def blocked_changes(data: Data) -> list[Data]:
    return [c for c in data["changes"] if c["blocked"]]


def way_out(change: Data) -> str:
    """The blocked change's way out (older saved plans carry none)."""
    return str(change["blocked"].get("way_out") or "")


def compact_fields(change: Data) -> str:
    """A create's fields on one line: ``phone = "861...", image = "SVG"``."""
    return ", ".join(f"{f['path']} = {value(f['after'])}" for f in change["fields"])


def threshold_line(violation: Data) -> str:
    return f"{violation['message']}; apply will stop unless --force"


UNMANAGED_NOTE = (
    "not in the specs; not touched (prune: true on the account, or --prune, deletes them)"
)


def unmanaged_label(item: Data) -> str:
    status = item.get("status")
    return f"{item['address']} ({status})" if status else item["address"]

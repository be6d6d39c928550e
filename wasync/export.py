"""Print-ready QR codes: one image per managed code, and an index for the printer.

``wasync qr export`` reads the remote state (the deep link a code opens comes from the
provider, not from the specs), matches the spec entries to their codes by the one rule
(``wasync.plan.identity``), and draws each code locally with segno: no network, and SVG is
vector, for print. Each image encodes the code's deep link and is named after the entry's
address. ``index.csv`` lists address, phone, code, deep link and prefilled message, made
safe for spreadsheets (a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'``, so it is never read as a formula).

An entry is not exported, and says why, when it has no code yet, when its code is about to
be replaced (a printed copy would stop working at the next apply), or when the provider
gave no deep link. One whose code stays but whose message changes at the next apply (a
provider that keeps codes) is exported with a note.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno

from wasync.model import QrCode, RemoteQrCode
from wasync.plan.identity import match_qr_codes
from wasync.plan.model import Change, Plan

FORMATS = ("svg", "png")
INDEX = "index.csv"
COLUMNS = ("address", "phone", "code", "deep_link", "prefilled_message", "image")
BORDER = 4  # modules of quiet zone around the code, as the QR standard asks
SCALE = 10  # pixels (PNG) or user units (SVG) per module
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Printable:
    """A code to print: the entry it belongs to and what its image encodes."""

    entry: QrCode
    code: RemoteQrCode
    note: str = ""  # exported, with something to know

    @property
    def address(self) -> str:
        return self.entry.address

    def file_name(self, fmt: str) -> str:
        return f"{_UNSAFE.sub('_', self.address)}.{fmt}"


@dataclass(frozen=True)
class Left:
    """An entry that was not exported, and why (with what to do)."""

    address: str
    reason: str


def choose(
    entries: Sequence[QrCode],
    codes: Iterable[RemoteQrCode],
    the_plan: Plan,
    wanted: Sequence[QrCode],
) -> tuple[list[Printable], list[Left]]:
    """What to export of ``wanted`` (some of ``entries``), given the codes the providers
    hold and the plan made from them. Matching uses every entry of a phone, so that the
    codes go to the same entries as in a plan."""
    matched: dict[str, RemoteQrCode] = {}
    for found in match_qr_codes(entries, codes).values():
        for entry, code in found.matched:
            matched[entry.address] = code
    changes: dict[str, Change] = {c.address: c for c in the_plan.changes}
    out: list[Printable] = []
    left: list[Left] = []
    for d in sorted(wanted, key=lambda d: d.address):
        r = matched.get(d.address)
        change = changes.get(d.address)
        if r is None:
            why = "no code yet: wasync apply creates it"
            if change is not None and change.blocked is not None:
                why = f"no code yet, and its create is blocked: {change.blocked.reason}"
            left.append(Left(d.address, why))
        elif not r.deep_link_url:
            left.append(Left(d.address, f"the provider gave no deep link for code {r.code}"))
        elif change is not None and change.action == "replace" and change.blocked is None:
            left.append(
                Left(
                    d.address,
                    f"its spec differs from code {r.code}, which the next apply replaces (a "
                    "printed copy would stop working): apply first, then export",
                )
            )
        elif change is not None and change.blocked is not None:
            note = f"its spec differs from code {r.code}, which stays as it is (blocked: "
            out.append(Printable(d, r, note + f"{change.blocked.reason})"))
        elif change is not None:
            note = "its message changes at the next apply; the code, and this image, stay"
            out.append(Printable(d, r, note))
        else:
            out.append(Printable(d, r))
    return out, left


def image(deep_link: str, fmt: str) -> bytes:
    """The QR image of ``deep_link``: SVG (vector, for print) or PNG."""
    qr = segno.make(deep_link, error="m", micro=False)
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=SCALE, border=BORDER, title=deep_link)
    else:
        qr.save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()


def write(items: Sequence[Printable], folder: Path, fmt: str) -> Path:
    """One image per item, named after its address, and ``index.csv``; returns the index."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; use one of {', '.join(FORMATS)}")
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        (folder / item.file_name(fmt)).write_bytes(image(item.code.deep_link_url, fmt))
    index = folder / INDEX
    # utf-8-sig: spreadsheet programs then read the messages' accents and emoji right.
    with index.open("w", encoding="utf-8-sig", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(COLUMNS)
        for item in items:
            rows.writerow(
                [
                    safe_cell(v)
                    for v in (
                        item.address,
                        item.entry.phone,
                        item.code.code,
                        item.code.deep_link_url,
                        item.code.prefilled_message,
                        item.file_name(fmt),
                    )
                ]
            )
    return index


def safe_cell(value: str) -> str:
    """``value``, never read as a formula by a spreadsheet (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA) else value

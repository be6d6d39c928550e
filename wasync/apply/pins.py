"""What an apply made that people print, and the pins it writes back.

A QR code that apply created or replaced (or adopted: found, made by another apply, just
before creating it) has a new code: it is shown (address, code, deep link, image; the old
code for a replacement), and its ``code:`` is written into the spec entry that asked for it
(``wasync.spec.write.write_pins``, the one writer of spec files), so the specs name the
codes that are live and identity no longer rests on the message. A file that cannot be
written is reported with the codes to pin by hand; it does not undo or fail
an apply whose remote changes succeeded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from wasync.apply.executor import Report, Status
from wasync.model import Desired, JsonDict, QrCode, RemoteQrCode
from wasync.spec.load import LoadedSpecs
from wasync.spec.write import PinWriteError, write_pins

FORMAT = "wasync-qr-codes"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class MadeCode:
    """A QR code an apply created or replaced, and the spec entry it belongs to."""

    address: str
    action: str  # create | replace
    code: str
    old_code: str | None  # the code a replacement retired
    deep_link_url: str
    qr_image_url: str
    file: str | None  # the spec file that declares the entry
    pinned_before: str | None  # the entry's code: as it was
    # Another apply made it for this entry while this one ran (a create that found it
    # instead): pinned all the same.
    adopted: bool = False


@dataclass(frozen=True)
class Unwritten:
    """Pins that are not in the files: why, and what to write by hand."""

    file: str | None
    reason: str
    codes: tuple[MadeCode, ...]


@dataclass
class Pinning:
    """What became of the pins of an apply."""

    written: dict[str, list[MadeCode]] = field(default_factory=dict)  # file -> codes
    unwritten: list[Unwritten] = field(default_factory=list)
    skipped: bool = False  # --no-write-codes

    def status_of(self, made: MadeCode) -> tuple[bool, str | None]:
        """(pinned, why not) for one code."""
        if made.file is not None and made in self.written.get(made.file, ()):
            return True, None
        for u in self.unwritten:
            if made in u.codes:
                return False, u.reason
        return False, None


def made_codes(report: Report, specs: LoadedSpecs) -> list[MadeCode]:
    """Every QR code the apply created or replaced, in address order."""
    out = []
    for o in report.outcomes:
        change = o.change
        if o.status is not Status.SUCCEEDED or change.kind != "qr":
            continue
        if change.action not in ("create", "replace") or not isinstance(o.made, RemoteQrCode):
            continue
        where = specs.source_map.locate(change.address)
        desired = change.desired if isinstance(change.desired, QrCode) else None
        out.append(
            MadeCode(
                address=change.address,
                action=change.action,
                code=o.made.code,
                old_code=change.remote_id,
                deep_link_url=o.made.deep_link_url,
                qr_image_url=o.made.qr_image_url,
                file=where.file if where is not None else None,
                pinned_before=desired.code if desired is not None else None,
                adopted=o.adopted,
            )
        )
    return sorted(out, key=lambda m: m.address)


def pinned_specs(specs: LoadedSpecs, made: Iterable[MadeCode]) -> LoadedSpecs:
    """``specs`` as they read once the pins are written."""
    codes = {m.address: m.code for m in made}
    if not codes:
        return specs
    qrs = tuple(
        q.model_copy(update={"code": codes[q.address]}) if q.address in codes else q
        for q in specs.desired.qr_codes
    )
    return replace(specs, desired=Desired(qr_codes=qrs, templates=specs.desired.templates))


def write(made: Sequence[MadeCode], *, enabled: bool = True) -> Pinning:
    """Write the pins of ``made`` into their spec files (one write per file); with
    ``enabled`` False, write nothing and say so."""
    result = Pinning(skipped=not enabled)
    todo = [m for m in made if m.code != m.pinned_before]
    if not enabled:
        if todo:
            result.unwritten.append(Unwritten(None, "--no-write-codes", tuple(todo)))
        return result
    by_file: dict[str | None, list[MadeCode]] = defaultdict(list)
    for m in todo:
        by_file[m.file].append(m)
    for file, codes in sorted(by_file.items(), key=lambda kv: kv[0] or ""):
        if file is None:  # pragma: no cover - every planned entry comes from a file
            result.unwritten.append(Unwritten(None, "no spec file declares it", tuple(codes)))
            continue
        try:
            missing = write_pins(Path(file), {m.address: m.code for m in codes})
        except PinWriteError as exc:
            result.unwritten.append(Unwritten(file, str(exc), tuple(codes)))
            continue
        except OSError as exc:
            result.unwritten.append(Unwritten(file, exc.strerror or str(exc), tuple(codes)))
            continue
        lost = tuple(m for m in codes if m.address in missing)
        if lost:
            reason = "the entry is no longer in this file (moved or renamed during the apply?)"
            result.unwritten.append(Unwritten(file, reason, lost))
        result.written[file] = [m for m in codes if m.address not in missing]
    return result


def document(made: Sequence[MadeCode], pinning: Pinning) -> JsonDict:
    """The JSON of ``apply --codes-out``: every code made, and whether its pin was written."""
    codes = []
    for m in made:
        pinned, why = pinning.status_of(m)
        codes.append(
            {
                "address": m.address,
                "action": m.action,
                "code": m.code,
                "old_code": m.old_code if m.action == "replace" else None,
                "deep_link_url": m.deep_link_url or None,
                "qr_image_url": m.qr_image_url or None,
                "file": m.file,
                "pinned": pinned or m.code == m.pinned_before,
                "not_pinned_reason": None if pinned or m.code == m.pinned_before else why,
            }
        )
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "codes": codes}


def write_document(path: Path, made: Sequence[MadeCode], pinning: Pinning) -> None:
    text = json.dumps(document(made, pinning), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")

"""What import does with each resource, decided from a plan of the account's specs against
what it holds (pruning off), so import and plan never disagree:

- the plan's *unmanaged* resources are added to the specs;
- its *updates* are entries that differ: reported and left as they are, or with
  ``--overwrite`` rewritten in place to match the remote;
- its *creates* are entries the provider lacks: reported.
"""

from __future__ import annotations

from wasync.importer.account import Target
from wasync.importer.entries import label_for, labels_in_use, qr_entry, template_entry
from wasync.importer.result import Differing, ImportResult, Note, Skipped
from wasync.importer.vet import address_of, vet
from wasync.importer.writer import Writer
from wasync.model import Desired, JsonDict, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.plan import Change, Plan
from wasync.plan.identity import match_qr_codes


def decide(
    the_plan: Plan,
    remote: Remote,
    desired: Desired,
    target: Target,
    writer: Writer,
    result: ImportResult,
    *,
    overwrite: bool,
) -> None:
    by_id: dict[tuple[str, str], RemoteQrCode | RemoteTemplate] = {}
    for q in remote.qr_codes:
        by_id[(q.address, q.code)] = q
    for t in remote.templates:
        by_id[(t.address, t.id)] = t
    changed = {c.address for c in the_plan.changes}
    addresses = [q.address for q in desired.qr_codes] + [t.address for t in desired.templates]
    result.in_sync = sum(1 for a in addresses if a not in changed)
    labels = labels_in_use(desired)

    for u in the_plan.unmanaged:
        found = by_id[(u.address, u.remote_id)]
        notes: dict[str, str] = {}
        if isinstance(found, RemoteQrCode):
            entry = qr_entry(found, label_for(found, labels), None)
        else:
            entry, notes = template_entry(found, None, target)
        ready, reason = vet(found, entry, target)
        if ready is None:
            result.skipped.append(Skipped(found.address, reason or "not valid"))
            continue
        address = address_of(ready)
        writer.add(address, ready, notes)
        result.notes += [Note(address, n) for n in notes.values()]

    for change in the_plan.changes:
        if change.action == "create":
            result.missing.append(change.address)
        elif change.action in ("update", "replace"):
            _differs(change, target, writer, result, overwrite=overwrite)
    _pin(desired, remote, writer)


def _pin(desired: Desired, remote: Remote, writer: Writer) -> None:
    """Pin every spec QR entry that found its code by message (no ``code:``, or one the
    phone no longer has) to that code, by the planner's rule. Without a pin, editing the
    message plans a new code instead of changing this one (and ``protect`` cannot guard a
    code the entry no longer matches)."""
    for found in match_qr_codes(desired.qr_codes, remote.qr_codes).values():
        for d, r in found.matched:
            if d.code != r.code:
                writer.pin(d.address, r.code)


def _differs(
    change: Change, target: Target, writer: Writer, result: ImportResult, *, overwrite: bool
) -> None:
    where = writer.file_of(change.address)
    fields = tuple(dict.fromkeys(f.path for f in change.fields))
    if not overwrite:
        result.differing.append(Differing(change.address, where, fields))
        return
    if not writer.can_replace(change.address):
        shared = (
            "declared by an entry for several targets: change it there for all, or under "
            "its overrides for this one"
        )
        result.differing.append(Differing(change.address, where, fields, reason=shared))
        return
    r, d = change.remote, change.desired
    if isinstance(r, RemoteQrCode) and isinstance(d, QrCode):
        entry: JsonDict = qr_entry(r, d.label, d)
        notes: dict[str, str] = {}
    else:
        assert isinstance(r, RemoteTemplate) and isinstance(d, Template)
        entry, notes = template_entry(r, d, target)
    ready, reason = vet(r, entry, target)
    if ready is None:
        result.differing.append(Differing(change.address, where, fields, reason=reason))
        return
    writer.replace(change.address, ready)
    result.differing.append(Differing(change.address, where, fields, overwritten=True))
    result.notes += [Note(change.address, n) for n in notes.values()]

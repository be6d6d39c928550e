"""Refresh: read what the providers hold for the accounts in use, with the fewest calls.

QR codes are listed per phone number (the providers' APIs list them so), so the phones are
those the specs name: a phone no spec names any more is not read, so its codes are
neither reported nor pruned. Template components are fetched only for templates the specs
manage; the rest are listed without detail (enough to report them as unmanaged or prune them).
Accounts are read in parallel; each account's calls are paced by its own gate, and each read
call is retried on its own by the session's policy (a listing never starts over).

``refresh`` decides what to read from the specs (``readings``) and reads it (``read``);
``wasync import`` reads through ``read`` too, with numbers and detail of its own.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from wasync.gcpause import gc_paused
from wasync.model import Desired, Remote, RemoteQrCode, RemoteTemplate
from wasync.session import Connection, Session


@dataclass(frozen=True)
class Reading:
    """What to read of one account."""

    qr_phones: Collection[str] = ()  # numbers whose QR codes are listed
    template_phones: Collection[str] = ()  # numbers whose templates are listed (phone scope)
    # (name, language) of the templates read with their components; None: every template
    detail_for: Collection[tuple[str, str]] | None = ()


async def refresh(session: Session, desired: Desired, accounts: Iterable[str]) -> Remote:
    """Read the remote state of ``accounts`` (names from wasync.yaml)."""
    return await read(session, readings(desired, accounts))


def readings(desired: Desired, accounts: Iterable[str]) -> dict[str, Reading]:
    """What ``refresh`` reads of each account: the numbers the specs name, and the
    components of the templates they manage."""
    qr_phones: dict[str, set[str]] = {name: set() for name in accounts}
    template_phones: dict[str, set[str]] = {name: set() for name in qr_phones}
    wanted: dict[str, set[tuple[str, str]]] = {name: set() for name in qr_phones}
    for qr in desired.qr_codes:
        if qr.account in qr_phones:
            qr_phones[qr.account].add(qr.phone)
    for t in desired.templates:
        if t.account in wanted:
            if t.phone:
                template_phones[t.account].add(t.phone)
            wanted[t.account].add((t.name, t.language))
    return {
        name: Reading(qr_phones[name], template_phones[name], wanted[name]) for name in qr_phones
    }


async def read(session: Session, wanted: Mapping[str, Reading]) -> Remote:
    """Read what ``wanted`` names of each account, the accounts in parallel."""

    async def read_account(conn: Connection) -> tuple[list[RemoteQrCode], list[RemoteTemplate]]:
        reading, provider, kinds = wanted[conn.account.name], conn.provider, conn.traits.kinds
        qr_lists: list[list[RemoteQrCode]] = []
        if "qr" in kinds:
            qr_lists = await asyncio.gather(
                *(provider.list_qr_codes(phone) for phone in sorted(reading.qr_phones))
            )
        templates: list[RemoteTemplate] = []
        if "template" in kinds and (
            conn.traits.template_scope == "account" or reading.template_phones
        ):
            templates = await provider.list_templates(
                sorted(reading.template_phones), reading.detail_for
            )
        return [q for lst in qr_lists for q in lst], templates

    # Replies become tens of thousands of small acyclic objects: a collector rescanning
    # them as they pile up costs as much as reading them (about 1 s at 20,000 resources).
    # They live until the command ends, so they are then moved out of the collector's
    # sight, as the loaded specs are (``load_desired``).
    with gc_paused():
        results = await asyncio.gather(*(read_account(c) for c in session.connections(wanted)))
        remote = Remote(
            qr_codes=tuple(q for qrs, _ in results for q in qrs),
            templates=tuple(t for _, ts in results for t in ts),
        )
        del results
        gc.freeze()
    return remote

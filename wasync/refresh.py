"""Refresh: read what the providers hold for the accounts in use, with the fewest calls.

QR codes can only be listed per phone number (CAMS has no account-wide listing), so the phones
are those the specs name: a phone no spec names any more is not read, so its codes are
neither reported nor pruned. Template components are fetched only for templates the specs
manage; the rest are listed without detail (enough to report them as unmanaged or prune them).
Accounts are read in parallel; each account's calls are paced by its own gate, and each read
call is retried on its own by the session's policy (a listing never starts over).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

from wasync.model import Desired, Remote, RemoteQrCode, RemoteTemplate
from wasync.session import Connection, Session


async def refresh(session: Session, desired: Desired, accounts: Iterable[str]) -> Remote:
    """Read the remote state of ``accounts`` (names from wasync.yaml)."""
    qr_phones: dict[str, set[str]] = defaultdict(set)
    template_phones: dict[str, set[str]] = defaultdict(set)
    wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for qr in desired.qr_codes:
        qr_phones[qr.account].add(qr.phone)
    for t in desired.templates:
        if t.phone:
            template_phones[t.account].add(t.phone)
        wanted[t.account].add((t.name, t.language))

    async def read_account(conn: Connection) -> tuple[list[RemoteQrCode], list[RemoteTemplate]]:
        name, provider, kinds = conn.account.name, conn.provider, conn.traits.kinds
        qr_lists: list[list[RemoteQrCode]] = []
        if "qr" in kinds:
            qr_lists = await asyncio.gather(
                *(provider.list_qr_codes(phone) for phone in sorted(qr_phones[name]))
            )
        templates: list[RemoteTemplate] = []
        if "template" in kinds and (
            conn.traits.template_scope == "account" or template_phones[name]
        ):
            templates = await provider.list_templates(sorted(template_phones[name]), wanted[name])
        return [q for lst in qr_lists for q in lst], templates

    results = await asyncio.gather(*(read_account(c) for c in session.connections(accounts)))
    return Remote(
        qr_codes=tuple(q for qrs, _ in results for q in qrs),
        templates=tuple(t for _, ts in results for t in ts),
    )

"""Refresh: read what the providers hold for the accounts in use, with the fewest calls.

QR codes can only be listed per phone number (CAMS has no account-wide listing), so the phones
are those the specs name. Template components are fetched only for templates the specs
manage; the rest are listed without detail (enough to report them as unmanaged or prune them).
Accounts are read in parallel; each account's calls are paced by its own gate.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from wasync.apply.limits import RETRY_READS, RetryPolicy
from wasync.model import Desired, Remote, RemoteQrCode, RemoteTemplate
from wasync.session import Connection, Session

T = TypeVar("T")


async def refresh(
    session: Session,
    desired: Desired,
    accounts: Iterable[str],
    *,
    policy: RetryPolicy | None = None,
) -> Remote:
    """Read the remote state of ``accounts`` (names from wasync.yaml)."""
    policy = policy or RetryPolicy()
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

        def read(fn: Callable[[], Awaitable[T]]) -> Awaitable[T]:
            return policy.call(fn, retry_on=RETRY_READS)

        qr_lists: list[list[RemoteQrCode]] = []
        if "qr" in kinds:
            qr_lists = await asyncio.gather(
                *(
                    read(lambda p=phone: provider.list_qr_codes(p))  # type: ignore[misc]
                    for phone in sorted(qr_phones[name])
                )
            )
        templates: list[RemoteTemplate] = []
        if "template" in kinds and (
            conn.traits.template_scope == "account" or template_phones[name]
        ):
            templates = await read(
                lambda: provider.list_templates(sorted(template_phones[name]), wanted[name])
            )
        return [q for lst in qr_lists for q in lst], templates

    results = await asyncio.gather(*(read_account(c) for c in session.connections(accounts)))
    return Remote(
        qr_codes=tuple(q for qrs, _ in results for q in qrs),
        templates=tuple(t for _, ts in results for t in ts),
    )

"""After an apply: wait until the templates it submitted leave review (``apply --wait``).

Creating or editing a template sends it to WhatsApp's review; ``wait_for_review`` polls
until each has a verdict or the time is up. Each poll reads every account that still has a
template in review once, with the provider's own listing (``list_templates`` without
details: the listing carries the status and the rejection reason), through the account's
connection, so its rate gate and read retries apply as to any other call. Polls start
close together and spread out (``POLL_SECONDS``): a sandbox review takes seconds, a real one
minutes or hours.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from wasync.apply.executor import Connections
from wasync.errors import ProviderError
from wasync.model import RemoteTemplate, Template
from wasync.pacing.retry import interruptible_sleep

# Statuses of a template that is still being reviewed (an appeal is a second review).
UNDER_REVIEW = frozenset({"PENDING", "IN_APPEAL"})
# Seconds between polls: these, then the last one again and again.
POLL_SECONDS: tuple[float, ...] = (2.0, 3.0, 5.0, 10.0, 15.0, 30.0)


@dataclass(frozen=True)
class Verdict:
    """How a template's review ended, as its provider reports it."""

    address: str
    status: str | None  # APPROVED, REJECTED, PAUSED, ...; None: the template is gone
    reason: str | None = None  # the provider's rejection reason, when it gives one

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"


@dataclass
class Reviews:
    """What waiting found: a verdict for each template that left review, and those still
    in review when the wait ended (time up, or stopped)."""

    verdicts: list[Verdict]
    waiting: list[Template]
    seconds: float
    stopped: bool = False

    @property
    def not_approved(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.approved]


class WaitProgress(Protocol):
    """Where the wait says how far it is (a line on stderr)."""

    def polled(self, waiting: int, total: int, elapsed: float, within: float) -> None: ...

    def poll_failed(self, account: str, error: ProviderError) -> None: ...


class SilentWait:
    def polled(self, waiting: int, total: int, elapsed: float, within: float) -> None:
        pass

    def poll_failed(self, account: str, error: ProviderError) -> None:
        pass


async def wait_for_review(
    connections: Connections,
    templates: Sequence[Template],
    *,
    within: float,
    progress: WaitProgress | None = None,
    stop: asyncio.Event | None = None,
) -> Reviews:
    """Poll until every template in ``templates`` has left review, ``within`` seconds
    have passed, or ``stop`` is set. A poll that fails with an error worth retrying
    (throttled, a timeout) is reported to ``progress`` and the next poll tries again; a
    refusal (credentials, permissions) is raised."""
    progress = progress or SilentWait()
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = {t.address: t for t in templates}
    verdicts: list[Verdict] = []
    polls = 0
    while waiting:
        elapsed = loop.time() - started
        progress.polled(len(waiting), len(templates), elapsed, within)
        if within - elapsed < 0.001 or (stop is not None and stop.is_set()):
            break
        delay = POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)]
        await interruptible_sleep(min(delay, within - elapsed), stop)
        if stop is not None and stop.is_set():
            break
        polls += 1
        for verdict in await _poll(connections, list(waiting.values()), progress):
            verdicts.append(verdict)
            del waiting[verdict.address]
    else:  # every template has its verdict
        progress.polled(0, len(templates), loop.time() - started, within)
    return Reviews(
        verdicts=sorted(verdicts, key=lambda v: v.address),
        waiting=sorted(waiting.values(), key=lambda t: t.address),
        seconds=loop.time() - started,
        stopped=stop is not None and stop.is_set(),
    )


async def _poll(
    connections: Connections, waiting: list[Template], progress: WaitProgress
) -> list[Verdict]:
    """One listing per account with templates in review; the verdicts it shows."""
    by_account: dict[str, list[Template]] = defaultdict(list)
    for template in waiting:
        by_account[template.account].append(template)
    found = await asyncio.gather(
        *(_poll_account(connections, a, ts, progress) for a, ts in sorted(by_account.items()))
    )
    return [verdict for verdicts in found for verdict in verdicts]


async def _poll_account(
    connections: Connections, account: str, waiting: list[Template], progress: WaitProgress
) -> list[Verdict]:
    provider = connections.connection(account).provider
    phones = sorted({t.phone for t in waiting if t.phone})
    try:
        # No details: the listing already says each template's status and reason.
        listed = await provider.list_templates(phones, detail_for=())
    except ProviderError as error:
        if not error.retryable:
            raise
        progress.poll_failed(account, error)
        return []
    remote: dict[str, RemoteTemplate] = {r.address: r for r in listed}
    verdicts = []
    for template in waiting:
        now = remote.get(template.address)
        if now is None:
            verdicts.append(Verdict(template.address, None))
        elif now.status not in UNDER_REVIEW:
            verdicts.append(Verdict(template.address, now.status, now.reason))
    return verdicts

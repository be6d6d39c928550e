"""The executor: carries a plan's changes out, per account, within its rate limit.

- Accounts run in parallel; within one, creates and updates run first, then deletes, with
  enough requests in flight to keep the rate gate busy at high latency.
- Throttling and transient errors are retried with backoff (``RetryPolicy``). A write whose
  outcome is unknown (timeout, dropped connection) is never blindly repeated: the executor
  reads the resource back and asks the planner whether the change is already in place; only
  if it is not does it try again. So no create is ever duplicated.
- A fatal error stops that change only; the others go on. Blocked changes are skipped.
- ``stop`` (set on Ctrl-C) lets in-flight calls finish and starts nothing new.
"""

from __future__ import annotations

import asyncio
import enum
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from wasync.apply.limits import RETRY_READS, RETRY_WRITES, RetryPolicy
from wasync.errors import ErrorClass, ProviderError
from wasync.model import Desired, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.plan import Change, Plan, plan
from wasync.plan.settings import AccountSettings
from wasync.session import Connection, Session

# How many times a write with an unknown outcome is read back and tried again.
UNKNOWN_OUTCOME_ROUNDS = 4


class Status(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    detail: str = ""  # what happened, for the report: a new code, why it was skipped
    error: ProviderError | None = None
    retries: int = 0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    def having(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is status]

    @property
    def failed(self) -> bool:
        return bool(self.having(Status.FAILED))


class Progress(Protocol):
    """Where the executor tells what it is doing (a progress bar, or one line per change)."""

    def started(self, change: Change) -> None: ...

    def retrying(self, change: Change, error: ProviderError, delay: float) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


class SilentProgress:
    def started(self, change: Change) -> None:
        pass

    def retrying(self, change: Change, error: ProviderError, delay: float) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass


class Executor:
    def __init__(
        self,
        session: Session,
        settings: dict[str, AccountSettings],
        *,
        policy: RetryPolicy | None = None,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.progress: Progress = progress or SilentProgress()
        self.stop = stop or asyncio.Event()
        # QR codes that exist because of this run, per (account, phone): reading back an
        # unknown create must not take another change's new code for its own.
        self._made: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._snapshot: dict[tuple[str, str], set[str]] = defaultdict(set)

    async def run(self, the_plan: Plan, snapshot: Remote) -> Report:
        """Carry out ``the_plan``, made against ``snapshot`` (the refreshed remote state)."""
        for qr in snapshot.qr_codes:
            self._snapshot[(qr.account, qr.phone)].add(qr.code)
        report = Report()
        by_account: dict[str, list[Change]] = defaultdict(list)
        for change in the_plan.changes:
            if change.blocked:
                outcome = Outcome(change, Status.SKIPPED, f"blocked: {change.blocked.reason}")
                report.outcomes.append(outcome)
                self.progress.finished(outcome)
            else:
                by_account[change.account].append(change)
        results = await asyncio.gather(
            *(self._run_account(self.session.connection(a), cs) for a, cs in by_account.items())
        )
        for outcomes in results:
            report.outcomes.extend(outcomes)
        report.interrupted = self.stop.is_set()
        return report

    async def _run_account(self, conn: Connection, changes: list[Change]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        limit = asyncio.Semaphore(conn.gate.in_flight_for())
        # Creates and updates first: a delete never runs while something it could affect
        # is still being written.
        phases = [
            [c for c in changes if c.action != "delete"],
            [c for c in changes if c.action == "delete"],
        ]
        for phase in phases:

            async def one(change: Change) -> Outcome:
                async with limit:
                    if self.stop.is_set():
                        outcome = Outcome(change, Status.SKIPPED, "not started: interrupted")
                    else:
                        self.progress.started(change)
                        outcome = await self._run_change(conn, change)
                self.progress.finished(outcome)
                return outcome

            outcomes.extend(await asyncio.gather(*(one(c) for c in phase)))
        return outcomes

    async def _run_change(self, conn: Connection, change: Change) -> Outcome:
        retries = 0

        def count(error: ProviderError, delay: float) -> None:
            nonlocal retries
            retries += 1
            self.progress.retrying(change, error, delay)

        last: ProviderError | None = None
        for _ in range(UNKNOWN_OUTCOME_ROUNDS):
            try:
                detail = await self.policy.call(
                    lambda: self._perform(conn, change),
                    retry_on=RETRY_READS if change.action == "delete" else RETRY_WRITES,
                    on_retry=count,
                )
                return Outcome(change, Status.SUCCEEDED, detail, retries=retries)
            except ProviderError as error:
                last = error
                if error.error_class is not ErrorClass.UNKNOWN_OUTCOME:
                    return Outcome(change, Status.FAILED, error=error, retries=retries)
            # The write may or may not have happened: read back before anything else.
            retries += 1
            try:
                done = await self.policy.call(
                    lambda: self._in_place(conn, change), retry_on=RETRY_READS, on_retry=count
                )
            except ProviderError as error:
                return Outcome(change, Status.FAILED, error=error, retries=retries)
            if done is not None:
                return Outcome(change, Status.SUCCEEDED, done, retries=retries)
        assert last is not None
        return Outcome(change, Status.FAILED, error=last, retries=retries)

    # --- the calls ------------------------------------------------------------------------

    async def _perform(self, conn: Connection, change: Change) -> str:
        provider, desired, remote = conn.provider, change.desired, change.remote
        if change.kind == "qr":
            if change.action == "delete":
                assert isinstance(remote, RemoteQrCode)
                await provider.delete_qr_code(remote)
                return f"deleted code {remote.code}"
            assert isinstance(desired, QrCode)
            if change.action == "create":
                made = await provider.create_qr_code(desired)
            else:
                assert isinstance(remote, RemoteQrCode)
                made = await provider.update_qr_code(remote, desired)
            self._made[(made.account, made.phone)].add(made.code)
            return f"code {made.code}"
        if change.action == "delete":
            assert isinstance(remote, RemoteTemplate)
            await provider.delete_template(remote)
            return f"deleted {remote.id}"
        assert isinstance(desired, Template)
        if change.action == "create":
            made_t = await provider.create_template(desired)
        else:
            assert isinstance(remote, RemoteTemplate)
            made_t = await provider.update_template(remote, desired)
        return f"id {made_t.id}, {made_t.status.lower()}"

    async def _in_place(self, conn: Connection, change: Change) -> str | None:
        """Read the resource back; a description if the change is in place, else None."""
        if change.kind == "qr":
            return await self._qr_in_place(conn, change)
        return await self._template_in_place(conn, change)

    async def _qr_in_place(self, conn: Connection, change: Change) -> str | None:
        subject = change.desired or change.remote
        assert isinstance(subject, QrCode | RemoteQrCode)
        phone = subject.phone
        key = (change.account, phone)
        listed = await conn.provider.list_qr_codes(phone)
        own = change.remote.code if isinstance(change.remote, RemoteQrCode) else None
        if change.action == "delete":
            return None if any(q.code == own for q in listed) else f"deleted code {own}"
        # Codes that belong to someone else: everything known before the run but this
        # change's own, and whatever other changes of this run made.
        others = (self._snapshot[key] - {own}) | (self._made[key] - {own})
        candidates = tuple(q for q in listed if q.code not in others)
        assert isinstance(change.desired, QrCode)
        if self._settled(change, Desired(qr_codes=(change.desired,)), Remote(qr_codes=candidates)):
            mine = next(
                (
                    q
                    for q in candidates
                    if q.prefilled_message == change.desired.prefilled_message
                    and q.image == change.desired.image
                ),
                None,
            )
            if mine is not None:
                self._made[key].add(mine.code)
                return f"code {mine.code} (confirmed after an unanswered call)"
        return None

    async def _template_in_place(self, conn: Connection, change: Change) -> str | None:
        t = change.desired if isinstance(change.desired, Template) else None
        r = change.remote if isinstance(change.remote, RemoteTemplate) else None
        ref = t or r
        assert ref is not None
        phone = ref.phone
        listed = await conn.provider.list_templates(
            [phone] if phone else [], [(ref.name, ref.language)]
        )
        same = tuple(
            x
            for x in listed
            if (x.name, x.language, x.phone) == (ref.name, ref.language, ref.phone)
        )
        if change.action == "delete":
            return None if same else "deleted (confirmed after an unanswered call)"
        assert t is not None
        if same and self._settled(change, Desired(templates=(t,)), Remote(templates=same)):
            return f"id {same[0].id} (confirmed after an unanswered call)"
        return None

    def _settled(self, change: Change, desired: Desired, remote: Remote) -> bool:
        """Does the planner, given what was read back, see nothing left to do here?"""
        settings = {change.account: self.settings[change.account]}
        again = plan(desired, remote, accounts=settings)
        return not any(c.address == change.address for c in again.changes)

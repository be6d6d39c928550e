"""The executor: carries a plan's changes out, per account, within its rate limit.

- Accounts run in parallel; within one, creates and updates run first, then deletes, with
  enough changes in flight to keep the account's rate gate busy at high latency.
- Throttling and transient errors are retried with backoff (``RetryPolicy``). A write whose
  outcome is unknown (timeout, dropped connection) is never blindly repeated: the executor
  reads the resource back and asks the planner whether the change is already in place; only
  if it is not does it try again. So no create is ever duplicated.
- Another apply may be running from another copy of the same specs (another checkout, which
  the spec folder's lock cannot see). So just before each QR code is created, the phone's
  codes are read again (one list call, paced like any other): a code that has appeared since
  the plan and settles the entry, by the one matching rule, is adopted instead of creating
  another. Creates of one message on one phone go one at a time, so that two changes of this
  run never take the same new code. QR creates run in a random order, so that two applies of
  the same plan work on different entries and each finds the other's codes, instead of both
  creating the same entry at the same moment. A window remains between that read and the
  create; the check after apply reports any duplicate it let through.
- A refusal stops that change only; the others, and the other accounts, go on. Blocked
  changes are skipped.
- ``stop`` (set on Ctrl-C) lets calls in flight finish and starts nothing new: no new
  change, no retry, no read-back. What was left undone is reported as skipped; a re-run
  plans from the remote state and finishes it.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from wasync.errors import ErrorClass, ProviderError, WasyncError
from wasync.model import Desired, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.pacing.gate import GateClosed, RateGate
from wasync.pacing.retry import RETRY_READS, RETRY_WRITES, RetryPolicy, interruptible_sleep
from wasync.plan import Change, Plan, plan
from wasync.plan.identity import match_qr_codes
from wasync.plan.settings import AccountSettings
from wasync.providers.base import Provider

T = TypeVar("T")

# How many times a write with an unknown outcome is read back and tried again.
UNKNOWN_OUTCOME_ROUNDS = 4
CONFIRMED = "confirmed by reading it back after an unanswered call"
ADOPTED = "adopted: it appeared at the provider after the plan (another apply?); not created again"


class Status(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class Connection(Protocol):
    """One account's provider and the rate gate its calls pass (a session's connection)."""

    @property
    def provider(self) -> Provider: ...

    @property
    def gate(self) -> RateGate: ...


class Connections(Protocol):
    """Where the executor finds each account's connection: a ``wasync.session.Session``,
    which sits above the executor and is handed in."""

    @property
    def policy(self) -> RetryPolicy: ...

    def connection(self, name: str) -> Connection: ...


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    detail: str = ""  # what happened, for the report: a new code, why it was skipped
    error: WasyncError | None = None  # a ProviderError carries the provider's code
    retries: int = 0
    # What a create, update or replacement left at the provider, as it answered (or as
    # read back after an unanswered call): a new QR code's code and links.
    made: RemoteQrCode | RemoteTemplate | None = None
    # A QR create found its code already made (by another apply) and took it instead.
    adopted: bool = False


@dataclass
class Report:
    """Outcomes as they finish (so an aborted run can still tell what it did)."""

    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    def having(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is status]

    @property
    def failed(self) -> bool:
        return any(o.status is Status.FAILED for o in self.outcomes)


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


class _RecheckFailed(Exception):  # noqa: N818 - a signal between two methods, never shown
    """The read just before a QR create failed (after its own retries): the create is not
    made blind, and the read is not retried again as if it were the create."""

    def __init__(self, error: ProviderError) -> None:
        self.error = error


class _Stopped(Exception):  # noqa: N818 - a signal between two methods, never shown
    """Stop was asked for before the change was known to be done."""

    def __init__(self, detail: str) -> None:
        self.detail = detail


class Executor:
    def __init__(
        self,
        session: Connections,
        settings: dict[str, AccountSettings],
        *,
        policy: RetryPolicy | None = None,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
        shuffle: random.Random | None = None,
    ) -> None:
        """``shuffle`` orders the QR creates (a seeded one makes a run repeatable)."""
        self.session = session
        self.settings = settings
        self.policy = policy or session.policy
        self.progress: Progress = progress or SilentProgress()
        self.stop = stop or asyncio.Event()
        self.report = Report()
        self.shuffle = shuffle or random.Random()  # noqa: S311 - an order, not a secret
        # QR codes that exist because of this run, per (account, phone): reading back an
        # unknown create must not take another change's new code for its own.
        self._made: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._snapshot: dict[tuple[str, str], set[str]] = defaultdict(set)
        # One QR create at a time per (account, phone, message): see ``_run_change``.
        self._creating: dict[tuple[str, str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._adopted: set[str] = set()  # addresses of the QR creates that adopted a code

    async def run(self, the_plan: Plan, snapshot: Remote) -> Report:
        """Carry out ``the_plan``, made against ``snapshot`` (the refreshed remote state)."""
        for qr in snapshot.qr_codes:
            self._snapshot[(qr.account, qr.phone)].add(qr.code)
        by_account: dict[str, list[Change]] = defaultdict(list)
        for change in the_plan.changes:
            if change.blocked:
                # Shown in the plan already; reported, not sent to the progress display.
                reason = f"blocked: {change.blocked.reason}"
                self.report.outcomes.append(Outcome(change, Status.SKIPPED, reason))
            else:
                by_account[change.account].append(change)
        await asyncio.gather(
            *(self._run_account(self.session.connection(a), cs) for a, cs in by_account.items())
        )
        self.report.interrupted = self.stop.is_set()
        return self.report

    async def _run_account(self, conn: Connection, changes: list[Change]) -> None:
        limit = asyncio.Semaphore(conn.gate.in_flight_for())
        # Creates and updates first: a delete never runs while something it could affect
        # is still being written.
        phases = [
            self._qr_creates_shuffled([c for c in changes if c.action != "delete"]),
            [c for c in changes if c.action == "delete"],
        ]

        async def one(change: Change) -> None:
            async with limit:
                if self.stop.is_set():
                    outcome = Outcome(change, Status.SKIPPED, "not started: interrupted")
                else:
                    self.progress.started(change)
                    outcome = await self._run_change(conn, change)
            self.report.outcomes.append(outcome)
            self.progress.finished(outcome)

        with conn.gate.closing_on(self.stop):
            for phase in phases:
                await asyncio.gather(*(one(c) for c in phase))

    def _qr_creates_shuffled(self, changes: list[Change]) -> list[Change]:
        """``changes`` with the QR creates among them in a random order (the rest in place).

        Two applies of the same specs at once (from two checkouts) would otherwise create
        the same entries in the same order at the same moment, each before the other's code
        could be seen; in different orders, most creates find the other apply's code."""
        slots = [i for i, c in enumerate(changes) if c.kind == "qr" and c.action == "create"]
        creates = [changes[i] for i in slots]
        self.shuffle.shuffle(creates)
        out = list(changes)
        for i, c in zip(slots, creates, strict=True):
            out[i] = c
        return out

    async def _run_change(self, conn: Connection, change: Change) -> Outcome:
        if change.kind == "qr" and change.action == "create":
            # Codes match by message, so two creates of one message on one phone could each
            # take the other's new code when they read the phone again. One at a time, each
            # sees the other's code among those this run made, and leaves it alone.
            desired = change.desired
            assert isinstance(desired, QrCode)
            key = (change.account, desired.phone, desired.prefilled_message)
            async with self._creating[key]:
                return await self._attempts(conn, change)
        return await self._attempts(conn, change)

    async def _attempts(self, conn: Connection, change: Change) -> Outcome:
        retries = 0

        def count(error: ProviderError, delay: float) -> None:
            nonlocal retries
            retries += 1
            self.progress.retrying(change, error, delay)

        async def calling(fn: Callable[[], Awaitable[T]], retry_on: frozenset[ErrorClass]) -> T:
            try:
                return await self.policy.call(fn, retry_on=retry_on, on_retry=count, stop=self.stop)
            except ProviderError as error:
                if self.stop.is_set() and error.retryable:  # not a refusal: cut short
                    raise _Stopped(_stopped_after(error)) from error
                raise

        last: ProviderError | None = None
        try:
            for _ in range(UNKNOWN_OUTCOME_ROUNDS):
                try:
                    retry_on = RETRY_READS if change.action == "delete" else RETRY_WRITES
                    detail, made = await calling(lambda: self._perform(conn, change), retry_on)
                    adopted = change.address in self._adopted
                    return Outcome(
                        change,
                        Status.SUCCEEDED,
                        detail,
                        retries=retries,
                        made=made,
                        adopted=adopted,
                    )
                except ProviderError as error:
                    last = error
                    if error.error_class is not ErrorClass.UNKNOWN_OUTCOME:
                        return Outcome(change, Status.FAILED, error=error, retries=retries)
                # The write may or may not have happened: let the provider settle, then
                # read back before anything else.
                retries += 1
                self.progress.retrying(change, last, self.policy.settle)
                await interruptible_sleep(self.policy.settle, self.stop)
                if self.stop.is_set():
                    raise _Stopped(_stopped_after(last))
                # Each read is retried on its own by the session (RetryingReads).
                done = await calling(lambda: self._in_place(conn, change), frozenset())
                if done is not None:
                    detail, made = done
                    return Outcome(change, Status.SUCCEEDED, detail, retries=retries, made=made)
        except _Stopped as stopped:
            return Outcome(change, Status.SKIPPED, stopped.detail, retries=retries)
        except _RecheckFailed as failed:
            return Outcome(change, Status.FAILED, error=failed.error, retries=retries)
        except GateClosed:  # stopped while its next request waited for its turn
            first = retries == 0 and last is None
            detail = "not started: interrupted" if first else "interrupted before it was done"
            return Outcome(change, Status.SKIPPED, detail, retries=retries)
        except WasyncError as error:  # a refusal, or a change this provider cannot make
            return Outcome(change, Status.FAILED, error=error, retries=retries)
        assert last is not None
        return Outcome(change, Status.FAILED, error=last, retries=retries)

    # --- the calls ------------------------------------------------------------------------

    async def _perform(self, conn: Connection, change: Change) -> Done:
        """Make ``change``'s call; say what it made, or what it deleted. A QR create first
        reads the phone again, and adopts its code if another apply made it meanwhile."""
        if change.kind == "qr" and change.action == "create":
            appeared = await self._recheck(conn, change)
            if appeared is not None:
                self._adopted.add(change.address)
                return f"{_qr_detail(change, appeared)}, {ADOPTED}", appeared
        made = await _call(conn.provider, change)
        if made is None:
            return f"{_ID_WORD[change.kind]} {change.remote_id}", None
        if isinstance(made, RemoteQrCode):
            self._made[(made.account, made.phone)].add(made.code)
            return _qr_detail(change, made), made
        return f"id {made.id}, {made.status.lower()}", made

    async def _in_place(self, conn: Connection, change: Change) -> Done | None:
        """Read the resource back; what is in place if the change is, else None."""
        if change.kind == "qr":
            return await self._qr_in_place(conn, change)
        return await self._template_in_place(conn, change)

    async def _qr_in_place(self, conn: Connection, change: Change) -> Done | None:
        subject = change.desired or change.remote
        assert isinstance(subject, QrCode | RemoteQrCode)
        listed = await conn.provider.list_qr_codes(subject.phone)
        if change.action == "delete":
            own = change.remote_id
            if any(q.code == own for q in listed):
                return None
            return f"code {own}, {CONFIRMED}", None
        mine = self._settling(change, listed)
        return None if mine is None else (f"{_qr_detail(change, mine)}, {CONFIRMED}", mine)

    async def _recheck(self, conn: Connection, change: Change) -> RemoteQrCode | None:
        """Just before a QR create: the code another apply made for this entry since the
        plan, if the phone has one now (read again, as a read: retried on its own)."""
        desired = change.desired
        assert isinstance(desired, QrCode)
        try:
            listed = await conn.provider.list_qr_codes(desired.phone)
        except ProviderError as error:
            if self.stop.is_set() and error.retryable:
                raise _Stopped(_stopped_after(error)) from error
            raise _RecheckFailed(error) from error
        return self._settling(change, listed)

    def _settling(self, change: Change, listed: Sequence[RemoteQrCode]) -> RemoteQrCode | None:
        """Of the codes ``listed`` on the phone, the one that leaves nothing to do for
        ``change`` (a create, update or replacement), by the planner and the one matching
        rule; it is then this run's. None if there is none."""
        desired = change.desired
        assert isinstance(desired, QrCode)
        key = (change.account, desired.phone)
        own = change.remote.code if isinstance(change.remote, RemoteQrCode) else None
        # Codes that belong to someone else: everything known before the run but this
        # change's own, and whatever other changes of this run made (or adopted).
        others = (self._snapshot[key] | self._made[key]) - {own}
        candidates = tuple(q for q in listed if q.code not in others)
        if not candidates:
            return None
        if not self._settled(change, Desired(qr_codes=(desired,)), Remote(qr_codes=candidates)):
            return None
        # Settled: the planner matched a candidate; the same rule says which.
        mine = match_qr_codes((desired,), candidates)[key].code_of(desired)
        if mine is not None:
            self._made[key].add(mine.code)
        return mine

    async def _template_in_place(self, conn: Connection, change: Change) -> Done | None:
        t = change.desired if isinstance(change.desired, Template) else None
        ref = t or change.remote
        assert isinstance(ref, Template | RemoteTemplate)
        found = await conn.provider.find_template(ref.phone, ref.name, ref.language)
        if change.action == "delete":
            return None if found is not None else (f"id {change.remote_id}, {CONFIRMED}", None)
        assert t is not None
        if found is None:
            return None
        if self._settled(change, Desired(templates=(t,)), Remote(templates=(found,))):
            return f"id {found.id}, {found.status.lower()}, {CONFIRMED}", found
        return None

    def _settled(self, change: Change, desired: Desired, remote: Remote) -> bool:
        """Does the planner, given what was read back, see nothing left to do here?"""
        settings = {change.account: self.settings[change.account]}
        again = plan(desired, remote, accounts=settings)
        return not any(c.address == change.address for c in again.changes)


_ID_WORD = {"qr": "code", "template": "id"}  # what a provider calls the resource's identity
# What a change did (for the report), and what it left at the provider (None for a delete).
Done = tuple[str, RemoteQrCode | RemoteTemplate | None]


def _qr_detail(change: Change, made: RemoteQrCode) -> str:
    """``code NEW``, or ``code NEW, replacing OLD`` where the old code was retired."""
    old = change.remote_id
    if old is not None and old != made.code:
        return f"code {made.code}, replacing {old}"
    return f"code {made.code}"


async def _call(provider: Provider, change: Change) -> RemoteQrCode | RemoteTemplate | None:
    """The provider call that carries ``change`` out: what it made, or None for a delete."""
    match change.action, change.desired, change.remote:
        case "create", QrCode() as qr, None:
            return await provider.create_qr_code(qr)
        case "create", Template() as template, None:
            return await provider.create_template(template)
        case (("update" | "replace"), QrCode() as qr, RemoteQrCode() as current):
            # One call either way: the provider's traits say whether it keeps the code.
            return await provider.update_qr_code(current, qr)
        case "update", Template() as template, RemoteTemplate() as current:
            return await provider.update_template(current, template)
        case "delete", None, RemoteQrCode() as current:
            await provider.delete_qr_code(current)
        case "delete", None, RemoteTemplate() as current:
            await provider.delete_template(current)
        case _:
            raise AssertionError(f"{change.address}: a {change.action} without its resources")
    return None


def _stopped_after(error: ProviderError) -> str:
    if error.error_class is ErrorClass.UNKNOWN_OUTCOME:
        return (
            f"interrupted after an unanswered call ({error.code}): it may or may not have "
            "been applied; the next plan shows which"
        )
    return f"interrupted before it was done (last answer: {error.code})"

"""Request pacing, keyed as each provider counts: the buckets every HTTP call passes through.

A provider counts requests per credential and per API (CAMS: per Alibaba Cloud account,
per region, per API; ``RateLimits`` says which APIs it counts apart). wasync keeps one
``Bucket`` per (provider, endpoint, credential, API) in a ``Budgets``, one per session, so
that two wasync accounts on the same key and endpoint share that key's buckets, as the
provider's counter does. Each account sees them through its ``RateGate``: ``gate(api)``
waits for that API's turn and hands back a ``Turn``, on which the HTTP base reports what
the answer said about the budget (a throttling refusal, today). Providers know nothing of
rates: they name the API of each call, and the gate does the rest.

Budgets of requests per window of time (Meta: template management requests per WABA per
rolling hour, ``limits.Window``) are an ``Allowance`` each, a second constraint a call
waits for before its bucket: it keeps the times of the calls it let through, lets no more
than its share of the window's calls through (``WINDOW_HEADROOM``), and, when the window
is spent, pauses with a notice on stderr until the oldest call leaves the window. The
provider's usage reports (Meta's ``X-Business-Use-Case-Usage``, read by the client's
``_reply_usage`` hook in the HTTP base) reach it through ``Turn.usage``: a provider that
counts more than wasync does (another tool on the same WABA, a smaller budget than
declared) lowers the allowance before the provider's count reaches 100%, and its "regain
access in N minutes" pauses the window that long, as a refusal for rate with a wait does
(``Turn.throttled``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from wasync.pacing.limits import RateLimits, Window

# Pace a little under the documented rate. At 0.97 the gap between two requests is 3% longer
# than the limit allows, so a provider that counts requests in any one-second window sees
# at most the limit even when arrivals jitter by 30 ms (at 5/s), and the rate achieved stays
# above 0.95 of the limit. Measured in bench/apply_rate.py.
HEADROOM = 0.97
# Requests in flight are sized for this round trip; more latency than this and the rate
# falls below the limit (one account's requests: qps * latency are needed in flight).
DESIGN_LATENCY_S = 2.0
# What a throttling answer does to its bucket's rate (additive increase, multiplicative
# decrease): the rate is halved, at most once per ``CUT_COOLDOWN_S`` (the other requests in
# flight when the provider refused saw the same overload); it then climbs back by
# ``RECOVER`` of the limit per second to just under the rate that was refused, and past
# that by ``PROBE`` of the limit per second, so that a lower limit than the documented one
# is met again only now and then.
DECREASE = 0.5
CUT_COOLDOWN_S = 1.0
RECOVER = 0.05
PROBE = 0.005
BELOW_REFUSED = 0.9
FLOOR = 0.05  # the lowest rate, as a share of the limit: a bucket never stops
# Budgets per window of time: wasync uses at most this share of a window's calls, so that
# a provider whose count differs a little from ours (calls in flight, another tool on the
# same account) does not reach its limit first.
WINDOW_HEADROOM = 0.9
# A call is counted in its window from the moment it is let through, for the window's
# length and this much longer (it reaches the provider a little later).
WINDOW_MARGIN_S = 5.0
# A provider's usage report below this share says nothing precise enough to learn from (a
# whole percent of a few calls); at or above it, the budget it implies replaces a larger one.
LEARN_FROM = 0.05
# A provider that reports this share of a window used, by calls that are not ours, is
# asked again after this long (when it does not say when access comes back).
SLOW_AT = 0.9
PROBE_S = 60.0
# A wait for a window this long is said on stderr: a paused apply must not look hung.
NOTICE_S = 2.0

log = logging.getLogger("wasync.pacing")


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class Bucket:
    """One budget of a provider: evenly paced requests, at most ``limit`` per second.

    Evenly, with no burst: a bucket that holds N requests lets N through at once and then
    keeps the rate, so its first second carries up to 2N - 1 requests, which a provider
    counting per second refuses. Evenly spaced requests satisfy a per-second counter, a
    sliding window and a token bucket alike, and cost at most one gap of waiting at the
    start. The pace is ``limit * headroom`` until the provider refuses for rate; then
    additive increase, multiplicative decrease (see ``DECREASE``).
    """

    def __init__(
        self,
        limit: float,
        *,
        headroom: float = HEADROOM,
        clock: Clock = _loop_time,
        sleep: Sleep = asyncio.sleep,
    ):
        if limit <= 0:
            raise ValueError("a rate limit must be positive")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.headroom = headroom
        self._clock = clock
        self._pacer = Pacer(clock, sleep)
        self._cut: tuple[float, float] | None = None  # (time, rate) of the last decrease
        self._refused_at = math.inf  # the rate in force at the last refusal
        self.limit = limit
        self.calls = 0  # requests let through, for reports and benchmarks
        self.throttles = 0  # refusals for rate reported back

    @property
    def ceiling(self) -> float:
        """The pace when the provider has not refused: ``limit * headroom``."""
        return self.limit * self.headroom

    def lower_to(self, limit: float) -> None:
        """Another account shares this bucket and asks for ``limit``: the lower one wins."""
        self.limit = min(self.limit, limit)

    def rate(self, now: float | None = None) -> float:
        """Requests per second the bucket lets through at ``now`` (default: its clock)."""
        if self._cut is None:
            return self.ceiling
        now = self._clock() if now is None else now
        cut_at, cut_rate = self._cut
        elapsed = max(0.0, now - cut_at)
        knee = min(self.ceiling, self._refused_at * BELOW_REFUSED)
        fast = cut_rate + RECOVER * self.limit * elapsed
        if fast <= knee:
            return fast
        to_knee = max(0.0, (knee - cut_rate) / (RECOVER * self.limit))
        slow = max(knee, cut_rate) + PROBE * self.limit * (elapsed - to_knee)
        if slow >= self.ceiling:
            self._cut = None  # back at the ceiling: forget the refusal
            self._refused_at = math.inf
            return self.ceiling
        return slow

    def throttled(self) -> None:
        """The provider refused a request of this bucket for rate: slow down."""
        self.throttles += 1
        now = self._clock()
        if self._cut is not None and now - self._cut[0] < CUT_COOLDOWN_S:
            return
        current = self.rate(now)
        self._refused_at = current
        self._cut = (now, max(self.limit * FLOOR, current * DECREASE))

    async def acquire(self) -> None:
        """Wait for this bucket's next turn."""
        await self._pacer.acquire(self.rate)
        self.calls += 1


class Pacer:
    """Lets requests through one at a time, first come first served, each ``1 / rate``
    after the one before, on a grid.

    A request that finds the grid in the past (the bucket was idle) starts it anew, at
    once. A request woken late by the event loop keeps its slot, so the next one is not
    pushed back: lateness never adds up, and on the grid no two requests are closer than
    the interval. The rate is asked for when a request reaches the head of the queue, so a
    slow-down applies to every request still waiting. A cancelled wait leaves its slot to
    the next request (no gap, no burst).
    """

    def __init__(self, clock: Clock = _loop_time, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._last = -math.inf
        self._queue = asyncio.Lock()  # fair: waiters are served in the order they came

    async def acquire(self, rate: Callable[[], float]) -> None:
        async with self._queue:
            now = self._clock()
            slot = max(now, self._last + 1.0 / rate())
            if slot > now:
                await self._sleep(slot - now)
            self._last = slot


class Allowance:
    """One budget of calls per rolling window (``limits.Window``), as the provider counts it.

    ``acquire`` lets a call through while fewer than ``WINDOW_HEADROOM`` of the window's
    calls were let through within it, else waits until the oldest leaves the window; calls
    wait in the order they came. ``usage`` takes the provider's own count (a share of the
    window): a count that implies a smaller budget than declared lowers the budget, and a
    window the provider says is full, by calls that are not ours, waits until the provider
    says access is back (or ``PROBE_S``). ``block`` pauses the window (a refusal for rate
    with a wait, or "regain access in N minutes")."""

    def __init__(
        self,
        window: Window,
        *,
        clock: Clock = _loop_time,
        sleep: Sleep = asyncio.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.window = window
        self.budget = float(window.calls)  # lowered by the provider's usage reports
        self._clock = clock
        self._sleep = sleep
        self._wall = wall  # for the time shown in a notice, only
        self._sent: deque[float] = deque()
        self._blocked_until = -math.inf
        self._queue = asyncio.Lock()
        self.calls = 0
        self.pauses = 0  # waits long enough to be said (NOTICE_S)

    @property
    def span(self) -> float:
        return self.window.seconds + WINDOW_MARGIN_S

    def used(self, now: float | None = None) -> int:
        """Calls let through within the window."""
        now = self._clock() if now is None else now
        while self._sent and self._sent[0] <= now - self.span:
            self._sent.popleft()
        return len(self._sent)

    def allowed(self) -> int:
        """Calls wasync lets through per window: its share of the budget, at least one."""
        return max(1, math.floor(self.budget * WINDOW_HEADROOM + 1e-9))

    def wait_time(self, now: float) -> float:
        """How long a call arriving at ``now`` waits (0: it may go)."""
        wait = max(0.0, self._blocked_until - now)
        if self.used(now) >= self.allowed():
            extra = self.used(now) - self.allowed()  # after a lowered budget: more must go
            wait = max(wait, self._sent[extra] + self.span - now)
        return wait

    async def acquire(self) -> None:
        async with self._queue:
            noticed = False
            while True:
                now = self._clock()
                wait = self.wait_time(now)
                if wait <= 0:
                    break
                if wait >= NOTICE_S and not noticed:
                    noticed = True
                    self.pauses += 1
                    self._notice(wait)
                await self._sleep(wait)
            self._sent.append(self._clock())
            self.calls += 1

    def usage(self, fraction: float, regain: float | None = None) -> None:
        """The provider counts ``fraction`` of this window used (0..1); ``regain``: seconds
        until it lets calls through again, when it said so."""
        now = self._clock()
        if regain is not None and regain > 0:
            self.block(regain)
        own = self.used(now)
        if fraction >= LEARN_FROM and own:
            # The largest budget a whole percent could round to: learn no smaller one.
            implied = own / max(fraction - 0.005, 1e-9)
            self.budget = min(self.budget, max(1.0, implied))
        elif fraction >= SLOW_AT and not own:
            self.block(regain if regain else PROBE_S)

    def refused(self, wait: float | None = None) -> None:
        """The provider refused a call of this window for rate: the window is full as it
        counts it, so the budget is what was let through (the next call waits for the
        oldest to leave), and ``wait``, where the provider asked for one, pauses it."""
        if wait:
            self.block(wait)
        used = self.used()
        if used:
            self.budget = min(self.budget, used / WINDOW_HEADROOM)
        else:
            self.block(wait or PROBE_S)

    def block(self, seconds: float) -> None:
        """Let nothing through for ``seconds``."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def _notice(self, wait: float) -> None:
        until = datetime.fromtimestamp(self._wall() + wait, UTC).strftime("%H:%M UTC")
        window = self.window
        what = window.label or f"{window.calls} calls per {window.seconds:g} s"
        key = f" for {window.key}" if window.key else ""
        lowered = ""
        if self.budget < window.calls:
            lowered = f" (the provider's count allows about {self.budget:.0f} now)"
        log.warning(
            "pausing %s (until %s): the budget of %s%s is spent for now%s; wasync goes on "
            "by itself (Ctrl-C stops it, and a new run picks up where this one stopped)",
            _duration(wait),
            until,
            what,
            key,
            lowered,
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class BucketKey:
    """What a provider counts one budget by. ``credential`` is a digest of the account's
    credentials, never their values; ``scope`` is an API, or ``SHARED``."""

    provider: str
    endpoint: str
    credential: str
    scope: str


class Budgets:
    """Every bucket of a session, by key: accounts with the same provider, endpoint and
    credentials get the same buckets. The digests of credentials are keyed with a secret
    of this object's own, so they mean nothing outside it."""

    def __init__(self, *, clock: Clock = _loop_time, sleep: Sleep = asyncio.sleep) -> None:
        self._buckets: dict[BucketKey, Bucket] = {}
        self._allowances: dict[BucketKey, Allowance] = {}
        self._salt = os.urandom(16)
        self._clock = clock  # what the buckets pace by (tests: a virtual clock)
        self._sleep = sleep

    def __len__(self) -> int:
        return len(self._buckets)

    def digest(self, credentials: Mapping[str, str]) -> str:
        text = json.dumps(sorted(credentials.items())).encode()
        return hashlib.blake2b(text, key=self._salt, digest_size=16).hexdigest()

    def bucket(self, key: BucketKey, limit: float) -> Bucket:
        """The bucket of ``key``, made on first use; a second user with a lower ``limit``
        lowers it (two accounts on one key: the more careful setting holds for both)."""
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = Bucket(limit, clock=self._clock, sleep=self._sleep)
        else:
            found.lower_to(limit)
        return found

    def allowance(self, key: BucketKey, window: Window) -> Allowance:
        """The allowance of ``key``, made on first use; a second user with a smaller
        budget lowers it."""
        found = self._allowances.get(key)
        if found is None:
            found = self._allowances[key] = Allowance(window, clock=self._clock, sleep=self._sleep)
        else:
            found.budget = min(found.budget, float(window.calls))
        return found

    def gate(
        self,
        limits: RateLimits,
        *,
        provider: str,
        endpoint: str,
        credentials: Mapping[str, str],
    ) -> RateGate:
        """An account's gate over the buckets of its provider, endpoint and credentials."""
        return RateGate(limits, budgets=self, scope=(provider, endpoint, self.digest(credentials)))


class Turn:
    """A request's turn at its bucket (and the windows it counts in): what the caller
    reports back about the answer."""

    def __init__(self, bucket: Bucket, allowances: Iterable[Allowance] = ()) -> None:
        self.bucket = bucket
        self.allowances = tuple(allowances)

    def throttled(self, retry_after: float | None = None) -> None:
        """The provider refused this request for rate: the bucket slows down, and the
        windows the request counts in are full (``retry_after``, the wait asked for,
        pauses them)."""
        self.bucket.throttled()
        for allowance in self.allowances:
            allowance.refused(retry_after)

    def usage(self, fraction: float, regain: float | None = None) -> None:
        """The provider's own count of the windows it reports on (a share, 0..1), and the
        seconds until it lets calls through again, where it says."""
        for allowance in self.allowances:
            if allowance.window.reported:
                allowance.usage(fraction, regain)


class RateGate:
    """One account's gate: every HTTP call of the account, reads during refresh as much as
    writes during apply, waits here for its API's bucket. A gate made on its own (tests,
    one account) has buckets of its own; a session's come from its ``Budgets``."""

    def __init__(
        self,
        limits: RateLimits | float,
        *,
        budgets: Budgets | None = None,
        scope: tuple[str, str, str] = ("", "", ""),
    ) -> None:
        if not isinstance(limits, RateLimits):
            limits = RateLimits(default=float(limits))
        self.limits = limits
        self._budgets = budgets if budgets is not None else Budgets()
        self._scope = scope
        self._buckets: dict[str, Bucket] = {}
        self._allowances: dict[str, Allowance] = {}
        self._stop: asyncio.Event | None = None

    def allowances(self, api: str = "") -> tuple[Allowance, ...]:
        """The windows ``api`` counts in."""
        out = []
        for window in self.limits.windows_for(api):
            found = self._allowances.get(window.name)
            if found is None:
                provider, endpoint, credential = self._scope
                key = BucketKey(provider, endpoint, window.key or credential, f"~{window.name}")
                found = self._allowances[window.name] = self._budgets.allowance(key, window)
            out.append(found)
        return tuple(out)

    def bucket(self, api: str = "") -> Bucket:
        """The bucket ``api`` is counted in."""
        scope = self.limits.scope(api)
        found = self._buckets.get(scope)
        if found is None:
            key = BucketKey(*self._scope, scope)
            found = self._buckets[scope] = self._budgets.bucket(key, self.limits.rate(api))
        return found

    @property
    def calls(self) -> int:
        """Requests let through by this account's buckets (and by others sharing them)."""
        return sum(bucket.calls for bucket in self._buckets.values())

    @contextlib.asynccontextmanager
    async def __call__(self, api: str = "") -> AsyncIterator[Turn]:
        bucket = self.bucket(api)
        allowances = self.allowances(api)
        stop = self._stop
        if stop is None:
            await _turn(bucket, allowances)
        else:
            await _first_of(_turn(bucket, allowances), stop)
        yield Turn(bucket, allowances)

    @property
    def stop(self) -> asyncio.Event | None:
        """The event that closes the gate, while ``closing_on`` is in force."""
        return self._stop

    @contextlib.contextmanager
    def closing_on(self, stop: asyncio.Event) -> Iterator[None]:
        """Within this block, once ``stop`` is set, a request still waiting for its turn is
        not sent: it raises ``GateClosed``. Requests already sent are not affected."""
        self._stop = stop
        try:
            yield
        finally:
            self._stop = None

    def in_flight_for(self, latency_s: float = DESIGN_LATENCY_S) -> int:
        """How many requests must be in flight to keep every bucket of the account busy at
        a given latency (Little's law), plus a little for requests waiting on a retry."""
        return max(4, math.ceil(self.limits.total() * HEADROOM * latency_s) + 2)


async def _turn(bucket: Bucket, allowances: tuple[Allowance, ...]) -> None:
    """The windows first (they may wait for an hour), then the bucket's pace."""
    for allowance in allowances:
        await allowance.acquire()
    await bucket.acquire()


class GateClosed(Exception):  # noqa: N818 - names the state, like asyncio's QueueFull
    """A request was not sent: stop was asked for while it waited for its turn."""


async def _first_of(acquire: Awaitable[None], stop: asyncio.Event) -> None:
    """Wait for the bucket's turn unless ``stop`` comes first (then raise GateClosed)."""
    if stop.is_set():
        raise GateClosed
    turn = asyncio.ensure_future(acquire)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({turn, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (turn, stopped):
            task.cancel()
        await asyncio.gather(turn, stopped, return_exceptions=True)
    if stop.is_set():
        raise GateClosed

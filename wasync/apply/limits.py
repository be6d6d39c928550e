"""Per-account request pacing and the retry policy: the only place either lives.

Every HTTP call of an account, reads during refresh as much as writes during apply, passes
through that account's ``RateGate``. Providers know nothing of rates or retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from wasync.errors import ErrorClass, ProviderError
from wasync.output import visible

T = TypeVar("T")
log = logging.getLogger("wasync.apply")

# Pace a little under the documented rate. At 0.97 the gap between two requests is 3% longer
# than the limit allows, so a provider that counts requests in any one-second window sees
# at most the limit even when arrivals jitter by 30 ms (at 5/s), and the rate achieved stays
# above 0.95 of the limit. Measured in bench/apply_rate.py.
HEADROOM = 0.97
# Requests in flight are sized for this round trip; more latency than this and the rate
# falls below the limit (one account's requests: qps * latency are needed in flight).
DESIGN_LATENCY_S = 2.0


class RateGate:
    """Paces one account's requests evenly at ``qps * headroom``.

    Evenly, with no burst: a bucket that holds N requests lets N through at once and then
    keeps the rate, so its first second carries up to 2N - 1 requests, which a provider
    counting per second refuses. Evenly spaced requests satisfy a per-second counter, a
    sliding window and a token bucket alike, and cost at most one gap of waiting at the
    start. (aiolimiter's leaky bucket, holding one request, loses each wake-up's lateness
    to the event loop: 0.92 of a 50/s limit in bench/apply_rate.py; ``Pacer`` keeps a grid.)
    """

    def __init__(self, qps: float, headroom: float = HEADROOM) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.qps = qps
        self.rate = qps * headroom
        self._pacer = Pacer(1 / self.rate)
        self._stop: asyncio.Event | None = None
        self.calls = 0  # requests let through, for reports and benchmarks

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        stop = self._stop
        if stop is None:
            await self._pacer.acquire()
        else:
            await _first_of(self._pacer.acquire(), stop)
        self.calls += 1
        yield

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
        """How many requests must be in flight to keep the rate at a given latency
        (Little's law), plus a little for requests waiting on a retry."""
        return max(4, math.ceil(self.rate * latency_s) + 2)


class Pacer:
    """Hands out send times on an even grid, ``interval`` apart, first come first served.

    A request that finds the grid in the past (the account was idle) starts it anew, at
    once. A request woken late by the event loop keeps its slot, so the next one is not
    pushed back: lateness never adds up, and on the grid no two requests are closer than
    ``interval``. A cancelled wait leaves its slot unused (a gap, never a burst).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = -math.inf

    async def acquire(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class GateClosed(Exception):  # noqa: N818 - names the state, like asyncio's QueueFull
    """A request was not sent: stop was asked for while it waited for its turn."""


async def _first_of(acquire: Awaitable[None], stop: asyncio.Event) -> None:
    """Wait for the pacer's turn unless ``stop`` comes first (then raise GateClosed)."""
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


class RetryPolicy:
    """Exponential backoff with jitter; honours the provider's retry-after when given.

    The defaults give up on a call after 8 attempts and about a minute of waiting
    (0.5 + 1 + 2 + 4 + 8 + 16 + 30 s, plus up to 0.5 s of jitter each), so an apply against
    a provider that is down ends, with the failure reported, instead of hanging.
    ``settle`` is the wait before reading back a write whose answer was lost: a server that
    timed out may still be acting on it, and a read-back that comes too early would miss it.
    """

    def __init__(
        self,
        attempts: int = 8,
        initial: float = 0.5,
        maximum: float = 30.0,
        jitter: float = 0.5,
        settle: float = 1.0,
    ) -> None:
        self.attempts = attempts
        self.settle = settle
        # initial, 2 x initial, 4 x initial ... up to maximum, plus up to ``jitter`` at random.
        self._backoff = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, jitter)

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after:
            return exc.retry_after + random.uniform(0, 0.1)  # noqa: S311 - jitter, not security
        return float(self._backoff(state))

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        retry_on: frozenset[ErrorClass],
        on_retry: Callable[[ProviderError, float], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> T:
        """Run ``fn``, retrying provider errors whose class is in ``retry_on``.

        Once ``stop`` is set no new attempt starts: a wait in progress ends early and the
        last error is raised, so the caller can tell what was left undone.
        """
        last: list[ProviderError] = []

        def stopping() -> bool:
            return stop is not None and stop.is_set()

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, ProviderError) and exc.error_class in retry_on and not stopping()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if isinstance(exc, ProviderError):
                last.append(exc)
                log.debug("retrying %s in %.2fs: %s", exc.operation, delay, exc.describe())
                if on_retry:
                    on_retry(exc, delay)

        retrying = AsyncRetrying(
            retry=retry_if_exception(should_retry),
            wait=self.wait,
            stop=stop_after_attempt(self.attempts),
            before_sleep=before_sleep,
            sleep=lambda seconds: interruptible_sleep(seconds, stop),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if last and stopping():
                    raise last[-1]  # stopped while waiting to retry: give up with the cause
                return await fn()
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover


# A read retried after a wait this long is worth a line on stderr: a provider that keeps
# failing would otherwise leave the terminal silent for minutes (the waits add up to ~1 min,
# each call up to the account's timeout).
NOTICE_AFTER_S = 2.0


class RetryingReads:
    """The ``ReadRetry`` a session hands an account's provider: each read call retried by
    ``policy``, and no retry started once the account's gate is closing."""

    def __init__(
        self,
        policy: RetryPolicy,
        gate: RateGate,
        account: str = "",
        notice_after: float = NOTICE_AFTER_S,
    ) -> None:
        self.policy = policy
        self.gate = gate
        self.account = account
        self.notice_after = notice_after

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        return await self.policy.call(
            call, retry_on=RETRY_READS, stop=self.gate.stop, on_retry=self._notice
        )

    def _notice(self, error: ProviderError, delay: float) -> None:
        if delay >= self.notice_after:
            # No handler unless --debug: logging's last resort prints warnings to stderr.
            log.warning(
                "%s: still failing: %s; retrying in %.0f s",
                self.account or error.provider,
                visible(error.describe()),
                delay,
            )


async def interruptible_sleep(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


# Reads and deletes may be repeated freely; a write whose outcome is unknown may not.
RETRY_READS = frozenset({ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.UNKNOWN_OUTCOME})
RETRY_WRITES = frozenset({ErrorClass.THROTTLED, ErrorClass.TRANSIENT})

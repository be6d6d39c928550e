"""Per-account request pacing: the one gate every HTTP call of an account passes through.

Every HTTP call of an account, reads during refresh as much as writes during apply, passes
through that account's ``RateGate``. Providers know nothing of rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Iterator

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

"""Per-account request pacing and the retry policy: the only place either lives.

Every HTTP call of an account, reads during refresh as much as writes during apply, passes
through that account's ``RateGate``. Providers know nothing of rates or retries.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from wasync.errors import ErrorClass, ProviderError

T = TypeVar("T")
log = logging.getLogger("wasync.apply")

# Aim a little under the documented rate: replies arrive with jitter, and a provider that
# counts strictly would refuse the request that lands early. 0.97 keeps >= 0.95 of the limit.
HEADROOM = 0.97


class RateGate:
    """Paces one account's requests to ``qps`` (a leaky bucket, via aiolimiter).

    The bucket holds ``burst`` requests (at most one second's worth, at least one), so a
    burst never exceeds what a per-second counter at the provider allows.
    """

    def __init__(self, qps: float, headroom: float = HEADROOM) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        rate = qps * headroom
        burst = max(1, math.floor(qps))
        self._limiter = AsyncLimiter(burst, burst / rate)
        self.calls = 0

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        async with self._limiter:
            self.calls += 1
            yield

    def in_flight_for(self, latency_s: float = 2.0) -> int:
        """How many requests must be in flight to keep the rate at a given latency."""
        return max(4, math.ceil(self.qps * latency_s) + 2)


class RetryPolicy:
    """Exponential backoff with jitter; honours the provider's retry-after when given."""

    def __init__(
        self, attempts: int = 8, initial: float = 0.5, maximum: float = 30.0, jitter: float = 0.5
    ) -> None:
        self.attempts = attempts
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum, jitter=jitter)

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
    ) -> T:
        """Run ``fn``, retrying provider errors whose class is in ``retry_on``."""

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, ProviderError) and exc.error_class in retry_on

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if isinstance(exc, ProviderError):
                log.debug("retrying %s in %.2fs: %s", exc.operation, delay, exc.describe())
                if on_retry:
                    on_retry(exc, delay)

        retrying = AsyncRetrying(
            retry=retry_if_exception(should_retry),
            wait=self.wait,
            stop=stop_after_attempt(self.attempts),
            before_sleep=before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await fn()
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover


# Reads and deletes may be repeated freely; a write whose outcome is unknown may not.
RETRY_READS = frozenset({ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.UNKNOWN_OUTCOME})
RETRY_WRITES = frozenset({ErrorClass.THROTTLED, ErrorClass.TRANSIENT})

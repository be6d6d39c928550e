"""The retry policy: the only place that decides whether, and when, a call is tried again.

The executor retries each change with it; a session hands each provider a ``RetryingReads``
that retries each read call on its own. Providers know nothing of retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base

from wasync.errors import ErrorClass, ProviderError
from wasync.output import visible
from wasync.pacing.gate import RateGate

T = TypeVar("T")
log = logging.getLogger("wasync.apply")


def out_of_time(state: RetryCallState) -> bool:
    """Would the next attempt start after the error's ``retry_by`` (the account's retry
    deadline, set by the HTTP base)?"""
    exc = state.outcome.exception() if state.outcome else None
    if not isinstance(exc, ProviderError) or exc.retry_by is None:
        return False
    return asyncio.get_running_loop().time() + state.upcoming_sleep > exc.retry_by


class _OutOfTime(stop_base):
    def __call__(self, retry_state: RetryCallState) -> bool:
        return out_of_time(retry_state)


class RetryPolicy:
    """Exponential backoff with jitter; honours the provider's retry-after when given.

    The defaults give up on a call after 8 attempts and about a minute of waiting
    (0.5 + 1 + 2 + 4 + 8 + 16 + 30 s, plus up to 0.5 s of jitter each), so an apply against
    a provider that is down ends, with the failure reported, instead of hanging. (Each
    account's ``retry_deadline`` ends them sooner, in the HTTP base, when none of the
    account's calls goes through: ``wasync.providers.http``.)

    A refusal for rate waits at least what the provider asked for and at least the
    exponential backoff of its attempt, plus up to half of that again at random (at most
    ``maximum``): many requests refused together (a qps set above the provider's limit) come
    back spread out and ever later, while the rate gate slows their bucket down, instead of
    all together after the provider's short retry-after, to be refused again. Any other
    error with a retry-after (a short first retry, a 503 that says when) waits just that.
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
        self.maximum = maximum
        # initial, 2 x initial, 4 x initial ... up to maximum, plus up to ``jitter`` at random.
        self._exponential = wait_exponential(multiplier=initial, max=maximum)
        self._backoff = self._exponential + wait_random(0, jitter)

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.error_class is ErrorClass.THROTTLED:
            floor = max(exc.retry_after or 0.0, float(self._exponential(state)))
            spread = min(floor / 2, self.maximum)
            return floor + random.uniform(0, spread)  # noqa: S311 - jitter, not security
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

        def give_up(state: RetryCallState) -> NoReturn:
            """Raise the last error; said as final when the deadline ended the retries."""
            exc = state.outcome.exception() if state.outcome else None
            assert exc is not None
            if (
                isinstance(exc, ProviderError)
                and exc.out_of_time is not None
                and state.attempt_number < self.attempts
                and out_of_time(state)
            ):
                raise exc.out_of_time from None
            raise exc

        retrying = AsyncRetrying(
            retry=retry_if_exception(should_retry),
            wait=self.wait,
            stop=stop_any(stop_after_attempt(self.attempts), _OutOfTime()),
            retry_error_callback=give_up,
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

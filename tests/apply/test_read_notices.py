"""A read that keeps failing says so on stderr while it retries, instead of going silent."""

from __future__ import annotations

import logging

import pytest

from wasync.errors import ErrorClass, ProviderError
from wasync.pacing.gate import RateGate
from wasync.pacing.retry import RetryingReads, RetryPolicy


def busy(n: int) -> ProviderError:
    return ProviderError(
        provider="cams",
        operation="ListChatappTemplate",
        code="ServiceUnavailable",
        message=f"busy \x1b[31m{n}",
        error_class=ErrorClass.TRANSIENT,
        request_id=f"R-{n}",
    )


@pytest.mark.anyio
async def test_long_retry_waits_are_announced_with_the_account(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = iter([busy(1), busy(2)])

    async def listing() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "listed"

    policy = RetryPolicy(initial=0.001, maximum=0.002, jitter=0.0)
    reads = RetryingReads(policy, RateGate(100), "shop-cams", notice_after=0.0)
    with caplog.at_level(logging.WARNING, logger="wasync"):
        assert await reads(listing) == "listed"
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 2
    assert notices[0].startswith("shop-cams: still failing: cams ListChatappTemplate failed: ")
    assert "(RequestId R-1)" in notices[0] and "retrying in 0 s" in notices[0]
    assert "\x1b" not in notices[0] and "<U+001B>" in notices[0]  # a hostile message, shown


@pytest.mark.anyio
async def test_short_waits_stay_quiet(caplog: pytest.LogCaptureFixture) -> None:
    failures = iter([busy(1)])

    async def listing() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "listed"

    policy = RetryPolicy(initial=0.001, maximum=0.002, jitter=0.0)
    reads = RetryingReads(policy, RateGate(100), "shop-cams")  # the default threshold: 2 s
    with caplog.at_level(logging.WARNING, logger="wasync"):
        assert await reads(listing) == "listed"
    assert caplog.records == []

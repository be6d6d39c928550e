"""Budgets of calls per window of time (``Allowance``): what they let through, how long a
spent one pauses (and says so), and how the provider's usage reports and refusals lower
them. On the virtual clock: waits take no real time, and the loop's time says how long
the code waited."""

from __future__ import annotations

import asyncio
import logging

import pytest

from wasync.pacing.gate import (
    WINDOW_MARGIN_S,
    Allowance,
    BucketKey,
    Budgets,
    RateGate,
)
from wasync.pacing.limits import RateLimits, Window

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]

HOUR = 3600.0
SPAN = HOUR + WINDOW_MARGIN_S


def window(calls: int = 10, *, reported: bool = False) -> Window:
    label = f"{calls} requests an hour"
    return Window("requests", HOUR, calls, reported=reported, label=label)


async def times_of(allowance: Allowance, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    out = []
    for _ in range(n):
        await allowance.acquire()
        out.append(loop.time())
    return out


async def test_a_window_lets_its_share_through_then_pauses_until_the_oldest_leaves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    allowance = Allowance(window(10))
    caplog.set_level(logging.WARNING, "wasync.pacing")
    times = await times_of(allowance, 11)
    # 9 of 10 at once (WINDOW_HEADROOM), then one each time an early call leaves the window.
    assert times[:9] == [0.0] * 9
    assert times[9] == times[10] == pytest.approx(SPAN)
    assert allowance.pauses == 1  # one notice for the whole wait
    (notice,) = [r.getMessage() for r in caplog.records]
    assert notice.startswith("pausing 61 min (until ")
    assert "the budget of 10 requests an hour is spent for now" in notice
    assert "wasync goes on by itself" in notice


async def test_a_usage_report_lowers_the_budget_before_the_provider_refuses() -> None:
    allowance = Allowance(window(200))
    await times_of(allowance, 2)
    allowance.usage(0.25)  # 2 calls are 25% of what the provider allows: about 8
    assert allowance.budget == pytest.approx(2 / 0.245)
    assert allowance.allowed() == 7
    times = await times_of(allowance, 6)
    assert times[:5] == [0.0] * 5 and times[5] == pytest.approx(SPAN)


async def test_a_report_too_coarse_to_learn_from_changes_nothing() -> None:
    allowance = Allowance(window(5000))
    await times_of(allowance, 3)
    allowance.usage(0.0)
    allowance.usage(0.01)  # 1%: a whole percent of a few calls says too little
    assert allowance.budget == 5000


async def test_a_full_window_of_calls_that_are_not_ours_waits_for_the_regain_time() -> None:
    allowance = Allowance(window(200))
    allowance.usage(1.0, regain=600)  # another app spent it; access back in 10 minutes
    (at,) = await times_of(allowance, 1)
    assert at == pytest.approx(600)


async def test_a_refusal_pauses_for_its_wait_and_makes_the_budget_what_was_sent() -> None:
    allowance = Allowance(window(200))
    await times_of(allowance, 4)
    allowance.refused(120.0)
    assert allowance.allowed() == 4  # the provider's limit was reached at 4 calls
    (at,) = await times_of(allowance, 1)
    assert at == pytest.approx(SPAN)  # the oldest of the 4 leaves, well after the 120 s


async def test_the_gate_waits_on_the_windows_of_the_api_called_only() -> None:
    limits = RateLimits(
        default=1000.0,
        windows=(
            Window("requests", HOUR, 3, apis=frozenset({"create", "list"})),
            Window("creations", HOUR, 2, apis=frozenset({"create"})),
        ),
    )
    gate = RateGate(limits)
    loop = asyncio.get_running_loop()
    async with gate("create"):  # both windows count it
        pass
    async with gate("qr"):  # neither does
        pass
    async with gate("create"):  # creations: 2 a window, 90% of it: 1 only
        pass
    assert loop.time() == pytest.approx(SPAN)
    assert [a.calls for a in gate.allowances("create")] == [2, 2]


async def test_accounts_with_the_same_key_share_a_window_and_the_smaller_budget_holds() -> None:
    budgets = Budgets()
    a = budgets.allowance(BucketKey("meta", "e", "WABA 1", "~requests"), window(200))
    b = budgets.allowance(BucketKey("meta", "e", "WABA 1", "~requests"), window(50))
    c = budgets.allowance(BucketKey("meta", "e", "WABA 2", "~requests"), window(200))
    assert a is b and a is not c and a.budget == 50


async def test_a_refusal_with_a_wait_reaches_the_windows_through_the_turn() -> None:
    limits = RateLimits(default=1000.0, windows=(window(100, reported=True),))
    gate = RateGate(limits)
    loop = asyncio.get_running_loop()
    async with gate("x") as turn:
        turn.usage(0.5, regain=None)  # 1 call is half the window: a budget of about 2
        turn.throttled(300.0)
    async with gate("x"):
        pass
    assert loop.time() == pytest.approx(SPAN)

"""Meta's budget of template management requests per WABA per hour, end to end: the plan
says how long apply will take, apply paces against the budget, learns a smaller one from
the usage header before Meta refuses, pauses with a notice when an hour is spent, honours
the wait Meta asks for, and converges with every template made once. All on the virtual
clock (the emulator counts by it too): an hour of pausing takes no real time."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.loading import load_desired
from wasync.pacing.gate import Budgets
from wasync.pacing.retry import RetryPolicy
from wasync.sandbox.common import InProcessTransport
from wasync.sandbox.meta import create_app
from wasync.session import Session

from .support import WABA

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]

EPOCH = 1_750_000_000.0
FAST = RetryPolicy(attempts=8, initial=0.01, maximum=0.2, jitter=0.01, settle=0.01)


def folder(root: Path, count: int, *, per_hour: int | None = None) -> Path:
    config = (
        "accounts:\n  shop-meta:\n    provider: meta\n    endpoint: sandbox\n"
        f'    waba_id: "{WABA}"\n'
    )
    if per_hour:
        config += f"    requests_per_hour: {per_hour}\n"
    (root / "wasync.yaml").write_text(config, encoding="utf-8")
    templates = [
        {
            "account": "shop-meta",
            "name": f"notice_{i:02}",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {
                    "type": "BODY",
                    "text": f"Notice {i}: order {{{{1}}}} moved.",
                    "example": {"body_text": [["7"]]},
                }
            ],
        }
        for i in range(count)
    ]
    (root / "specs.yaml").write_text(json.dumps({"templates": templates}), encoding="utf-8")
    return root


def virtual_clock() -> Any:
    loop = asyncio.get_running_loop()
    return lambda: EPOCH + loop.time()


async def run(root: Path, app: Any) -> tuple[manager.Planned, Any, manager.Planned]:
    config, specs = load_desired(root, freeze=False)
    transports = {"shop-meta": InProcessTransport(app)}
    async with Session(config, transports=transports, policy=FAST, budgets=Budgets()) as session:
        planned = await manager.make_plan(session, config, specs)
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)
        again = await manager.make_plan(session, config, specs)
    return planned, report, again


async def test_a_spent_hour_pauses_with_a_notice_and_resumes_with_nothing_made_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The account says 200 an hour (Meta's default); this WABA's real budget is 8.
    app = create_app(clock=virtual_clock(), hourly_requests=8)
    root = folder(tmp_path, 12)
    caplog.set_level(logging.WARNING, "wasync.pacing")
    loop = asyncio.get_running_loop()
    planned, report, again = await run(root, app)

    assert planned.plan.counts()["create"] == 12
    assert [o.status for o in report.outcomes] == [Status.SUCCEEDED] * 12
    assert not again.plan.has_changes  # converged
    made = Counter(t["name"] for t in app.state.world.templates(WABA))
    assert made == Counter({f"notice_{i:02}": 1 for i in range(12)})  # nothing twice
    # The usage header taught the client the smaller budget before Meta had to refuse.
    requests, _ = app.state.budgets
    assert requests.refused == 0
    # 14 calls or more (a listing, 12 creates, a listing of one page or more), at most 7 an
    # hour: a pause of an hour, or two with short pages (pytest --page-cap 7).
    assert 3600 < loop.time() < 3 * 3600
    notices = [r.getMessage() for r in caplog.records]
    assert 1 <= len(notices) <= 2
    assert notices[0].startswith("pausing 61 min (until ")
    assert (
        "the budget of 200 template management requests per WABA an hour for WABA "
        f"{WABA} is spent for now (the provider's count allows about 9 now)"
    ) in notices[0]


async def test_meta_asking_for_a_wait_is_honoured_and_apply_still_converges(
    tmp_path: Path,
) -> None:
    app = create_app(clock=virtual_clock(), hourly_requests=20)
    requests, _ = app.state.budgets
    for _ in range(20):  # another app spent this hour's budget a moment ago
        requests.take(WABA)
    loop = asyncio.get_running_loop()
    _, report, again = await run(folder(tmp_path, 3), app)
    assert [o.status for o in report.outcomes] == [Status.SUCCEEDED] * 3
    assert not again.plan.has_changes
    assert requests.refused >= 1  # the first listing met the spent hour ...
    assert loop.time() >= 3600  # ... and waited the 60 minutes Meta said, not a minute


async def test_the_plan_says_how_long_apply_will_take_when_an_hour_is_not_enough(
    tmp_path: Path,
) -> None:
    app = create_app(clock=virtual_clock())
    config, specs = load_desired(folder(tmp_path, 11, per_hour=5), freeze=False)
    transports = {"shop-meta": InProcessTransport(app)}
    async with Session(config, transports=transports, policy=FAST) as session:
        planned = await manager.make_plan(session, config, specs)
    (warning,) = [w for w in planned.plan.warnings if w.address == "template.shop-meta"]
    assert warning.message == (
        "this plan makes 11 template management requests; Meta allows 5 template management "
        "requests per WABA an hour, so apply will take at least 2 h: it pauses when a "
        "window's budget is spent and goes on by itself (the reads before it count too)"
    )


async def test_more_than_a_hundred_creations_take_more_than_an_hour(tmp_path: Path) -> None:
    app = create_app(clock=virtual_clock())
    config, specs = load_desired(folder(tmp_path, 101, per_hour=5000), freeze=False)
    transports = {"shop-meta": InProcessTransport(app)}
    async with Session(config, transports=transports, policy=FAST) as session:
        planned = await manager.make_plan(session, config, specs)
    messages = [w.message for w in planned.plan.warnings]
    assert messages == [
        "this plan makes 101 template creations; Meta allows 100 template creations per WABA "
        "an hour, so apply will take at least 1 h: it pauses when a window's budget is spent "
        "and goes on by itself (the reads before it count too)"
    ]

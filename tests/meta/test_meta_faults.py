"""Bad days at Meta's: injected faults and lost answers, through the executor; apply
converges with every resource made once, and a reworded QR code keeps its code."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.loading import load_desired
from wasync.pacing.gate import Budgets
from wasync.pacing.retry import RetryPolicy
from wasync.sandbox.common import Fault, FaultConfig, InProcessTransport, drop_connection
from wasync.sandbox.meta import create_app
from wasync.session import Session

from .support import PHONE, WABA, FakeClock

# On the virtual clock: backoff, timeouts and slow answers take no real time.
pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]

FAST = RetryPolicy(attempts=12, initial=0.01, maximum=0.05, jitter=0.01, settle=0.01)
CONFIG = (
    "accounts:\n  shop-meta:\n    provider: meta\n    endpoint: sandbox\n"
    f'    waba_id: "{WABA}"\n    timeout: 0.5\n'
)


def folder(root: Path, *, qr_codes: list[Any], templates: list[Any]) -> Path:
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    body = {"qr_codes": qr_codes, "templates": templates}
    (root / "specs.yaml").write_text(json.dumps(body), encoding="utf-8")
    return root


def qr(i: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    entry = {
        "account": "shop-meta",
        "phone": PHONE,
        "label": f"poster-{i}",
        "prefilled_message": message or f"Hello, I saw poster {i}",
    }
    if code:
        entry["code"] = code
    return entry


def template(i: int) -> dict[str, Any]:
    return {
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


async def apply(root: Path, app: Any) -> tuple[Any, Any]:
    config, specs = load_desired(root, freeze=False)
    transports = {"shop-meta": InProcessTransport(app)}
    async with Session(config, transports=transports, policy=FAST, budgets=Budgets()) as session:
        planned = await manager.make_plan(session, config, specs)
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)
        again = await manager.make_plan(session, config, specs)
    return report, again


async def test_apply_converges_through_faults_with_nothing_made_twice(tmp_path: Path) -> None:
    faults = FaultConfig(
        fault_rate=0.3,
        kinds=(Fault.THROTTLE, Fault.SERVER_ERROR, Fault.DROP_BEFORE, Fault.DROP_AFTER),
        seed=7,
    )
    app = create_app(clock=FakeClock(), faults=faults)
    root = folder(
        tmp_path, qr_codes=[qr(i) for i in range(6)], templates=[template(i) for i in range(6)]
    )
    report, again = await apply(root, app)
    assert sum(o.retries for o in report.outcomes) > 0  # the faults were met
    for _ in range(2):  # what a fault left undone, a second apply finishes
        if not again.plan.has_changes:
            break
        report, again = await apply(root, app)
    assert not again.plan.has_changes
    world = app.state.world
    assert Counter(t["name"] for t in world.templates(WABA)) == Counter(
        {f"notice_{i:02}": 1 for i in range(6)}
    )
    assert Counter(c["prefilled_message"] for c in world.qr_codes(WABA, PHONE)) == Counter(
        {f"Hello, I saw poster {i}": 1 for i in range(6)}
    )
    assert report.having(Status.FAILED) == []


async def test_a_lost_create_answer_is_read_back_not_repeated(tmp_path: Path) -> None:
    inner = create_app(clock=FakeClock())
    left = [1]

    async def losing(scope: Any, receive: Any, send: Any) -> None:
        creates = scope["type"] == "http" and scope["method"] == "POST"
        if creates and scope["path"].endswith("/message_templates") and left[0]:
            left[0] -= 1

            async def discard(message: Any) -> None:
                pass

            await inner(scope, receive, discard)  # Meta made it; the answer is lost
            drop_connection(scope)
        await inner(scope, receive, send)

    root = folder(tmp_path, qr_codes=[], templates=[template(1)])
    report, again = await apply(root, losing)
    (outcome,) = report.outcomes
    assert outcome.status is Status.SUCCEEDED and "confirmed by reading it back" in outcome.detail
    assert [t["name"] for t in inner.state.world.templates(WABA)] == ["notice_01"]
    assert not again.plan.has_changes


async def test_a_reworded_qr_code_is_an_update_that_keeps_its_code(tmp_path: Path) -> None:
    app = create_app(clock=FakeClock())
    root = folder(tmp_path, qr_codes=[qr(1)], templates=[])
    await apply(root, app)
    ((code,),) = [[c["code"] for c in app.state.world.qr_codes(WABA, PHONE)]]
    folder(tmp_path, qr_codes=[qr(1, "Hello, I saw the new poster", code=code)], templates=[])
    config, specs = load_desired(root, freeze=False)
    async with Session(config, transports={"shop-meta": InProcessTransport(app)}) as session:
        planned = await manager.make_plan(session, config, specs)
    (change,) = planned.plan.changes
    assert (change.action, change.hazards, change.blocked) == ("update", (), None)
    report, again = await apply(root, app)
    assert report.outcomes[0].detail == f"code {code}"
    assert [(c["code"], c["prefilled_message"]) for c in app.state.world.qr_codes(WABA, PHONE)] == [
        (code, "Hello, I saw the new poster")
    ]
    assert not again.plan.has_changes


async def test_slow_answers_past_the_timeout_still_converge(tmp_path: Path) -> None:
    faults = FaultConfig(fault_rate=0.3, kinds=(Fault.SLOW,), slow_ms=800, seed=3)
    app = create_app(clock=FakeClock(), faults=faults)
    root = folder(tmp_path, qr_codes=[], templates=[template(i) for i in range(3)])
    _, again = await apply(root, app)
    if again.plan.has_changes:
        _, again = await apply(root, app)
    assert not again.plan.has_changes
    assert len(app.state.world.templates(WABA)) == 3

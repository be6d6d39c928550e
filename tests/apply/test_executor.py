"""The executor against the real clients and emulators: outcomes, order, isolation of
failures, retries, read-back of lost answers, and stopping."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wasync import manager
from wasync.apply.executor import Executor, Outcome, Status
from wasync.errors import ErrorClass, ProviderError
from wasync.pacing.gate import Budgets
from wasync.pacing.retry import RetryPolicy
from wasync.plan import Change
from wasync.sandbox import cams, nxcloud
from wasync.sandbox.common import Fault, FaultConfig

from .support import (
    CAMS_PHONES,
    Emulators,
    VirtualTime,
    addresses,
    apply_folder,
    cams_action,
    config_text,
    emulators,
    exactly_once,
    losing_answers,
    nx_action,
    qr,
    session_for,
    template,
    write_specs,
)

pytestmark = pytest.mark.anyio


class Recorder:
    """A progress display that remembers what it was told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []  # (event, action, address)
        self.retries: list[tuple[str, ProviderError, float]] = []
        self.outcomes: list[Outcome] = []

    def started(self, change: Change) -> None:
        self.events.append(("started", change.action, change.address))

    def retrying(self, change: Change, error: ProviderError, delay: float) -> None:
        self.retries.append((change.address, error, delay))

    def finished(self, outcome: Outcome) -> None:
        self.events.append(("finished", outcome.change.action, outcome.change.address))
        self.outcomes.append(outcome)


def qr_messages(entries: list[dict[str, str]], phone: str) -> list[str]:
    return [e["prefilled_message"] for e in entries if e["phone"] == phone]


async def test_an_apply_creates_each_resource_once_and_leaves_nothing_to_do(
    tmp_path: Path,
) -> None:
    codes = [qr(i) for i in range(6)]
    cams_t = [template(i, account="shop-cams") for i in range(3)]
    nx_t = [template(i) for i in range(3)]
    root = write_specs(tmp_path, qr_codes=codes, templates=cams_t + nx_t)
    emus = emulators()
    progress = Recorder()

    applied = await apply_folder(root, emus, progress=progress)

    report = applied.report
    assert len(report.having(Status.SUCCEEDED)) == 12
    assert not report.failed and not report.interrupted
    assert not applied.again.plan.has_changes
    for phone in CAMS_PHONES:
        exactly_once(emus.qr_messages(phone), qr_messages(codes, phone))
    exactly_once(emus.cams_templates(), [(t["name"], t["language"]) for t in cams_t])
    exactly_once(emus.nx_templates(), [(t["name"], t["language"]) for t in nx_t])
    # Each change is reported once as it finishes, with what the provider made.
    assert sorted(o.change.address for o in progress.outcomes) == sorted(
        o.change.address for o in report.outcomes
    )
    created_qr = [o for o in report.outcomes if o.change.kind == "qr"]
    assert all(o.detail.startswith("code ") for o in created_qr)


async def test_deletes_start_only_after_every_create_and_update_of_the_account(
    tmp_path: Path,
) -> None:
    emus = emulators()
    first = [qr(i) for i in range(8)]
    await apply_folder(write_specs(tmp_path, qr_codes=first), emus)
    # Keep 0-1, change 2-3, drop 4-7 (pruned), add 8-11.
    second = first[:2] + [qr(i, image="PNG") for i in (2, 3)]
    second += [qr(i) for i in range(8, 12)]
    progress = Recorder()

    applied = await apply_folder(
        write_specs(tmp_path, qr_codes=second), emus, progress=progress, prune=True
    )

    counts = applied.planned.plan.counts()
    assert counts == {"create": 4, "update": 0, "replace": 2, "delete": 4}
    assert not applied.report.failed
    events = progress.events
    last_write = max(i for i, e in enumerate(events) if e[0] == "finished" and e[1] != "delete")
    first_delete = min(i for i, e in enumerate(events) if e[0] == "started" and e[1] == "delete")
    assert last_write < first_delete
    assert not applied.again.plan.has_changes
    for phone in CAMS_PHONES:
        exactly_once(emus.qr_messages(phone), qr_messages(second, phone))


async def test_a_refusal_fails_that_change_only_and_keeps_the_providers_code(
    tmp_path: Path,
) -> None:
    emus = emulators()
    meta = {
        "error": {
            "message": "Invalid parameter",
            "code": 100,
            "error_subcode": 2388043,
            "error_user_title": "Message template has incorrect format",
            "error_user_msg": "The message template's body has too many variables.",
            "fbtrace_id": "AbCdEf",
        }
    }
    emus.nx.state.emulator.fail_next("createTemplate", code=9099, data=meta)
    root = write_specs(
        tmp_path,
        qr_codes=[qr(i) for i in range(4)],
        templates=[template(i) for i in range(4)],
    )

    applied = await apply_folder(root, emus)

    report = applied.report
    (failed,) = report.having(Status.FAILED)
    assert isinstance(failed.error, ProviderError)
    assert failed.error.code == "9099/100/2388043"
    assert "too many variables" in str(failed.error)
    assert failed.retries == 0  # a refusal is final: no retry
    assert len(report.having(Status.SUCCEEDED)) == 7
    # What failed is what the next plan still has to do.
    assert [c.address for c in applied.again.plan.changes] == [failed.change.address]
    assert sum(emus.nx_templates().values()) == 3


async def test_an_account_whose_every_write_fails_does_not_stop_the_other(
    tmp_path: Path,
) -> None:
    emus = emulators()
    emus.nx.state.emulator.fail_next("createTemplate", code=9002, times=100)
    root = write_specs(
        tmp_path, qr_codes=[qr(i) for i in range(6)], templates=[template(i) for i in range(5)]
    )

    applied = await apply_folder(root, emus)

    failed = applied.report.having(Status.FAILED)
    assert {o.change.account for o in failed} == {"shop-nx"}
    assert len(failed) == 5
    assert {o.change.account for o in applied.report.having(Status.SUCCEEDED)} == {"shop-cams"}
    assert len(applied.report.having(Status.SUCCEEDED)) == 6


async def test_throttled_calls_wait_as_long_as_the_provider_says(tmp_path: Path) -> None:
    # The emulator allows 4 requests a second; wasync is told it may send 200. The
    # backoff alone (10 ms, 20 ms, ...) would spend every attempt within a fraction of a
    # second; waiting the x-acs-retry-after the gateway sends (250 ms) lets them through.
    # Templates: a QR create reads its phone first, and those reads (throttled too, and
    # retried by the session) would space the creates out below the limit.
    emus = emulators(qps=4)
    root = write_specs(tmp_path, templates=[template(i, account="shop-cams") for i in range(8)])
    progress = Recorder()
    policy = RetryPolicy(attempts=8, initial=0.01, maximum=0.05, jitter=0.0, settle=0.01)

    applied = await apply_folder(root, emus, progress=progress, policy=policy)

    assert len(applied.report.having(Status.SUCCEEDED)) == 8
    throttled = [(e, d) for _, e, d in progress.retries if e.error_class is ErrorClass.THROTTLED]
    assert throttled, "the emulator should have throttled some calls"
    assert all(e.retry_after == 0.25 for e, _ in throttled)
    assert all(0.25 <= d <= 0.35 for _, d in throttled)


async def test_a_create_whose_answer_is_lost_after_it_acted_is_confirmed_not_repeated(
    tmp_path: Path,
) -> None:
    emus = emulators()
    emus.fronts["shop-cams"] = losing_answers(
        emus.cams, cams_action("CreatePhoneMessageQrdl"), times=2, act=True
    )
    emus.nx.state.emulator.fail_next("createTemplate", code=-1, act=True)  # acted, said -1
    codes = [qr(i, phone=CAMS_PHONES[0]) for i in range(3)]
    root = write_specs(tmp_path, qr_codes=codes, templates=[template(1)])
    progress = Recorder()

    applied = await apply_folder(root, emus, progress=progress)

    assert len(applied.report.having(Status.SUCCEEDED)) == 4
    confirmed = [o for o in applied.report.outcomes if "confirmed by reading it back" in o.detail]
    assert len(confirmed) == 3
    unknown = [e for _, e, _ in progress.retries if e.error_class is ErrorClass.UNKNOWN_OUTCOME]
    assert {e.code for e in unknown} == {"RemoteProtocolError", "-1"}
    exactly_once(emus.qr_messages(CAMS_PHONES[0]), qr_messages(codes, CAMS_PHONES[0]))
    exactly_once(emus.nx_templates(), [("order_update_001", "en_US")])
    # Each confirmed QR outcome names its own code, not another create's.
    stored = {
        q["PrefilledMessage"]: q["QrdlCode"]
        for q in emus.cams.state.emulator.qr_codes(CAMS_PHONES[0])
    }
    for outcome in confirmed:
        if outcome.change.kind == "qr":
            desired = outcome.change.desired
            assert desired is not None
            assert f"code {stored[desired.prefilled_message]}," in outcome.detail  # type: ignore[union-attr]


async def test_a_create_whose_request_was_lost_before_it_acted_is_made_once_after_checking(
    tmp_path: Path,
) -> None:
    emus = emulators()
    emus.fronts["shop-cams"] = losing_answers(
        emus.cams, cams_action("CreateChatappTemplate"), times=1, act=False
    )
    emus.fronts["shop-nx"] = losing_answers(
        emus.nx, nx_action("createTemplate"), times=1, act=False
    )
    root = write_specs(tmp_path, templates=[template(1, account="shop-cams"), template(2)])

    applied = await apply_folder(root, emus)

    assert len(applied.report.having(Status.SUCCEEDED)) == 2
    assert all(o.retries == 1 for o in applied.report.outcomes)
    exactly_once(emus.cams_templates(), [("order_update_001", "en_US")])
    exactly_once(emus.nx_templates(), [("order_update_002", "en_US")])


async def test_an_update_and_a_delete_whose_answers_are_lost_are_not_done_twice(
    tmp_path: Path,
) -> None:
    emus = emulators()
    await apply_folder(write_specs(tmp_path, qr_codes=[qr(1), qr(2), qr(4)]), emus)
    steps = {
        "UpdatePhoneMessageQrdl": [qr(1, image="PNG"), qr(2), qr(4)],
        "DeletePhoneMessageQrdl": [qr(1, image="PNG"), qr(4)],  # 2 goes (pruned)
    }
    for action, specs in steps.items():
        emus.fronts["shop-cams"] = losing_answers(emus.cams, cams_action(action), times=1, act=True)
        applied = await apply_folder(write_specs(tmp_path, qr_codes=specs), emus, prune=True)
        (outcome,) = applied.report.outcomes
        assert outcome.status is Status.SUCCEEDED, outcome
        assert outcome.retries == 1
        if outcome.change.action == "replace":  # read back: is the new code there?
            assert outcome.detail.endswith("confirmed by reading it back after an unanswered call")
            # What the read-back found is what apply shows and pins: the code CAMS issued.
            (now,) = emus.cams.state.emulator.qr_codes(CAMS_PHONES[1])
            assert outcome.made is not None and outcome.made.code == now["QrdlCode"]
            assert outcome.detail.startswith(f"code {now['QrdlCode']}, replacing ")
        # A delete is simply sent again: the code is gone, which CAMS says, and that is done.
        assert not applied.again.plan.has_changes
    (left,) = emus.cams.state.emulator.qr_codes(CAMS_PHONES[1])
    assert (left["PrefilledMessage"], left["GenerateQrImage"]) == ("Hello, I saw poster 1", "PNG")
    exactly_once(emus.qr_messages(CAMS_PHONES[0]), ["Hello, I saw poster 4"])


async def test_blocked_changes_are_skipped_with_the_reason(tmp_path: Path) -> None:
    emus = emulators()
    await apply_folder(write_specs(tmp_path, qr_codes=[qr(1, protect=True), qr(2)]), emus)
    specs = [qr(1, protect=True, image="PNG"), qr(2, image="PNG")]

    applied = await apply_folder(write_specs(tmp_path, qr_codes=specs), emus)

    (skipped,) = applied.report.having(Status.SKIPPED)
    assert skipped.change.address == "qr.shop-cams.8615800002222.poster-001"
    assert skipped.detail.startswith("blocked: ")
    assert addresses(applied.report, Status.SUCCEEDED) == ["qr.shop-cams.8615800001111.poster-002"]


@pytest.mark.virtual_clock
async def test_stop_finishes_calls_in_flight_sends_nothing_new_and_a_rerun_converges(
    tmp_path: Path,
) -> None:
    emus = emulators(faults=FaultConfig(latency_ms=30))
    codes = [qr(i) for i in range(20)]
    # 5 requests a second: most changes wait for their turn at the account's rate gate.
    root = write_specs(tmp_path, qr_codes=codes, config=config_text(qps=5))
    async with session_for(root, emus) as (config, specs, session):
        planned = await manager.make_plan(session, config, specs)
        stop = asyncio.Event()

        class StopAfterThree(Recorder):
            def finished(self, outcome: Outcome) -> None:
                super().finished(outcome)
                if len(self.outcomes) == 3:
                    stop.set()

        progress = StopAfterThree()
        executor = Executor(session, planned.settings, progress=progress, stop=stop)
        clock = asyncio.get_running_loop()  # virtual: the time the executor waited
        started = clock.time()
        report = await executor.run(planned.plan, planned.remote)
        elapsed = clock.time() - started

    assert report.interrupted and not report.failed
    done = report.having(Status.SUCCEEDED)
    skipped = report.having(Status.SKIPPED)
    assert len(done) + len(skipped) == 20
    assert 3 <= len(done) <= 4  # the one in flight when stop came may finish too
    assert all(o.detail == "not started: interrupted" for o in skipped)
    # Nothing was sent after the stop but what was in flight: one create per success.
    assert emus.cams.state.emulator.calls["CreatePhoneMessageQrdl"] == len(done)
    assert sum(sum(emus.qr_messages(p).values()) for p in CAMS_PHONES) == len(done)
    # Waiting changes were let go at once: at the gate's pace (0.2 s each) the 16 or so
    # left would have taken 3 s more.
    assert elapsed < 2.0

    rerun = await apply_folder(write_specs(tmp_path, qr_codes=codes), emus)  # at full speed
    assert len(rerun.report.having(Status.SUCCEEDED)) == len(skipped)
    for phone in CAMS_PHONES:
        exactly_once(emus.qr_messages(phone), qr_messages(codes, phone))


@pytest.mark.virtual_clock
async def test_stop_cuts_a_wait_for_a_retry_short(tmp_path: Path) -> None:
    # Every NXCloud call is throttled with Retry-After: 1; a stop 0.3 s in must not wait
    # out the second, and reports the change as not done with the provider's last answer.
    nx_faults = FaultConfig(kinds=(Fault.THROTTLE,))
    emus = emulators(nx_faults=nx_faults)
    root = write_specs(tmp_path, templates=[template(1)])
    async with session_for(root, emus) as (config, specs, session):
        planned = await manager.make_plan(session, config, specs)
        nx_faults.fault_rate = 1.0
        stop = asyncio.Event()
        executor = Executor(session, planned.settings, stop=stop)
        asyncio.get_running_loop().call_later(0.3, stop.set)
        clock = asyncio.get_running_loop()  # virtual: the time the executor waited
        started = clock.time()
        report = await executor.run(planned.plan, planned.remote)
        elapsed = clock.time() - started

    (outcome,) = report.outcomes
    assert outcome.status is Status.SKIPPED
    assert outcome.detail == "interrupted before it was done (last answer: HTTP 429)"
    assert elapsed < 1.0  # the 1 s Retry-After wait ended at the stop, 0.3 s in
    assert report.interrupted


@pytest.mark.parametrize("seed", [7, 2024])
async def test_with_a_fifth_of_all_calls_going_wrong_apply_converges_without_duplicates(
    tmp_path: Path, seed: int
) -> None:
    # Throttled, 5xx, dropped before acting, dropped after acting, answered too late: each
    # a fifth of the faults, on reads and writes alike, in both emulators.
    faults = FaultConfig(fault_rate=0.2, slow_ms=300, seed=seed)
    emus = emulators(qps=1000, faults=faults)
    config = config_text(timeout=0.15)
    codes = [qr(i) for i in range(24)]
    cams_t = [template(i, account="shop-cams") for i in range(8)]
    nx_t = [template(i) for i in range(8)]
    root = write_specs(tmp_path, qr_codes=codes, templates=cams_t + nx_t, config=config)

    first = await apply_folder(root, emus)
    assert not first.report.failed, [str(o.error) for o in first.report.having(Status.FAILED)]
    assert not first.again.plan.has_changes

    # Then updates and deletes under the same weather: change some, drop some.
    # Every third code changes its image (an update), every fifth its message (a new code
    # and the old one pruned), and the last six go.
    codes2 = [
        qr(i, message=f"Round two {i}")
        if i % 5 == 0
        else qr(i, image="PNG")
        if i % 3 == 0
        else qr(i)
        for i in range(18)
    ]
    nx_t2 = [template(i, body=f"Round two {{{{1}}}} for order {{{{2}}}}, {i}.") for i in range(6)]
    root = write_specs(tmp_path, qr_codes=codes2, templates=cams_t + nx_t2, config=config)
    second = await apply_folder(root, emus, prune=True)
    assert not second.report.failed, [str(o.error) for o in second.report.having(Status.FAILED)]
    assert not second.again.plan.has_changes

    for phone in CAMS_PHONES:
        exactly_once(emus.qr_messages(phone), qr_messages(codes2, phone))
    exactly_once(emus.cams_templates(), [(t["name"], t["language"]) for t in cams_t])
    exactly_once(emus.nx_templates(), [(t["name"], t["language"]) for t in nx_t2])
    # Which calls meet a fault depends on the order concurrent calls reach the emulator, so
    # count what the seeded draw injected (its first draws are the same each run) rather
    # than how many of them happened to land on writes.
    assert faults.injected.total() >= 10, faults.injected
    assert len(faults.injected) >= 3, "several kinds of fault should have been met"
    retried = sum(o.retries for o in first.report.outcomes + second.report.outcomes)
    assert retried > 0, "the writes should have felt the faults"


async def test_at_the_providers_own_limit_the_gate_is_never_refused(tmp_path: Path) -> None:
    # The emulator allows 40 requests a second per API with room for 2 at once; wasync is
    # told the same 40. Sixty creates and the reads around them, sent as fast as the gate
    # allows, with many in flight: not one may be refused. Both count on one virtual clock,
    # which only the gate's waits move, so the count does not depend on the machine's load.
    clock = VirtualTime()
    emus = Emulators(cams=cams.create_app(qps=40, clock=clock), nx=nxcloud.create_app(qps=0))
    emus.cams.state.rate_limit.burst = 2.0
    codes = [qr(i) for i in range(60)]
    root = write_specs(tmp_path, qr_codes=codes, config=config_text(qps=40))

    budgets = Budgets(clock=clock, sleep=clock.sleep)
    applied = await apply_folder(root, emus, budgets=budgets)

    assert len(applied.report.having(Status.SUCCEEDED)) == 60
    assert emus.cams.state.rate_limit.refused == 0
    assert not applied.again.plan.has_changes

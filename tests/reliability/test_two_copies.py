"""Soak: two copies of the same specs (two checkouts) applied at the same moment to one
account, through 20% injected faults. The spec folder's lock cannot see the other copy; what
keeps the codes single is the executor's second read of a phone before each QR create (it
adopts a code the other apply made) and, for a duplicate the window between that read and
the create lets through, the check after apply, which names it, and ``--prune`` of the
copies it names, which deletes them and nothing pinned. The soak ends with every entry's
code exactly once, both copies agreeing, and prints how many duplicates the window let
through.

Everything runs in one event loop on a virtual clock: the CAMS emulator in this process
(faults of every kind: throttling, 5xx, connections dropped before or after acting, replies
slower than the account's timeout), two sessions with the real client and signing, the real
planner, executor and pin writer. Retry waits and the emulator's slow replies cost no real
time; the seeds are fixed.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from wasync import manager
from wasync.apply import pins
from wasync.apply.executor import Executor, Report
from wasync.model import RemoteQrCode
from wasync.pacing.retry import RetryPolicy
from wasync.plan.identity import duplicate_codes
from wasync.sandbox import cams
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    FaultConfig,
    InProcessTransport,
)
from wasync.session import Session

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]

PHONES = ("8615800001111", "8615800002222")
PER_PHONE = 20
SPACE = "space-two-copies"
FAULT_RATE = 0.2
SEED = 20_261_202
KEY_ID_VAR, KEY_SECRET_VAR = "TWO_COPIES_KEY_ID", "TWO_COPIES_KEY_SECRET"
QUICK = RetryPolicy(attempts=12, initial=0.01, maximum=0.05, jitter=0.0, settle=0.05)


def write_copy(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "wasync.yaml").write_text(
        "accounts:\n  shop:\n    provider: cams\n    endpoint: https://cams.invalid\n"
        f"    cust_space_id: {SPACE}\n"
        f"    access_key_id: ${{{KEY_ID_VAR}}}\n    access_key_secret: ${{{KEY_SECRET_VAR}}}\n"
        "    qps: 50\n    timeout: 0.25\n",
        encoding="utf-8",
    )
    entries = "".join(
        f'  - account: shop\n    phone: "{phone}"\n    label: p{i:02}\n'
        f"    prefilled_message: Hello from poster {i} on {phone}\n    image: SVG\n"
        for phone in PHONES
        for i in range(PER_PHONE)
    )
    (root / "specs.yaml").write_text("qr_codes:\n" + entries, encoding="utf-8")
    return root


class Copy:
    """One checkout: applies as ``wasync apply`` does (plan, execute, write the pins), and
    again while anything failed, as a person would (at most twice more)."""

    def __init__(self, root: Path, app: Any, seed: int) -> None:
        self.root = root
        self.app = app
        self.shuffle = random.Random(seed)
        self.reports: list[Report] = []

    def session(self, config: Any) -> Session:
        return Session(config, transports={"shop": InProcessTransport(self.app)}, policy=QUICK)

    async def apply(self) -> None:
        for _ in range(3):
            config, specs = manager.load(self.root)
            async with self.session(config) as session:
                planned = await manager.make_plan(session, config, specs)
                if not planned.plan.has_changes:
                    return
                executor = Executor(session, planned.settings, shuffle=self.shuffle)
                report = await executor.run(planned.plan, planned.remote)
            self.reports.append(report)
            written = pins.write(pins.made_codes(report, specs))
            assert not written.unwritten
            if not report.failed:
                return

    async def check(self) -> tuple[bool, list[RemoteQrCode]]:
        """The check after apply: is anything left to do, and which copies of its entries'
        codes does the provider hold."""
        config, specs = manager.load(self.root)
        async with self.session(config) as session:
            again = await manager.make_plan(session, config, specs)
        found = duplicate_codes(specs.desired.qr_codes, again.remote.qr_codes)
        return again.plan.has_changes, [c for f in found for c in f.copies]

    async def prune(self, copies: list[RemoteQrCode]) -> Report:
        """``wasync apply --prune --target`` each copy: what the check says to run."""
        config, specs = manager.load(self.root)
        async with self.session(config) as session:
            targets = [c.address for c in copies]
            planned = await manager.make_plan(session, config, specs, prune=True, targets=targets)
            assert {c.action for c in planned.plan.changes} <= {"delete"}
            assert {c.remote_id for c in planned.plan.changes} == {c.code for c in copies}
            return await Executor(session, planned.settings).run(planned.plan, planned.remote)

    def pinned(self) -> set[str]:
        _, specs = manager.load(self.root)
        return {q.code for q in specs.desired.qr_codes if q.code}


def held(app: Any) -> Counter[tuple[str, str]]:
    return Counter(
        (phone, q["PrefilledMessage"])
        for phone in PHONES
        for q in app.state.emulator.qr_codes(phone, SPACE)
    )


def codes(app: Any) -> set[str]:
    return {q["QrdlCode"] for phone in PHONES for q in app.state.emulator.qr_codes(phone, SPACE)}


async def test_two_copies_applied_at_once_through_faults_end_with_each_code_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ID_VAR, DEFAULT_ACCESS_KEY_ID)
    monkeypatch.setenv(KEY_SECRET_VAR, DEFAULT_ACCESS_KEY_SECRET)
    faults = FaultConfig(fault_rate=FAULT_RATE, slow_ms=400, seed=SEED)
    app = cams.create_app(qps=0, faults=faults)
    a = Copy(write_copy(tmp_path / "a"), app, SEED + 1)
    b = Copy(write_copy(tmp_path / "b"), app, SEED + 2)
    wanted = Counter(
        (phone, f"Hello from poster {i} on {phone}") for phone in PHONES for i in range(PER_PHONE)
    )

    await asyncio.gather(a.apply(), b.apply())

    outcomes = [o for r in a.reports + b.reports for o in r.outcomes]
    adopted = sum(o.adopted for o in outcomes)
    assert adopted, "no create found the other apply's code: the soak proves nothing"
    assert any(o.retries for o in outcomes), "no fault reached the applies"
    # What the window let through: the codes beyond one per entry.
    through = sum(held(app).values()) - len(wanted)
    assert held(app).keys() == wanted.keys()
    assert through >= 0

    # The check of each copy names exactly the codes its own entries do not hold.
    for copy in (a, b):
        left, copies = await copy.check()
        assert not left
        assert {c.code for c in copies} == codes(app) - copy.pinned()
        assert len(copies) == through

    # The clean-up the check gives, from copy a: the copies go, nothing a pins goes.
    if through:
        _, copies = await a.check()
        report = await a.prune(copies)
        assert not report.failed
    assert held(app) == wanted
    assert a.pinned() <= codes(app) and len(a.pinned()) == len(wanted)
    for copy in (a, b):
        left, copies = await copy.check()
        assert (left, copies) == (False, [])  # b's pins of pruned copies are stale: no change

    print(
        f"\ntwo copies x {len(wanted)} QR codes at once, {FAULT_RATE:.0%} faults: {adopted} "
        f"adopted, {through} duplicates let through by the window (reported, then pruned); "
        f"{len(a.reports)} + {len(b.reports)} applies"
    )

"""Soak: many rounds of random spec changes, each applied through 20% injected faults,
after which the emulators must hold exactly what the specs say: nothing lost, nothing
created twice, nothing left behind.

Each round edits the specs (QR codes and templates added, removed, changed; templates are
first rejected by the emulator's reviewer, the state in which both providers allow edits),
then loads them with the real loader, refreshes and plans, and applies with the real
executor, the real clients and their signing, over loopback sockets into the emulators.
Faults are every kind the emulators inject: throttling, 5xx, connections dropped before or
after acting, replies slower than the account's timeout. As a person would, a round whose
apply reported failures is applied again (at most twice more). Then the emulators' state is
compared with the specs, and a plan through the same faults must find nothing to do.

Retries wait milliseconds here instead of seconds (the policy is a parameter of the session,
for reads, and of the executor, for writes); the seeds are fixed. Reads are retried call by
call, so a CAMS template listing (one list call, one detail call per managed template) goes
through 20% faults however long it is (test_refresh_units.py checks that on its own).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tenacity import RetryCallState

from wasync.apply.executor import Executor, Report
from wasync.manager import load
from wasync.pacing.retry import RetryPolicy
from wasync.plan import from_config, plan
from wasync.refresh import refresh
from wasync.sandbox.common import FaultConfig
from wasync.session import Session

from .support import (
    CAMS_KEY_ID,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    NX_ACCESS_KEY,
    NX_SECRET,
    Folder,
    cams_account,
    nx_account,
    served,
)

ROUNDS = 60
FAULT_RATE = 0.2
SEED = 20_241_123
CAMS_PHONES = ("8615800001111", "8615800002222", "8615800003333")
NX_PHONES = ("8618500009999", "8618500008888")
MAX_CAMS_TEMPLATES = 8


class QuickRetries(RetryPolicy):
    """Millisecond waits (also when the provider says how long to wait)."""

    def __init__(self) -> None:
        super().__init__(attempts=12, initial=0.001, maximum=0.005, jitter=0.001, settle=0.01)

    def wait(self, state: RetryCallState) -> float:
        return min(0.005, super().wait(state))


@dataclass
class World:
    """What the specs say, as plain data the test edits and writes out."""

    rng: random.Random
    qr: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (phone, message)
    cams_templates: dict[str, str] = field(default_factory=dict)  # name -> body text
    nx_templates: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (phone, text)
    serial: int = 0

    def fresh(self) -> int:
        self.serial += 1
        return self.serial

    def seed(self) -> None:
        # One entry per phone that is never removed: refresh lists only the phones the
        # specs name, so a phone with no entry left would keep what it holds unseen.
        for phone in CAMS_PHONES:
            self.qr[f"keep-{phone}"] = (phone, f"Hello from {phone}, {self.fresh()}")
        for phone in NX_PHONES:
            self.nx_templates[f"keep_{phone}"] = (phone, f"Order {self.fresh()}")

    def mutate(self, cams: Any, nx: Any) -> list[str]:
        done = []
        for _ in range(self.rng.randint(1, 4)):
            op = self.rng.choice(
                ["qr+", "qr+", "qr-", "qr~", "ct+", "ct-", "ct~", "nt+", "nt-", "nt~"]
            )
            done.append(op)
            n = self.fresh()
            removable_qr = [k for k in self.qr if not k.startswith("keep-")]
            removable_nt = [k for k in self.nx_templates if not k.startswith("keep_")]
            if op == "qr+":
                self.qr[f"q{n}"] = (self.rng.choice(CAMS_PHONES), f"Hi there, code {n}")
            elif op == "qr-" and removable_qr:
                del self.qr[self.rng.choice(removable_qr)]
            elif op == "qr~":
                label = self.rng.choice(sorted(self.qr))
                self.qr[label] = (self.qr[label][0], f"Hi again, code {n}")
            elif op == "ct+" and len(self.cams_templates) < MAX_CAMS_TEMPLATES:
                self.cams_templates[f"ct_{n}"] = f"Parcel {n}"
            elif op == "ct-" and self.cams_templates:
                del self.cams_templates[self.rng.choice(sorted(self.cams_templates))]
            elif op == "ct~" and self.cams_templates:
                name = self.rng.choice(sorted(self.cams_templates))
                reject_cams(cams, name)  # CAMS edits rejected (or draft) templates only
                self.cams_templates[name] = f"Parcel {n}"
            elif op == "nt+":
                self.nx_templates[f"nt_{n}"] = (self.rng.choice(NX_PHONES), f"Order {n}")
            elif op == "nt-" and removable_nt:
                del self.nx_templates[self.rng.choice(removable_nt)]
            elif op == "nt~":
                name = self.rng.choice(sorted(self.nx_templates))
                phone = self.nx_templates[name][0]
                reject_nx(nx, phone, name)  # Meta edits no PENDING template
                self.nx_templates[name] = (phone, f"Order {n}")
        return done

    def write(self, folder: Folder) -> None:
        qr_codes = [
            f'  - account: live-cams\n    phone: "{phone}"\n    label: {label}\n'
            f"    prefilled_message: {message}\n"
            for label, (phone, message) in sorted(self.qr.items())
        ]
        templates = [
            template("live-cams", name, text, None)
            for name, text in sorted(self.cams_templates.items())
        ] + [
            template("live-nx", name, text, phone)
            for name, (phone, text) in sorted(self.nx_templates.items())
        ]
        folder.write(qr_codes=qr_codes, templates=templates)


def template(account: str, name: str, text: str, phone: str | None) -> str:
    return (
        f"  - account: {account}\n"
        + (f'    phone: "{phone}"\n' if phone else "")
        + f"    name: {name}\n    language: en_US\n    category: UTILITY\n"
        "    components:\n      - type: BODY\n"
        f'        text: "{text}: {{{{1}}}} is on its way."\n'
        "        example: {body_text: [['12345']]}\n"
    )


def reject_cams(emulator: Any, name: str) -> None:
    for t in emulator.templates():
        if t["Name"] == name:
            emulator.set_template_status(t["TemplateCode"], t["Language"], "REJECTED", "test")


def reject_nx(emulator: Any, phone: str, name: str) -> None:
    for t in emulator.templates(phone):
        if t["name"] == name:
            emulator.set_status(phone, t["id"], "REJECTED", "test")


def body_text(components: list[dict[str, Any]]) -> str:
    for c in components:
        if str(c.get("type", c.get("Type", ""))).upper() == "BODY":
            return str(c.get("text", c.get("Text")))
    raise AssertionError(f"no BODY in {components}")


def check_remote(world: World, cams: Any, nx: Any) -> None:
    """The emulators hold exactly what the specs say."""
    held_qr = Counter(
        (phone, q["PrefilledMessage"]) for phone in CAMS_PHONES for q in cams.qr_codes(phone)
    )
    assert held_qr == Counter(world.qr.values())
    held_ct = Counter((t["Name"], body_text(t["Components"])) for t in cams.templates())
    wanted_ct = Counter(
        (name, f"{text}: {{{{1}}}} is on its way.") for name, text in world.cams_templates.items()
    )
    assert held_ct == wanted_ct
    held_nt = Counter(
        (phone, t["name"], body_text(t["components"]))
        for phone in NX_PHONES
        for t in nx.templates(phone)
    )
    wanted_nt = Counter(
        (phone, name, f"{text}: {{{{1}}}} is on its way.")
        for name, (phone, text) in world.nx_templates.items()
    )
    assert held_nt == wanted_nt


async def apply_round(root: Path) -> tuple[list[Report], bool]:
    """Plan and apply (again while anything failed, at most three times); then whether a
    plan through the same faults still finds changes."""
    config, specs = load(root)
    settings = from_config(config)
    accounts = sorted(config.accounts)
    policy = QuickRetries()
    reports: list[Report] = []
    async with Session(config, policy=policy) as session:
        for _ in range(3):
            remote = await refresh(session, specs.desired, accounts)
            the_plan = plan(specs.desired, remote, accounts=settings)
            if not the_plan.has_changes:
                break
            report = await Executor(session, settings, policy=policy).run(the_plan, remote)
            reports.append(report)
            if not report.failed:
                break
        remote = await refresh(session, specs.desired, accounts)
        again = plan(specs.desired, remote, accounts=settings)
    return reports, again.has_changes or bool(again.unmanaged)


@pytest.mark.slow
def test_random_changes_through_faults_end_exactly_as_specified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDENTIAL_ENV.items():
        monkeypatch.setenv(name, value)
    kinds = {
        "cams": FaultConfig(fault_rate=FAULT_RATE, slow_ms=400, seed=SEED),
        "nxcloud": FaultConfig(fault_rate=FAULT_RATE, slow_ms=400, seed=SEED + 1),
    }
    # qps high enough that the emulators' own limiter never refuses (faults do that), and
    # throttling replies ask for a wait of a millisecond.
    with (
        served(
            "cams",
            access_key_id=CAMS_KEY_ID,
            access_key_secret=CAMS_SECRET,
            qps=10_000,
            faults=kinds["cams"],
        ) as cams,
        served(
            "nxcloud",
            access_key_id=NX_ACCESS_KEY,
            access_key_secret=NX_SECRET,
            qps=10_000,
            faults=kinds["nxcloud"],
            name_reuse_lock=0,
        ) as nx,
    ):
        options = {"prune": "true", "timeout": 0.25, "qps": 500}
        folder = Folder(
            tmp_path, [cams_account(cams.url, **options), nx_account(nx.url, **options)]
        )
        world = World(random.Random(SEED))
        world.seed()
        cams_state, nx_state = cams.app.state.emulator, nx.app.state.emulator
        started = time.monotonic()
        applies = retried_rounds = changes = 0
        for round_ in range(ROUNDS):
            ops = world.mutate(cams_state, nx_state) if round_ else ["seed"]
            world.write(folder)
            reports, left = asyncio.run(apply_round(tmp_path))
            applies += len(reports)
            retried_rounds += len(reports) > 1
            changes += sum(len(r.outcomes) for r in reports)
            assert not left, f"round {round_} ({ops}): a plan still finds changes"
            check_remote(world, cams_state, nx_state)
        elapsed = time.monotonic() - started
    faults = kinds["cams"].fault_rate
    print(
        f"\nsoak: {ROUNDS} rounds, {applies} applies, {changes} changes, "
        f"{retried_rounds} rounds needed a second apply; fault rate {faults:.0%}; "
        f"{elapsed:.1f} s; final: {len(world.qr)} QR codes, {len(world.cams_templates)} + "
        f"{len(world.nx_templates)} templates"
    )
    assert changes > ROUNDS  # the soak changed things, every round

"""Spec folders and emulator-backed sessions for the apply tests.

Everything goes through the real code: specs are written as files and loaded by the spec
loader, the providers are the real clients with real signing, and the emulators answer over
HTTP through the in-process transport (or a socket where a test says so).
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from wasync import manager
from wasync.apply.executor import Executor, Progress, Report
from wasync.config import Config
from wasync.loading import load_desired
from wasync.model import JsonDict
from wasync.pacing.gate import Budgets
from wasync.pacing.retry import RetryPolicy
from wasync.sandbox import cams, nxcloud
from wasync.sandbox.common import FaultConfig, InProcessTransport, drop_connection
from wasync.session import Session
from wasync.spec.load import LoadedSpecs

CAMS_PHONES = ("8615800001111", "8615800002222")
NX_PHONE = "8618500009999"
SPACE = "cams-test-space"
# Fast enough for tests, the same shape as the default: backoff, retry-after honoured.
FAST = RetryPolicy(attempts=8, initial=0.01, maximum=0.2, jitter=0.01, settle=0.01)


def config_text(*, qps: float = 200, timeout: float = 5.0, extra: str = "") -> str:
    return f"""\
accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: {SPACE}
    qps: {qps}
    timeout: {timeout}
{extra}
  shop-nx:
    provider: nxcloud
    endpoint: sandbox
    appkey: test-appkey
    qps: {qps}
    timeout: {timeout}
{extra}
"""


def qr(i: int, *, phone: str | None = None, message: str | None = None, **more: Any) -> JsonDict:
    return {
        "account": "shop-cams",
        "phone": phone or CAMS_PHONES[i % len(CAMS_PHONES)],
        "label": f"poster-{i:03}",
        "prefilled_message": message or f"Hello, I saw poster {i}",
        "image": "SVG",
        **more,
    }


def template(i: int, *, account: str = "shop-nx", body: str | None = None) -> JsonDict:
    entry: JsonDict = {
        "account": account,
        "name": f"order_update_{i:03}",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": body or f"Hi {{{{1}}}}, order {{{{2}}}} moved to step {i}.",
                "example": {"body_text": [["Ann", "12345"]]},
            }
        ],
    }
    if account == "shop-nx":
        entry["phone"] = NX_PHONE
    return entry


def write_specs(
    root: Path,
    *,
    qr_codes: Iterable[JsonDict] = (),
    templates: Iterable[JsonDict] = (),
    config: str | None = None,
) -> Path:
    """A spec folder: wasync.yaml and one specs.yaml, in block style as people write it
    (so that apply can write the pins of the QR codes it creates into it)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(config or config_text(), encoding="utf-8")
    body = {"qr_codes": list(qr_codes), "templates": list(templates)}
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(body, out)
    (root / "specs.yaml").write_text(out.getvalue(), encoding="utf-8")
    return root


@dataclass
class Emulators:
    """The two emulators behind a session, with handles to inspect their state."""

    cams: Starlette
    nx: Starlette
    # What the clients talk to, where it is not the emulator itself (see ``losing_answers``).
    fronts: dict[str, Any] = field(default_factory=dict)

    @property
    def transports(self) -> dict[str, InProcessTransport]:
        apps = {"shop-cams": self.cams, "shop-nx": self.nx} | self.fronts
        return {name: InProcessTransport(app) for name, app in apps.items()}

    def qr_messages(self, phone: str) -> Counter[str]:
        codes = self.cams.state.emulator.qr_codes(phone, SPACE)
        return Counter(q["PrefilledMessage"] for q in codes)

    def cams_templates(self) -> Counter[tuple[str, str]]:
        return Counter((t["Name"], t["Language"]) for t in self.cams.state.emulator.templates())

    def nx_templates(self) -> Counter[tuple[str, str]]:
        return Counter(
            (t["name"], t["language"]) for t in self.nx.state.emulator.templates(NX_PHONE)
        )


def emulators(
    *, qps: float = 0, faults: FaultConfig | None = None, nx_faults: FaultConfig | None = None
) -> Emulators:
    """Both emulators in memory; ``qps`` 0 turns their rate limit off."""
    return Emulators(
        cams=cams.create_app(qps=qps, faults=faults),
        nx=nxcloud.create_app(qps=qps, faults=nx_faults or faults),
    )


@dataclass
class Applied:
    planned: manager.Planned
    report: Report
    again: manager.Planned  # the plan made right after, from a fresh refresh


class VirtualTime:
    """A clock that moves only when the rate buckets sleep on it: an emulator counting by
    it sees requests when the buckets let them go, whatever the machine's load.

    Everything runs in one event loop with no real I/O (in-process emulators), so the order
    of events is the same on every run. Before it moves on, a sleep lets the loop run a
    while, so that a request let through has reached the emulator before the next one's
    turn comes: the emulator sees each request at the time it was sent."""

    SETTLE = 50  # loop turns given to requests in flight before the clock moves

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        for _ in range(self.SETTLE):
            await asyncio.sleep(0)
        self.now = max(self.now, wake)


@asynccontextmanager
async def session_for(
    root: Path, emus: Emulators, policy: RetryPolicy = FAST, budgets: Budgets | None = None
) -> AsyncIterator[tuple[Config, LoadedSpecs, Session]]:
    config, specs = load_desired(root, freeze=False)
    transports = emus.transports
    async with Session(config, transports=transports, policy=policy, budgets=budgets) as session:
        yield config, specs, session


async def apply_folder(
    root: Path,
    emus: Emulators,
    *,
    policy: RetryPolicy = FAST,
    progress: Progress | None = None,
    prune: bool = False,
    budgets: Budgets | None = None,
) -> Applied:
    """Plan, execute and plan again, as ``wasync apply`` does, with a test's retry policy
    (and rate buckets, e.g. on a ``VirtualTime``)."""
    async with session_for(root, emus, policy, budgets) as (config, specs, session):
        planned = await manager.make_plan(session, config, specs, prune=prune)
        # A seeded order of QR creates: a test's faults then meet the same calls each run.
        shuffle = random.Random(0)
        executor = Executor(session, planned.settings, progress=progress, shuffle=shuffle)
        report = await executor.run(planned.plan, planned.remote)
        again = await manager.make_plan(session, config, specs, prune=prune)
    return Applied(planned, report, again)


def addresses(report: Report, status: Any) -> list[str]:
    return sorted(o.change.address for o in report.having(status))


def exactly_once(counts: Mapping[Any, int], wanted: Iterable[Any]) -> None:
    """Every wanted key exactly once, and nothing else."""
    assert dict(counts) == dict.fromkeys(wanted, 1)


def losing_answers(app: Any, match: Callable[[Scope], bool], times: int, *, act: bool) -> Any:
    """``app``, except that the first ``times`` requests ``match`` accepts get no answer:
    the connection drops after the request was carried out (``act``) or before."""
    left = [times]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not left[0] or not match(scope):
            await app(scope, receive, send)
            return
        left[0] -= 1
        if act:

            async def discard(message: Message) -> None:
                pass

            await app(scope, receive, discard)
        drop_connection(scope)

    return wrapped


def cams_action(action: str) -> Callable[[Scope], bool]:
    def match(scope: Scope) -> bool:
        return (b"x-acs-action", action.encode()) in scope["headers"]

    return match


def nx_action(action: str) -> Callable[[Scope], bool]:
    def match(scope: Scope) -> bool:
        return bool(scope["path"] == f"/api/wa/{action}")

    return match

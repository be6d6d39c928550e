"""How close apply comes to the provider's rate limits, API by API, and whether it stays under.

Applies a plan through the real executor, rate gates and CAMS client to the CAMS emulator,
served by uvicorn on a loopback socket, which enforces its limits per access key and per
API and answers every request after ``--latency-ms``. Two plans:

- ``mixed`` (the default): two wasync accounts that share one access key (an ISV with two
  CustSpaceIds), each creating message QR codes and templates and, with prune on, deleting
  QR codes and templates that no spec names. CAMS counts per access key owner and per API
  (5/s for each QR code API, 50/s for CreateChatappTemplate and ModifyChatappTemplate, 5/s
  for List, GetDetail and Delete), so the two accounts together must stay under each API's
  limit, and each API may run at its own.
- ``qr``: one account creating ``--n`` QR codes (the first version of this benchmark).

wasync.yaml sets no ``qps`` (the documented limits apply) unless ``--qps`` is given, which
then sets every API's limit, at the emulator and in wasync.yaml alike.

Prints, per phase (the plan's refresh, the apply, the plan right after) and per API:

- requests accepted, and the rate the server saw, over the API's limit (achieved /
  allowed): while the API had work (arrivals split where none came for three intervals of
  the limit, e.g. one account's deletes done and the other's not begun, since an account
  deletes after its creates), and overall, between the first and the last arrival. wasync
  paces at 0.97 of a limit (``HEADROOM`` in ``wasync/pacing/gate.py``), so 0.970 is the
  ceiling; an API called only a few times says little;
- throttled replies: requests the server refused for rate.

Then the apply's outcome (succeeded, failed, retries, changes left after) and its wall time.
Goal (issue 13): achieved / allowed >= 0.90 for every API the apply keeps busy, 0 throttled.

With ``--serve``, the emulator is a separate ``wasync sandbox serve`` process; arrivals and
refusals are then counted where the client sends and receives.

    .venv/bin/python bench/apply_rate.py [--plan mixed|qr] [--scale 1] [--n 100]
        [--qps N] [--latency-ms 300] [--serve]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fixtures import template_entry
from starlette.types import Message, Receive, Scope, Send

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.errors import WasyncError
from wasync.loading import load_desired
from wasync.sandbox import cams
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    FaultConfig,
    serving,
)
from wasync.session import Session

ACCOUNTS = {"shop-a": "cams-bench-a", "shop-b": "cams-bench-b"}  # account -> CustSpaceId
PHONES = [f"861580000{i:04}" for i in range(4)]
# What CAMS documents per access key owner and API (reference: cams.md §2, §3.4).
DOCUMENTED = {
    "CreatePhoneMessageQrdl": 5.0,
    "UpdatePhoneMessageQrdl": 5.0,
    "ListPhoneMessageQrdl": 5.0,
    "DeletePhoneMessageQrdl": 5.0,
    "CreateChatappTemplate": 50.0,
    "ModifyChatappTemplate": 50.0,
    "ListChatappTemplate": 5.0,
    "GetChatappTemplateDetail": 5.0,
    "DeleteChatappTemplate": 5.0,
}
THROTTLE_CODES = (b"Throttling", b"System.LimitControl")


@dataclass
class Events:
    """Every request: when it arrived, its action, whether it was refused for rate."""

    seen: list[tuple[float, str, bool]] = field(default_factory=list)

    def mark(self) -> int:
        return len(self.seen)


class ServerSide:
    """ASGI wrapper: notes each request's arrival, action and whether it was throttled."""

    def __init__(self, app: Any, events: Events) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        headers = dict(scope["headers"])
        action = headers.get(b"x-acs-action", b"?").decode()
        status = 0
        chunks: list[bytes] = []

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, noting)
        refused = status >= 400 and any(c in b"".join(chunks) for c in THROTTLE_CODES)
        self.events.seen.append((arrived, action, refused))


class ClientSide(httpx.AsyncBaseTransport):
    """The network transport, noting the same where the client sends and receives: what a
    separate server process would have counted."""

    def __init__(self, events: Events) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.events = events

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        refused = response.status_code >= 400 and any(c in body for c in THROTTLE_CODES)
        self.events.seen.append((sent, request.headers.get("x-acs-action", "?"), refused))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.contextmanager
def sandbox_serve(qps: float | None, latency_ms: float) -> Iterator[str]:
    """``wasync sandbox serve --provider cams`` in a child process; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "wasync", "sandbox", "serve", "--provider", "cams"]
    argv += ["--port", str(port), "--latency-ms", f"{latency_ms:g}"]
    if qps is not None:
        argv += ["--qps", f"{qps:g}"]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or child.poll() is not None:
                raise SystemExit("wasync sandbox serve did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=10)


@dataclass(frozen=True)
class Shape:
    """What the plan does, per account."""

    accounts: tuple[str, ...]
    qr_creates: int
    template_creates: int
    qr_deletes: int
    template_deletes: int


def shape_of(args: argparse.Namespace) -> Shape:
    if args.plan == "qr":
        return Shape(("shop-a",), args.n, 0, 0, 0)
    s = args.scale
    return Shape(tuple(ACCOUNTS), 20 * s, 50 * s, 10 * s, 10 * s)


def write_specs(root: Path, shape: Shape, url: str, qps: float | None) -> None:
    lines = ["accounts:"]
    for account in shape.accounts:
        lines += [
            f"  {account}:",
            "    provider: cams",
            f"    endpoint: {url}",
            "    allow_insecure_http: true",
            f"    cust_space_id: {ACCOUNTS[account]}",
            "    access_key_id: ${BENCH_KEY_ID}",  # one key for every account
            "    access_key_secret: ${BENCH_KEY_SECRET}",
            f"    prune: {'true' if shape.qr_deletes or shape.template_deletes else 'false'}",
        ]
        if qps is not None:
            lines.append(f"    qps: {qps:g}")
    (root / "wasync.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes, templates = [], []
    for account in shape.accounts:
        codes += [
            {
                "account": account,
                "phone": PHONES[i % len(PHONES)],
                "label": f"poster-{i:05}",
                "prefilled_message": f"Hello, I saw poster {i}",
                "image": "SVG",
            }
            for i in range(shape.qr_creates)
        ]
        templates += [template_entry(i, account, None) for i in range(shape.template_creates)]
    body = {"qr_codes": codes, "templates": templates}
    (root / "specs.yaml").write_text(json.dumps(body), encoding="utf-8")


def seed_strays(app: Any, shape: Shape) -> None:
    """What prune deletes: QR codes and templates in each space that no spec names."""
    emulator = app.state.emulator
    for account in shape.accounts:
        space = ACCOUNTS[account]
        for i in range(shape.qr_deletes):
            emulator.call(
                "CreatePhoneMessageQrdl",
                {
                    "CustSpaceId": space,
                    "PhoneNumber": PHONES[i % len(PHONES)],
                    "GenerateQrImage": "PNG",
                    "PrefilledMessage": f"An old campaign {i}",
                },
            )
        for i in range(shape.template_deletes):
            emulator.call(
                "CreateChatappTemplate",
                {
                    "CustSpaceId": space,
                    "Name": f"old_{i:05}",
                    "Language": "en",
                    "Category": "UTILITY",
                    "TemplateType": "WHATSAPP",
                    "Components": [{"Type": "BODY", "Text": f"An old note {i}"}],
                },
            )


async def run(root: Path, events: Events, transport: ClientSide | None) -> dict[str, Any]:
    config, specs = load_desired(root, freeze=False)
    transports = dict.fromkeys(config.accounts, transport) if transport else None
    async with Session(config, transports=transports) as session:
        planned = await manager.make_plan(session, config, specs)
        applying = events.mark()
        started = time.monotonic()
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)
        wall = time.monotonic() - started
        replanning = events.mark()
        try:
            again = await manager.make_plan(session, config, specs)
            left = f"{len(again.plan.changes)} changes"
        except WasyncError as exc:  # e.g. a read throttled more often than retries allow
            left = f"unknown, the plan failed: {exc}"
    return {
        "wall": wall,
        "phases": {
            "plan (refresh)": events.seen[:applying],
            "apply": events.seen[applying:replanning],
            "plan after": events.seen[replanning:],
        },
        "changes": len(planned.plan.changes),
        "succeeded": len(report.having(Status.SUCCEEDED)),
        "failed": len(report.having(Status.FAILED)),
        "retries": sum(o.retries for o in report.outcomes),
        "left": left,
    }


def report_phase(name: str, seen: list[tuple[float, str, bool]], qps: float | None) -> None:
    by_api: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for when, action, refused in seen:
        by_api[action].append((when, refused))
    print(f"  {name}:")
    for action in sorted(by_api):
        calls = by_api[action]
        accepted = [when for when, refused in calls if not refused]
        throttled = len(calls) - len(accepted)
        allowed = qps if qps is not None else DOCUMENTED.get(action, float("nan"))
        span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
        if span > 0:
            rate = (len(accepted) - 1) / span
            busy = busy_rate(accepted, allowed)
            shown = (
                f"{busy:6.2f}/s / {allowed:g}/s = {busy / allowed:.3f} while busy "
                f"({rate / allowed:.3f} overall)"
                if not math.isnan(busy)  # some calls came one after the other
                else f"(calls far apart; {rate / allowed:.3f} overall)"
            )
        else:
            shown = "(one call)"
        print(f"    {action:<26} {len(accepted):4} accepted  {shown:<50} throttled: {throttled}")


def busy_rate(arrivals: list[float], allowed: float) -> float:
    """Requests per second while the API had work: arrivals split where nothing came for
    three intervals of the limit (e.g. one account's deletes done, the other's not begun)."""
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    busy = [g for g in gaps if g <= 3 / allowed]
    return len(busy) / sum(busy) if busy and sum(busy) > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=("mixed", "qr"), default="mixed")
    parser.add_argument("--scale", type=int, default=1, help="mixed: multiplies every count")
    parser.add_argument("--n", type=int, default=100, help="qr: QR codes to create")
    parser.add_argument("--qps", type=float, help="every API's limit (default: documented)")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="per reply")
    parser.add_argument(
        "--serve", action="store_true", help="run the emulator as `wasync sandbox serve`"
    )
    args = parser.parse_args()
    shape = shape_of(args)

    os.environ["BENCH_KEY_ID"] = DEFAULT_ACCESS_KEY_ID
    os.environ["BENCH_KEY_SECRET"] = DEFAULT_ACCESS_KEY_SECRET
    events = Events()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if args.serve:
            client = ClientSide(events)
            with sandbox_serve(args.qps, args.latency_ms) as url:
                if shape.qr_deletes or shape.template_deletes:
                    raise SystemExit("--serve runs --plan qr only (strays are seeded in process)")
                write_specs(root, shape, url, args.qps)
                result = asyncio.run(run(root, events, client))
            where = "wasync sandbox serve, counted by the client"
        else:
            options: dict[str, Any] = {"faults": FaultConfig(latency_ms=args.latency_ms)}
            if args.qps is not None:
                options["qps"] = args.qps
            app = cams.create_app(**options)
            seed_strays(app, shape)
            with serving(ServerSide(app, events)) as url:
                write_specs(root, shape, url, args.qps)
                result = asyncio.run(run(root, events, None))
            where = "uvicorn in this process"

    print(
        f"{args.plan} plan: {len(shape.accounts)} account(s) on one access key; per account "
        f"{shape.qr_creates} QR creates, {shape.template_creates} template creates, "
        f"{shape.qr_deletes} QR deletes, {shape.template_deletes} template deletes; "
        f"{args.latency_ms:g} ms per reply ({where})"
    )
    for name, seen in result["phases"].items():
        report_phase(name, seen, args.qps)
    print(
        f"  apply: {result['succeeded']} of {result['changes']} changes succeeded, "
        f"{result['failed']} failed, {result['retries']} retries, in {result['wall']:.2f} s; "
        f"left after: {result['left']}"
    )


if __name__ == "__main__":
    main()

"""How close apply comes to an account's rate limit, and whether it stays under it.

Applies N message QR codes (creates) through the real executor, rate gate and CAMS client
to the CAMS emulator served by uvicorn on a loopback socket, with the emulator enforcing
``--qps`` per access key (a token bucket holding one second of requests, as
``wasync sandbox serve --qps`` does) and answering every request after ``--latency-ms``.
wasync is configured with the same ``qps``, as a user with that documented limit would be.

Prints, for the apply phase (the changes, after the plan):

- throughput / limit: changes done per second of wall time, over the limit. Counts the
  start-up and the last answer's latency, so it is what a user sees.
- server rate / limit: requests the server accepted per second between the first and the
  last arrival, over the limit: the rate the provider's limiter sees.
- throttled replies: requests the server refused for rate, during the whole run (refresh,
  apply and the plan after it).
- wall / ideal: the apply's wall time over N / qps + latency (a client sending exactly at
  the limit and waiting for the last answer).

Targets (issue 4): throughput >= 0.95 of the limit at 300 ms latency, 0 throttled replies.

With ``--serve``, the emulator is a separate ``wasync sandbox serve`` process instead of
uvicorn in this process; the server rate and the throttled replies are then counted where
the client sends and receives (the requests it sent per second, the refusals it got).

    .venv/bin/python bench/apply_rate.py [--n 100] [--qps 5] [--latency-ms 300] [--serve]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.loading import load_desired
from wasync.sandbox import cams
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    FaultConfig,
    serving,
)
from wasync.session import Session

SPACE = "cams-bench"
PHONES = [f"861580000{i:04}" for i in range(10)]


class Arrivals:
    """ASGI wrapper that notes when each request reaches the server."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.times.append(time.monotonic())
        await self.app(scope, receive, send)


class ClientSide(httpx.AsyncBaseTransport):
    """The network transport, noting when each request leaves and which replies refuse for
    rate: what a separate server process would have counted."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.times: list[float] = []
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        if response.status_code in (400, 429) and b"Throttling" in body:
            self.refused += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.contextmanager
def sandbox_serve(qps: float, latency_ms: float) -> Iterator[str]:
    """``wasync sandbox serve --provider cams`` in a child process; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "wasync", "sandbox", "serve", "--provider", "cams"]
    argv += ["--port", str(port), "--qps", f"{qps:g}", "--latency-ms", f"{latency_ms:g}"]
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


def write_specs(root: Path, n: int, url: str, qps: float) -> None:
    (root / "wasync.yaml").write_text(
        f"""accounts:
  shop-cams:
    provider: cams
    endpoint: {url}
    allow_insecure_http: true
    cust_space_id: {SPACE}
    access_key_id: ${{BENCH_KEY_ID}}
    access_key_secret: ${{BENCH_KEY_SECRET}}
    qps: {qps}
""",
        encoding="utf-8",
    )
    codes = [
        {
            "account": "shop-cams",
            "phone": PHONES[i % len(PHONES)],
            "label": f"poster-{i:05}",
            "prefilled_message": f"Hello, I saw poster {i}",
            "image": "SVG",
        }
        for i in range(n)
    ]
    (root / "qr.yaml").write_text(json.dumps({"qr_codes": codes}), encoding="utf-8")


async def run(
    root: Path, arrivals: Arrivals | ClientSide, transport: ClientSide | None = None
) -> dict[str, Any]:
    config, specs = load_desired(root, freeze=False)
    transports = {"shop-cams": transport} if transport else None
    async with Session(config, transports=transports) as session:
        planned = await manager.make_plan(session, config, specs)
        refreshed = len(arrivals.times)
        started = time.monotonic()
        report = await Executor(session, planned.settings).run(planned.plan, planned.remote)
        wall = time.monotonic() - started
        applied = arrivals.times[refreshed:]
        again = await manager.make_plan(session, config, specs)
    return {
        "wall": wall,
        "applied": applied,
        "succeeded": len(report.having(Status.SUCCEEDED)),
        "failed": len(report.having(Status.FAILED)),
        "retries": sum(o.retries for o in report.outcomes),
        "left": len(again.plan.changes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="QR codes to create")
    parser.add_argument("--qps", type=float, default=5.0, help="the account's limit")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="per reply")
    parser.add_argument(
        "--serve", action="store_true", help="run the emulator as `wasync sandbox serve`"
    )
    args = parser.parse_args()

    os.environ["BENCH_KEY_ID"] = DEFAULT_ACCESS_KEY_ID
    os.environ["BENCH_KEY_SECRET"] = DEFAULT_ACCESS_KEY_SECRET
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if args.serve:
            client = ClientSide()
            with sandbox_serve(args.qps, args.latency_ms) as url:
                write_specs(root, args.n, url, args.qps)
                result = asyncio.run(run(root, client, client))
            refused, where = client.refused, "wasync sandbox serve, counted by the client"
        else:
            app = cams.create_app(qps=args.qps, faults=FaultConfig(latency_ms=args.latency_ms))
            arrivals = Arrivals(app)
            with serving(arrivals) as url:
                write_specs(root, args.n, url, args.qps)
                result = asyncio.run(run(root, arrivals))
            refused, where = app.state.rate_limit.refused, "uvicorn in this process"

    n, qps, latency = args.n, args.qps, args.latency_ms / 1000
    applied = result["applied"]
    span = applied[-1] - applied[0] if len(applied) > 1 else float("nan")
    server_rate = (len(applied) - 1) / span
    throughput = result["succeeded"] / result["wall"]
    ideal = n / qps + latency
    print(f"apply: {n} creates at a limit of {qps:g}/s, {args.latency_ms:g} ms per reply ({where})")
    print(
        f"  done: {result['succeeded']} succeeded, {result['failed']} failed, "
        f"{result['retries']} retries; left after: {result['left']} changes"
    )
    print(f"  throughput / limit: {throughput:.2f}/s / {qps:g}/s = {throughput / qps:.3f}")
    print(f"  server rate / limit: {server_rate:.2f}/s / {qps:g}/s = {server_rate / qps:.3f}")
    print(f"  throttled replies: {refused}")
    print(f"  wall / ideal: {result['wall']:.2f} s / {ideal:.2f} s = {result['wall'] / ideal:.3f}")


if __name__ == "__main__":
    main()

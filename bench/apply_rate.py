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

    .venv/bin/python bench/apply_rate.py [--n 100] [--qps 5] [--latency-ms 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from wasync import manager
from wasync.apply.executor import Executor, Status
from wasync.sandbox import cams
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    FaultConfig,
    serving,
)
from wasync.session import Session
from wasync.spec import load_desired

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


async def run(root: Path, app: Any, arrivals: Arrivals) -> dict[str, Any]:
    config, specs = load_desired(root, freeze=False)
    async with Session(config) as session:
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
    args = parser.parse_args()

    os.environ["BENCH_KEY_ID"] = DEFAULT_ACCESS_KEY_ID
    os.environ["BENCH_KEY_SECRET"] = DEFAULT_ACCESS_KEY_SECRET
    app = cams.create_app(qps=args.qps, faults=FaultConfig(latency_ms=args.latency_ms))
    arrivals = Arrivals(app)
    with tempfile.TemporaryDirectory() as folder, serving(arrivals) as url:
        root = Path(folder)
        write_specs(root, args.n, url, args.qps)
        result = asyncio.run(run(root, app, arrivals))

    n, qps, latency = args.n, args.qps, args.latency_ms / 1000
    applied = result["applied"]
    span = applied[-1] - applied[0] if len(applied) > 1 else float("nan")
    server_rate = (len(applied) - 1) / span
    throughput = result["succeeded"] / result["wall"]
    ideal = n / qps + latency
    print(f"apply: {n} creates at a limit of {qps:g}/s, {args.latency_ms:g} ms per reply")
    print(
        f"  done: {result['succeeded']} succeeded, {result['failed']} failed, "
        f"{result['retries']} retries; left after: {result['left']} changes"
    )
    print(f"  throughput / limit: {throughput:.2f}/s / {qps:g}/s = {throughput / qps:.3f}")
    print(f"  server rate / limit: {server_rate:.2f}/s / {qps:g}/s = {server_rate / qps:.3f}")
    print(f"  throttled replies: {app.state.rate_limit.refused}")
    print(f"  wall / ideal: {result['wall']:.2f} s / {ideal:.2f} s = {result['wall'] / ideal:.3f}")


if __name__ == "__main__":
    main()

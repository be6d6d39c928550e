"""What a plan of 10,000 templates and 10,000 QR codes costs from start to end: loading
the spec files, refreshing through the real clients over HTTP, and planning.

The emulators run in this process, each served by uvicorn on a loopback socket in its own
thread and seeded through their own service code (not over HTTP: that is not measured).
The CPU figures are this thread's (``time.thread_time``): the client side only, without
the emulators' work. The memory figures are tracemalloc peaks of a second pass, made apart
because tracing slows the code it traces; they include the emulators' short-lived
allocations for the replies in flight, not their stored state.

- QR codes: CAMS, on 100 phones; one ListPhoneMessageQrdl per phone.
- templates: NXCloud by default, on 20 phones; getTemplate pages of 100 carry components.
  ``--templates-on cams``: CAMS lists 100 per page without components and needs one
  GetChatappTemplateDetail per managed template, which is what its API offers.
- drift: a share of resources differ from the remote (updates and creates), 1% strays
  (deleted: prune is on), as in bench/plan_cpu.py.

Target (issue 4): the plan of 20,000 resources under 2 s CPU and 300 MB.

    .venv/bin/python bench/plan_refresh.py [--n 10000] [--drift 0.05] [--templates-on nxcloud]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import fixtures

from wasync.config import Config
from wasync.loading import load_desired
from wasync.model import JsonDict, Remote, Template
from wasync.plan import Plan, from_config, plan
from wasync.providers.cams import mapping as cams_mapping
from wasync.providers.nxcloud.mapping import components_to_wire
from wasync.refresh import refresh
from wasync.sandbox import cams, nxcloud
from wasync.sandbox.common import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, serving
from wasync.session import Session
from wasync.spec.load import LoadedSpecs

T = TypeVar("T")
SPACE = "cams-bench"
QR_PHONES = [f"86158{i:08}" for i in range(100)]
NX_PHONES = [f"86185{i:08}" for i in range(20)]


def template_entry(i: int, account: str) -> JsonDict:
    phone = NX_PHONES[i % len(NX_PHONES)] if account == "shop-nx" else None
    return fixtures.template_entry(i, account, phone)


def qr_entry(i: int) -> JsonDict:
    return {
        "account": "shop-cams",
        "phone": QR_PHONES[i % len(QR_PHONES)],
        "label": f"qr-{i:05}",
        "prefilled_message": f"Hello from poster {i}",
        "image": "SVG",
    }


def write_specs(root: Path, n: int, account: str) -> tuple[list[JsonDict], list[JsonDict]]:
    qrs = [qr_entry(i) for i in range(n)]
    templates = [template_entry(i, account) for i in range(n)]
    # Several files, as a real folder would have: 1,000 entries each.
    for k in range(0, n, 1000):
        (root / f"qr-{k // 1000:02}.yaml").write_text(
            json.dumps({"qr_codes": qrs[k : k + 1000]}, indent=1), encoding="utf-8"
        )
        (root / f"templates-{k // 1000:02}.yaml").write_text(
            json.dumps({"templates": templates[k : k + 1000]}, indent=1), encoding="utf-8"
        )
    return qrs, templates


def config_text(cams_url: str, nx_url: str, qps: float) -> str:
    account = f"""    allow_insecure_http: true
    qps: {qps:g}
    prune: true
"""
    return f"""accounts:
  shop-cams:
    provider: cams
    endpoint: {cams_url}
    cust_space_id: {SPACE}
    access_key_id: ${{BENCH_KEY_ID}}
    access_key_secret: ${{BENCH_KEY_SECRET}}
{account}
  shop-nx:
    provider: nxcloud
    endpoint: {nx_url}
    appkey: bench
    access_key: ${{BENCH_KEY_ID}}
    secret_key: ${{BENCH_KEY_SECRET}}
{account}"""


def seed(
    cams_app: Any, nx_app: Any, qrs: list[JsonDict], templates: list[JsonDict], drift: float
) -> None:
    """The remote as a normal day finds it: most resources as specified, ``drift`` of them
    different or missing, and 1% strays nobody specifies."""
    rng = random.Random(7)  # the same remote every run
    cams_emulator, nx_emulator = cams_app.state.emulator, nx_app.state.emulator
    for q in qrs:
        roll = rng.random()
        if roll < drift * 0.2:
            continue  # missing: a create
        cams_emulator.call(
            "CreatePhoneMessageQrdl",
            {
                "CustSpaceId": SPACE,
                "PhoneNumber": q["phone"],
                "PrefilledMessage": q["prefilled_message"],
                "GenerateQrImage": "PNG" if roll < drift else "SVG",  # an update
            },
        )
    for i in range(len(qrs) // 100):
        cams_emulator.call(
            "CreatePhoneMessageQrdl",
            {
                "CustSpaceId": SPACE,
                "PhoneNumber": QR_PHONES[i % len(QR_PHONES)],
                "PrefilledMessage": f"Old poster {i}",
                "GenerateQrImage": "SVG",
            },
        )
    strays = [
        {**template_entry(i, templates[0]["account"]), "name": f"stray_{i:05}"}
        for i in range(len(templates) // 100)
    ]
    for entry in [*templates, *strays]:
        roll = rng.random()
        if roll < drift * 0.2 and not entry["name"].startswith("stray"):
            continue
        t = Template.model_validate(entry)
        if roll < drift:
            body = {**entry["components"][1], "text": fixtures.BODY.replace("soon", "tomorrow")}
            t = Template.model_validate(
                {**entry, "components": [entry["components"][0], body, *entry["components"][2:]]}
            )
        if t.account == "shop-nx":
            assert t.phone is not None
            wire = {
                "appkey": "bench",
                "business_phone": t.phone,
                "messaging_product": "whatsapp",
                "name": t.name,
                "language": t.language,
                "category": t.category,
                "components": components_to_wire(t),
            }
            made = nx_emulator.create_template(wire)
            nx_emulator.set_status(t.phone, made["id"], "APPROVED")
        else:
            params: dict[str, Any] = {**cams_mapping.template_params(t), "CustSpaceId": SPACE}
            for key in ("Components", "Example"):  # JSON on the wire, parsed by the gateway
                if key in params:
                    params[key] = json.loads(params[key])
            cams_emulator.call("CreateChatappTemplate", params)


@dataclass
class Pass:
    cpu: dict[str, float]
    wall: dict[str, float]
    calls: dict[str, int]
    the_plan: Plan
    remote: Remote


def measured(label: str, cpu: dict[str, float], wall: dict[str, float], fn: Callable[[], T]) -> T:
    c, w = time.thread_time(), time.perf_counter()
    result = fn()
    cpu[label], wall[label] = time.thread_time() - c, time.perf_counter() - w
    return result


def one_pass(root: Path, peaks: dict[str, float] | None = None) -> Pass:
    """Load, refresh, plan, as ``wasync plan`` does; ``peaks`` collects tracemalloc peaks."""
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}

    def peak(label: str) -> None:
        if peaks is not None:
            current, top = tracemalloc.get_traced_memory()
            peaks[label] = top / 2**20
            peaks[label + " (kept)"] = current / 2**20
            tracemalloc.reset_peak()

    loaded: tuple[Config, LoadedSpecs] = measured("load", cpu, wall, lambda: load_desired(root))
    peak("load")
    config, specs = loaded
    calls: dict[str, int] = {}

    kept: list[Remote] = []

    async def read() -> None:
        async with Session(config) as session:
            kept.append(await refresh(session, specs.desired, sorted(config.accounts)))
            for name in config.accounts:
                calls[name] = session.connection(name).gate.calls

    # Not returned from asyncio.run: on Python 3.11 it formats the result with repr() as it
    # restores the SIGINT handler (a CPython bug), a second of CPU for 20,000 resources.
    measured("refresh", cpu, wall, lambda: asyncio.run(read()))
    remote = kept[0]
    peak("refresh")
    settings = from_config(config)
    the_plan = measured(
        "plan", cpu, wall, lambda: plan(specs.desired, remote, accounts=settings, prune=True)
    )
    peak("plan")
    return Pass(cpu, wall, calls, the_plan, remote)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="templates, and as many QR codes")
    parser.add_argument("--drift", type=float, default=0.05, help="share that differs")
    parser.add_argument("--templates-on", choices=["nxcloud", "cams"], default="nxcloud")
    parser.add_argument(
        "--qps", type=float, default=50, help="the accounts' limit (the emulators set none)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    args = parser.parse_args()

    os.environ["BENCH_KEY_ID"] = DEFAULT_ACCESS_KEY_ID
    os.environ["BENCH_KEY_SECRET"] = DEFAULT_ACCESS_KEY_SECRET
    account = "shop-nx" if args.templates_on == "nxcloud" else "shop-cams"
    cams_app, nx_app = cams.create_app(qps=0), nxcloud.create_app(qps=0)
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        root = Path(folder)
        qrs, templates = write_specs(root, args.n, account)
        started = time.perf_counter()
        seed(cams_app, nx_app, qrs, templates, args.drift)
        seeding = time.perf_counter() - started
        cams_url = stack.enter_context(serving(cams_app))
        nx_url = stack.enter_context(serving(nx_app))
        (root / "wasync.yaml").write_text(config_text(cams_url, nx_url, args.qps), encoding="utf-8")

        # The best of a few passes, phase by phase: shared machines are noisy, and the first
        # pass also pays for importing the HTTP stack (about 0.3 s, once per process).
        passes = [one_pass(root) for _ in range(args.repeat)]
        first = passes[0]
        best = {label: min(p.cpu[label] for p in passes) for label in first.cpu}
        peaks: dict[str, float] = {}
        tracemalloc.start()
        one_pass(root, peaks)
        tracemalloc.stop()

    counts = first.the_plan.counts()
    remote = first.remote
    print(
        f"resources: {2 * args.n} desired ({args.n} QR codes on CAMS, {args.n} templates on "
        f"{args.templates_on}), {len(remote.qr_codes) + len(remote.templates)} remote; "
        f"drift {args.drift:.0%}; seeding took {seeding:.1f} s (not measured)"
    )
    print(
        f"changes:   {counts['create']} create, {counts['update']} update, "
        f"{counts['replace']} replace, "
        f"{counts['delete']} delete, {first.the_plan.blocked_count} blocked"
    )
    print(
        "HTTP calls: " + ", ".join(f"{name} {calls}" for name, calls in sorted(first.calls.items()))
    )
    print(
        f"CPU: best of {args.repeat} passes (each pass: "
        + "; ".join(
            f"{label} " + ", ".join(f"{p.cpu[label]:.2f}" for p in passes) for label in best
        )
        + ")"
    )
    for label in ("load", "refresh", "plan"):
        print(
            f"{label + ':':9}  {best[label]:6.2f} s CPU  {first.wall[label]:6.2f} s wall  "
            f"peak {peaks[label]:6.1f} MiB, kept {peaks[label + ' (kept)']:6.1f} MiB"
        )
    overall = max(peaks["load"], peaks["refresh"], peaks["plan"])
    print(
        f"total:     {sum(best.values()):6.2f} s CPU; refresh + plan "
        f"{best['refresh'] + best['plan']:.2f} s CPU; peak traced memory {overall:.0f} MiB "
        "(a phase's peak counts what earlier phases kept)"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS (with the emulators and their state): {rss:.0f} MiB")


if __name__ == "__main__":
    main()

"""What ``wasync plan`` and ``wasync apply`` cost as whole processes, against the embedded
sandbox: interpreter start, imports, loading, refresh in process, planning, output.

Writes a spec folder of ``--n`` resources (half templates, half QR codes; templates on
NXCloud by default, ``--templates-on cams`` for CAMS), then runs, each as its own
``python -m wasync`` process:

- **new**: ``plan`` against an empty sandbox (everything to create);
- **apply**: ``apply --auto-approve`` of all of it (not timed in the ratio);
- **in sync**: ``plan`` again (nothing to do);
- **5% changed**: ``plan`` after editing 5% of the entries.

Per run it prints CPU (user + system of the process), wall and peak RSS, best of
``--repeat`` (the machine is shared); with ``--ratio`` it does the same at ``n / 4`` and
prints the cost at ``n`` over the cost at ``n / 4`` (linear growth: 4.0).

    .venv/bin/python bench/plan_scale.py [--n 20000] [--repeat 3] [--ratio]
    .venv/bin/python bench/plan_scale.py --n 200 --only apply    # a 200-create apply
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import fixtures

from wasync.model import JsonDict

QR_PHONES = [f"86158{i:08}" for i in range(100)]
NX_PHONES = [f"86185{i:08}" for i in range(20)]
CONFIG = """accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: cams-bench
  shop-nx:
    provider: nxcloud
    endpoint: sandbox
    appkey: bench
"""


@dataclass
class Run:
    cpu: float
    wall: float
    rss_mb: float
    code: int


def qr_entry(i: int, message: str = "Hello from poster") -> JsonDict:
    return {
        "account": "shop-cams",
        "phone": QR_PHONES[i % len(QR_PHONES)],
        "label": f"qr-{i:05}",
        "prefilled_message": f"{message} {i}",
        "image": "SVG",
    }


def template_entry(i: int, account: str, body: str = fixtures.BODY) -> JsonDict:
    phone = NX_PHONES[i % len(NX_PHONES)] if account == "shop-nx" else None
    return fixtures.template_entry(i, account, phone, body=body)


def write_specs(root: Path, n: int, account: str, changed: float = 0.0) -> None:
    """``n`` resources in files of 1,000 entries; ``changed``: that share of them edited."""
    half = n // 2
    every = int(1 / changed) if changed else 0
    qrs = [
        qr_entry(i, "Edited poster" if every and i % every == 0 else "Hello from poster")
        for i in range(half)
    ]
    body = fixtures.BODY.replace("soon", "tomorrow")
    templates = [
        template_entry(i, account, body if every and i % every == 1 else fixtures.BODY)
        for i in range(half)
    ]
    for old in root.glob("*-*.yaml"):
        old.unlink()
    for k in range(0, half, 1000):
        (root / f"qr-{k // 1000:02}.yaml").write_text(
            json.dumps({"qr_codes": qrs[k : k + 1000]}, indent=1), encoding="utf-8"
        )
        (root / f"templates-{k // 1000:02}.yaml").write_text(
            json.dumps({"templates": templates[k : k + 1000]}, indent=1), encoding="utf-8"
        )


def run(root: Path, *args: str) -> Run:
    """``python -m wasync ARGS root`` as a child process: its own CPU and peak RSS."""
    return child([sys.executable, "-m", "wasync", *args, str(root)], Path.cwd())


def child(command: list[str], cwd: Path) -> Run:
    """``command`` as a child process (byte code written): its CPU, wall and peak RSS."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"{' '.join(command)} exited {code}:\n{err.decode()[-2000:]}")
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, code)


def best(runs: list[Run]) -> Run:
    return Run(
        min(r.cpu for r in runs),
        min(r.wall for r in runs),
        min(r.rss_mb for r in runs),
        runs[0].code,
    )


def measure(n: int, account: str, repeat: int, only: str | None) -> dict[str, Run]:
    out: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="wasync-bench-") as tmp:
        root = Path(tmp)
        (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
        write_specs(root, n, account)
        run(root, "validate")  # compiles the modules once (byte code cached)
        if only in (None, "new"):
            out["new"] = best([run(root, "plan") for _ in range(repeat)])
        if only in (None, "apply", "in sync", "changed"):
            shutil.rmtree(root / ".wasync", ignore_errors=True)
            out["apply"] = run(root, "apply", "--auto-approve", "--no-write-codes")
        if only in (None, "in sync"):
            out["in sync"] = best([run(root, "plan") for _ in range(repeat)])
        if only in (None, "changed"):
            write_specs(root, n, account, changed=0.05)
            out["5% changed"] = best([run(root, "plan") for _ in range(repeat)])
    return out


def show(n: int, results: dict[str, Run]) -> None:
    for label, r in results.items():
        print(
            f"  n={n:>6,}  {label:<11} cpu {r.cpu:6.2f} s  wall {r.wall:6.2f} s  "
            f"rss {r.rss_mb:6.0f} MiB  exit {r.code}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="resources (half QR codes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--templates-on", choices=("nxcloud", "cams"), default="nxcloud")
    parser.add_argument("--only", choices=("new", "apply", "in sync", "changed"))
    parser.add_argument("--ratio", action="store_true", help="also run n/4; print n : n/4")
    args = parser.parse_args()
    account = "shop-nx" if args.templates_on == "nxcloud" else "shop-cams"
    big = measure(args.n, account, args.repeat, args.only)
    show(args.n, big)
    if args.ratio:
        small_n = args.n // 4
        small = measure(small_n, account, args.repeat, args.only)
        show(small_n, small)
        for label in big:
            if label in small and small[label].cpu > 0:
                print(
                    f"  {label:<11} cpu {args.n:,} / {small_n:,}: "
                    f"{big[label].cpu / small[label].cpu:.2f}"
                )


if __name__ == "__main__":
    main()

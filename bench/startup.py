"""What a no-change ``wasync plan`` of the repository's ``specs/`` costs, next to importing
the libraries it is built on: how much of a plan is wasync's own start.

The baseline is ``python -c "import httpx, pydantic, ruamel.yaml, click"``; the plan is
``python -m wasync plan --detailed-exitcode`` on a copy of ``specs/`` that has been applied
once to its embedded sandbox (so the sandbox state and the parse cache exist, and the plan
finds nothing to change: its exit code must be 0). Both run as child processes, alternately,
``--repeat`` times each, with byte code compiled first. It prints the best and median CPU
(user + system) of each, their peak RSS, and the ratio plan / baseline (goal: at most 1.5).

With ``--instructions`` it also counts the instructions each executes under valgrind's
callgrind (steadier than CPU time on a busy machine; a few runs each, slow).

    .venv/bin/python bench/startup.py [--repeat 15] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from plan_scale import Run, child

REPO = Path(__file__).resolve().parents[1]
LIBRARIES = "httpx, pydantic, ruamel.yaml, click"
GOAL = 1.5


def baseline_command() -> list[str]:
    return [sys.executable, "-c", f"import {LIBRARIES}"]


def plan_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "wasync", "plan", "--detailed-exitcode", str(root)]


def prepare(tmp: Path) -> Path:
    """A copy of specs/, applied once to its embedded sandbox, whose plan has no changes."""
    root = tmp / "specs"
    shutil.copytree(REPO / "specs", root, ignore=shutil.ignore_patterns(".wasync"))
    child(baseline_command(), tmp)  # untimed: these first runs write the byte code
    applied = child(
        [sys.executable, "-m", "wasync", "apply", "--auto-approve", "--no-write-codes", str(root)],
        tmp,
    )
    if applied.code != 0:
        raise SystemExit(f"the untimed apply of {root} exited {applied.code}")
    untimed = child(plan_command(root), tmp)
    if untimed.code != 0:
        raise SystemExit(f"the untimed plan of {root} found changes (exit {untimed.code})")
    return root


def timed(root: Path, repeat: int) -> tuple[list[Run], list[Run]]:
    base: list[Run] = []
    plan: list[Run] = []
    for _ in range(repeat):
        base.append(child(baseline_command(), root.parent))
        run = child(plan_command(root), root.parent)
        if run.code != 0:
            raise SystemExit(f"the plan of {root} found changes (exit {run.code})")
        plan.append(run)
    return base, plan


def instructions(command: list[str], cwd: Path, tmp: Path) -> int:
    """Instructions ``command`` executes under callgrind (the whole process)."""
    out = tmp / "callgrind.out"
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=child_env(),
    )
    found = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no total:\n{proc.stderr[-2000:]}")
    out.unlink(missing_ok=True)
    return int(found.group(1))


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def line(label: str, runs: list[Run]) -> str:
    cpu = sorted(r.cpu for r in runs)
    return (
        f"  {label:<9} cpu best {cpu[0]:.3f} s  median {statistics.median(cpu):.3f} s  "
        f"wall best {min(r.wall for r in runs):.3f} s  rss {max(r.rss_mb for r in runs):5.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each (alternating)")
    parser.add_argument(
        "--instructions",
        nargs="?",
        type=int,
        const=2,
        default=0,
        metavar="RUNS",
        help="also count instructions under valgrind's callgrind (default 2 runs of each)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasync-startup-") as name:
        tmp = Path(name)
        root = prepare(tmp)
        base, plan = timed(root, args.repeat)
        print(f"{args.repeat} runs of each, alternating; CPU is user + system of the process")
        print(line("baseline", base))
        print(line("plan", plan))
        best = min(r.cpu for r in plan) / min(r.cpu for r in base)
        median = statistics.median(r.cpu for r in plan) / statistics.median(r.cpu for r in base)
        print(f"  plan / baseline: best {best:.2f}  median {median:.2f}  (goal <= {GOAL})")
        if args.instructions:
            if shutil.which("valgrind") is None:
                raise SystemExit("--instructions needs valgrind")
            counts: dict[str, list[int]] = {"baseline": [], "plan": []}
            for _ in range(args.instructions):
                counts["baseline"].append(instructions(baseline_command(), tmp, tmp))
                counts["plan"].append(instructions(plan_command(root), tmp, tmp))
            low = {k: min(v) for k, v in counts.items()}
            for label, n in low.items():
                print(
                    f"  {label:<9} instructions {n / 1e6:8.0f} M (fewest of {len(counts[label])})"
                )
            print(f"  plan / baseline instructions: {low['plan'] / low['baseline']:.2f}")


if __name__ == "__main__":
    main()

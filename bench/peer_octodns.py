"""wasync next to a peer: the same number of resources planned by octoDNS and by wasync.

octoDNS (YamlProvider to YamlProvider, every record in one zone) is installed from the
package index into a throwaway virtual environment (never a wasync dependency); wasync
plans against its embedded sandbox (half templates on NXCloud, half QR codes on CAMS, as
bench/plan_scale.py writes them). For each N and each case, "all new" (the target holds
nothing) and "in sync" (the target holds exactly the specs; wasync's after an apply that
is not timed), each tool runs as its own process, the two tools alternating run by run,
``--repeat`` times; the best of each is printed: CPU (user + system), wall, peak RSS, and
wasync / octoDNS.

    .venv/bin/python bench/peer_octodns.py [--n 1000 5000 20000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import plan_scale
from plan_scale import Run, best, child

OCTODNS = "octodns==1.*"
ZONE = "bench.example."
OCTO_CONFIG = f"""providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: ./config
  target:
    class: octodns.provider.yaml.YamlProvider
    directory: ./target
zones:
  {ZONE}:
    sources:
      - config
    targets:
      - target
"""


def octodns_venv(folder: Path) -> Path:
    """A virtual environment holding octoDNS; its ``octodns-sync``."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = folder / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", OCTODNS], check=True)
    return folder / "bin" / "octodns-sync"


def zone_file(n: int) -> str:
    """``n`` records in one zone, sorted (YamlProvider enforces the order): A and TXT."""
    lines = []
    for i in sorted(range(n), key=lambda i: f"host-{i:06}"):
        if i % 2:
            lines += [
                f"host-{i:06}:",
                "  ttl: 300",
                "  type: TXT",
                f"  value: order {i} has shipped and will arrive soon",
            ]
        else:
            lines += [
                f"host-{i:06}:",
                "  ttl: 300",
                "  type: A",
                f"  value: 10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            ]
    return "\n".join(["---", *lines]) + "\n"


def octodns_folder(root: Path, n: int) -> None:
    (root / "config").mkdir(parents=True)
    (root / "target").mkdir()
    (root / "octodns.yaml").write_text(OCTO_CONFIG, encoding="utf-8")
    (root / "config" / f"{ZONE}yaml").write_text(zone_file(n), encoding="utf-8")


def wasync_folder(root: Path, n: int) -> None:
    root.mkdir(parents=True)
    (root / "wasync.yaml").write_text(plan_scale.CONFIG, encoding="utf-8")
    plan_scale.write_specs(root, n, "shop-nx")


def compare(sync: Path, n: int, repeat: int, tmp: Path) -> list[tuple[str, Run, Run]]:
    octo, was = tmp / f"octo-{n}", tmp / f"wasync-{n}"
    octodns_folder(octo, n)
    wasync_folder(was, n)
    octo_plan = [str(sync), "--config-file=octodns.yaml"]
    wasync_plan = [sys.executable, "-m", "wasync", "plan", "."]
    child([sys.executable, "-m", "wasync", "validate", "."], was)  # byte code cached
    rows = []
    for case in ("all new", "in sync"):
        if case == "in sync":
            shutil.copy(octo / "config" / f"{ZONE}yaml", octo / "target" / f"{ZONE}yaml")
            apply = ["apply", ".", "--auto-approve", "--no-write-codes"]
            child([sys.executable, "-m", "wasync", *apply], was)
        o_runs, w_runs = [], []
        for _ in range(repeat):  # alternating, run by run
            o_runs.append(child(octo_plan, octo))
            w_runs.append(child(wasync_plan, was))
        rows.append((case, best(o_runs), best(w_runs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--octodns-venv", type=Path, help="reuse this venv (else a new one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasync-peer-") as tmp_name:
        tmp = Path(tmp_name)
        venv = args.octodns_venv or tmp / "octodns-venv"
        sync = venv / "bin" / "octodns-sync"
        if not sync.exists():
            sync = octodns_venv(venv)
        version = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import octodns; print(octodns.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"octoDNS {version}; wasync at {plan_scale.__file__.rsplit('/', 2)[0]}")
        print(
            f"{'N':>7}  {'case':<8} | {'octoDNS cpu':>11} {'wall':>6} {'rss':>6} | "
            f"{'wasync cpu':>10} {'wall':>6} {'rss':>6} | {'ratio cpu':>9} {'wall':>5} {'rss':>5}"
        )
        for n in args.n:
            for case, o, w in compare(sync, n, args.repeat, tmp):
                print(
                    f"{n:>7,}  {case:<8} | {o.cpu:>10.2f}s {o.wall:>5.2f}s {o.rss_mb:>4.0f}M | "
                    f"{w.cpu:>9.2f}s {w.wall:>5.2f}s {w.rss_mb:>4.0f}M | "
                    f"{w.cpu / o.cpu:>9.2f} {w.wall / o.wall:>5.2f} {w.rss_mb / o.rss_mb:>5.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""An apply killed or interrupted half-way, as a process, against `wasync sandbox serve`
processes that answer after 300 ms: the re-run converges and nothing is duplicated."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO

import pytest

from .cli_support import accounts_at, child_env, sandbox_servers
from .support import CAMS_PHONES, NX_PHONE, SPACE, qr, template, write_specs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

CODES = [qr(i) for i in range(16)]
TEMPLATES = [template(i) for i in range(6)]
LATENCY_MS = "300"


class Child:
    """`wasync apply` in a child process, its output read as it comes."""

    def __init__(self, root: Path) -> None:
        command = [sys.executable, "-m", "wasync", "apply", str(root), "--auto-approve"]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            text=True,
        )
        self.err_lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self.out: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, None), daemon=True),
            threading.Thread(
                target=self._pump, args=(self.proc.stderr, self.err_lines), daemon=True
            ),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream: IO[str], lines: queue.Queue[str] | None) -> None:
        for line in stream:
            if lines is None:
                self.out.append(line)
            else:
                self.err.append(line)
                lines.put(line)

    def wait_for(self, count: int, pattern: str, timeout: float = 15) -> None:
        """Until ``count`` stderr lines match ``pattern``."""
        seen = 0
        deadline = time.monotonic() + timeout
        while seen < count:
            try:
                line = self.err_lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"only {seen} lines like {pattern!r}: {self.err}") from None
            seen += bool(re.search(pattern, line))

    def finish(self, timeout: float = 15) -> int:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        return code

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)


def spec_folder(tmp_path: Path, cams_url: str, nx_url: str) -> Path:
    # No qps: the documented 5 requests a second, as the servers enforce.
    config = accounts_at(cams_url, nx_url).replace("    qps: 200\n", "")
    return write_specs(tmp_path / "specs", qr_codes=CODES, templates=TEMPLATES, config=config)


def stored(state: Path) -> tuple[Counter[str], Counter[str]]:
    """What the servers hold: QR codes by message, NXCloud templates by name."""
    cams = json.loads((state / "cams" / "cams.json").read_text(encoding="utf-8"))
    nx = json.loads((state / "nxcloud" / "nxcloud.json").read_text(encoding="utf-8"))
    space = cams["spaces"].get(SPACE, {"qr": {}})
    codes = [json.loads(q) for p in CAMS_PHONES for q in space["qr"].get(p, [])]  # kept as text
    messages = Counter(q["PrefilledMessage"] for q in codes)
    names = Counter(t["name"] for t in nx.get("phones", {}).get(NX_PHONE, {}).values())
    return messages, names


def converged(state: Path) -> None:
    messages, names = stored(state)
    assert dict(messages) == dict.fromkeys((c["prefilled_message"] for c in CODES), 1)
    assert dict(names) == dict.fromkeys((t["name"] for t in TEMPLATES), 1)


def rerun(root: Path) -> Child:
    again = Child(root)
    assert again.finish(timeout=30) == 0, again.stdout + again.stderr
    assert "Checked: a fresh plan finds nothing left to do." in again.stdout
    return again


def test_an_apply_killed_half_way_converges_when_run_again(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sandbox_servers(state, "--latency-ms", LATENCY_MS) as (cams_url, nx_url):
        root = spec_folder(tmp_path, cams_url, nx_url)
        child = Child(root)
        child.wait_for(5, r": created \(")
        child.proc.send_signal(signal.SIGKILL)
        assert child.finish() == -signal.SIGKILL
        time.sleep(0.5)  # let the servers finish the requests the dead process had sent
        messages, names = stored(state)
        assert 5 <= sum(messages.values()) + sum(names.values()) < len(CODES) + len(TEMPLATES)

        again = rerun(root)  # the killed run's lock went with its process
        converged(state)
    # The re-run did only what was left.
    messages_created = again.stderr.count(": created (")
    assert messages_created == len(CODES) + len(TEMPLATES) - sum(messages.values()) - sum(
        names.values()
    )


def test_ctrl_c_finishes_calls_in_flight_reports_and_exits_1(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sandbox_servers(state, "--latency-ms", LATENCY_MS) as (cams_url, nx_url):
        root = spec_folder(tmp_path, cams_url, nx_url)
        child = Child(root)
        child.wait_for(5, r": created \(")
        child.proc.send_signal(signal.SIGINT)
        code = child.finish()

        assert code == 1, child.stdout + child.stderr
        assert "Stopping after the calls in flight (Ctrl-C again to abandon them)." in child.stderr
        assert "Interrupted: the calls in flight were finished and nothing new was started." in (
            child.stderr
        )
        summary = re.search(
            r"Apply interrupted: (\d+) succeeded, 0 failed, (\d+) skipped", child.stdout
        )
        assert summary, child.stdout
        done, skipped = int(summary[1]), int(summary[2])
        assert done + skipped == len(CODES) + len(TEMPLATES)
        assert skipped > 0
        assert child.stdout.count(": skipped: not started: interrupted") == skipped
        # Exactly what was reported done is at the providers: in-flight calls finished.
        messages, names = stored(state)
        assert sum(messages.values()) + sum(names.values()) == done
        assert child.stderr.count(": created (") == done
        assert "Traceback" not in child.stderr

        rerun(root)
        converged(state)


def test_a_second_ctrl_c_abandons_calls_in_flight_and_still_reports(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sandbox_servers(state, "--latency-ms", LATENCY_MS) as (cams_url, nx_url):
        root = spec_folder(tmp_path, cams_url, nx_url)
        child = Child(root)
        child.wait_for(3, r": created \(")
        child.proc.send_signal(signal.SIGINT)
        child.wait_for(1, r"Stopping after the calls in flight")
        child.proc.send_signal(signal.SIGINT)
        code = child.finish()

        assert code == 130, child.stdout + child.stderr
        assert "Aborting the calls in flight." in child.stderr
        assert "Aborted: " in child.stderr and "Run wasync plan to see where things stand" in (
            child.stderr
        )
        assert re.search(r"Apply interrupted: \d+ succeeded, 0 failed, \d+ skipped", child.stdout)
        assert "Traceback" not in child.stderr

        rerun(root)
        converged(state)


def test_sigterm_stops_like_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with sandbox_servers(state, "--latency-ms", LATENCY_MS) as (cams_url, nx_url):
        root = spec_folder(tmp_path, cams_url, nx_url)
        child = Child(root)
        child.wait_for(2, r": created \(")
        os.kill(child.proc.pid, signal.SIGTERM)
        assert child.finish() == 1
        assert "Stopping after the calls in flight" in child.stderr
        assert "Apply interrupted:" in child.stdout

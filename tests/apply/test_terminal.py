"""`wasync apply` on a terminal: it asks before changing anything and shows a progress bar.

The child process gets a pseudo-terminal for stdin and stderr (stdout stays a pipe, as
when the plan is piped); it talks to emulators served on loopback sockets by this process.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_support import Served, child_env
from .support import CAMS_PHONES, SPACE, qr, write_specs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

PROMPT = b"Only 'yes' will be accepted"


def on_a_terminal(root: Path, answer: bytes) -> tuple[int, str, str]:
    """Run apply with a terminal, type ``answer`` at the prompt; (exit code, stdout, tty)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wasync", "apply", str(root)],
        stdin=slave,
        stderr=slave,
        stdout=subprocess.PIPE,
        env=child_env() | {"COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child is gone and the terminal with it
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and PROMPT in seen:
                os.write(master, answer + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        code = proc.wait(timeout=10)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert answered, seen.decode(errors="replace")
    return code, out, seen.decode(errors="replace")


def test_on_a_terminal_apply_asks_and_anything_but_yes_changes_nothing(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())

    code, out, tty = on_a_terminal(root, b"y")

    assert code == 1
    assert "Plan: 1 to create" in out
    assert "Apply cancelled; nothing was changed." in tty
    assert served.emus.cams.state.emulator.qr_codes(CAMS_PHONES[1], SPACE) == []


def test_on_a_terminal_yes_applies_with_a_progress_bar(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(i) for i in range(3)], config=served.config())

    code, out, tty = on_a_terminal(root, b"yes")

    assert code == 0, out + tty
    assert "Apply done: 3 succeeded, 0 failed, 0 skipped" in out
    assert "Applying" in tty and "3/3" in tty
    # The bar replaces the per-change lines of a log.
    assert ": created (" not in tty
    stored = [q for p in CAMS_PHONES for q in served.emus.cams.state.emulator.qr_codes(p, SPACE)]
    assert len(stored) == 3

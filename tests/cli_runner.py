"""The one way the tests run ``wasync`` as a user types it.

- ``wasync(ARGS)``: in this process, through the real entry point (``wasync.cli.main``), so
  a test sees the messages and exit codes a user gets (a usage error is exit 1, a refusal
  one line on stderr, a bug exit 3 with a crash report), with no terminal attached.
- ``wasync_process(ARGS)``: in a child process (``python -m wasync``), for what only a real
  process shows: the environment it starts with, resource limits, a crash report's file.
  ``setup`` is Python the child runs before wasync starts, to put a test's own conditions
  in place (shorter retry waits, a command that fails as a bug would).

Both return a ``Result``, which prints the command and both streams when an assertion on it
fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from wasync.cli import main

# Settings a test process may hold that must not reach a child (the suite's guard removes
# them from this process too; see conftest.py).
CREDENTIAL_PREFIXES = ("ALIBABA_CLOUD_", "ALICLOUD_", "NXCLOUD_", "META_", "WASYNC_")


@dataclass
class Result:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # shown when an assertion fails
        return (
            f"wasync {' '.join(self.args)} -> {self.exit_code}\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


def wasync(*args: str | Path, stdin: str = "") -> Result:
    """``wasync ARGS`` in this process, through its real entry point, with no terminal."""
    argv = [str(a) for a in args]
    old_argv = sys.argv
    sys.argv = ["wasync", *argv]
    try:
        with CliRunner().isolation(input=stdin) as (out, err, _):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
            return Result(argv, code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        sys.argv = old_argv


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without credentials or wasync settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIAL_PREFIXES)}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


def wasync_process(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    preexec_fn: Callable[[], None] | None = None,
    setup: str = "",
) -> Result:
    """``wasync ARGS`` in a child process (``clean_env()`` unless ``env``); ``setup`` runs
    in the child first. ``timeout`` only keeps a hung child from hanging the suite."""
    argv = [str(a) for a in args]
    if setup:
        start = (
            f"{setup}\nimport sys\nsys.argv[0] = 'wasync'\nfrom wasync.cli import main\nmain()\n"
        )
        command = [sys.executable, "-c", start, *argv]
    else:
        command = [sys.executable, "-m", "wasync", *argv]
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )
    return Result(
        argv,
        proc.returncode,
        proc.stdout.decode("utf-8", "backslashreplace"),
        proc.stderr.decode("utf-8", "backslashreplace"),
    )

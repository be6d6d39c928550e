from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from wasync import __version__
from wasync.cli import cli


def test_version_names_the_program_and_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"wasync, version {__version__}"


def test_help_lists_every_command_of_the_contract() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "plan", "apply", "import", "schema", "sandbox"):
        assert f"  {command} " in result.output


def test_console_script_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasync", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout

from __future__ import annotations

from cli_runner import wasync, wasync_process

from wasync import __version__


def test_version_names_the_program_and_version() -> None:
    result = wasync("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"wasync, version {__version__}"


def test_help_lists_every_command_of_the_contract() -> None:
    result = wasync("--help")
    assert result.exit_code == 0
    for command in ("validate", "plan", "apply", "import", "schema", "sandbox"):
        assert f"  {command} " in result.output


def test_console_script_runs_as_a_module() -> None:
    result = wasync_process("--version")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == f"wasync, version {__version__}"

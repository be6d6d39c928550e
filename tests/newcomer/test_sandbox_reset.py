"""`wasync sandbox reset`: forget what the embedded sandbox accounts hold."""

from __future__ import annotations

from pathlib import Path

from cli_runner import wasync

from wasync.apply.lock import ApplyLock

from .support import (
    QR_PHONES,
    cams_qr,
    copy_specs,
    nx_template,
)


def test_reset_clears_every_account_and_says_which(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    cams_qr(specs, QR_PHONES[0], "A code someone made in the console.")
    nx_template(specs, "hello", "UTILITY", [{"type": "BODY", "text": "Hello there."}])
    before = wasync("plan", specs)
    assert "2 unmanaged" in before.stdout, before.output

    result = wasync("sandbox", "reset", specs)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Cleared the sandbox state of shop-cams, shop-meta, shop-nx "
        f"({specs / '.wasync' / 'sandbox'})."
    )
    assert not (specs / ".wasync" / "sandbox").exists()
    after = wasync("plan", specs, "--detailed-exitcode")
    assert after.exit_code == 2
    assert "Plan: 19 to create" in after.stdout and "unmanaged" not in after.stdout


def test_reset_with_nothing_to_clear_says_so(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    result = wasync("sandbox", "reset", specs)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == f"Nothing to clear: there is no sandbox state in {specs}/.wasync/sandbox\n"
    )
    assert not (specs / ".wasync").exists()  # and it created nothing

    elsewhere = wasync("sandbox", "reset", tmp_path)
    assert elsewhere.exit_code == 0
    assert f"{tmp_path} has no wasync.yaml: give the spec folder" in elsewhere.stdout


def test_reset_is_refused_while_an_apply_runs(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    cams_qr(specs, QR_PHONES[0], "Hello!")
    state = specs / ".wasync" / "sandbox" / "shop-cams" / "cams.json"
    with ApplyLock(specs):
        result = wasync("sandbox", "reset", specs)
    assert result.exit_code == 1, result
    assert result.stderr.startswith("Error: another wasync apply is running on this spec folder"), (
        result
    )
    assert state.exists()

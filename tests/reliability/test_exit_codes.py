"""Error discipline, in a real process: user errors exit 1 with one message, bugs exit 3
with a crash report, Ctrl-C exits 130, a closed pipe 141; never a traceback by accident."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

from cli_runner import clean_env, wasync_process

from .support import (
    CAMS_SECRET,
    CREDENTIAL_ENV,
    Folder,
    Served,
    assert_clean_failure,
    cams_account,
    crashing,
    nx_account,
    qr_spec,
    template_spec,
)

SANDBOX = "accounts:\n  shop:\n    provider: cams\n    endpoint: sandbox\n"


def sandbox_folder(root: Path, spec: str = "qr_codes: []\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(SANDBOX)
    (root / "specs.yaml").write_text(spec)
    return root


def live_folder(root: Path, cams: Served, nx: Served | None = None) -> Path:
    accounts = [cams_account(cams.url)] + ([nx_account(nx.url)] if nx else [])
    return Folder(root, accounts).write(
        qr_codes=[qr_spec("live-cams", "poster", "Hello from the poster")],
        templates=[template_spec("live-nx", "order_note", "Order")] if nx else [],
    )


def crash_reports(text: str) -> list[Path]:
    return [Path(w.rstrip(";")) for w in text.split() if "wasync-crash-" in w]


def test_a_bad_spec_is_one_message_and_exit_1(tmp_path: Path) -> None:
    root = sandbox_folder(tmp_path, "qr_codes:\n  - account: shop\n    phone: 12\n")
    for command in ("validate", "plan"):
        result = wasync_process(command, root)
        assert_clean_failure(result, "specs.yaml:3:12: qr_codes[0]: phone: expected text")


def test_a_missing_variable_names_it(tmp_path: Path, cams: Served) -> None:
    root = live_folder(tmp_path, cams)
    result = wasync_process("plan", root, env=clean_env())
    assert_clean_failure(result, "environment variable ALIBABA_CLOUD_ACCESS_KEY_ID is not set")


def test_a_provider_refusal_names_provider_operation_and_what_to_do(
    tmp_path: Path, cams: Served
) -> None:
    root = live_folder(tmp_path, cams)
    env = clean_env({**CREDENTIAL_ENV, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret-value"})
    result = wasync_process("plan", root, env=env)
    assert_clean_failure(
        result,
        "cams ListPhoneMessageQrdl failed: SignatureDoesNotMatch",
        "RequestId",
        "check access_key_secret for account live-cams",
    )
    assert "wrong-secret-value" not in result.output


def test_a_usage_error_exits_1_not_the_changes_code(tmp_path: Path) -> None:
    result = wasync_process("plan", "--detailed-exitcode", "--formt", "json", cwd=tmp_path)
    assert_clean_failure(result, "No such option '--formt'")


def test_a_file_wasync_cannot_use_is_a_user_error(tmp_path: Path, cams: Served) -> None:
    root = live_folder(tmp_path, cams)
    (root / ".wasync").write_text("not a folder")  # apply keeps its lock in .wasync/
    result = wasync_process("apply", root, "--auto-approve", env=clean_env(CREDENTIAL_ENV))
    assert_clean_failure(result, f"{root}/.wasync")


def test_a_bug_exits_3_with_a_private_redacted_crash_report(tmp_path: Path, cams: Served) -> None:
    root = live_folder(tmp_path, cams)
    result = wasync_process(
        "plan",
        root,
        env=clean_env(CREDENTIAL_ENV),
        setup=crashing(f"bad state near {CAMS_SECRET}"),
    )
    assert result.exit_code == 3, result
    assert "Traceback" not in result.output
    assert "wasync hit an internal error (RuntimeError: bad state near ***); this is a bug." in (
        result.stderr
    )
    (report,) = crash_reports(result.stderr)
    try:
        text = report.read_text()
        assert stat.S_IMODE(report.stat().st_mode) == 0o600
        assert "### version\nwasync " in text
        assert f"### command\nwasync plan {root}\n" in text
        assert "Traceback (most recent call last):" in text
        assert "RuntimeError: bad state near ***" in text
        assert CAMS_SECRET not in text
    finally:
        report.unlink()


def test_a_bug_under_debug_prints_the_redacted_traceback_too(tmp_path: Path, cams: Served) -> None:
    root = live_folder(tmp_path, cams)
    result = wasync_process(
        "--debug",
        "plan",
        root,
        env=clean_env(CREDENTIAL_ENV),
        setup=crashing(f"oops {CAMS_SECRET}"),
    )
    assert result.exit_code == 3, result
    assert "Traceback (most recent call last):" in result.stderr
    assert "wasync.http: cams live-cams ListPhoneMessageQrdl" in result.stderr
    assert CAMS_SECRET not in result.output
    for report in crash_reports(result.stderr):
        report.unlink()


def test_a_crash_report_that_cannot_be_written_is_printed(tmp_path: Path) -> None:
    root = sandbox_folder(tmp_path)
    no_temp = f"import tempfile\ntempfile.tempdir = {str(tmp_path / 'missing')!r}\n"
    result = wasync_process("validate", root, setup=no_temp + crashing("boom", "validate"))
    assert result.exit_code == 3, result
    assert "could not be written to a file; here it is:" in result.stderr
    assert "### traceback" in result.stderr
    assert "RuntimeError: boom" in result.stderr


def test_ctrl_c_during_plan_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # A server that accepts connections and never answers keeps plan waiting.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        folder = Folder(tmp_path, [cams_account(f"http://127.0.0.1:{port}")])
        root = folder.write(qr_codes=[qr_spec("live-cams", "p", "Hello")])
        proc = subprocess.Popen(
            [sys.executable, "-m", "wasync", "plan", str(root)],
            env=clean_env(CREDENTIAL_ENV),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        server.settimeout(20)
        conn, _ = server.accept()  # plan is now waiting for the reply
        try:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
        finally:
            conn.close()
    assert proc.returncode == 130, err
    assert err.strip().endswith("Interrupted."), err
    assert "Traceback" not in err


def test_a_closed_pipe_ends_output_quietly_with_141(tmp_path: Path) -> None:
    root = sandbox_folder(
        tmp_path, "qr_codes:\n" + "".join(qr_spec("shop", f"p{i}", f"Hi {i}") for i in range(50))
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before wasync writes: `wasync plan | true`
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "wasync", "plan", str(root)],
            env=clean_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


def test_a_reader_that_leaves_early_gets_141_from_plan(tmp_path: Path) -> None:
    """`wasync plan | head -1` on a plan far larger than a pipe holds: head takes the first
    line and leaves while the plan is still being written."""
    many = "".join(
        qr_spec("shop", f"p{i}", f"Hello number {i} from the poster") for i in range(800)
    )
    root = sandbox_folder(tmp_path, "qr_codes:\n" + many)
    for command in (["plan"], ["plan", "--format", "json"]):
        wasync = subprocess.Popen(
            [sys.executable, "-m", "wasync", *command, str(root)],
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert wasync.stdout is not None
        head = subprocess.run(
            ["head", "-1"], stdin=wasync.stdout, capture_output=True, text=True, check=False
        )
        wasync.stdout.close()  # only head holds the pipe's read end now
        _, err = wasync.communicate(timeout=60)
        assert wasync.returncode == 141, (command, err)
        assert err == b""
        assert head.stdout in ("wasync will make these changes:\n", "{\n"), head.stdout


def test_a_closed_stdout_is_not_a_crash(tmp_path: Path) -> None:
    root = sandbox_folder(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "wasync", "plan", str(root)],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),  # `wasync plan >&-`
        check=False,
    )
    assert proc.returncode == 0, proc.stderr  # the plan was made; its text had nowhere to go
    assert proc.stderr == ""


def test_text_the_terminal_cannot_encode_is_escaped_not_a_crash(tmp_path: Path) -> None:
    root = sandbox_folder(tmp_path, "qr_codes:\n" + qr_spec("shop", "cn", "您好 🎉"))
    env = clean_env({"PYTHONIOENCODING": "ascii"})
    for fmt in ("text", "markdown", "json"):
        result = wasync_process("plan", root, "--format", fmt, env=env)
        assert result.exit_code == 0, result
        assert "\\u60a8\\u597d \\U0001f389" in result.stdout

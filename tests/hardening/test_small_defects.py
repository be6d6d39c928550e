"""Smaller defects: a symlinked sandbox folder, a reader that reads everything, huge values
in errors, a broken wasync.yaml, and the served emulator's template review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import clean_env, wasync

from wasync.commands.sandbox import served_options
from wasync.errors import SHOWN_CHARS, Problem, WasyncError, clip
from wasync.providers import registry
from wasync.sandbox.common import FaultConfig
from wasync.sandbox.embedded import SANDBOX_REVIEW_SECONDS

PHONE = "8615800001111"
CONFIG = "accounts:\n  shop-cams:\n    provider: cams\n    endpoint: sandbox\n"


def folder(root: Path, spec: str = "qr_codes: []\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "qr.yaml").write_text(spec, encoding="utf-8")
    return root


def qr_entries(n: int) -> str:
    return "qr_codes:\n" + "".join(
        f"  - {{account: shop-cams, phone: '{PHONE}', label: p{i}, prefilled_message: Hi {i}}}\n"
        for i in range(n)
    )


def test_reset_removes_a_symlinked_sandbox_folder_but_not_its_target(tmp_path: Path) -> None:
    specs = folder(tmp_path / "specs", qr_entries(1))
    shared = tmp_path / "shared-state"
    (shared / "shop-cams").mkdir(parents=True)
    (shared / "shop-cams" / "cams.json").write_text("{}", encoding="utf-8")
    (specs / ".wasync").mkdir()
    (specs / ".wasync" / "sandbox").symlink_to(shared, target_is_directory=True)

    result = wasync("sandbox", "reset", specs)
    assert result.exit_code == 0, result
    assert f"a link to {shared}" in result.stdout and "left as it is" in result.stdout
    assert not (specs / ".wasync" / "sandbox").exists()
    assert (shared / "shop-cams" / "cams.json").is_file()
    # The sandbox starts empty behind a new folder of its own.
    assert "1 to create" in wasync("plan", specs).stdout


def test_a_reader_that_takes_everything_leaves_the_commands_own_exit_code(
    tmp_path: Path,
) -> None:
    # The other side of 141 (tests/reliability/test_exit_codes.py): nothing was cut off.
    specs = folder(tmp_path / "specs", qr_entries(3))
    wasync_proc = subprocess.Popen(
        [sys.executable, "-m", "wasync", "plan", str(specs), "--detailed-exitcode"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert wasync_proc.stdout is not None
    reader = subprocess.run(["cat"], stdin=wasync_proc.stdout, capture_output=True, check=False)
    wasync_proc.stdout.close()
    _, err = wasync_proc.communicate(timeout=60)
    assert wasync_proc.returncode == 2, err
    assert reader.stdout.decode().rstrip().endswith("Plan: 3 to create, 0 to update, 0 to delete.")


def huge_spec(field: str, huge: str) -> str:
    qr = {"account": "shop-cams", "phone": PHONE, "label": "a", "prefilled_message": "hi"}
    template = {
        "account": "shop-cams",
        "name": "a",
        "language": "en",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "hi"}],
    }
    if field == "language":
        return json.dumps({"templates": [{**template, field: huge}]})
    return json.dumps({"qr_codes": [{**qr, field: huge}]})  # JSON is YAML


@pytest.mark.parametrize("field", ["account", "phone", "language"])
def test_errors_cut_huge_values_and_say_how_long_they_were(tmp_path: Path, field: str) -> None:
    specs = folder(tmp_path / "specs", huge_spec(field, "x" * 200_000))
    result = wasync("validate", specs)
    assert result.exit_code == 1, result
    assert "(200,000 characters)" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 4 * SHOWN_CHARS + 400
    assert len(result.stderr) < 10_000


def test_clip_keeps_short_values_and_the_end_of_an_address() -> None:
    short = "no account 'shop' in wasync.yaml"
    assert clip(short) == short
    long_address = "qr." + "a" * 300 + f".{PHONE}.poster: account: bad"
    cut = clip(long_address)
    assert cut.endswith(f".{PHONE}.poster: account: bad") and "(325 characters)" in cut
    quoted = f"value {json.dumps('é' * 500, ensure_ascii=False)} is not allowed"
    assert clip(quoted) == f'value "{"é" * SHOWN_CHARS}…" (500 characters) is not allowed'
    assert str(WasyncError("no account '" + "y" * 1000 + "'")).endswith("(1,000 characters)")
    assert "(1,000 characters)" in str(Problem("bad '" + "z" * 1000 + "'"))
    # Quotes that never close, and many of them, are one pass (a timeout would catch more).
    assert len(clip("'" * 300_000)) < 1_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "wasync.yaml:1:1: empty; list your accounts under `accounts:`"),
        (b"- a\n- b\n", "expected a mapping with `accounts:`, got a list"),
        ("accounts: {}\n".encode("utf-16"), "not valid UTF-8"),
    ],
    ids=["empty", "list", "utf-16"],
)
def test_a_broken_config_comes_first_without_knock_on_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    specs = folder(tmp_path / "specs", qr_entries(14))
    (specs / "wasync.yaml").write_bytes(content)
    result = wasync("validate", specs)
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and message in lines[0] and lines[1].endswith("1 problem found"), lines

    # A problem of a spec file's own stays, after the cause.
    (specs / "more.yaml").write_text("qr_codes: [{label: x}]\n", encoding="utf-8")
    lines = wasync("validate", specs).stderr.strip().splitlines()
    assert message in lines[0] and all("more.yaml" in line for line in lines[1:-1]), lines
    assert not any("no account" in line for line in lines), lines


def test_the_served_emulator_finishes_review_as_the_embedded_one_does(tmp_path: Path) -> None:
    plugin = registry.get("cams")
    assert plugin.emulator is not None
    accepted = {name: c.sandbox for name, c in plugin.credentials.items()}
    options = served_options(accepted, tmp_path, FaultConfig(), None, None)
    assert options.approve_after == SANDBOX_REVIEW_SECONDS
    app = plugin.emulator(options)
    app.state.emulator.call(  # type: ignore[attr-defined]
        "CreateChatappTemplate",
        {
            "Name": "hello",
            "Language": "en",
            "Category": "UTILITY",
            "TemplateType": "WHATSAPP",
            "Components": [{"Type": "BODY", "Text": "Hello"}],
            "CustSpaceId": "space",
        },
    )
    state = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    (template,) = state["spaces"]["space"]["templates"]
    assert template["AuditStatus"] == "auditing" and template["ReviewDue"] is not None

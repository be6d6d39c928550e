"""Import keeps going when the provider holds text no spec file can hold.

A QR code whose prefilled message has a carriage return, a NUL or an escape character is
skipped with a warning that shows the text escaped; every other code is imported, and the
folder plans clean. The emulator holds the codes, as a console user would have made them.
"""

from __future__ import annotations

from pathlib import Path

from cli_runner import wasync
from newcomer.support import CAMS_SPACE, cams_qr

PHONE = "8615800001111"
CONFIG = f"""\
accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: {CAMS_SPACE}
"""
HOSTILE = {"cr": "Hello\r\nforged line", "nul": "nul\x00byte", "esc": "\x1b[2J\x1b]0;pwned\x07"}


def test_import_skips_codes_with_control_characters_and_imports_the_rest(tmp_path: Path) -> None:
    (tmp_path / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    good = [cams_qr(tmp_path, PHONE, m) for m in ("Hi there", "two\nlines\tand a tab")]
    bad = {name: cams_qr(tmp_path, PHONE, m) for name, m in HOSTILE.items()}

    result = wasync("import", tmp_path, "--account", "shop-cams", "--phone", PHONE)
    assert result.exit_code == 0, result
    assert "Added 2 entries" in result.stdout
    skipped = {
        line.split(":")[0].strip(): line for line in result.stderr.splitlines() if ": " in line
    }
    for code in bad.values():
        line = skipped[f"qr.shop-cams.{PHONE}.{code}"]
        assert "control character" in line and "a spec file cannot hold" in line
    assert "Hello<U+000D><U+000A>forged line" in skipped[f"qr.shop-cams.{PHONE}.{bad['cr']}"]
    assert "nul<U+0000>byte" in result.stderr
    assert "<U+001B>[2J<U+001B>]0;pwned<U+0007>" in result.stderr
    # Nothing that acts on a terminal or starts a line of its own reached the output.
    assert not any(c in result.output for c in "\r\x00\x1b\x07")
    assert "\nforged line" not in result.output

    text = (tmp_path / "imported" / "shop-cams-qr-codes.yaml").read_text(encoding="utf-8")
    assert all(f"code: {code}" in text for code in good)
    assert not any(code in text for code in bad.values())
    plan = wasync("plan", tmp_path, "--detailed-exitcode")
    assert plan.exit_code == 0, plan  # the skipped codes are unmanaged, not changes
    assert "3 unmanaged" in plan.stdout


def test_overwrite_leaves_an_entry_whose_remote_text_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    code = cams_qr(tmp_path, PHONE, "bell\x07rings")
    (tmp_path / "qr.yaml").write_text(
        "qr_codes:\n"
        f"  - {{account: shop-cams, phone: '{PHONE}', label: door, "
        f"prefilled_message: bell rings, code: {code}}}\n",
        encoding="utf-8",
    )
    result = wasync("import", tmp_path, "--account", "shop-cams", "--overwrite")
    assert result.exit_code == 0, result
    assert f"qr.shop-cams.{PHONE}.door ({tmp_path / 'qr.yaml'}): prefilled_message holds" in (
        result.stdout
    )
    assert "bell<U+0007>rings" in result.stdout
    assert "label: door" in (tmp_path / "qr.yaml").read_text(encoding="utf-8")

"""A Meta sandbox account through the command line: a number the WABA does not hold names
the spec's file and line, and `wasync import` writes specs that plan clean once the sample
file is where it says."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_runner import wasync

from wasync.sandbox.embedded import SANDBOX_DIR

from .support import WABA

REPO = Path(__file__).resolve().parents[2]
CONFIG = f"""\
accounts:
  shop-meta:
    provider: meta
    endpoint: sandbox
    waba_id: "{WABA}"
    app_id: "900800700600500"
"""


def test_a_number_the_waba_does_not_hold_names_the_spec_line(tmp_path: Path) -> None:
    (tmp_path / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "qr.yaml").write_text(
        "qr_codes:\n"
        "  - account: shop-meta\n"
        '    phone: "15550101111"\n'
        "    label: ok\n"
        "    prefilled_message: Hi\n"
        "  - account: shop-meta\n"
        '    phone: "4915112345678"\n'
        "    label: elsewhere\n"
        "    prefilled_message: Hallo\n",
        encoding="utf-8",
    )
    result = wasync("plan", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {tmp_path}/qr.yaml:6:5: qr.shop-meta.4915112345678.elsewhere: meta "
        f"phone_numbers failed: UnknownPhoneNumber: WABA {WABA} holds no number 4915112345678"
    )
    assert "Traceback" not in result.output


def test_import_writes_specs_that_plan_clean_once_the_sample_is_there(tmp_path: Path) -> None:
    applied = tmp_path / "applied"
    applied.mkdir()
    (applied / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    shutil.copy(REPO / "specs" / "meta.yaml", applied / "meta.yaml")
    shutil.copytree(REPO / "specs" / "media", applied / "media")
    assert wasync("apply", applied, "--auto-approve").exit_code == 0

    adopting = tmp_path / "adopting"
    adopting.mkdir()
    (adopting / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    shutil.copytree(applied / SANDBOX_DIR, adopting / SANDBOX_DIR)
    phones = ("--phone", "15550101111", "--phone", "15550102222")
    imported = wasync("import", adopting, "--account", "shop-meta", *phones)
    assert imported.exit_code == 0, imported.output
    assert "Read shop-meta (meta): 2 QR codes on 2 numbers and 3 templates." in imported.stdout
    note = "Meta does not return the sample: put the file at media/winter_menu-en.png"
    assert note in imported.stderr
    templates = (adopting / "imported" / "shop-meta-templates.yaml").read_text(encoding="utf-8")
    assert "parameter_format: NAMED" in templates  # the named variables come back as such

    missing = wasync("validate", adopting)
    assert missing.exit_code == 1 and "media/winter_menu-en.png: no such file" in missing.output
    (adopting / "media").mkdir()
    shutil.copy(
        REPO / "specs" / "media" / "winter-menu.png", adopting / "media" / "winter_menu-en.png"
    )
    after = wasync("plan", adopting, "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    assert "No changes" in after.stdout and "unmanaged" not in after.stdout

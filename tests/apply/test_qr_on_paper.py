"""QR codes are printed things: apply shows what it made and pins it in the specs;
`wasync qr export` writes images that decode to the codes' deep links."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import zxingcpp  # type: ignore[import-untyped]
from cli_runner import wasync
from PIL import Image

from .cli_support import Served
from .support import CAMS_PHONES, SPACE, qr, write_specs

ENTRY = re.compile(r"^  - account:", re.MULTILINE)


def stored(served: Served) -> dict[str, dict[str, str]]:
    """The emulator's codes, by prefilled message."""
    return {
        q["PrefilledMessage"]: q
        for p in CAMS_PHONES
        for q in served.emus.cams.state.emulator.qr_codes(p, SPACE)
    }


def without_pins(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if "code: " not in line)


def test_apply_pins_every_code_it_creates_and_shows_each(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1), qr(2)], config=served.config())
    spec = root / "specs.yaml"
    before = spec.read_text(encoding="utf-8")

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 0, run
    codes = stored(served)
    after = spec.read_text(encoding="utf-8")
    # One line more per code, nothing else changed.
    assert without_pins(after) == before
    for i in (1, 2):
        made = codes[f"Hello, I saw poster {i}"]
        assert f"  code: {made['QrdlCode']}\n" in after
        shown = (
            f"  qr.shop-cams.{CAMS_PHONES[i % 2]}.poster-00{i}: created\n"
            f"    code:      {made['QrdlCode']}\n"
            f"    deep link: {made['DeepLinkUrl']}\n"
            f"    image:     {made['QrImageUrl']}\n"
        )
        assert shown in run.stdout
    assert f"Pinned 2 QR codes in {spec} (code: in each entry)." in run.stdout
    assert run.stdout.rstrip().endswith("Checked: a fresh plan finds nothing left to do.")
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


def test_a_reworded_pinned_code_is_replaced_and_its_pin_follows(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1), qr(2)], config=served.config())
    assert wasync("apply", root, "--auto-approve").exit_code == 0
    spec = root / "specs.yaml"
    old = stored(served)["Hello, I saw poster 1"]["QrdlCode"]
    spec.write_text(
        spec.read_text().replace("Hello, I saw poster 1", "Hello, I saw poster one"), "utf-8"
    )
    plan = wasync("plan", root, "--detailed-exitcode")
    assert plan.exit_code == 2
    assert f"qr.shop-cams.{CAMS_PHONES[1]}.poster-001 must be replaced" in plan.stdout
    assert f'-/+ code = "{old}" -> (new code, known after apply)' in plan.stdout
    before = spec.read_text()

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 0, run
    new = stored(served)["Hello, I saw poster one"]["QrdlCode"]
    assert new != old
    assert f"    code:      {new}\n    old code:  {old} (no longer works)\n" in run.stdout
    assert spec.read_text() == before.replace(f"code: {old}", f"code: {new}")
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


def test_no_write_codes_leaves_the_files_alone_and_prints_the_pins(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())
    spec = root / "specs.yaml"
    before = spec.read_bytes()

    run = wasync("apply", root, "--auto-approve", "--no-write-codes")

    assert run.exit_code == 0, run
    assert spec.read_bytes() == before
    code = stored(served)["Hello, I saw poster 1"]["QrdlCode"]
    assert run.stdout.endswith(
        "Not written (--no-write-codes); pin these in the specs:\n"
        f"  {spec}: qr.shop-cams.{CAMS_PHONES[1]}.poster-001: code: {code}\n"
    )
    assert "Pinned" not in run.stdout and "WARNING" not in run.stderr


def test_a_file_that_cannot_take_the_pins_is_reported_loudly_and_apply_succeeds(
    tmp_path: Path, served: Served
) -> None:
    # A flow list with spaces inside the brackets: the YAML writer would reshape that line
    # too, so the file is left alone.
    root = write_specs(tmp_path, config=served.config())
    spec = root / "specs.yaml"
    text = "qr_codes:\n" + "".join(
        f"  - account: shop-cams\n    phone: '{CAMS_PHONES[0]}'\n    label: p{i}\n"
        f"    prefilled_message: Hi {i}\n"
        for i in (1, 2)
    )
    text += "templates: [ ]  # none yet\n"
    spec.write_text(text, encoding="utf-8")

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 0, run
    assert spec.read_text(encoding="utf-8") == text
    codes = stored(served)
    warning = run.stderr[run.stderr.index("WARNING") :]
    assert warning.startswith(f"WARNING: the codes of 2 new QR code(s) were NOT written to {spec}:")
    assert "The changes at the provider were made." in warning
    for i in (1, 2):
        line = f"  qr.shop-cams.{CAMS_PHONES[0]}.p{i}: code: {codes[f'Hi {i}']['QrdlCode']}"
        assert line in warning.splitlines()


def test_an_unwritable_file_is_reported_and_apply_succeeds(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())
    (root / ".specs.yaml.wasync-tmp").mkdir()  # where the new file would be written first

    run = wasync("apply", root, "--auto-approve")

    assert run.exit_code == 0, run
    assert "code: " not in (root / "specs.yaml").read_text()
    assert "were NOT written to" in run.stderr and "Is a directory" in run.stderr


def test_codes_out_lists_what_was_made_for_a_workflow(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())
    out = tmp_path / "codes.json"

    assert wasync("apply", root, "--auto-approve", "--codes-out", out).exit_code == 0

    made = stored(served)["Hello, I saw poster 1"]
    assert json.loads(out.read_text()) == {
        "format": "wasync-qr-codes",
        "format_version": 1,
        "codes": [
            {
                "address": f"qr.shop-cams.{CAMS_PHONES[1]}.poster-001",
                "action": "create",
                "code": made["QrdlCode"],
                "old_code": None,
                "deep_link_url": made["DeepLinkUrl"],
                "qr_image_url": made["QrImageUrl"],
                "file": str(root / "specs.yaml"),
                "pinned": True,
                "not_pinned_reason": None,
            }
        ],
    }


# --- wasync qr export -----------------------------------------------------------------------


def decode(path: Path) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(path))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return str(found.text)


def test_export_writes_images_that_decode_to_the_deep_links(tmp_path: Path, served: Served) -> None:
    codes = [qr(1), qr(2, message='=HYPERLINK("https://evil.example")'), qr(3)]
    root = write_specs(tmp_path, qr_codes=codes, config=served.config())
    assert wasync("apply", root, "--auto-approve").exit_code == 0
    out = tmp_path / "print"

    run = wasync("qr", "export", root, "--out", out, "--format", "png")

    assert run.exit_code == 0, run
    held = stored(served)
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8-sig", newline="")))
    assert [r["address"] for r in rows] == sorted(
        f"qr.shop-cams.{CAMS_PHONES[i % 2]}.poster-00{i}" for i in (1, 2, 3)
    )
    for row in rows:
        message = row["prefilled_message"].removeprefix("'")
        code = held[message]
        assert (row["code"], row["deep_link"]) == (code["QrdlCode"], code["DeepLinkUrl"])
        assert row["phone"] == code["PhoneNumber"]
        assert row["image"] == f"{row['address']}.png"
        assert decode(out / row["image"]) == code["DeepLinkUrl"]
    # A message a spreadsheet would run as a formula is written as text.
    (evil,) = [r for r in rows if "HYPERLINK" in r["prefilled_message"]]
    assert evil["prefilled_message"] == '\'=HYPERLINK("https://evil.example")'

    svg = wasync("qr", "export", root, "--out", tmp_path / "svg", "--target", rows[0]["address"])
    assert svg.exit_code == 0, svg
    (image,) = sorted((tmp_path / "svg").glob("*.svg"))
    assert image.name == f"{rows[0]['address']}.svg"
    ElementTree.parse(image)  # well-formed XML, for print


def test_export_reports_what_it_cannot_export_and_exits_1(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1), qr(2)], config=served.config())
    assert wasync("apply", root, "--auto-approve").exit_code == 0
    # Reword the pinned poster-002 (a replacement is pending) and add an entry.
    spec = root / "specs.yaml"
    text = spec.read_text().replace("Hello, I saw poster 2", "Hello, I saw poster two")
    new = f"- account: shop-cams\n  phone: '{CAMS_PHONES[0]}'\n  label: new\n"
    new += "  prefilled_message: Not created yet\n"
    spec.write_text(text.replace("templates: []\n", new + "templates: []\n"), encoding="utf-8")

    run = wasync("qr", "export", root, "--out", tmp_path / "print")

    assert run.exit_code == 1, run
    assert run.stderr.splitlines()[-3:] == [
        "Not exported (2):",
        f"  qr.shop-cams.{CAMS_PHONES[0]}.new: no code yet: wasync apply creates it",
        f"  qr.shop-cams.{CAMS_PHONES[0]}.poster-002: its spec differs from code "
        f"{stored(served)['Hello, I saw poster 2']['QrdlCode']}, which the next apply replaces "
        "(a printed copy would stop working): apply first, then export",
    ]
    assert sorted(p.name for p in (tmp_path / "print").iterdir()) == [
        "index.csv",
        f"qr.shop-cams.{CAMS_PHONES[1]}.poster-001.svg",
    ]


def test_export_refuses_a_target_that_names_no_qr_code(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())
    run = wasync("qr", "export", root, "--out", tmp_path / "x", "--target", "qr.shop-cams.1")
    assert run.exit_code == 1
    assert run.stderr == "Error: --target qr.shop-cams.1 names no QR code of the specs\n"

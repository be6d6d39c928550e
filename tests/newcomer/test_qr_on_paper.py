"""The example specs' QR codes as a shop prints them: apply pins each code in the specs with
every comment in place; a reworded CAMS code is a replacement whose new code replaces the
pin; `wasync qr export` images decode to the codes' deep links."""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

import pytest
import zxingcpp  # type: ignore[import-untyped]
from cli_runner import wasync
from PIL import Image

from wasync.loading import load_desired

from .support import SPECS, cams_emulator, copy_specs

METRO_OLD = "Hello! I saw your autumn poster at the metro station."
METRO_NEW = "Hello! I saw your autumn poster in the metro."


@pytest.mark.slow  # two applies and three plans, paced at the providers' documented rates
def test_apply_pins_every_code_replaces_a_reworded_one_and_exports_what_was_made(
    tmp_path: Path,
) -> None:
    specs = copy_specs(tmp_path / "specs")
    qr_file = specs / "qr-codes.yaml"
    original = qr_file.read_text(encoding="utf-8")
    meta_file = specs / "meta.yaml"
    meta_original = meta_file.read_text(encoding="utf-8")

    assert wasync("plan", specs).exit_code == 0
    applied = wasync("apply", specs, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert wasync("plan", specs, "--detailed-exitcode").exit_code == 0

    # Every QR entry is pinned to its code, and nothing else in the file moved: the diff is
    # one inserted code: line per entry, comments and blank lines all where they were.
    pinned = qr_file.read_text(encoding="utf-8")
    _, loaded = load_desired(specs, resolve_env=False)
    every = {q.address: q.code for q in loaded.desired.qr_codes}
    assert len(every) == 8 and all(every.values())  # 6 on CAMS, 2 on Meta
    codes = {a: c for a, c in every.items() if a.startswith("qr.shop-cams.")}
    assert len(codes) == 6
    meta_inserted = [
        line[2:]
        for line in difflib.ndiff(
            meta_original.splitlines(), meta_file.read_text(encoding="utf-8").splitlines()
        )
        if line[:2] in ("+ ", "- ")
    ]
    assert sorted(meta_inserted) == sorted(
        f"    code: {c}" for a, c in every.items() if a not in codes
    )
    inserted = [
        line[2:]
        for line in difflib.ndiff(original.splitlines(), pinned.splitlines())
        if line[:2] in ("+ ", "- ")
    ]
    assert sorted(inserted) == sorted(f"    code: {c}" for c in codes.values())
    assert [line for line in original.splitlines() if "#" in line] == [
        line for line in pinned.splitlines() if "#" in line
    ]
    held = {
        q["QrdlCode"]: q
        for phone in {q.phone for q in loaded.desired.qr_codes if q.address in codes}
        for q in cams_emulator(specs).qr_codes(phone)
    }
    assert set(codes.values()) == set(held)

    # A reworded pinned CAMS code: a replacement, then the pin names the new code.
    qr_file.write_text(pinned.replace(METRO_OLD, METRO_NEW), encoding="utf-8")
    metro = "qr.shop-cams.8615800001111.poster-autumn-metro"
    plan = wasync("plan", specs, "--detailed-exitcode")
    assert plan.exit_code == 2
    assert f"  # {metro} must be replaced (the printed code stops working)" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete." in plan.stdout
    replaced = wasync("apply", specs, "--auto-approve")
    assert replaced.exit_code == 0, replaced.output
    _, loaded = load_desired(specs, resolve_env=False)
    new = next(q.code for q in loaded.desired.qr_codes if q.address == metro)
    assert new is not None and new != codes[metro]
    assert f"    old code:  {codes[metro]} (no longer works)" in replaced.stdout
    assert qr_file.read_text(encoding="utf-8") == pinned.replace(METRO_OLD, METRO_NEW).replace(
        f"code: {codes[metro]}", f"code: {new}"
    )
    assert wasync("plan", specs, "--detailed-exitcode").exit_code == 0

    # Print-ready: every image decodes to the deep link of its code.
    out = tmp_path / "print"
    exported = wasync("qr", "export", specs, "--out", out, "--format", "png")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8-sig", newline="")))
    assert len(rows) == 8
    for row in rows:
        (found,) = zxingcpp.read_barcodes(Image.open(out / row["image"]))
        assert found.text == row["deep_link"] == f"https://wa.me/message/{row['code']}"
    assert {r["address"]: r["code"] for r in rows} == {**every, metro: new}


def test_the_example_specs_pin_no_code() -> None:
    """They run on a fresh sandbox: apply creates every code and pins it."""
    for name in ("qr-codes.yaml", "meta.yaml"):
        text = (SPECS / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s+code:", text, re.MULTILINE), name

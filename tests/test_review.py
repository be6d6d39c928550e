"""The review path from the command line: a plan whose only differences cannot be applied
exits 4 with --detailed-exitcode and says the way out; `wasync show` renders a saved plan
exactly as `wasync plan` printed it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import wasync
from newcomer.support import CAMS_SPACE, cams_emulator, cams_template

CONFIG = f"""\
accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: {CAMS_SPACE}
"""

TEMPLATE = """\
templates:
  - account: shop-cams
    name: receipt
    language: en
    category: MARKETING
    components:
      - type: BODY
        text: "{text}"
"""


def spec_folder(root: Path, text: str) -> Path:
    root.mkdir()
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "templates.yaml").write_text(TEMPLATE.format(text=text), encoding="utf-8")
    return root


@pytest.fixture
def approved_edit(tmp_path: Path) -> Path:
    """A spec folder whose one template is approved on CAMS with other text: an edit CAMS
    refuses for good, the only difference between the specs and the remote."""
    root = spec_folder(tmp_path / "specs", "Thanks for your *order*.")
    cams_template(root, "receipt", [{"Type": "BODY", "Text": "Thanks for shopping."}])
    emulator = cams_emulator(root)
    (stored,) = emulator.templates(CAMS_SPACE)
    emulator.set_template_status(stored["TemplateCode"], "en", "APPROVED")
    return root


def test_a_plan_of_only_blocked_changes_exits_4_and_says_the_way_out(approved_edit: Path) -> None:
    run = wasync("plan", approved_edit, "--detailed-exitcode")
    assert run.exit_code == 4, run
    assert "Plan: 0 to create, 0 to update, 0 to delete; 1 blocked." in run.stdout
    assert "Cannot be applied" in run.stdout
    assert (
        "x template.shop-cams.receipt.en (update): APPROVED: CAMS cannot modify an approved "
        "template\n      way out: give the template a new name in the spec (e.g. receipt_v2)"
    ) in run.stdout
    # Without the flag, a plan is a success whatever it holds.
    assert wasync("plan", approved_edit).exit_code == 0


def test_a_plan_with_changes_to_apply_still_exits_2(approved_edit: Path) -> None:
    (approved_edit / "more.yaml").write_text(
        TEMPLATE.replace("receipt", "receipt_v2").format(text="Thanks!"), encoding="utf-8"
    )
    run = wasync("plan", approved_edit, "--detailed-exitcode")
    assert run.exit_code == 2, run
    assert "Plan: 1 to create, 0 to update, 0 to delete; 1 blocked." in run.stdout


def test_a_plan_with_nothing_to_do_exits_0(tmp_path: Path) -> None:
    root = spec_folder(tmp_path / "specs", "Thanks!")
    assert wasync("apply", root, "--auto-approve").exit_code == 0
    run = wasync("plan", root, "--detailed-exitcode")
    assert run.exit_code == 0, run
    assert "No changes." in run.stdout


def test_the_markdown_plan_shows_the_way_out_and_the_message(approved_edit: Path) -> None:
    run = wasync("plan", approved_edit, "--format", "markdown", "--detailed-exitcode")
    assert run.exit_code == 4, run
    md = run.stdout
    assert "### Cannot be applied" in md
    assert "**Way out:** give the template a new name in the spec (e.g. receipt\\_v2)" in md
    # before and after, as the customer sees them: WhatsApp's *order* is Markdown's bold
    assert "> Thanks for shopping\\." in md
    assert "> Thanks for your **order**\\." in md


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_show_renders_a_saved_plan_as_plan_printed_it(approved_edit: Path, fmt: str) -> None:
    saved = approved_edit / "plan.json"
    planned = wasync("plan", approved_edit, "--format", fmt, "--out", saved)
    assert planned.exit_code == 0, planned
    shown = wasync("show", saved, "--format", fmt)
    assert shown.exit_code == 0, shown
    assert shown.stdout == planned.stdout
    assert shown.stderr == ""


def test_show_refuses_an_edited_plan_and_a_file_that_is_not_one(
    approved_edit: Path, tmp_path: Path
) -> None:
    saved = approved_edit / "plan.json"
    assert wasync("plan", approved_edit, "--out", saved).exit_code == 0
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["plan"]["changes"][0]["blocked"] = None
    saved.write_text(json.dumps(doc), encoding="utf-8")
    run = wasync("show", saved)
    assert run.exit_code == 1, run
    assert "was modified after wasync wrote it" in run.stderr and "Traceback" not in run.stderr

    other = tmp_path / "other.json"
    other.write_text("{}", encoding="utf-8")
    run = wasync("show", other)
    assert run.exit_code == 1 and "is not a wasync plan" in run.stderr, run
    missing = wasync("show", tmp_path / "missing.json")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr, missing

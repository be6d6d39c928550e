"""`wasync apply` as a user runs it: confirmation, progress lines, the report, exit codes,
thresholds, saved plans, the lock and the check afterwards."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_runner import wasync

from wasync.apply.lock import ApplyLock

from .cli_support import Served
from .support import CAMS_PHONES, NX_PHONE, SPACE, qr, template, write_specs

REPO = Path(__file__).resolve().parents[2]


def stored_qr(served: Served) -> list[dict[str, str]]:
    return [q for p in CAMS_PHONES for q in served.emus.cams.state.emulator.qr_codes(p, SPACE)]


def test_without_a_terminal_apply_refuses_unless_auto_approved(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())

    run = wasync("apply", str(root))

    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr.startswith("Error: apply needs confirmation and there is no terminal")
    assert "nothing was changed" in run.stderr and "--auto-approve" in run.stderr
    assert "Traceback" not in run.stderr
    assert stored_qr(served) == []


def test_auto_approve_applies_with_a_line_per_change_and_checks_the_result(
    tmp_path: Path, served: Served
) -> None:
    codes = [qr(i) for i in range(3)]
    root = write_specs(tmp_path, qr_codes=codes, templates=[template(1)], config=served.config())

    run = wasync("apply", str(root), "--auto-approve")

    assert run.exit_code == 0, run.stderr
    # stdout: the plan, the report, the check. stderr: progress, one line per change.
    assert "Plan: 4 to create, 0 to update, 0 to delete." in run.stdout
    assert re.search(r"Apply done: 4 succeeded, 0 failed, 0 skipped \(\d+\.\d s\)\.", run.stdout)
    assert run.stdout.rstrip().endswith("Checked: a fresh plan finds nothing left to do.")
    lines = sorted(run.stderr.splitlines())
    stored = {q["PrefilledMessage"]: q["QrdlCode"] for q in stored_qr(served)}
    expected = [
        f"qr.shop-cams.{c['phone']}.{c['label']}: created (code {stored[c['prefilled_message']]})"
        for c in codes
    ]
    (made,) = served.emus.nx.state.emulator.templates(NX_PHONE)
    expected.append(
        f"template.shop-nx.{NX_PHONE}.order_update_001.en_US: created (id {made['id']}, pending)"
    )
    assert lines == sorted(expected)

    again = wasync("plan", str(root), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert (
        wasync("apply", str(root), "--auto-approve")
        .stdout.rstrip()
        .endswith("No changes. The remote matches the specs.")
    )


def test_a_refused_change_is_reported_with_the_providers_code_and_exits_1(
    tmp_path: Path, served: Served
) -> None:
    meta = {
        "error": {
            "message": "Invalid parameter",
            "code": 100,
            "error_subcode": 2388273,
            "error_user_msg": "Too many variables for the length of the body.",
        }
    }
    served.emus.nx.state.emulator.fail_next("createTemplate", code=9099, data=meta)
    root = write_specs(tmp_path, qr_codes=[qr(1)], templates=[template(1)], config=served.config())

    run = wasync("apply", str(root), "--auto-approve")

    assert run.exit_code == 1
    address = f"template.shop-nx.{NX_PHONE}.order_update_001.en_US"
    failure = (
        f"  {address}: FAILED: nxcloud createTemplate failed: 9099/100/2388273: "
        "Too many variables for the length of the body."
    )
    assert failure in run.stdout.splitlines()[run.stdout.splitlines().index("Failed:") + 1]
    assert "Apply finished with errors: 1 succeeded, 1 failed, 0 skipped" in run.stdout
    # The check afterwards shows what is left: the one create.
    rest = run.stdout.split("The remote still differs from the specs after apply:")[1]
    assert f"# {address} will be created" in rest
    assert "Plan: 1 to create, 0 to update, 0 to delete." in rest
    assert len(stored_qr(served)) == 1


def test_thresholds_stop_an_apply_with_the_numbers_unless_forced(
    tmp_path: Path, served: Served
) -> None:
    config = served.config(extra="    thresholds: {max_change_share: 0.3, min_resources: 2}\n")
    root = write_specs(tmp_path, qr_codes=[qr(i) for i in range(4)], config=config)
    assert wasync("apply", str(root), "--auto-approve").exit_code == 0
    # Two of the four codes change their image: 50% of the account, over its 30%.
    changed = [qr(0, image="PNG"), qr(1, image="PNG"), qr(2), qr(3)]
    write_specs(tmp_path, qr_codes=changed, config=config)

    refused = wasync("apply", str(root), "--auto-approve")

    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: shop-cams: 2 of 4 managed resources would be updated or deleted "
        "(50.0% > 30.0%); review the plan and use --force\n"
    )
    assert "Plan: 0 to create, 0 to update, 2 to replace, 0 to delete." in refused.stdout
    assert sorted(q["GenerateQrImage"] for q in stored_qr(served)) == ["SVG"] * 4

    forced = wasync("apply", str(root), "--auto-approve", "--force")

    assert forced.exit_code == 0, forced.stderr
    assert sorted(q["GenerateQrImage"] for q in stored_qr(served)) == ["PNG"] * 2 + ["SVG"] * 2


def test_a_saved_plan_applies_while_fresh_and_is_refused_once_the_remote_moved(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1), qr(2)], config=served.config())
    saved = tmp_path / "plan.json"
    assert wasync("plan", str(root), "--out", str(saved)).exit_code == 0

    fresh = wasync("apply", str(root), "--plan", str(saved), "--auto-approve")

    assert fresh.exit_code == 0, fresh.stderr
    assert len(stored_qr(served)) == 2

    # Plan an update of poster-001's image; then someone edits that code at the provider.
    write_specs(tmp_path, qr_codes=[qr(1, image="PNG"), qr(2)], config=served.config())
    assert wasync("plan", str(root), "--out", str(saved)).exit_code == 0
    emulator = served.emus.cams.state.emulator
    (current,) = emulator.qr_codes(CAMS_PHONES[1], SPACE)
    emulator.call(
        "UpdatePhoneMessageQrdl",
        {
            "CustSpaceId": SPACE,
            "PhoneNumber": CAMS_PHONES[1],
            "QrdlCode": current["QrdlCode"],
            "PrefilledMessage": "Hello, I saw poster 1",
            "GenerateQrImage": "PNG",
        },
    )

    stale = wasync("apply", str(root), "--plan", str(saved), "--auto-approve")

    assert stale.exit_code == 1
    assert stale.stderr.startswith(f"Error: {saved} is stale:")
    assert f"qr.shop-cams.{CAMS_PHONES[1]}.poster-001" in stale.stderr
    assert "Run wasync plan again, review it, and apply the new plan." in stale.stderr
    assert "Apply" not in stale.stdout  # nothing was carried out


def test_a_saved_plan_takes_no_target_or_prune_of_its_own(tmp_path: Path, served: Served) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())
    saved = tmp_path / "plan.json"
    assert wasync("plan", str(root), "--out", str(saved)).exit_code == 0

    run = wasync("apply", str(root), "--plan", str(saved), "--prune", "--auto-approve")

    assert run.exit_code == 1
    assert "--target and --prune come from the saved plan" in run.stderr
    assert stored_qr(served) == []


def test_a_second_apply_on_the_same_folder_is_refused_naming_the_first(
    tmp_path: Path, served: Served
) -> None:
    root = write_specs(tmp_path, qr_codes=[qr(1)], config=served.config())

    with ApplyLock(root):
        run = wasync("apply", str(root), "--auto-approve")

    assert run.exit_code == 1
    assert re.match(
        r"Error: another wasync apply is running on this spec folder \(pid \d+ of \S+ on \S+, "
        r"since \S+\); wait for it to finish\.",
        run.stderr,
    )
    assert stored_qr(served) == []
    assert wasync("apply", str(root), "--auto-approve").exit_code == 0  # released


@pytest.mark.slow  # the embedded sandbox keeps the documented 5 requests a second
def test_the_example_specs_apply_in_the_embedded_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "specs", tmp_path / "specs", ignore=shutil.ignore_patterns(".wasync"))
    monkeypatch.chdir(tmp_path / "specs")

    run = wasync("apply", "--auto-approve")

    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Apply done: 19 succeeded, 0 failed, 0 skipped" in run.stdout
    assert len(run.stderr.splitlines()) == 19
    assert wasync("plan", "--detailed-exitcode").exit_code == 0


def test_a_lost_answer_is_shown_then_confirmed_in_the_progress_lines(
    tmp_path: Path, served: Served
) -> None:
    # NXCloud creates the template, then answers -1 (failed): wasync must not create it
    # again, and says what it is doing in the meantime.
    served.emus.nx.state.emulator.fail_next("createTemplate", code=-1, act=True)
    root = write_specs(tmp_path, templates=[template(1)], config=served.config())

    run = wasync("apply", str(root), "--auto-approve")

    assert run.exit_code == 0, run.stdout + run.stderr
    (made,) = served.emus.nx.state.emulator.templates(NX_PHONE)
    address = f"template.shop-nx.{NX_PHONE}.order_update_001.en_US"
    assert run.stderr.splitlines() == [
        f"{address}: no clear answer (-1); checking in 1.0s whether it took effect",
        f"{address}: created (id {made['id']}, pending, confirmed by reading it back after "
        "an unanswered call)",
    ]

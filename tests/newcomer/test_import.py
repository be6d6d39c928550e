"""`wasync import`: an account in use that wasync does not manage yet becomes spec files
that validate, plan as no change, and survive a re-import with the user's comments."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_runner import wasync, wasync_process
from ruamel.yaml import YAML

from wasync.importer import SAMPLE_PLACEHOLDER
from wasync.loading import load_desired
from wasync.model import Desired
from wasync.plan.diff import strip_keys

from .support import (
    NX_PHONE,
    QR_PHONES,
    SPECS,
    cams_emulator,
    cams_qr,
    cams_template,
    copy_specs,
    nx_recategorise,
    nx_template,
)

# Each import and plan reads the sandbox at the providers' documented 5 requests per second.
pytestmark = pytest.mark.slow

PHONES = [arg for phone in QR_PHONES for arg in ("--phone", phone)]
CAMS = ["--account", "shop-cams", *PHONES]
NX = ["--account", "shop-nx", "--phone", NX_PHONE]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example specs, applied once to the sandbox (every category and shape)."""
    specs = copy_specs(tmp_path_factory.mktemp("applied") / "specs")
    result = wasync("apply", specs, "--auto-approve")
    assert result.exit_code == 0, result.output
    return specs


@pytest.fixture
def adopting(tmp_path: Path, applied: Path) -> Path:
    """wasync.yaml and the sandbox state of accounts in use, but no spec files yet."""
    root = tmp_path / "adopt"
    root.mkdir()
    shutil.copy(applied / "wasync.yaml", root)
    # Meta's account starts empty here: its import is tests/meta/test_meta_import.py's.
    shutil.copytree(
        applied / ".wasync" / "sandbox",
        root / ".wasync" / "sandbox",
        ignore=shutil.ignore_patterns("shop-meta"),
    )
    return root


def import_all(root: Path, *accounts: list[str]) -> None:
    for args in accounts or (CAMS, NX):
        result = wasync("import", root, *args)
        assert result.exit_code == 0, result.output


def plan_exit(root: Path) -> int:
    return wasync("plan", root, "--detailed-exitcode").exit_code


def templates_by_address(desired: Desired) -> dict[str, object]:
    keys = frozenset({"header_url"})
    return {
        t.address: (t.category, strip_keys(t.canonical_components(), keys))
        for t in desired.templates
    }


def test_fresh_import_validates_plans_clean_and_reproduces_the_specs(adopting: Path) -> None:
    cams = wasync("import", adopting, *CAMS)
    assert cams.exit_code == 0, cams.output
    assert "Read shop-cams (cams): 6 QR codes on 3 numbers and 4 templates." in cams.stdout
    nx = wasync("import", adopting, *NX)
    assert nx.exit_code == 0, nx.output
    # NXCloud keeps no copy of a media sample: a placeholder, and a note saying so.
    assert "autumn_sale.en_US: NXCloud does not return the sample" in nx.stderr

    imported = adopting / "imported"
    assert sorted(p.name for p in imported.iterdir()) == [
        "shop-cams-qr-codes.yaml",
        "shop-cams-templates.yaml",
        "shop-nx-templates.yaml",
    ]
    validated = wasync("validate", adopting)
    assert validated.exit_code == 0, validated.output
    summary = "8 templates, 6 QR codes in 3 files: valid (2 warnings)"
    assert validated.stdout == f"{adopting}: {summary}\n"
    after = wasync("plan", adopting, "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    assert "No changes" in after.stdout and "unmanaged" not in after.stdout

    # What was imported is what the example specs said, but for what providers never
    # return (media samples; NXCloud's TTL) and QR labels, which are made from codes.
    _, mine = load_desired(adopting, freeze=False)
    _, original = load_desired(SPECS, freeze=False)
    imported_accounts = {"shop-cams", "shop-nx"}
    wanted = Desired(
        qr_codes=tuple(q for q in original.desired.qr_codes if q.account in imported_accounts),
        templates=tuple(t for t in original.desired.templates if t.account in imported_accounts),
    )
    assert templates_by_address(mine.desired) == templates_by_address(wanted)
    assert sorted((q.phone, q.prefilled_message, q.image) for q in mine.desired.qr_codes) == (
        sorted((q.phone, q.prefilled_message, q.image) for q in wanted.qr_codes)
    )
    for q in mine.desired.qr_codes:
        assert q.code and q.label == f"qr-{q.code.lower()}"
    text = (imported / "shop-nx-templates.yaml").read_text(encoding="utf-8")
    assert f"header_url: {SAMPLE_PLACEHOLDER}  # NXCloud does not return the sample" in text


def test_import_is_deterministic(adopting: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(adopting, twin)
    import_all(adopting, CAMS)
    import_all(twin, CAMS)
    for path in sorted((adopting / "imported").iterdir()):
        assert path.read_bytes() == (twin / "imported" / path.name).read_bytes()


def test_reimport_changes_nothing_and_keeps_comments(adopting: Path) -> None:
    import_all(adopting, CAMS)
    path = adopting / "imported" / "shop-cams-qr-codes.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("qr_codes:\n", "# Posters printed in March: never touch.\nqr_codes:\n", 1)
    text = text.replace("    image: PNG\n", "    image: PNG  # the counter display\n", 1)
    path.write_text(text, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (adopting / "imported").iterdir()}

    again = wasync("import", adopting, *CAMS)
    assert again.exit_code == 0, again.output
    assert "Already in the specs and matching: 10." in again.stdout
    assert "Nothing to write" in again.stdout
    assert {p.name: p.read_bytes() for p in (adopting / "imported").iterdir()} == before


def test_reimport_appends_what_is_new_after_the_users_text(adopting: Path) -> None:
    import_all(adopting, CAMS)
    qr_file = adopting / "imported" / "shop-cams-qr-codes.yaml"
    edited = qr_file.read_text(encoding="utf-8") + "  # new codes go below\n"
    qr_file.write_text(edited, encoding="utf-8")
    templates_file = adopting / "imported" / "shop-cams-templates.yaml"
    templates_before = templates_file.read_text(encoding="utf-8")

    code = cams_qr(adopting, QR_PHONES[0], "Hi, I scanned the winter flyer.", "PNG")
    cams_template(
        adopting,
        "winter_sale",
        [{"Type": "BODY", "Text": "Our winter sale has started."}],
    )
    again = wasync("import", adopting, *CAMS)
    assert again.exit_code == 0, again.output
    assert f"Added 1 entry to {qr_file}" in again.stdout

    text = qr_file.read_text(encoding="utf-8")
    assert text.startswith(edited)  # everything before stays, byte for byte
    added = YAML(typ="safe").load(text)["qr_codes"][-1]
    assert added == {
        "account": "shop-cams",
        "phone": QR_PHONES[0],
        "label": f"qr-{code.lower()}",
        "prefilled_message": "Hi, I scanned the winter flyer.",
        "image": "PNG",
        "code": code,
    }
    assert templates_file.read_text(encoding="utf-8").startswith(templates_before)
    assert "name: winter_sale" in templates_file.read_text(encoding="utf-8")
    assert plan_exit(adopting) == 0


def test_an_entry_that_differs_is_reported_and_left_unless_overwrite(adopting: Path) -> None:
    import_all(adopting, CAMS)
    path = adopting / "imported" / "shop-cams-qr-codes.yaml"
    original = path.read_text(encoding="utf-8")
    old = "Hi, I'm at the store counter and have a question."
    user_edit = original.replace(
        f"prefilled_message: {old}",
        "prefilled_message: Hi, I'm at the counter!  # reworded for the new stand",
    ).replace("    image: PNG\n", "    image: PNG\n    protect: true\n", 1)
    assert user_edit != original
    path.write_text(user_edit, encoding="utf-8")

    kept = wasync("import", adopting, *CAMS)
    assert kept.exit_code == 0, kept.output
    assert "different at the provider; left as they are" in kept.stdout
    assert f"({path}): prefilled_message" in kept.stdout
    assert path.read_text(encoding="utf-8") == user_edit
    planned = wasync("plan", adopting, "--detailed-exitcode")
    # The plan shows the edit, blocked by the user's protect: nothing apply can do, yet the
    # specs and the provider disagree (exit 4).
    assert planned.exit_code == 4, planned.output
    assert "will not be replaced: blocked" in planned.stdout
    assert "1 blocked" in planned.stdout

    taken = wasync("import", adopting, *CAMS, "--overwrite")
    assert taken.exit_code == 0, taken.output
    assert "Overwrote qr.shop-cams.8615800002222." in taken.stdout
    text = path.read_text(encoding="utf-8")
    # The value is the provider's again; the user's comment on it stays (in its column).
    assert re.search(rf"prefilled_message: {re.escape(old)} +# reworded for the new stand", text)
    assert "protect: true" in text  # the user's setting, not the provider's
    assert plan_exit(adopting) == 0


def test_overwrite_keeps_what_the_provider_never_returns(adopting: Path) -> None:
    import_all(adopting, NX)
    path = adopting / "imported" / "shop-nx-templates.yaml"
    sample = "https://shop.example.com/media/autumn-sale.jpg"
    text = path.read_text(encoding="utf-8")
    text = text.replace(SAMPLE_PLACEHOLDER, sample)
    text = text.replace("until Sunday.", "until Monday.")
    text = text.replace(
        "    name: order_shipped\n",
        "    name: order_shipped\n    message_send_ttl_seconds: 3600\n",
        1,
    )
    path.write_text(text, encoding="utf-8")

    taken = wasync("import", adopting, *NX, "--overwrite")
    assert taken.exit_code == 0, taken.output
    assert "Overwrote template.shop-nx.8618500009999.autumn_sale.en_US" in taken.stdout
    after = path.read_text(encoding="utf-8")
    assert "until Sunday." in after
    assert f"header_url: {sample}" in after and SAMPLE_PLACEHOLDER not in after
    assert "message_send_ttl_seconds: 3600" in after  # NXCloud does not read it back
    assert plan_exit(adopting) == 0


def test_what_wasync_cannot_model_is_skipped_with_a_warning(adopting: Path) -> None:
    cams_template(
        adopting,
        "flash_sale",
        [
            {"Type": "LIMITED_TIME_OFFER", "Text": "Ends soon", "HasExpiration": True},
            {"Type": "BODY", "Text": "Flash sale: 50% off today only."},
        ],
    )
    cams_template(
        adopting,
        "newsletter",
        [
            {"Type": "BODY", "Text": "This week's news."},
            {
                "Type": "BUTTONS",
                "Buttons": [{"Type": "QUICK_REPLY", "Text": "Stop", "IsOptOut": True}],
            },
        ],
    )
    legacy = nx_template(
        adopting,
        "old_login",
        "AUTHENTICATION",
        [
            {"type": "BODY"},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}],
            },
        ],
    )
    nx_recategorise(adopting, legacy, "OTP")

    cams = wasync("import", adopting, *CAMS)
    assert cams.exit_code == 0, cams.output
    nx = wasync("import", adopting, *NX)
    assert nx.exit_code == 0, nx.output
    skipped = cams.stderr + nx.stderr
    assert "template.shop-cams.flash_sale.en: components[0].type" in skipped
    assert "LIMITED_TIME_OFFER" in skipped
    assert "template.shop-cams.newsletter.en: components[1].buttons[0].is_opt_out" in skipped
    assert "template.shop-nx.8618500009999.old_login.en_US: category" in skipped
    assert '"OTP" is not allowed' in skipped
    assert "they stay unmanaged" in skipped

    # Everything else came in; the skipped ones are listed by plan, never touched.
    result = wasync("plan", adopting, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "3 unmanaged" in result.stdout


def test_a_pruning_account_is_warned_about_what_was_skipped(adopting: Path) -> None:
    config = adopting / "wasync.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "cust_space_id: cams-sandbox-space",
            "cust_space_id: cams-sandbox-space\n    prune: true",
        ),
        encoding="utf-8",
    )
    cams_template(
        adopting,
        "flash_sale",
        [{"Type": "LIMITED_TIME_OFFER", "Text": "Soon"}, {"Type": "BODY", "Text": "Sale."}],
    )
    result = wasync("import", adopting, *CAMS)
    assert result.exit_code == 0, result.output
    assert "has prune: true, so the next apply would delete the 1 skipped" in result.stderr


def test_phones_come_from_the_specs_and_from_phone(adopting: Path) -> None:
    written = (
        "qr_codes:\n"
        "  - account: shop-cams  # mine\n"
        f'    phone: "{QR_PHONES[0]}"\n'
        "    label: metro\n"
        "    prefilled_message: Hello! I saw your autumn poster at the metro station.\n"
    )
    (adopting / "mine.yaml").write_text(written, encoding="utf-8")
    result = wasync("import", adopting, "--account", "shop-cams", "--phone", QR_PHONES[1])
    assert result.exit_code == 0, result.output
    assert "Read shop-cams (cams): 4 QR codes on 2 numbers and 4 templates." in result.stdout
    assert "Already in the specs and matching: 1." in result.stdout
    # The spec entry found its code by message only: import pins it, in the user's file,
    # which changes by that one line.
    code = next(
        c["QrdlCode"]
        for c in cams_emulator(adopting).qr_codes(QR_PHONES[0])
        if c["PrefilledMessage"].startswith("Hello! I saw your autumn poster at the metro")
    )
    mine = adopting / "mine.yaml"
    assert "Pinned 1 QR entry to the code each found by its message" in result.stdout
    assert f"qr.shop-cams.8615800001111.metro ({mine}): code: {code}" in result.stdout
    assert mine.read_text(encoding="utf-8") == written + f"    code: {code}\n"
    assert plan_exit(adopting) == 0
    again = wasync("import", adopting, "--account", "shop-cams", "--phone", QR_PHONES[1])
    assert "Pinned" not in again.stdout and "Nothing to write" in again.stdout


def test_a_file_that_cannot_take_a_pin_is_left_alone_and_the_pin_listed(adopting: Path) -> None:
    written = (
        "qr_codes:\n"
        "  - account: shop-cams\n"
        f'    phone: "{QR_PHONES[0]}"\n'
        "    label: metro\n"
        "    prefilled_message: Hello! I saw your autumn poster at the metro station.\n"
        "templates: [ ]  # the YAML writer would drop these spaces\n"
    )
    mine = adopting / "mine.yaml"
    mine.write_text(written, encoding="utf-8")
    result = wasync("import", adopting, "--account", "shop-cams")
    assert result.exit_code == 0, result.output
    assert mine.read_text(encoding="utf-8") == written
    assert "Not pinned: these QR entries find their code by its message only" in result.stderr
    assert f"qr.shop-cams.{QR_PHONES[0]}.metro ({mine}): code: " in result.stderr
    assert "would also change line 6" in result.stderr
    assert plan_exit(adopting) == 0


def test_without_a_known_phone(adopting: Path) -> None:
    cams = wasync("import", adopting, "--account", "shop-cams")
    assert cams.exit_code == 0, cams.output
    assert "QR codes of shop-cams were not read" in cams.stderr
    assert "--phone NUMBER" in cams.stderr
    assert "Added 4 entries" in cams.stdout  # the templates still came in

    nx = wasync("import", adopting, "--account", "shop-nx")
    assert nx.exit_code == 1, nx
    assert nx.stderr.startswith("Error: "), nx
    assert "NXCloud keeps templates per business number" in nx.stderr
    assert not (adopting / "imported" / "shop-nx-templates.yaml").exists()


def test_user_errors_exit_1_with_one_line(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    for args, message in (
        (["--account", "nope"], "Error: no account 'nope' in"),
        (["--account", "shop-cams", "--phone", "+86 158"], "Error: --phone '+86 158': write"),
    ):
        result = wasync_process("import", specs, *args)
        assert result.exit_code == 1, result
        assert result.stderr.startswith(message), result
        assert "Traceback" not in result.stderr


def test_only_the_imported_accounts_credentials_are_needed(adopting: Path) -> None:
    config = adopting / "wasync.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + "  shop-live:\n"
        "    provider: cams\n"
        "    endpoint: https://cams.ap-southeast-1.aliyuncs.com\n"
        "    access_key_id: ${WASYNC_TEST_UNSET_ID}\n"
        "    access_key_secret: ${WASYNC_TEST_UNSET_SECRET}\n",
        encoding="utf-8",
    )
    sandbox = wasync("import", adopting, "--account", "shop-cams")
    assert sandbox.exit_code == 0, sandbox.output

    live = wasync("import", adopting, "--account", "shop-live")
    assert live.exit_code == 1, live
    assert "environment variable WASYNC_TEST_UNSET_ID is not set" in live.stderr
    assert "shop-cams" not in live.stderr  # only the account asked for

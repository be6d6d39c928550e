"""`wasync validate` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import wasync, wasync_process

from .helpers import folder

REPO = Path(__file__).resolve().parents[2]


def test_the_example_specs_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = wasync("validate", "specs")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("specs: ")
    # Two CAMS templates show examples whose wire form CAMS does not document: warned, valid.
    assert result.stdout.endswith(" files: valid (2 warnings)\n")
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2
    assert all(w.startswith("warning: specs/templates/marketing.yaml:") for w in warnings)
    assert "template.shop-cams.welcome_offer.en: components[1].buttons[1].example:" in warnings[0]
    assert "template.shop-cams.autumn_collection.en: components[1].cards:" in warnings[1]


def test_a_broken_spec_prints_every_problem_with_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = (
        "templates:\n"
        "  - account: shop-nx\n"
        '    phone: "8618500009999"\n'
        "    name: Bad-Name\n"
        "    language: en_US\n"
        "    category: UTILITY\n"
        "    components:\n"
        "      - {type: BODY, text: '{{1}} is ready'}\n"
    )
    folder(tmp_path / "specs", {"shop.yaml": spec})
    monkeypatch.chdir(tmp_path)
    result = wasync("validate", "specs")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    address = "template.shop-nx.8618500009999.Bad-Name.en_US"
    assert lines[0].startswith(f"specs/shop.yaml:4:11: {address}: name: ")
    assert lines[1].startswith(f"specs/shop.yaml:8:28: {address}: components[0].text: ")
    assert lines[-1] == "3 problems found"
    assert "Traceback" not in result.output


def test_no_wasync_yaml_is_one_clear_error_without_a_traceback(tmp_path: Path) -> None:
    result = wasync_process("validate", tmp_path)
    assert result.exit_code == 1, result
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: no wasync.yaml in {tmp_path}; create ")
    assert "Traceback" not in result.stderr


REAL_ACCOUNT = """\
accounts:
  live:
    provider: cams
    endpoint: https://cams.ap-southeast-1.aliyuncs.com
    access_key_id: ${TEST_VALIDATE_AK_ID}
    access_key_secret: ${TEST_VALIDATE_AK_SECRET}
"""


def test_validate_runs_offline_without_the_credential_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_VALIDATE_AK_ID", raising=False)
    monkeypatch.delenv("TEST_VALIDATE_AK_SECRET", raising=False)
    folder(tmp_path, {}, config=REAL_ACCOUNT)
    result = wasync("validate", str(tmp_path))
    assert result.exit_code == 0, result.output
    # ...but a malformed reference is still caught.
    folder(tmp_path, {}, config=REAL_ACCOUNT.replace("${TEST_VALIDATE_AK_ID}", "${BAD NAME}"))
    result = wasync("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "is not an environment variable name" in result.stderr


def test_validate_names_the_folder_it_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shop-specs"
    root.mkdir()
    folder(root, {}, config=REAL_ACCOUNT)
    result = wasync("validate", root)
    assert result.stdout == f"{root}: 0 templates, 0 QR codes in 0 files: valid\n", result
    monkeypatch.chdir(root)
    assert wasync("validate").stdout == ".: 0 templates, 0 QR codes in 0 files: valid\n"

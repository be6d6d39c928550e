"""A saved plan is what was reviewed: an edited plan is refused even with its checksum
recomputed, and a file that is no plan at all is refused with exit 1, never a hang or a
crash."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_runner import wasync
from plan.builders import body, make_plan, qr, rqr, rtpl, tpl

from wasync.plan.digest import sha256_of
from wasync.plan.saved import (
    MAX_BYTES,
    MAX_DEPTH,
    PlanFileError,
    check_stale,
    read_plan,
    write_plan,
)

PHONE = "8615800001111"
CONFIG = "accounts:\n  shop-cams:\n    provider: cams\n    endpoint: sandbox\n"
SPEC = f"""\
qr_codes:
  - account: shop-cams
    phone: "{PHONE}"
    label: poster
    prefilled_message: Hello from the poster
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "qr.yaml").write_text(SPEC, encoding="utf-8")
    return root


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the plan in ``path`` and recompute its checksum, as someone who means it would."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc["plan"])
    doc["checksum"] = sha256_of(doc["plan"])
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_an_edited_field_with_a_new_checksum_is_refused_and_named(folder: Path) -> None:
    plan_file = folder.parent / "plan.json"
    assert wasync("plan", folder, "--out", plan_file).exit_code == 0

    def reword(plan: dict[str, Any]) -> None:
        plan["changes"][0]["fields"][1]["after"] = "Hello from the reviewed poster"

    edit(plan_file, reword)
    assert read_plan(plan_file).data["changes"][0]["fields"][1]["after"].endswith("poster")
    result = wasync("apply", folder, "--plan", plan_file, "--auto-approve")
    assert result.exit_code == 1, result
    assert f"qr.shop-cams.{PHONE}.poster: fields[1].after differ" in result.stderr
    assert "the file was edited" in result.stderr and "Run wasync plan again" in result.stderr
    # Nothing was created: the next plan still has the create.
    assert "1 to create" in wasync("plan", folder).stdout

    # The untouched plan applies.
    assert wasync("plan", folder, "--out", plan_file).exit_code == 0
    result = wasync("apply", folder, "--plan", plan_file, "--auto-approve")
    assert result.exit_code == 0, result


def test_removed_hazards_or_a_lowered_count_are_named(tmp_path: Path) -> None:
    menu = qr("menu", "New menu", code="M1")
    shipped = tpl("order_shipped")
    desired, remote = (
        [menu, shipped],
        [rqr("M1", "Old menu"), rtpl(shipped, components=(body("Old"),))],
    )
    path = tmp_path / "p.json"
    write_plan(make_plan(desired, remote), path)

    def hide(plan: dict[str, Any]) -> None:
        for change in plan["changes"]:
            change["hazards"] = []
        plan["summary"]["replace"] = 0

    edit(path, hide)
    stale = [str(s) for s in check_stale(read_plan(path), make_plan(desired, remote))]
    assert [s.split(":")[0] for s in stale] == [
        f"qr.shop-cams.{PHONE}.menu",
        "template.shop-nx.8618500009999.order_shipped.en_US",
        "summary.replace differ from what a fresh plan says",
    ]
    assert stale[0].startswith(f"qr.shop-cams.{PHONE}.menu: hazards differ")


def test_a_missing_change_is_named_with_the_right_article(tmp_path: Path) -> None:
    shipped = tpl("order_shipped")
    desired, remote = [shipped], [rtpl(shipped, components=(body("Old"),))]
    path = tmp_path / "p.json"
    write_plan(make_plan(desired, []), path)  # planned before the template existed
    stale = [str(s) for s in check_stale(read_plan(path), make_plan(desired, remote))]
    assert (
        "template.shop-nx.8618500009999.order_shipped.en_US: now needs an update the plan "
        "does not have"
    ) in stale


def _deep(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _deep_inside(path: Path) -> None:
    # Shallow enough for the parser, too deep for a plan: refused before anything walks it.
    value = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    path.write_text(f'{{"format": "wasync-plan", "format_version": 1, "plan": {value}}}')


def _huge(path: Path) -> None:
    with path.open("wb") as file:  # sparse: costs no disk
        file.truncate(MAX_BYTES + 1)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _utf16(path: Path) -> None:
    path.write_bytes('{"format": "wasync-plan"}'.encode("utf-16"))


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_deep, f"its JSON nests more than {MAX_DEPTH} levels deep"),
        (_deep_inside, f"its JSON nests more than {MAX_DEPTH} levels deep"),
        (_huge, "it is larger than 64 MiB"),
        (_fifo, "it is a device, FIFO or socket, not a file"),
        (_folder, "is a directory"),  # click refuses it first; read_plan too
        (_utf16, "not UTF-8"),
    ],
    ids=["deep", "deep-inside", "huge", "fifo", "directory", "utf-16"],
)
def test_a_bad_plan_file_is_exit_1_with_a_clear_message(
    folder: Path, make: Callable[[Path], None], message: str
) -> None:
    path = folder.parent / "plan.json"
    make(path)
    for command in ("apply", "show"):
        args = [command, folder, "--plan", path, "--auto-approve"] if command == "apply" else []
        result = wasync(*(args or ["show", path]))
        assert result.exit_code == 1, result
        assert message in result.stderr and str(path) in result.stderr
        assert "Traceback" not in result.output


@pytest.mark.timeout(20)
def test_a_character_device_is_refused_without_reading_it(folder: Path) -> None:
    result = wasync("apply", folder, "--plan", "/dev/zero", "--auto-approve")
    assert result.exit_code == 1, result
    assert "/dev/zero: it is a device, FIFO or socket, not a file" in result.stderr


def test_read_plan_refuses_a_directory_itself(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="it is a directory, not a file"):
        read_plan(tmp_path)

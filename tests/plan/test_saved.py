"""Saved plans: round trip, validation of foreign files, stale detection, no secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from plan.builders import Held, Spec, body, make_plan, qr, rqr, rtpl, tpl
from wasync import __version__
from wasync.config import Config
from wasync.plan import filter_targets, from_config
from wasync.plan.saved import (
    PlanFileError,
    StalePlanError,
    check_stale,
    ensure_fresh,
    read_plan,
    write_plan,
)
from wasync.providers.cams.account import CamsAccount
from wasync.providers.nxcloud.account import NxcloudAccount

SHIPPED = tpl("order_shipped")


def base() -> tuple[list[Spec], list[Held]]:
    desired: list[Spec] = [qr("menu", "New menu", code="M1"), SHIPPED, qr("poster", "Hello")]
    remote: list[Held] = [
        rqr("M1", "Old menu"),
        rtpl(SHIPPED, components=(body("Old"),)),
        rqr("X9", "stray"),
    ]
    return desired, remote


def test_round_trip_keeps_data_options_and_fingerprints(tmp_path: Path) -> None:
    desired, remote = base()
    p = filter_targets(make_plan(desired, remote, prune=True), ["qr"])
    path = tmp_path / "plan.json"
    write_plan(p, path)
    saved = read_plan(path)
    assert saved.data == p.data() and saved.checksum == p.checksum()
    assert saved.prune is True and saved.targets == ("qr",)
    assert saved.specs_digest == p.specs_digest and saved.wasync_version == __version__
    assert [(c.address, c.action, c.remote_fingerprint) for c in saved.changes] == [
        (c.address, c.action, c.remote_fingerprint) for c in p.changes
    ]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind
    assert check_stale(saved, p) == []


def test_a_fresh_plan_with_the_same_state_is_not_stale(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    ensure_fresh(read_plan(tmp_path / "p.json"), make_plan(desired, remote))


def test_a_remote_change_names_the_resource(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    # Someone edited the template's remote text after the plan was made.
    remote[1] = rtpl(SHIPPED, components=(body("Older"),))
    stale = check_stale(read_plan(tmp_path / "p.json"), make_plan(desired, remote))
    assert [str(s) for s in stale] == [
        "template.shop-nx.8618500009999.order_shipped.en_US: changed remotely since the plan "
        "was made"
    ]


def test_a_status_change_makes_the_plan_stale(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    remote[1] = rtpl(SHIPPED, components=(body("Old"),), status="PENDING")
    stale = check_stale(read_plan(tmp_path / "p.json"), make_plan(desired, remote))
    assert [s.address for s in stale] == ["template.shop-nx.8618500009999.order_shipped.en_US"]


def test_changes_that_appear_or_disappear_are_named(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    # The poster code was created by someone else; a new code appeared that nothing names.
    remote += [rqr("P1", "Hello")]
    remote[0] = rqr("M1", "New menu")
    fresh = make_plan(desired, remote, prune=False)
    stale = [str(s) for s in check_stale(read_plan(tmp_path / "p.json"), fresh)]
    assert stale == [
        "qr.shop-cams.8615800001111.menu: the planned replace is no longer needed",
        "qr.shop-cams.8615800001111.poster: the planned create is no longer needed",
    ]
    fresh = make_plan(desired, remote, prune=True)
    stale = [str(s) for s in check_stale(read_plan(tmp_path / "p.json"), fresh)]
    assert "qr.shop-cams.8615800001111.X9: now needs a delete the plan does not have" in stale
    assert "made with other --prune or --target options" in stale


def test_a_spec_change_makes_the_plan_stale_even_without_new_changes(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    desired[0] = qr("menu", "New menu", code="M1", protect=True)  # no diff, but the spec moved
    fresh = make_plan(desired, remote)
    with pytest.raises(StalePlanError) as err:
        ensure_fresh(read_plan(tmp_path / "p.json"), fresh)
    text = str(err.value)
    assert "the specs changed since the plan was made" in text
    assert text.endswith("Run wasync plan again, review it, and apply the new plan.")
    assert str(tmp_path / "p.json") in text


def test_a_different_wasync_version_is_stale(tmp_path: Path) -> None:
    desired, remote = base()
    p = make_plan(desired, remote)
    write_plan(p, tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["wasync_version"] = "0.0.1"
    (tmp_path / "p.json").write_text(json.dumps(doc))
    stale = check_stale(read_plan(tmp_path / "p.json"), p)
    assert [str(s) for s in stale] == [f"written by wasync 0.0.1; this is {__version__}"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json {", "is not a wasync plan: not JSON (line 1, column 1)"),
        ('{"terraform": 1}', 'is not a wasync plan (it has no "format": "wasync-plan")'),
        ("[1, 2]", "is not a wasync plan"),
        (
            '{"format": "wasync-plan", "format_version": 99, "wasync_version": "9.0"}',
            "is in plan format 99, written by wasync 9.0; this wasync",
        ),
        ('{"format": "wasync-plan", "format_version": 1}', "is a damaged wasync plan"),
    ],
)
def test_foreign_files_are_refused_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(PlanFileError, match="x.json " + _re(message)):
        read_plan(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="cannot read plan file"):
        read_plan(tmp_path / "nope.json")


def test_an_edited_plan_is_refused(tmp_path: Path) -> None:
    desired, remote = base()
    write_plan(make_plan(desired, remote), tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["plan"]["changes"][0]["action"] = "delete"
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(PlanFileError, match="was modified after wasync wrote it"):
        read_plan(tmp_path / "p.json")


def test_a_saved_plan_holds_no_secret(tmp_path: Path) -> None:
    secrets = ["AKID-very-secret-1", "sk-very-secret-2", "ak-very-secret-3", "nx-very-secret-4"]
    cams = CamsAccount(
        name="shop-cams",
        provider="cams",
        access_key_id=SecretStr(secrets[0]),
        access_key_secret=SecretStr(secrets[1]),
    )
    nx = NxcloudAccount(
        name="shop-nx",
        provider="nxcloud",
        appkey="app",
        access_key=SecretStr(secrets[2]),
        secret_key=SecretStr(secrets[3]),
    )
    config = Config(root=tmp_path, accounts={"shop-cams": cams, "shop-nx": nx})
    desired, remote = base()
    p = make_plan(desired, remote, accounts=from_config(config), prune=True)
    write_plan(p, tmp_path / "p.json")
    text = (tmp_path / "p.json").read_text()
    assert p.changes and not any(s in text for s in secrets)


def test_an_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="cannot write the plan to"):
        write_plan(make_plan([]), tmp_path / "missing-dir" / "p.json")


def _re(text: str) -> str:
    return re.escape(text)

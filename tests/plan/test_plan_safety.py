"""Plan counts, order and data form; thresholds; --target."""

from __future__ import annotations

import pytest

from plan.builders import (
    ACCOUNTS,
    CAMS_PHONE,
    NX_PHONE,
    Held,
    Spec,
    body,
    make_plan,
    qr,
    rqr,
    rtpl,
    tpl,
)
from wasync.config import Thresholds
from wasync.errors import WasyncError
from wasync.plan import AccountSettings, Plan, ThresholdError, filter_targets
from wasync.plan.targets import UnknownTargetError
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS


def cams_account(
    share: float = 0.30, minimum: int = 10, prune: bool = False
) -> dict[str, AccountSettings]:
    return {
        **ACCOUNTS,
        "shop-cams": AccountSettings(
            CAMS_TRAITS,
            prune=prune,
            thresholds=Thresholds(max_change_share=share, min_resources=minimum),
        ),
    }


def pinned_qr_fleet(total: int, changed: int) -> tuple[list[Spec], list[Held]]:
    """``total`` pinned QR codes, the first ``changed`` of them with a new message."""
    desired: list[Spec] = [qr(f"q{i:03}", f"msg {i}", code=f"C{i:03}") for i in range(total)]
    remote: list[Held] = [
        rqr(f"C{i:03}", f"msg {i}" + (" old" if i < changed else "")) for i in range(total)
    ]
    return desired, remote


# --- plan values ----------------------------------------------------------------------------------


def test_changes_are_sorted_by_account_kind_address() -> None:
    p = make_plan(
        [tpl("z"), tpl("a", account="shop-cams"), qr("b", "x"), qr("a", "y"), tpl("b")],
    )
    assert [c.address for c in p.changes] == [
        f"qr.shop-cams.{CAMS_PHONE}.a",
        f"qr.shop-cams.{CAMS_PHONE}.b",
        "template.shop-cams.a.en_US",
        f"template.shop-nx.{NX_PHONE}.b.en_US",
        f"template.shop-nx.{NX_PHONE}.z.en_US",
    ]


def test_counts_exclude_blocked_changes() -> None:
    pending = tpl("p")
    p = make_plan(
        [qr("a", "x"), pending, tpl("new")],
        [rtpl(pending, status="PENDING", components=(body("o"),))],
    )
    assert p.counts() == {"create": 2, "update": 0, "replace": 0, "delete": 0}
    assert p.blocked_count == 1 and p.has_changes
    summary = p.data()["summary"]
    assert summary == {
        "create": 2,
        "update": 0,
        "replace": 0,
        "delete": 0,
        "blocked": 1,
        "unmanaged": 0,
        "warnings": 0,
        "has_changes": True,
    }


def test_a_plan_of_only_blocked_changes_has_no_changes_to_apply() -> None:
    pending = tpl("p")
    p = make_plan([pending], [rtpl(pending, status="PENDING", components=(body("o"),))])
    assert not p.has_changes and p.blocked_count == 1


def test_per_account_summaries_count_every_configured_account() -> None:
    p = make_plan([qr("a", "x")], [rtpl(tpl("legacy"))])
    rows = {a["account"]: a for a in p.data()["accounts"]}
    assert rows["shop-cams"]["create"] == 1 and rows["shop-cams"]["managed"] == 1
    assert rows["shop-nx"]["unmanaged"] == 1 and rows["shop-nx"]["provider"] == "nxcloud"


def test_checksum_follows_the_data() -> None:
    a = make_plan([qr("a", "x")])
    assert a.checksum() == make_plan([qr("a", "x")]).checksum()
    assert a.checksum() != make_plan([qr("a", "y")]).checksum()


# --- thresholds -----------------------------------------------------------------------------------


def test_threshold_violation_carries_the_numbers() -> None:
    desired, remote = pinned_qr_fleet(31, 12)
    p = make_plan(desired, remote, accounts=cams_account())
    (v,) = p.threshold_violations()
    assert (v.account, v.changing, v.managed) == ("shop-cams", 12, 31)
    with pytest.raises(ThresholdError) as err:
        p.check_thresholds()
    assert str(err.value) == (
        "shop-cams: 12 of 31 managed resources would be updated or deleted (38.7% > 30.0%); "
        "review the plan and use --force"
    )
    assert isinstance(err.value, WasyncError)
    p.check_thresholds(force=True)  # forced: no error


def test_at_the_threshold_is_allowed() -> None:
    desired, remote = pinned_qr_fleet(10, 3)
    p = make_plan(desired, remote, accounts=cams_account())
    assert p.threshold_violations() == []


def test_small_accounts_are_below_min_resources() -> None:
    desired, remote = pinned_qr_fleet(9, 9)
    p = make_plan(desired, remote, accounts=cams_account())
    assert p.threshold_violations() == []
    p = make_plan(desired, remote, accounts=cams_account(minimum=9))
    assert [v.changing for v in p.threshold_violations()] == [9]


def test_pruning_an_emptied_spec_trips_the_threshold() -> None:
    remote = [rqr(f"C{i:02}", f"m{i}") for i in range(20)]
    p = make_plan([], remote, accounts=cams_account(prune=True))
    (v,) = p.threshold_violations()
    assert (v.changing, v.managed) == (20, 20)
    assert "20 of 20 managed resources would be updated or deleted (100.0% > 30.0%)" in str(v)


def test_blocked_changes_do_not_count_towards_the_threshold() -> None:
    desired = [qr(f"q{i:02}", f"m{i}", code=f"C{i:02}", protect=True) for i in range(10)]
    remote = [rqr(f"C{i:02}", "old") for i in range(10)]
    p = make_plan(desired, remote, accounts=cams_account())
    assert p.blocked_count == 10 and p.threshold_violations() == []


def test_thresholds_are_per_account() -> None:
    desired, remote = pinned_qr_fleet(10, 10)
    nx = [tpl(f"t{i}") for i in range(10)]
    accounts = {
        "shop-cams": AccountSettings(CAMS_TRAITS),
        "shop-nx": AccountSettings(NXCLOUD_TRAITS),
    }
    p = make_plan([*desired, *nx], [*remote, *map(rtpl, nx)], accounts=accounts)
    assert [v.account for v in p.threshold_violations()] == ["shop-cams"]
    assert p.data()["threshold_violations"][0]["message"].startswith("shop-cams: 10 of 10")


# --- targets --------------------------------------------------------------------------------------


def target_plan() -> Plan:
    return make_plan(
        [
            qr("poster", "a"),
            qr("poster-2", "b"),
            tpl("ship"),
            tpl("ship", "es"),
            tpl("x", account="shop-cams"),
        ],
        [rqr("OLD", "z")],
    )


def test_a_target_selects_an_address_and_what_is_below_it_at_a_dot() -> None:
    p = target_plan()
    only = filter_targets(p, [f"qr.shop-cams.{CAMS_PHONE}.poster"])
    assert [c.address for c in only.changes] == [f"qr.shop-cams.{CAMS_PHONE}.poster"]
    assert only.unmanaged == () and only.targets == (f"qr.shop-cams.{CAMS_PHONE}.poster",)
    group = filter_targets(p, ["qr.shop-cams"])
    assert len(group.changes) == 2 and len(group.unmanaged) == 1
    name = filter_targets(p, [f"template.shop-nx.{NX_PHONE}.ship"])
    assert [c.address.rsplit(".", 1)[1] for c in name.changes] == ["en_US", "es"]
    assert filter_targets(p, []) is p


def test_filtered_plans_keep_account_facts_and_recount() -> None:
    p = filter_targets(target_plan(), ["template"])
    rows = {a["account"]: a for a in p.data()["accounts"]}
    assert rows["shop-cams"]["create"] == 1 and rows["shop-cams"]["managed"] == 3


def test_an_unknown_target_is_an_error_with_close_matches() -> None:
    with pytest.raises(UnknownTargetError) as err:
        filter_targets(target_plan(), ["qr.shop-cam"])
    assert str(err.value) == (
        "--target qr.shop-cam matches nothing in the specs or the remote state; "
        "did you mean qr.shop-cams?"
    )


def test_a_target_of_a_remote_only_address_is_known() -> None:
    p = filter_targets(target_plan(), [f"qr.shop-cams.{CAMS_PHONE}.OLD"])
    assert p.changes == () and len(p.unmanaged) == 1


def test_a_target_of_an_unchanged_resource_is_known_and_selects_nothing() -> None:
    t = tpl("same")
    p = filter_targets(make_plan([t], [rtpl(t)]), [t.address])
    assert p.changes == () and not p.has_changes


def test_targeting_one_language_keeps_the_languages_its_delete_takes_along() -> None:
    remote = [rtpl(tpl("old", lang)) for lang in ("en_US", "es")]
    p = make_plan([], remote, prune=True)
    only = filter_targets(p, [f"template.shop-nx.{NX_PHONE}.old.es"])
    assert [c.address for c in only.changes] == [
        f"template.shop-nx.{NX_PHONE}.old.en_US",
        f"template.shop-nx.{NX_PHONE}.old.es",
    ]


def test_planned_creates_do_not_dilute_the_threshold() -> None:
    # 120 codes exist; the specs keep 80, add 40 new ones and prune the other 40. Counting
    # the 40 creates made it 40 of 160 (25%) and let it through; 40 of the 120 that exist
    # is 33.3%.
    remote = [rqr(f"C{i:03}", f"m{i}") for i in range(120)]
    desired = [qr(f"q{i:03}", f"m{i}", code=f"C{i:03}") for i in range(80)]
    desired += [qr(f"new{i:03}", f"fresh {i}") for i in range(40)]
    p = make_plan(desired, remote, accounts=cams_account(prune=True))
    assert p.counts() == {"create": 40, "update": 0, "replace": 0, "delete": 40}
    (row,) = (a for a in p.data()["accounts"] if a["account"] == "shop-cams")
    assert (row["managed"], row["existing"]) == (160, 120)
    (v,) = p.threshold_violations()
    assert (v.changing, v.managed) == (40, 120)
    assert str(v) == (
        "shop-cams: 40 of 120 managed resources would be updated or deleted (33.3% > 30.0%)"
    )


def test_an_account_of_creates_only_is_below_any_threshold() -> None:
    desired = [qr(f"q{i:02}", f"m{i}") for i in range(20)]
    p = make_plan(desired, accounts=cams_account())
    (row,) = (a for a in p.data()["accounts"] if a["account"] == "shop-cams")
    assert (row["managed"], row["existing"]) == (20, 0)
    assert p.threshold_violations() == []

"""The same change on many targets is said once in text and Markdown; JSON keeps one change
per resource; changes that differ in anything shown are never merged."""

from __future__ import annotations

import json

from wasync.plan import AccountSettings
from wasync.plan.render import json as json_render
from wasync.plan.render import markdown, text
from wasync.plan.render.grouping import group_changes
from wasync.providers.cams.traits import CAMS_TRAITS

from .builders import body, make_plan, qr, rqr, rtpl, tpl

BRANDS = [f"brand-{i:02}" for i in range(40)]
ACCOUNTS = {name: AccountSettings(CAMS_TRAITS) for name in BRANDS}
NEW = [body("Your order {{1}} is on its way.", "12345")]


def forty_updates(odd_one: str | None = None) -> dict[str, object]:
    """``order_shipped`` updated on 40 accounts (rejected, so CAMS may edit it); the
    remote of ``odd_one`` holds other text, so its change differs."""
    desired, remote = [], []
    for name in BRANDS:
        d = tpl("order_shipped", account=name, components=NEW)
        old = "Your order {{1}} shipped." if name != odd_one else "Order {{1}} sent."
        desired.append(d)
        remote.append(rtpl(d, status="REJECTED", components=(body(old, "12345"),), id=f"id-{name}"))
    return make_plan(desired, remote, accounts=ACCOUNTS).data()


def test_forty_identical_updates_are_one_block_in_text() -> None:
    data = forty_updates()
    out = text.to_text(data)
    assert "  # order_shipped.en_US: update on 40 accounts (brand-00, brand-01, " in out
    assert "  # template.*.order_shipped.en_US will be updated in place (status REJECTED)" in out
    line = '~ components[0].text = "Your order {{1}} shipped." -> "Your order {{1}} is on its way."'
    assert out.count(line) == 1
    assert "template.brand-07.order_shipped.en_US" not in out
    assert "Plan: 0 to create, 40 to update, 0 to delete." in out
    # JSON is for programs: one change per resource, as before.
    changes = json.loads(json_render.render(data))["changes"]
    assert len(changes) == 40
    assert {c["address"] for c in changes} == {f"template.{b}.order_shipped.en_US" for b in BRANDS}


def test_a_target_whose_change_differs_is_shown_on_its_own() -> None:
    data = forty_updates(odd_one="brand-13")
    out = text.to_text(data)
    assert "order_shipped.en_US: update on 39 accounts" in out
    assert "brand-13" not in out.split("update on 39 accounts")[1].splitlines()[0]
    assert "  # template.brand-13.order_shipped.en_US will be updated in place" in out
    assert out.count('"Order {{1}} sent."') == 1


def test_markdown_shows_the_group_once_and_still_counts_each_account() -> None:
    data = forty_updates(odd_one="brand-13")
    md = markdown.render(data)
    assert md.count("<summary>order_shipped.en_US: update on 39 accounts (brand-00, ") == 1
    assert "`template.*.order_shipped.en_US` **will be updated in place" in md
    # Only the account whose change differs has a block of its own.
    assert "<summary>brand-13: 1 to update</summary>" in md
    assert "<summary>brand-07:" not in md
    assert "| brand-07 | cams | 0 | 1 | 0 | 0 | 0 | 0 |" in md  # the table counts each


def test_groups_are_only_of_changes_that_show_the_same() -> None:
    # Two QR codes replaced with the same message: each retires its own code, so each is
    # shown with its code; two created alike on two numbers are one.
    plan = make_plan(
        [
            qr("poster", "Hola", phone="8615800001111"),
            qr("poster", "Hola", phone="8615800002222"),
            qr("flyer", "Hi", code="A1", phone="8615800001111"),
            qr("flyer", "Hi", code="B2", phone="8615800002222"),
        ],
        [
            rqr("A1", "Hello", phone="8615800001111"),
            rqr("B2", "Hello", phone="8615800002222"),
        ],
    )
    groups = group_changes(plan.data()["changes"])
    sizes = sorted((g.first["action"], len(g.changes)) for g in groups)
    assert sizes == [("create", 2), ("replace", 1), ("replace", 1)]
    created = next(g for g in groups if len(g.changes) == 2)
    assert created.headline() == (
        "poster: create on 2 numbers (shop-cams.8615800001111, shop-cams.8615800002222)"
    )
    # The number each is on is in the headline, not in the fields shown once.
    assert [f["path"] for f in created.standing_for_all()["fields"]] == [
        "prefilled_message",
        "image",
    ]


def test_what_cannot_be_applied_is_listed_once_for_all_its_targets() -> None:
    desired, remote = [], []
    for name in BRANDS:
        d = tpl("order_shipped", account=name, components=NEW)
        desired.append(d)
        old = "Your order {{1}} shipped." if name != "brand-13" else "Order {{1}} sent."
        remote.append(rtpl(d, status="APPROVED", components=(body(old, "12345"),)))
    data = make_plan(desired, remote, accounts=ACCOUNTS).data()
    out = text.to_text(data)
    cannot = out.split("Cannot be applied")[1].split("\n\n")[0].splitlines()[1:]
    # One line for the 40 (the remote text differs on brand-13, the reason does not), and
    # its way out.
    assert len(cannot) == 2, cannot
    assert cannot[0].startswith(
        "  x order_shipped.en_US on 40 accounts (brand-00, brand-01, "
    ) and cannot[0].endswith(
        "brand-39) (update): APPROVED: CAMS cannot modify an approved template"
    )
    md = markdown.render(data)
    assert md.count(":no_entry: `order_shipped.en_US on 40 accounts (brand-00, ") == 1

"""Template identity, field diffs and the safety rules of each provider."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from plan.builders import NOW, NX_PHONE, body, make_plan, rtpl, settings, tpl
from wasync.plan import AccountSettings
from wasync.providers.cams.traits import CAMS_TRAITS

URL_BUTTONS: dict[str, Any] = {
    "type": "BUTTONS",
    "buttons": [
        {"type": "URL", "text": "Track", "url": "https://t.example/{{1}}", "example": ["x"]},
        {"type": "QUICK_REPLY", "text": "Stop"},
    ],
}
IMAGE_HEADER: dict[str, Any] = {
    "type": "HEADER",
    "format": "IMAGE",
    "example": {"header_url": "https://cdn.example/sample.png"},
}


def fields(change: Any) -> list[tuple[str, Any, Any]]:
    return [(f.path, f.before, f.after) for f in change.fields]


def one(desired: Any, remote: Any, **kwargs: Any) -> Any:
    p = make_plan([desired], [remote], **kwargs)
    (c,) = p.changes
    return c


# --- identity and diffs ---------------------------------------------------------------------------


def test_a_new_template_is_created_with_its_full_field_list() -> None:
    p = make_plan([tpl("order_shipped", ttl=600)])
    (c,) = p.changes
    assert (c.action, c.address) == ("create", f"template.shop-nx.{NX_PHONE}.order_shipped.en_US")
    assert fields(c) == [
        ("category", None, "UTILITY"),
        ("components[0].type", None, "BODY"),
        ("components[0].text", None, "Your order {{1}} has shipped."),
        ("components[0].example.body_text[0][0]", None, "12345"),
        ("message_send_ttl_seconds", None, 600),
    ]


def test_cams_templates_are_addressed_without_a_phone() -> None:
    p = make_plan([tpl("welcome", "en", account="shop-cams")])
    assert p.changes[0].address == "template.shop-cams.welcome.en"


def test_a_matching_template_is_no_change() -> None:
    t = tpl("order_shipped", components=[body("Hi {{1}}", "Ann"), URL_BUTTONS])
    assert make_plan([t], [rtpl(t)]).changes == ()


def test_another_language_or_phone_is_another_template() -> None:
    t = tpl("order_shipped")
    p = make_plan([t], [rtpl(tpl("order_shipped", "es")), rtpl(t, phone="8618500000000")])
    assert [c.action for c in p.changes] == ["create"]
    assert len(p.unmanaged) == 2


def test_update_paths_are_readable_and_list_only_the_leaves_that_differ() -> None:
    t = tpl("order_shipped", components=[body("Hi {{1}}", "Ann"), URL_BUTTONS])
    old_buttons = {
        "type": "BUTTONS",
        "buttons": [{**URL_BUTTONS["buttons"][0], "text": "Track it"}],
    }
    c = one(t, rtpl(t, status="REJECTED", components=(body("Hello {{1}}", "Ann"), old_buttons)))
    assert c.action == "update"
    assert fields(c) == [
        ("components[0].text", "Hello {{1}}", "Hi {{1}}"),
        ("components[1].buttons[0].text", "Track it", "Track"),
        ("components[1].buttons[1].type", None, "QUICK_REPLY"),
        ("components[1].buttons[1].text", None, "Stop"),
    ]


def test_a_removed_component_is_listed_leaf_by_leaf() -> None:
    t = tpl("order_shipped", components=[body("Hi")])
    c = one(
        t, rtpl(t, status="REJECTED", components=(body("Hi"), {"type": "FOOTER", "text": "Bye"}))
    )
    assert fields(c) == [
        ("components[1].type", "FOOTER", None),
        ("components[1].text", "Bye", None),
    ]


def test_write_only_keys_cause_no_drift() -> None:
    # The spec's sample URL goes up on create; the provider returns its own CDN copy.
    t = tpl("promo", components=[IMAGE_HEADER, body("Hi")])
    returned = {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "https://cdn.nx/1"}}
    assert make_plan([t], [rtpl(t, components=(returned, body("Hi")))]).changes == ()
    without = {"type": "HEADER", "format": "IMAGE"}
    assert make_plan([t], [rtpl(t, components=(without, body("Hi")))]).changes == ()


def test_write_only_keys_are_not_shown_in_an_update_but_other_changes_are() -> None:
    t = tpl("promo", components=[IMAGE_HEADER, body("Hi")])
    returned = {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "https://cdn.nx/1"}}
    c = one(t, rtpl(t, status="REJECTED", components=(returned, body("Hello"))))
    assert fields(c) == [("components[1].text", "Hello", "Hi")]


def test_ttl_is_compared_only_when_the_spec_sets_it() -> None:
    t = tpl("code", account="shop-cams")
    assert make_plan([t], [rtpl(t, message_send_ttl_seconds=900)]).changes == ()
    t = tpl("code", account="shop-cams", ttl=600)
    c = one(t, rtpl(t, status="REJECTED", message_send_ttl_seconds=900))
    assert fields(c) == [("message_send_ttl_seconds", 900, 600)]


def test_a_ttl_change_an_update_cannot_make_is_blocked_with_what_to_do() -> None:
    # A provider that reads the TTL back but, like NXCloud, updates without it.
    traits = replace(CAMS_TRAITS, template_ttl_updatable=False)
    accounts = {**settings(), "shop-cams": AccountSettings(traits)}
    t = tpl("code", account="shop-cams", ttl=600)
    c = one(t, rtpl(t, status="REJECTED", message_send_ttl_seconds=900), accounts=accounts)
    assert fields(c) == [("message_send_ttl_seconds", 900, 600)]
    assert c.blocked is not None and c.blocked.code == "ttl-not-updatable"
    assert "delete the template and create it again" in c.blocked.reason


def test_an_nxcloud_update_warns_that_the_ttl_stays_as_created() -> None:
    t = tpl("code", ttl=600, components=[body("New words {{1}}.", "1")])
    old = tpl("code", ttl=600)
    p = make_plan([t], [rtpl(old, message_send_ttl_seconds=None)])
    (c,) = p.changes
    assert c.action == "update" and c.blocked is None  # the components still change
    (warning,) = p.warnings
    assert warning.address == t.address
    assert "NXCloud updates a template without message_send_ttl_seconds" in warning.message


def test_ttl_is_not_compared_where_the_provider_does_not_read_it_back() -> None:
    # NXCloud's getTemplate has no TTL field: comparing it would show drift forever.
    t = tpl("code", ttl=600)
    assert make_plan([t], [rtpl(t, message_send_ttl_seconds=None)]).changes == ()


def test_a_template_listed_without_components_is_not_compared_and_says_so() -> None:
    t = tpl("order_shipped")
    p = make_plan([t], [rtpl(t, components=(), detailed=False)])
    assert p.changes == ()
    (w,) = p.warnings
    assert "not compared" in w.message and "bug" in w.message


def test_a_template_listed_twice_is_compared_with_one_and_warned_about() -> None:
    t = tpl("order_shipped")
    p = make_plan([t], [rtpl(t, id="b2"), rtpl(t, id="a1", components=(body("Other"),))])
    # The lower id wins deterministically; it differs, so there is an update against a1.
    (c,) = p.changes
    assert c.remote_id == "a1"
    assert "listed twice (ids a1 and b2)" in p.warnings[0].message


# --- editability ----------------------------------------------------------------------------------


def test_pending_templates_are_blocked_until_review_completes() -> None:
    t = tpl("order_shipped")
    c = one(t, rtpl(t, status="PENDING", components=(body("Old"),)))
    assert c.blocked is not None and c.blocked.code == "not-editable"
    assert c.blocked.reason == "PENDING: under review"
    assert c.blocked.way_out == "plan again when review completes"


def test_cams_cannot_modify_an_approved_template() -> None:
    t = tpl("receipt", "en", account="shop-cams")
    c = one(t, rtpl(t, status="APPROVED", components=(body("Old"),)))
    assert c.blocked is not None and c.blocked.code == "not-editable"
    assert c.blocked.reason == "APPROVED: CAMS cannot modify an approved template"
    # The way out: a new name, which the plan creates, and a prune (consent) of the old one.
    assert c.blocked.way_out == (
        "give the template a new name in the spec (e.g. receipt_v2): the plan creates it, and "
        "deletes receipt where the account prunes (prune: true, or --prune)"
    )


def test_an_unknown_status_names_the_editable_ones() -> None:
    t = tpl("x", account="shop-cams")
    c = one(t, rtpl(t, status="ARCHIVED", components=(body("Old"),)))
    assert c.blocked is not None
    assert c.blocked.reason == "ARCHIVED: CAMS edits templates only in status DRAFT, REJECTED"


def test_cams_draft_edits_are_plain_updates() -> None:
    t = tpl("x", account="shop-cams")
    c = one(t, rtpl(t, status="DRAFT", components=(body("Old"),)))
    assert c.blocked is None and c.hazards == ()


def test_editing_an_approved_nxcloud_template_warns_of_review_and_edit_caps() -> None:
    t = tpl("order_shipped")
    c = one(t, rtpl(t, status="APPROVED", components=(body("Old"),)))
    assert c.blocked is None
    (h,) = c.hazards
    assert h.code == "rereview"
    assert "goes back to review" in h.reason and "1 edit per 24 h and 10 per 30 days" in h.reason


def test_editing_a_rejected_cams_template_resubmits_it() -> None:
    t = tpl("x", account="shop-cams")
    c = one(t, rtpl(t, status="REJECTED", components=(body("Old"),)))
    assert [h.code for h in c.hazards] == ["rereview"] and "REJECTED" in c.hazards[0].reason


def test_category_change_on_a_rejected_nxcloud_template_is_a_hazard() -> None:
    t = tpl("promo", category="MARKETING")
    c = one(t, rtpl(t, status="REJECTED", category="UTILITY"))
    assert fields(c) == [("category", "UTILITY", "MARKETING")]
    assert [h.code for h in c.hazards] == ["category-change"] and c.blocked is None


def test_category_change_on_an_approved_nxcloud_template_is_blocked() -> None:
    # Meta recategorised it; the plan reports the drift instead of fighting it.
    t = tpl("alert", category="UTILITY")
    c = one(t, rtpl(t, status="APPROVED", category="MARKETING"))
    assert c.blocked is not None and c.blocked.code == "category-locked"
    assert "only while REJECTED" in c.blocked.reason
    assert "set category: MARKETING in the spec to accept it" in c.blocked.way_out
    assert "a new name in the spec as UTILITY (e.g. alert_v2)" in c.blocked.way_out


def test_cams_never_changes_a_category() -> None:
    t = tpl("x", account="shop-cams", category="MARKETING")
    c = one(t, rtpl(t, status="REJECTED", category="UTILITY"))
    assert c.blocked is not None and c.blocked.code == "category-locked"
    assert "CAMS cannot change the category of a WhatsApp template" in c.blocked.reason


def test_protect_blocks_hazardous_template_updates_only() -> None:
    t = tpl("otp", protect=True)
    c = one(t, rtpl(t, status="APPROVED", components=(body("Old"),)))
    assert c.blocked is not None and c.blocked.code == "protected"
    assert [h.code for h in c.hazards] == ["rereview"]
    t = tpl("otp", account="shop-cams", protect=True)
    c = one(t, rtpl(t, status="DRAFT", components=(body("Old"),)))
    assert c.blocked is None


# --- deletes --------------------------------------------------------------------------------------


def test_unmanaged_templates_are_listed_with_their_status() -> None:
    p = make_plan([], [rtpl(tpl("legacy"), status="PAUSED")])
    (u,) = p.unmanaged
    assert (u.address, u.status, u.remote_id) == (
        f"template.shop-nx.{NX_PHONE}.legacy.en_US",
        "PAUSED",
        "id-legacy-en_US",
    )


def test_pruned_delete_lists_the_template_and_warns_about_name_reuse() -> None:
    p = make_plan([], [rtpl(tpl("legacy", "en", account="shop-cams"))], prune=True)
    (c,) = p.changes
    assert c.action == "delete" and fields(c)[0] == ("category", "UTILITY", None)
    (h,) = c.hazards
    assert h.code == "delete" and "approved name for 30 days" in h.reason


def test_cams_deletes_one_language_only() -> None:
    keep = tpl("greet", "en", account="shop-cams")
    drop = tpl("greet", "es", account="shop-cams")
    p = make_plan([keep], [rtpl(keep), rtpl(drop)], prune=True)
    (c,) = p.changes
    assert c.address == "template.shop-cams.greet.es" and c.blocked is None and c.collateral == ()


def test_nxcloud_delete_takes_every_language_and_says_so() -> None:
    remote = [rtpl(tpl("old", lang)) for lang in ("en_US", "es", "pt_BR")]
    p = make_plan([], remote, accounts=settings(shop_nx=True))
    assert [c.action for c in p.changes] == ["delete"] * 3
    en = p.changes[0]
    assert en.collateral == (
        f"template.shop-nx.{NX_PHONE}.old.es",
        f"template.shop-nx.{NX_PHONE}.old.pt_BR",
    )
    (h,) = [h for h in en.hazards if h.code == "deletes-all-languages"]
    assert h.reason == (
        f"NXCloud deletes every language of old at once: this also deletes "
        f"template.shop-nx.{NX_PHONE}.old.es, template.shop-nx.{NX_PHONE}.old.pt_BR"
    )


def test_nxcloud_delete_that_would_take_a_kept_language_is_blocked() -> None:
    keep = tpl("order_shipped", "en_US")
    p = make_plan([keep], [rtpl(keep), rtpl(tpl("order_shipped", "es"))], prune=True)
    (c,) = p.changes
    assert c.address.endswith(".order_shipped.es") and c.blocked is not None
    assert c.blocked.code == "deletes-kept-language"
    assert f"template.shop-nx.{NX_PHONE}.order_shipped.en_US that the specs keep" in (
        c.blocked.reason
    )


def test_nxcloud_delete_is_blocked_when_the_kept_language_is_still_to_be_created() -> None:
    keep = tpl("order_shipped", "en_US")  # not created yet: a later delete by name would take it
    p = make_plan([keep], [rtpl(tpl("order_shipped", "es"))], prune=True)
    delete = next(c for c in p.changes if c.action == "delete")
    assert delete.blocked is not None and delete.blocked.code == "deletes-kept-language"


def test_a_renamed_template_is_a_create_plus_a_pruned_delete() -> None:
    new = tpl("order_sent", account="shop-cams")
    p = make_plan([new], [rtpl(tpl("order_shipped", account="shop-cams"))], prune=True)
    assert [(c.action, c.address) for c in p.changes] == [
        ("create", "template.shop-cams.order_sent.en_US"),
        ("delete", "template.shop-cams.order_shipped.en_US"),
    ]


def test_a_retired_remote_category_is_not_offered_to_the_spec() -> None:
    t = tpl("login", category="AUTHENTICATION")
    c = one(t, rtpl(t, status="APPROVED", category="OTP"))
    assert c.blocked is not None and c.blocked.code == "category-locked"
    assert c.blocked.way_out.startswith(
        "OTP is a retired category; give the template a new name in the spec as AUTHENTICATION"
    )
    assert "category: OTP" not in c.blocked.way_out


# --- edit budgets ---------------------------------------------------------------------------------


def test_an_approved_template_changed_within_24_hours_is_blocked_at_plan_time() -> None:
    # WhatsApp allows one edit per 24 h on an approved template: the plan says so and
    # when to plan again, instead of an apply that fails on the provider's refusal.
    t = tpl("alert")
    changed = NOW - timedelta(hours=5)
    c = one(t, rtpl(t, components=(body("Old"),), updated_at=changed), now=NOW)
    assert c.blocked is not None and c.blocked.code == "edit-budget"
    assert c.blocked.reason == (
        "WhatsApp allows 1 edit per 24 h and 10 per 30 days on an approved template, and "
        "NXCloud last changed this one 5.0 h ago (2025-06-01 07:00 UTC)"
    )
    assert c.blocked.way_out.startswith("plan again after 2025-06-02 07:00 UTC, or give ")
    assert not make_plan(
        [t], [rtpl(t, components=(body("Old"),), updated_at=changed)], now=NOW
    ).has_changes


def test_the_budget_spent_a_day_ago_is_back() -> None:
    t = tpl("alert")
    c = one(t, rtpl(t, components=(body("Old"),), updated_at=NOW - timedelta(hours=24)), now=NOW)
    assert c.blocked is None and [h.code for h in c.hazards] == ["rereview"]


def test_the_budget_counts_approved_templates_only() -> None:
    # A rejected template takes any number of edits.
    t = tpl("alert")
    remote = rtpl(t, status="REJECTED", components=(body("Old"),), updated_at=NOW)
    assert one(t, remote, now=NOW).blocked is None


def test_without_a_time_the_budget_is_not_guessed() -> None:
    # The listing did not say when the template changed, or the caller gave no "now":
    # the re-review hazard names the budget, and apply meets the provider's answer.
    t = tpl("alert")
    assert one(t, rtpl(t, components=(body("Old"),)), now=NOW).blocked is None
    recent = rtpl(t, components=(body("Old"),), updated_at=NOW)
    assert one(t, recent).blocked is None


def test_a_provider_that_refuses_the_edit_outright_says_so_first() -> None:
    # CAMS never edits an approved template: the way out is a new name, not a wait.
    t = tpl("receipt", "en", account="shop-cams")
    remote = rtpl(t, components=(body("Old"),), updated_at=NOW - timedelta(hours=1))
    c = one(t, remote, now=NOW)
    assert c.blocked is not None and c.blocked.code == "not-editable"

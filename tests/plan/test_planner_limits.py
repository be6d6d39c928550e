"""What the planner says from a provider's limits and WhatsApp's name lock: QR creates past
a number's limit are blocked, a plan that needs more than a window's calls says how long
apply takes, a delete beside a create in the same language is called a rename, and a QR
code a provider updates in place is an ordinary update."""

from __future__ import annotations

from dataclasses import replace

from wasync.plan import AccountSettings
from wasync.providers.meta.traits import META_TRAITS, TEMPLATE_CREATIONS, WABA_REQUESTS
from wasync.traits import CallBudget

from .builders import make_plan, qr, rqr, rtpl, tpl

PHONE = "15550101111"
META = "shop-meta"


def meta(traits: object = META_TRAITS, **more: object) -> dict[str, AccountSettings]:
    return {META: AccountSettings(traits, **more)}  # type: ignore[arg-type]


def code(label: str, message: str, **more: object) -> object:
    return qr(label, message, account=META, phone=PHONE, **more)  # type: ignore[arg-type]


def held(code_: str, message: str) -> object:
    return rqr(code_, message, account=META, phone=PHONE, image="")


def test_qr_creates_past_the_numbers_limit_are_blocked_in_address_order() -> None:
    traits = replace(META_TRAITS, qr_codes_per_phone=3)
    desired = [code(f"p{i}", f"message {i}") for i in range(4)] + [code("kept", "old")]
    remote = [held("A1", "old"), held("B1", "unmanaged")]
    result = make_plan(desired, remote, accounts=meta(traits))
    creates = [c for c in result.changes if c.action == "create"]
    assert [(c.address.rsplit(".", 1)[1], c.blocked is None) for c in creates] == [
        ("p0", True),
        ("p1", False),
        ("p2", False),
        ("p3", False),
    ]
    blocked = creates[1].blocked
    assert blocked is not None and blocked.code == "qr-limit"
    assert blocked.reason == (
        "Meta allows 3 QR codes per number, and 15550101111 would hold 6 (2 there now, 4 to create)"
    )
    assert "delete codes this number no longer needs first" in blocked.way_out


def test_no_limit_no_block() -> None:
    desired = [code(f"p{i}", f"message {i}") for i in range(5)]
    result = make_plan(desired, [], accounts=meta())
    assert all(c.blocked is None for c in result.changes)


def test_a_plan_over_an_hours_budget_says_how_long_apply_takes() -> None:
    budgets = (replace(WABA_REQUESTS, calls=200), TEMPLATE_CREATIONS)
    desired = [tpl(f"t{i:03}", account=META) for i in range(250)]
    result = make_plan(desired, [], accounts=meta(budgets=budgets))
    assert [(w.address, w.message) for w in result.warnings] == [
        (
            "template.shop-meta",
            "this plan makes 250 template creations; Meta allows 100 template creations per "
            "WABA an hour, so apply will take at least 2 h: it pauses when a window's budget "
            "is spent and goes on by itself (the reads before it count too)",
        ),
        (
            "template.shop-meta",
            "this plan makes 250 template management requests; Meta allows 200 template "
            "management requests per WABA an hour, so apply will take at least 1 h: it pauses "
            "when a window's budget is spent and goes on by itself (the reads before it count "
            "too)",
        ),
    ]


def test_blocked_changes_and_kinds_a_budget_does_not_count_cost_nothing() -> None:
    budget = CallBudget(
        name="edits", window=3600, calls=1, changes=frozenset({("template", "update")})
    )
    traits = replace(META_TRAITS, call_budgets=(budget,))
    pending = tpl("t1", account=META)
    changed = tpl("t1", account=META, components=[{"type": "BODY", "text": "Other."}])
    result = make_plan(
        [changed, code("p", "hi")], [rtpl(pending, status="PENDING")], accounts=meta(traits)
    )
    assert result.warnings == ()  # the update is blocked (under review), the QR not counted


def test_a_delete_beside_a_create_in_the_same_language_names_the_name_lock() -> None:
    old = tpl("order_ready", account=META)
    new = tpl("order_ready_v2", account=META)
    result = make_plan([new], [rtpl(old)], accounts=meta(prune=True))
    (delete,) = [c for c in result.changes if c.action == "delete"]
    assert [h.code for h in delete.hazards] == ["delete", "name-lock"]
    assert delete.hazards[1].reason.startswith(
        "looks like a rename of order_ready to order_ready_v2: once deleted, order_ready "
        "cannot be created again for 30 days"
    )
    # Not approved: no lock to warn of.
    result = make_plan([new], [rtpl(old, status="REJECTED")], accounts=meta(prune=True))
    (delete,) = [c for c in result.changes if c.action == "delete"]
    assert [h.code for h in delete.hazards] == ["delete"]


def test_a_meta_qr_rewording_is_an_update_with_no_hazard() -> None:
    desired = code("poster", "Hello again", code="A1")
    result = make_plan([desired], [held("A1", "Hello")], accounts=meta())
    (change,) = result.changes
    assert (change.action, change.hazards, change.blocked) == ("update", (), None)
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("prefilled_message", "Hello", "Hello again")
    ]

"""QR code identity, changes and safety."""

from __future__ import annotations

from typing import Any

import pytest

from plan.builders import ACCOUNTS, CAMS_PHONE, make_plan, qr, rqr, settings
from wasync.plan import AccountSettings
from wasync.plan.digest import remote_fingerprint
from wasync.traits import ProviderTraits

# A provider whose QR updates keep the code (Meta's documented behaviour), to check that the
# replace hazard comes from the traits and not from the resource kind.
KEEPS_CODE = {
    **ACCOUNTS,
    "shop-cams": AccountSettings(ProviderTraits(name="meta", kinds=frozenset({"qr", "template"}))),
}


def test_a_new_entry_is_created_with_every_field() -> None:
    p = make_plan([qr("poster", "Hello")])
    (c,) = p.changes
    assert (c.action, c.kind, c.address) == ("create", "qr", f"qr.shop-cams.{CAMS_PHONE}.poster")
    assert [(f.path, f.before, f.after) for f in c.fields] == [
        ("phone", None, CAMS_PHONE),
        ("prefilled_message", None, "Hello"),
        ("image", None, "SVG"),
    ]
    assert c.hazards == () and c.blocked is None and c.remote_fingerprint is None


def test_an_unpinned_entry_matches_a_code_with_the_same_message() -> None:
    p = make_plan([qr("poster", "Hello")], [rqr("ABC", "Hello")])
    assert p.changes == () and p.unmanaged == () and not p.has_changes


def test_an_unpinned_entry_with_a_new_message_is_a_create_and_the_old_code_unmanaged() -> None:
    p = make_plan([qr("poster", "Hello again")], [rqr("ABC", "Hello")])
    assert [c.action for c in p.changes] == ["create"]
    assert [u.address for u in p.unmanaged] == [f"qr.shop-cams.{CAMS_PHONE}.ABC"]


def test_identical_remote_codes_are_claimed_in_code_order() -> None:
    desired = [qr("b", "Hi"), qr("a", "Hi")]
    remote = [rqr("Z9", "Hi"), rqr("C3", "Hi"), rqr("M5", "Hi")]
    p = make_plan(desired, remote)
    # Entries in address order take codes in code order; the last code is left over.
    assert p.changes == ()
    assert [u.remote_id for u in p.unmanaged] == ["Z9"]
    p2 = make_plan(list(reversed(desired)), list(reversed(remote)))
    assert p2.data() == p.data()


def test_a_pinned_code_takes_precedence_over_message_matching() -> None:
    desired = [qr("a", "Hi"), qr("b", "Hi", code="C3")]
    p = make_plan(desired, [rqr("A1", "Hi"), rqr("C3", "Hi")])
    assert p.changes == () and p.unmanaged == ()


def test_pinned_update_on_cams_warns_the_printed_code_stops_working() -> None:
    p = make_plan([qr("menu", "New menu", code="M1")], [rqr("M1", "Old menu")])
    (c,) = p.changes
    assert c.action == "update" and c.remote is not None
    assert [(f.path, f.before, f.after) for f in c.fields] == [
        ("prefilled_message", "Old menu", "New menu")
    ]
    assert [h.code for h in c.hazards] == ["qr-code-replaced"]
    assert "the printed code stops working; a new code is issued" in c.hazards[0].reason
    assert c.remote_fingerprint == remote_fingerprint(c.remote)


def test_an_update_that_keeps_the_code_has_no_hazard() -> None:
    p = make_plan([qr("menu", "New menu", code="M1")], [rqr("M1", "Old menu")], accounts=KEEPS_CODE)
    (c,) = p.changes
    assert c.action == "update" and c.hazards == () and c.blocked is None


def test_image_format_change_is_an_update_and_an_unread_image_is_not() -> None:
    p = make_plan([qr("menu", "Menu", image="PNG")], [rqr("M1", "Menu", image="SVG")])
    assert [(f.path, f.before, f.after) for f in p.changes[0].fields] == [("image", "SVG", "PNG")]
    assert make_plan([qr("menu", "Menu", image="PNG")], [rqr("M1", "Menu", image="")]).changes == ()


def test_protect_blocks_a_code_breaking_update() -> None:
    p = make_plan([qr("door", "Open?", code="D1", protect=True)], [rqr("D1", "Hours?")])
    (c,) = p.changes
    assert c.blocked is not None and c.blocked.code == "protected"
    assert "remove protect: true" in c.blocked.way_out
    assert [h.code for h in c.hazards] == ["qr-code-replaced"]
    assert not p.has_changes and p.blocked_count == 1


def test_protect_does_not_block_a_harmless_update() -> None:
    p = make_plan(
        [qr("door", "Open?", code="D1", protect=True)], [rqr("D1", "Hours?")], accounts=KEEPS_CODE
    )
    assert p.changes[0].blocked is None


def test_stale_pin_falls_back_to_the_message_with_a_warning() -> None:
    # A CAMS update issued NEW1 in place of OLD1; the spec still pins OLD1.
    p = make_plan([qr("card", "Book a table", code="OLD1")], [rqr("NEW1", "Book a table")])
    assert p.changes == () and p.unmanaged == ()
    (w,) = p.warnings
    assert w.address == f"qr.shop-cams.{CAMS_PHONE}.card"
    assert "OLD1 no longer exists (a CAMS update issues a new code)" in w.message
    assert "code: NEW1" in w.message


def test_a_stale_pin_on_a_provider_that_keeps_codes_blames_no_update() -> None:
    desired, remote = [qr("card", "Book a table", code="OLD1")], [rqr("NEW1", "Book a table")]
    (w,) = make_plan(desired, remote, accounts=KEEPS_CODE).warnings
    assert w.message == (
        "pinned code OLD1 no longer exists; matched code NEW1 by its prefilled message; "
        "pin code: NEW1 in the spec"
    )


def test_stale_pin_claims_before_unpinned_entries() -> None:
    desired = [qr("a-unpinned", "Hi"), qr("b-pinned", "Hi", code="GONE")]
    p = make_plan(desired, [rqr("K1", "Hi")])
    (c,) = p.changes
    assert c.action == "create" and c.address.endswith(".a-unpinned")
    assert [w.address for w in p.warnings] == [f"qr.shop-cams.{CAMS_PHONE}.b-pinned"]


def test_stale_pin_without_a_match_creates_with_a_hazard() -> None:
    p = make_plan([qr("flyer", "Hi", code="GONE1")], [rqr("X1", "Other")])
    create = next(c for c in p.changes if c.action == "create")
    (h,) = create.hazards
    assert h.code == "qr-pin-not-found"
    assert h.reason == (
        "pinned code GONE1 not found: a new code will be created; anything printed with GONE1 "
        "already stopped working"
    )


def test_unclaimed_codes_are_unmanaged_without_prune() -> None:
    p = make_plan([], [rqr("X1", "Old")])
    assert p.changes == () and [u.address for u in p.unmanaged] == [f"qr.shop-cams.{CAMS_PHONE}.X1"]


@pytest.mark.parametrize("how", ["account", "override"])
def test_prune_deletes_unclaimed_codes_with_a_hazard(how: str) -> None:
    kwargs: dict[str, Any] = (
        {"accounts": settings(shop_cams=True)} if how == "account" else {"prune": True}
    )
    p = make_plan([], [rqr("X1", "Old")], **kwargs)
    (c,) = p.changes
    assert c.action == "delete" and c.desired is None and c.remote_fingerprint
    assert [(f.path, f.before) for f in c.fields][:2] == [("phone", CAMS_PHONE), ("code", "X1")]
    assert [h.code for h in c.hazards] == ["delete"]
    assert "X1" in c.hazards[0].reason and p.unmanaged == ()


def test_codes_of_other_phones_do_not_match() -> None:
    p = make_plan([qr("poster", "Hello")], [rqr("ABC", "Hello", phone="8615800002222")])
    assert [c.action for c in p.changes] == ["create"]
    assert len(p.unmanaged) == 1


# Users meet duplicates, unknown accounts and kinds a provider lacks as spec errors with file
# and line, from the loader (tests/spec/test_load.py, test_rules.py); the planner only refuses
# inputs that break what it relies on, as a caller bug.


def test_duplicate_pins_and_addresses_are_a_caller_bug() -> None:
    with pytest.raises(
        ValueError, match=r"addresses \['qr.shop-cams.8615800001111.a'\], pins \['P1'\]"
    ):
        make_plan([qr("a", "x", code="P1"), qr("b", "y", code="P1"), qr("a", "z")])


def test_entries_of_unconfigured_accounts_are_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="shop'"):
        make_plan([qr("a", "x", account="shop")])


def test_remote_resources_of_unconfigured_accounts_are_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="other"):
        make_plan([], [rqr("A", "x", account="other")])


def test_exact_matches_go_before_message_only_ones() -> None:
    # "a" would take the only PNG code by code order if matching looked at the message only,
    # and both codes would then be re-issued; exact matching leaves both alone.
    desired = [qr("a", "Hi", image="SVG"), qr("b", "Hi", image="PNG")]
    p = make_plan(desired, [rqr("A1", "Hi", image="PNG"), rqr("B2", "Hi", image="SVG")])
    assert p.changes == () and p.unmanaged == ()


def test_a_message_only_match_updates_the_image() -> None:
    p = make_plan([qr("a", "Hi", image="PNG")], [rqr("A1", "Hi", image="SVG")])
    (c,) = p.changes
    assert c.action == "update" and c.remote_id == "A1"
    assert [h.code for h in c.hazards] == ["qr-code-replaced"]


def test_protected_entries_are_matched_last_so_plans_settle() -> None:
    # Found by the convergence property: had the protected entry taken the PNG code, its
    # update would be blocked, and the next plan would hand that code to "flyer" instead.
    desired = [
        qr("flyer", "Hello"),
        qr("table", "Hello", code="P1", protect=True),
        qr("menu", "Hello", code="P2"),
    ]
    p = make_plan(desired, [rqr("R1", "Hello"), rqr("S1", "Hello", image="PNG")])
    by_label = {c.address.rsplit(".", 1)[1]: c for c in p.changes}
    assert by_label["flyer"].action == "update" and by_label["flyer"].remote_id == "S1"
    assert by_label["table"].action == "create" and by_label["table"].blocked is None
    assert "menu" not in by_label and p.blocked_count == 0


def test_an_edited_unpinned_message_creates_a_code_and_says_the_old_one_stays() -> None:
    # Without a pin, identity is the message: an edit reads as a new code beside the old one.
    p = make_plan([qr("poster", "Hello again")], [rqr("OLD1", "Hello")])
    (c,) = p.changes
    assert c.action == "create" and c.hazards == ()
    assert [u.remote_id for u in p.unmanaged] == ["OLD1"]
    (w,) = p.warnings
    assert w.address == f"qr.shop-cams.{CAMS_PHONE}.poster"
    assert "the unmanaged codes OLD1 keep working" in w.message
    assert "printed copies of the old one stop working" in w.message  # CAMS replaces codes
    kept = make_plan([qr("poster", "Hello again")], [rqr("OLD1", "Hello")], accounts=KEEPS_CODE)
    assert "printed copies keep working" in kept.warnings[0].message


def test_no_leftover_hint_when_nothing_is_left_over() -> None:
    p = make_plan([qr("poster", "Hello")], [])
    assert p.warnings == ()


def test_prune_never_deletes_a_code_a_protected_unpinned_entry_may_mean() -> None:
    # The printed code's message was edited in the spec: the entry no longer finds it, and
    # prune would delete the very code protect: true was written to keep.
    p = make_plan(
        [qr("poster", "Hello again", protect=True)], [rqr("PRINTED", "Hello")], prune=True
    )
    create, delete = sorted(p.changes, key=lambda c: c.action)
    assert (create.action, delete.action) == ("create", "delete")
    assert delete.blocked is not None and delete.blocked.code == "maybe-protected"
    assert f"qr.shop-cams.{CAMS_PHONE}.poster" in delete.blocked.reason
    assert "PRINTED" in delete.blocked.reason
    # After that create, the entry has a code of its own; PRINTED is still not pruned.
    after = [rqr("PRINTED", "Hello"), rqr("NEW", "Hello again")]
    p = make_plan([qr("poster", "Hello again", protect=True)], after, prune=True)
    (delete,) = p.changes
    assert delete.blocked is not None and delete.blocked.code == "maybe-protected"
    # Pinned, the entry says which code it protects: the others may go.
    p = make_plan([qr("poster", "Hello again", code="NEW", protect=True)], after, prune=True)
    (delete,) = p.changes
    assert delete.remote_id == "PRINTED" and delete.blocked is None and delete.hazards

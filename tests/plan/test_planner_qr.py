"""QR code identity, changes and safety."""

from __future__ import annotations

from typing import Any

import pytest

from plan.builders import ACCOUNTS, CAMS_PHONE, make_plan, qr, rqr, settings
from wasync.plan import AccountSettings, filter_targets
from wasync.plan.digest import remote_fingerprint
from wasync.plan.render.text import to_text
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


def test_pinned_update_on_cams_is_a_replacement_the_printed_code_stops_working() -> None:
    p = make_plan([qr("menu", "New menu", code="M1")], [rqr("M1", "Old menu")])
    (c,) = p.changes
    assert c.action == "replace" and c.remote is not None and c.remote_id == "M1"
    assert p.counts() == {"create": 0, "update": 0, "replace": 1, "delete": 0}
    assert p.has_changes
    assert [(f.path, f.before, f.after) for f in c.fields] == [
        ("prefilled_message", "Old menu", "New menu")
    ]
    assert [h.code for h in c.hazards] == ["qr-code-replaced"]
    assert "the printed code stops working; a new code is issued" in c.hazards[0].reason
    assert c.remote_fingerprint == remote_fingerprint(c.remote)


def test_an_update_that_keeps_the_code_is_an_update_in_place_without_hazard() -> None:
    p = make_plan([qr("menu", "New menu", code="M1")], [rqr("M1", "Old menu")], accounts=KEEPS_CODE)
    (c,) = p.changes
    assert c.action == "update" and c.hazards == () and c.blocked is None


def test_a_replacement_counts_for_the_thresholds() -> None:
    desired = [qr(f"q{i}", f"New {i}", code=f"C{i}") for i in range(10)]
    remote = [rqr(f"C{i}", f"New {i}" if i < 6 else f"Old {i}") for i in range(10)]
    (v,) = make_plan(desired, remote).threshold_violations()
    assert (v.changing, v.managed) == (4, 10)


def test_the_plan_data_carries_the_links_of_existing_codes() -> None:
    p = make_plan([qr("menu", "New menu", code="M1")], [rqr("M1", "Old"), rqr("X1", "Stray")])
    (c,) = p.data()["changes"]
    assert c["deep_link_url"] == "https://wa.me/message/M1"
    assert c["qr_image_url"] == rqr("M1", "x").qr_image_url != ""
    (u,) = p.data()["unmanaged"]
    assert (u["remote_id"], u["deep_link_url"]) == ("X1", "https://wa.me/message/X1")
    (new,) = make_plan([qr("menu", "New menu")]).data()["changes"]
    assert (new["deep_link_url"], new["qr_image_url"]) == (None, None)


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
    assert c.action == "replace" and c.remote_id == "A1"
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
    assert by_label["flyer"].action == "replace" and by_label["flyer"].remote_id == "S1"
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
    assert "the unmanaged code OLD1 keeps working as it is" in w.message
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
    assert create.blocked is not None and create.blocked.code == "protected-unpinned"
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


# --- identity that cannot surprise: protected entries without a pin ----------------------------


def test_a_protected_unpinned_entry_whose_message_changed_is_refused_naming_the_code() -> None:
    # "poster" matched PRINTED by its message; the message was edited. A new code would leave
    # the printed one live and unmanaged: the plan names it and refuses.
    p = make_plan([qr("poster", "Hello again", protect=True)], [rqr("PRINTED", "Hello")])
    (c,) = p.changes
    assert c.action == "create" and c.blocked is not None
    assert c.blocked.code == "protected-unpinned"
    assert "probably matched code PRINTED before its message changed" in c.blocked.reason
    assert "the only code on this phone that no entry claims" in c.blocked.reason
    assert 'its message: "Hello"' in c.blocked.reason
    assert "pin it (code: PRINTED)" in c.blocked.way_out
    assert "remove protect: true for the apply that creates it" in c.blocked.way_out
    assert not p.has_changes and p.blocked_count == 1
    assert [u.remote_id for u in p.unmanaged] == ["PRINTED"]
    assert p.warnings == ()  # the refusal says it all


def test_among_several_leftovers_the_closest_message_is_named() -> None:
    remote = [rqr("A1", "Opening hours?"), rqr("B2", "Hello, I saw your poster"), rqr("C3", "Menu")]
    p = make_plan([qr("poster", "Hello, I saw your new poster", protect=True)], remote)
    (c,) = p.changes
    assert c.blocked is not None
    assert "probably matched code B2" in c.blocked.reason
    assert "A1, B2 and C3" in c.blocked.reason and "closest to this entry's" in c.blocked.reason


def test_pinning_the_named_code_shows_the_change_to_it() -> None:
    # The way out: pin the code. On CAMS the change is a replacement, which protect refuses;
    # where the provider keeps codes it is an update in place.
    desired = [qr("poster", "Hello again", code="PRINTED", protect=True)]
    (c,) = make_plan(desired, [rqr("PRINTED", "Hello")]).changes
    assert (c.action, c.remote_id) == ("replace", "PRINTED")
    assert c.blocked is not None and c.blocked.code == "protected"
    (c,) = make_plan(desired, [rqr("PRINTED", "Hello")], accounts=KEEPS_CODE).changes
    assert (c.action, c.blocked) == ("update", None)


def test_a_protected_unpinned_entry_is_created_where_no_code_is_left_over() -> None:
    p = make_plan([qr("poster", "Hello", protect=True), qr("door", "Hi")], [rqr("D1", "Hi")])
    (c,) = p.changes
    assert (c.action, c.blocked) == ("create", None)
    assert c.address.endswith(".poster")


def test_an_unprotected_entry_is_still_created_beside_leftovers_with_a_warning() -> None:
    p = make_plan([qr("poster", "Hello again")], [rqr("PRINTED", "Hello")])
    (c,) = p.changes
    assert (c.action, c.blocked) == ("create", None)
    assert len(p.warnings) == 1


# --- warnings that scale --------------------------------------------------------------------------

SIXTY = 60


def _warning_lines(p: Any) -> list[str]:
    text = to_text(p.data())
    section = text.split("Warnings:\n", 1)[1].split("\n\n", 1)[0] if "Warnings:" in text else ""
    return section.splitlines()


def test_sixty_reworded_codes_give_one_warning_line() -> None:
    # 60 entries of one phone, reworded: 60 new codes beside 60 codes left over. A warning
    # per entry naming every leftover was 60 lines of 1,300 characters (3,600 pairs).
    desired = [qr(f"poster-{i:02}", "Hello from the new poster") for i in range(SIXTY)]
    remote = [rqr(f"C{i:013}", "Hello from the poster") for i in range(SIXTY)]
    p = make_plan(desired, remote)
    assert p.counts()["create"] == SIXTY
    (w,) = p.warnings
    assert w.address == f"qr.shop-cams.{CAMS_PHONE}"
    assert len(w.addresses) == SIXTY  # every entry, for machines and --target
    assert "60 entries (poster-00, poster-01, poster-02 and 57 more)" in w.message
    assert "codes C0000000000000, C0000000000001, C0000000000002 and 57 more" in w.message
    lines = _warning_lines(p)
    assert len(lines) == 1 and len(lines[0]) < 500


def test_sixty_stale_pins_give_one_warning_line() -> None:
    desired = [qr(f"poster-{i:02}", "Hello", code=f"OLD{i:02}") for i in range(SIXTY)]
    remote = [rqr(f"NEW{i:02}", "Hello") for i in range(SIXTY)]
    p = make_plan(desired, remote)
    (w,) = p.warnings
    assert len(w.addresses) == SIXTY
    assert "60 entries pin codes this phone no longer has" in w.message
    assert "poster-00 (pinned OLD00, now NEW00)" in w.message and "and 57 more" in w.message
    assert len(_warning_lines(p)) == 1


def test_sixty_protected_codes_keep_every_line_short() -> None:
    # Refusals are per entry (each is its own change), but none lists the whole phone.
    desired = [qr(f"p{i:02}", "Hello again", protect=True) for i in range(SIXTY)]
    remote = [rqr(f"C{i:02}", "Hello") for i in range(SIXTY)]
    p = make_plan(desired, remote, prune=True)
    creates = [c for c in p.changes if c.action == "create"]
    deletes = [c for c in p.changes if c.action == "delete"]
    assert len(creates) == len(deletes) == SIXTY
    for c in p.changes:
        assert c.blocked is not None and len(c.blocked.reason) < 400, c.blocked
    guards = f"qr.shop-cams.{CAMS_PHONE}.p02 and 57 more on this phone have protect: true"
    assert guards in deletes[0].blocked.reason
    assert max(len(line) for line in to_text(p.data()).splitlines()) < 500


def test_a_target_keeps_a_phone_warning_that_names_it() -> None:
    desired = [qr(f"poster-{i:02}", "New") for i in range(3)]
    p = make_plan(desired, [rqr("C1", "Old")])
    narrowed = filter_targets(p, [f"qr.shop-cams.{CAMS_PHONE}.poster-01"])
    assert [w.address for w in narrowed.warnings] == [f"qr.shop-cams.{CAMS_PHONE}"]

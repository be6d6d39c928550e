"""Leaf diffs, write-only key stripping, digests and account settings."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plan.builders import qr, rqr, rtpl, tpl
from wasync.config import Config, Thresholds
from wasync.model import QrCode, Template
from wasync.plan import from_config
from wasync.plan.diff import diff, flatten, strip_keys
from wasync.plan.digest import SpecsDigest, desired_view, remote_fingerprint, specs_digest
from wasync.providers.cams.account import CamsAccount
from wasync.providers.nxcloud.account import NxcloudAccount


def leaves(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    return [(f.path, f.before, f.after) for f in diff(before, after, prefix)]


def test_equal_values_have_no_diff() -> None:
    assert diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []


def test_scalar_and_nested_changes() -> None:
    assert leaves("x", "y", "category") == [("category", "x", "y")]
    assert leaves({"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}) == [("a.b[1]", 2, 3)]


def test_added_and_removed_keys_in_document_order() -> None:
    before = {"type": "BODY", "text": "a", "old": True}
    after = {"type": "BODY", "text": "b", "example": {"body_text": [["1"]]}}
    assert leaves(before, after, "c[0]") == [
        ("c[0].text", "a", "b"),
        ("c[0].example.body_text[0][0]", None, "1"),
        ("c[0].old", True, None),
    ]


def test_an_inserted_list_item_is_aligned_by_deepdiff() -> None:
    # Lists whose length changed go to deepdiff, which aligns scalar items: the
    # inserted label is one addition, not three changed values.
    assert leaves(["Stop", "Help"], ["Track", "Stop", "Help"], "labels") == [
        ("labels[0]", None, "Track")
    ]
    buttons_before = [{"type": "QUICK_REPLY", "text": "Stop"}]
    buttons_after = [*buttons_before, {"type": "QUICK_REPLY", "text": "Help"}]
    assert leaves(buttons_before, buttons_after, "buttons") == [
        ("buttons[1].type", None, "QUICK_REPLY"),
        ("buttons[1].text", None, "Help"),
    ]


def test_a_value_that_changes_shape_lists_both_sides() -> None:
    assert leaves({"a": "x"}, {"a": {"b": 1}}) == [("a", "x", None), ("a.b", None, 1)]


def test_flatten_keeps_empty_containers_as_leaves() -> None:
    assert flatten({"a": [], "b": {}, "c": [{"d": 1}]}, "x") == [
        ("x.a", []),
        ("x.b", {}),
        ("x.c[0].d", 1),
    ]


def test_strip_keys_drops_mappings_left_empty_anywhere() -> None:
    value = [
        {"type": "HEADER", "example": {"header_url": "u"}},
        {"type": "CAROUSEL", "cards": [{"components": [{"example": {"header_url": "v"}}]}]},
    ]
    assert strip_keys(value, frozenset({"header_url"})) == [
        {"type": "HEADER"},
        {"type": "CAROUSEL", "cards": [{"components": [{}]}]},
    ]
    assert strip_keys(value, frozenset()) is value


def test_views_cover_every_spec_field() -> None:
    # The specs digest is built from these views: a field missing here would let a spec
    # change slip past the stale-plan check.
    assert set(QrCode.model_fields) <= set(desired_view(qr("a", "x")))
    assert set(Template.model_fields) <= set(desired_view(tpl("t")))


def test_specs_digest_ignores_order_and_sees_every_change() -> None:
    a, b = qr("a", "x"), tpl("t")
    views = [(a.address, desired_view(a)), (b.address, desired_view(b))]
    assert specs_digest(views) == specs_digest(list(reversed(views)))
    protected = qr("a", "x", protect=True)
    assert specs_digest(views) != specs_digest(
        [(protected.address, desired_view(protected)), views[1]]
    )


def test_remote_fingerprint_ignores_volatile_fields_only() -> None:
    r = rqr("C1", "Hi")
    relinked = replace(r, deep_link_url="https://other", qr_image_url="https://signed?x=1")
    assert remote_fingerprint(relinked) == remote_fingerprint(r)
    assert remote_fingerprint(replace(r, prefilled_message="Hello")) != remote_fingerprint(r)
    t = rtpl(tpl("t"))
    noted = replace(t, reason="INVALID_FORMAT", extra={"quality_score": "RED"})
    assert remote_fingerprint(noted) == remote_fingerprint(t)
    assert remote_fingerprint(replace(t, status="PAUSED")) != remote_fingerprint(t)
    assert remote_fingerprint(replace(t, components=())) != remote_fingerprint(t)


def test_settings_come_from_wasync_yaml(tmp_path: Path) -> None:
    config = Config(
        root=tmp_path,
        accounts={
            "a": CamsAccount(name="a", provider="cams", prune=True),
            "b": NxcloudAccount(
                name="b",
                provider="nxcloud",
                appkey="k",
                thresholds=Thresholds(max_change_share=0.5, min_resources=3),
            ),
        },
    )
    settings = from_config(config)
    assert settings["a"].traits.name == "cams" and settings["a"].prune
    assert settings["b"].traits.template_delete_takes_all_languages
    assert settings["b"].thresholds.max_change_share == 0.5 and not settings["b"].prune


def test_specs_digest_is_that_of_the_whole_text_however_many_views() -> None:
    # Hashed a slice at a time; the digest must stay that of the views' JSON as one text
    # (a saved plan from before is checked against it).
    # The JSON is written by a faster serializer than json.dumps; it must spell every value
    # the same, and a lone surrogate (which it refuses) must still be digested.
    odd = ["é\n", '\x01\x7f\u2028 "q" \\ /', "😀 中", 10**20, 1.5, None, True]
    for n in (0, 1, 500, 1001):
        views = [
            (f"a{i:05}", {"kind": "qr", "label": odd[i % len(odd)], "n": [i, {"x": odd[i % 3]}]})
            for i in range(n)
        ]
        if n > 700:  # one slice of the 1,001 has a lone surrogate, the others do not
            views[700][1]["label"] = "\ud800"
        text = json.dumps([v for _, v in views], separators=(",", ":"), ensure_ascii=False)
        expected = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        assert specs_digest(views[::-1]) == "sha256:" + expected


def test_a_templates_components_dumped_at_once_are_those_dumped_one_by_one() -> None:
    # Template.canonical_components dumps the list in one call; the planner and the
    # providers' reads must agree with the per-component form on every kind of component.
    from wasync.loading import load_desired
    from wasync.model import canonical_components

    _, specs = load_desired(Path(__file__).resolve().parents[2] / "specs", freeze=False)
    assert specs.desired.templates
    for t in specs.desired.templates:
        assert t.canonical_components() == canonical_components(t.components), t.address


def test_views_hashed_as_they_come_give_the_digest_of_them_all() -> None:
    # The planner hashes views one at a time, in address order, keeping none of them.
    views = [(f"qr.a.{i:04}", {"kind": "qr", "label": f"l{i}"}) for i in range(1203)]
    for cut in (0, 1, 500, 1203):
        streamed = SpecsDigest()
        for address, view in views[:cut]:
            streamed.add(address, view)
        assert streamed.result() == specs_digest(views[:cut][::-1])
    out_of_order = SpecsDigest()
    out_of_order.add("template.b.x.en", {})
    with pytest.raises(ValueError, match="out of address order"):
        out_of_order.add("qr.a.1", {})

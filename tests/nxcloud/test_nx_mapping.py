"""Wire <-> canonical: the shapes NXCloud and Meta send back, and round trips through the
emulator for every component kind NXCloud takes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasync.model import JsonDict, Template
from wasync.providers.nxcloud.mapping import (
    components_from_wire,
    components_to_wire,
    template_from_wire,
)
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.sandbox.nxcloud import create_app

from .support import PHONE, connect, make_template

# --- what comes back from the wire ---------------------------------------------------------


def test_header_text_as_a_plain_string_and_flat_body_text() -> None:
    wire = [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "ni{{1}}hao",
            "example": {"header_text": "AA"},
        },
        {"type": "BODY", "text": "hello{{1}}world{{2}}", "example": {"body_text": ["BB", "CC"]}},
    ]
    assert components_from_wire(wire, "MARKETING") == [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "ni{{1}}hao",
            "example": {"header_text": ["AA"]},
        },
        {"type": "BODY", "text": "hello{{1}}world{{2}}", "example": {"body_text": [["BB", "CC"]]}},
    ]


def test_media_samples_come_back_as_the_url_sent_never_as_metas_copy() -> None:
    meta = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://cdn/x"]}}
    sent = {"type": "HEADER", "format": "image", "example": {"custom_header_handle_url": "u"}}
    assert components_from_wire([meta, sent], "MARKETING") == [
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "u"}},
    ]


def test_metas_url_form_of_an_otp_button_maps_back_to_otp() -> None:
    url = (
        "https://www.whatsapp.com/otp/code/?otp_type=ONE_TAP&cta_display_name=Autofill"
        "&package_name=com.example.app&signature_hash=K8a%2FAINcGX7"
        "&code_expiration_minutes=5&code=otp{{1}}"
    )
    wire = [
        {
            "type": "BODY",
            "text": "*{{1}}* is your verification code.",
            "add_security_recommendation": True,
        },
        {"type": "FOOTER", "text": "This code expires in 5 minutes.", "code_expiration_minutes": 5},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "URL", "text": "Copy", "url": url, "example": [url]}],
        },
    ]
    assert components_from_wire(wire, "AUTHENTICATION") == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "OTP",
                    "otp_type": "ONE_TAP",
                    "text": "Copy",
                    "autofill_text": "Autofill",
                    "supported_apps": [
                        {"package_name": "com.example.app", "signature_hash": "K8a/AINcGX7"}
                    ],
                }
            ],
        },
    ]


def test_nxclouds_documented_otp_form_maps_to_supported_apps() -> None:
    button = {
        "type": "OTP",
        "otp_type": "one_tap",
        "text": "Copy Code2",
        "autofill_text": "Autofill2",
        "package_name": "com.example.myapplication",
        "signature_hash": "K8a%2FAINcGX7",
    }
    (got,) = components_from_wire([{"type": "BUTTONS", "buttons": [button]}], "AUTHENTICATION")
    assert got["buttons"] == [
        {
            "type": "OTP",
            "otp_type": "ONE_TAP",
            "text": "Copy Code2",
            "autofill_text": "Autofill2",
            "supported_apps": [
                {"package_name": "com.example.myapplication", "signature_hash": "K8a%2FAINcGX7"}
            ],
        }
    ]


def test_a_template_info_with_legacy_category_and_unknown_fields() -> None:
    info = {
        "id": 1512500000005168,
        "category": "OTP",
        "language": "en_US",
        "name": "otp_test_01",
        "status": "approved",
        "rejected_reason": "NONE",
        "quality_score": {"score": "GREEN"},
        "components": [{"type": "body", "text": "Code {{1}}", "new_field": {"x": 1}}],
    }
    got = template_from_wire(info, account="shop-nx", phone=PHONE)
    assert (got.id, got.category, got.status, got.reason) == (
        "1512500000005168",
        "OTP",
        "APPROVED",
        None,
    )
    assert got.components == ({"type": "BODY", "text": "Code {{1}}", "new_field": {"x": 1}},)
    assert got.extra == {"quality_score": "GREEN"}


def test_to_wire_uses_nxclouds_forms() -> None:
    template = make_template(
        category="MARKETING",
        components=[
            {
                "type": "HEADER",
                "format": "VIDEO",
                "example": {"header_url": "https://x.test/v.mp4"},
            },
            {"type": "BODY", "text": "Watch"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "FLOW", "text": "Go", "flow_id": "1", "flow_action": "NAVIGATE"}
                ],
            },
        ],
    )
    assert components_to_wire(template) == [
        {
            "type": "HEADER",
            "format": "VIDEO",
            "example": {"custom_header_handle_url": "https://x.test/v.mp4"},
        },
        {"type": "BODY", "text": "Watch"},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "FLOW", "text": "Go", "flow_id": "1", "flow_action": "navigate"}],
        },
    ]
    one_app = [{"package_name": "com.a.b", "signature_hash": "K8a/AINcGX7"}]
    otp = make_template(
        category="AUTHENTICATION",
        components=[
            {"type": "BODY", "add_security_recommendation": True},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "OTP", "otp_type": "ONE_TAP", "supported_apps": one_app}],
            },
        ],
    )
    assert components_to_wire(otp)[1]["buttons"] == [
        {
            "type": "OTP",
            "otp_type": "ONE_TAP",
            "package_name": "com.a.b",
            "signature_hash": "K8a/AINcGX7",
        }
    ]


# --- round trips through the emulator ------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=24)
url = st.builds(
    lambda s: f"https://example.com/{s}", st.from_regex(r"[a-z0-9/]{1,20}", fullmatch=True)
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def drop_none(**fields: Any) -> JsonDict:
    return {k: v for k, v in fields.items() if v is not None}


headers = st.one_of(
    st.builds(
        lambda t, e: drop_none(type="HEADER", format="TEXT", text=t, example=e),
        text,
        maybe(st.builds(lambda v: {"header_text": [v]}, text)),
    ),
    st.builds(
        lambda f, u: {"type": "HEADER", "format": f, "example": {"header_url": u}},
        st.sampled_from(["IMAGE", "VIDEO", "DOCUMENT"]),
        url,
    ),
    st.just({"type": "HEADER", "format": "LOCATION"}),
)
bodies = st.builds(
    lambda t, e: drop_none(type="BODY", text=t, example=e),
    text,
    maybe(st.builds(lambda vs: {"body_text": [vs]}, st.lists(text, min_size=1, max_size=3))),
)
footers = st.builds(lambda t: {"type": "FOOTER", "text": t}, text)
buttons = st.one_of(
    st.builds(lambda t: {"type": "QUICK_REPLY", "text": t}, text),
    st.builds(
        lambda t, u, e: drop_none(type="URL", text=t, url=u, example=e),
        text,
        url,
        maybe(st.builds(lambda u: [u], url)),
    ),
    st.builds(
        lambda t, n: {"type": "PHONE_NUMBER", "text": t, "phone_number": n},
        text,
        st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True),
    ),
    st.builds(lambda c: {"type": "COPY_CODE", "example": c}, text),
    st.builds(
        lambda t, f, a, s: drop_none(
            type="FLOW", text=t, flow_id=f, flow_action=a, navigate_screen=s
        ),
        text,
        st.from_regex(r"[0-9]{1,16}", fullmatch=True),
        maybe(st.sampled_from(["NAVIGATE", "DATA_EXCHANGE"])),
        maybe(text),
    ),
)
general = st.builds(
    lambda h, b, f, bs: [
        *([h] if h else []),
        b,
        *([f] if f else []),
        *([{"type": "BUTTONS", "buttons": bs}] if bs else []),
    ],
    maybe(headers),
    bodies,
    maybe(footers),
    st.lists(buttons, max_size=4),
)
apps = st.lists(
    st.builds(lambda p, h: {"package_name": p, "signature_hash": h}, text, text),
    min_size=1,
    max_size=3,
)
otp_buttons = st.one_of(
    st.builds(
        lambda t: drop_none(type="OTP", otp_type="COPY_CODE", text=t),
        maybe(text),
    ),
    st.builds(
        lambda kind, t, a, ap: drop_none(
            type="OTP",
            otp_type=kind,
            text=t,
            autofill_text=a,
            supported_apps=ap,
            zero_tap_terms_accepted=True if kind == "ZERO_TAP" else None,
        ),
        st.sampled_from(["ONE_TAP", "ZERO_TAP"]),
        maybe(text),
        maybe(text),
        apps,
    ),
)
authentication = st.builds(
    lambda sec, exp, b: [
        drop_none(type="BODY", add_security_recommendation=sec),
        *([{"type": "FOOTER", "code_expiration_minutes": exp}] if exp else []),
        {"type": "BUTTONS", "buttons": [b]},
    ],
    maybe(st.booleans()),
    maybe(st.integers(1, 90)),
    otp_buttons,
)
templates = st.one_of(
    st.tuples(st.sampled_from(["MARKETING", "UTILITY"]), general),
    st.tuples(st.just("AUTHENTICATION"), authentication),
)
names = (f"t_{i}" for i in itertools.count())


def without_write_only(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {
            k: without_write_only(v)
            for k, v in value.items()
            if k not in NXCLOUD_TRAITS.write_only_component_keys
        }
        return {k: v for k, v in kept.items() if v not in ({}, [], None)}
    if isinstance(value, list):
        return [without_write_only(v) for v in value]
    return value


@pytest.mark.anyio
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates)
async def test_desired_survives_wire_emulator_and_back(case: tuple[str, list[JsonDict]]) -> None:
    category, components = case
    desired = Template.model_validate(
        {
            "account": "shop-nx",
            "phone": PHONE,
            "name": next(names),
            "language": "en_US",
            "category": category,
            "components": components,
        }
    )
    async with connect(create_app(qps=0)) as provider:
        created = await provider.create_template(desired)
        (remote,) = await provider.list_templates([PHONE])
    expected = without_write_only(desired.canonical_components())
    assert without_write_only(list(remote.components)) == expected
    assert without_write_only(list(created.components)) == expected
    assert (remote.category, remote.name) == (category, desired.name)

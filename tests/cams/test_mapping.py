"""Canonical components <-> CAMS wire: the shapes, and round trips through the emulator."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasync.errors import ErrorClass, ProviderError
from wasync.model import Template, canonical_components
from wasync.providers.cams import mapping
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.sandbox.cams import create_app

from .support import connect

# --- strategies: valid WhatsApp templates in the canonical vocabulary ------------------------

# Text without braces (they would make variables) but with everything a query must survive:
# spaces, & = + % * ~, non-ASCII, astral-plane symbols.
words = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="{}"),
    min_size=1,
    max_size=16,
)
slugs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
urls = slugs.map(lambda s: f"https://example.com/{s}")
digits = st.text(alphabet="0123456789", min_size=6, max_size=14)


def _vars(n: int) -> str:
    return "".join(f" {{{{{i}}}}}" for i in range(1, n + 1))


text_header = st.builds(
    lambda t, ex: {
        "type": "HEADER",
        "format": "TEXT",
        "text": t + (_vars(1) if ex else ""),
        "example": {"header_text": [ex]} if ex else None,
    },
    words,
    st.none() | words,
)
media_header = st.builds(
    lambda f, url: {"type": "HEADER", "format": f, "example": {"header_url": url}},
    st.sampled_from(["IMAGE", "VIDEO", "DOCUMENT"]),
    st.none() | urls,
)
body = st.builds(
    lambda t, ex, security: {
        "type": "BODY",
        "text": t + _vars(len(ex)),
        "example": {"body_text": [ex]} if ex else None,
        "add_security_recommendation": security,
    },
    words,
    st.lists(words, max_size=3),
    st.none() | st.booleans(),
)
footer = st.builds(
    lambda t, minutes: {"type": "FOOTER", "text": t, "code_expiration_minutes": minutes},
    st.none() | words,
    st.none() | st.integers(1, 90),
)
quick_reply = st.builds(lambda t: {"type": "QUICK_REPLY", "text": t}, words)
url_button = st.one_of(
    st.builds(lambda t, u: {"type": "URL", "text": t, "url": u}, words, urls),
    st.builds(
        lambda t, u, s: {"type": "URL", "text": t, "url": u + "/{{1}}", "example": [f"{u}/{s}"]},
        words,
        urls,
        slugs,
    ),
)
phone_button = st.builds(
    lambda t, p: {"type": "PHONE_NUMBER", "text": t, "phone_number": p}, words, digits
)
copy_code = st.builds(
    lambda code: {"type": "COPY_CODE", "example": code},
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=1, max_size=15),
)
otp_button = st.builds(
    lambda kind, t, autofill, apps, terms: {
        "type": "OTP",
        "otp_type": kind,
        "text": t,
        "autofill_text": autofill,
        "supported_apps": apps,
        "zero_tap_terms_accepted": terms,
    },
    st.sampled_from(["COPY_CODE", "ONE_TAP", "ZERO_TAP"]),
    st.none() | words,
    st.none() | words,
    st.none()
    | st.lists(
        st.builds(
            lambda p, h: {"package_name": f"com.example.{p}", "signature_hash": h}, slugs, slugs
        ),
        max_size=2,
    ),
    st.none() | st.booleans(),
)
flow_button = st.builds(
    lambda t, fid, action, screen: {
        "type": "FLOW",
        "text": t,
        "flow_id": fid,
        "flow_action": action,
        "navigate_screen": screen,
    },
    words,
    st.none() | digits,
    st.none() | st.sampled_from(["NAVIGATE", "DATA_EXCHANGE"]),
    st.none() | slugs,
)
any_button = st.one_of(quick_reply, url_button, phone_button, copy_code, otp_button, flow_button)
buttons = st.builds(
    lambda bs: {"type": "BUTTONS", "buttons": bs}, st.lists(any_button, min_size=1, max_size=4)
)
card = st.builds(
    lambda header, b, bs: {
        "components": [header, b, {"type": "BUTTONS", "buttons": bs}],
    },
    st.builds(
        lambda f, url: {"type": "HEADER", "format": f, "example": {"header_url": url}},
        st.sampled_from(["IMAGE", "VIDEO"]),
        urls,
    ),
    body.map(lambda b: {k: v for k, v in b.items() if k != "add_security_recommendation"}),
    st.lists(st.one_of(quick_reply, url_button, phone_button), min_size=1, max_size=2),
)
carousel = st.builds(
    lambda cards: {"type": "CAROUSEL", "cards": cards}, st.lists(card, min_size=1, max_size=3)
)

standard_components = st.builds(
    lambda h, b, f, bs: [c for c in (h, b, f, bs) if c is not None],
    st.none() | text_header | media_header,
    body,
    st.none() | footer,
    st.none() | buttons,
)
carousel_components = st.builds(lambda b, c: [b, c], body, carousel)
templates = st.builds(
    lambda components, category, ttl: Template.model_validate(
        {
            "account": "shop-cams",
            "name": "round_trip",
            "language": "en_US",
            "category": category,
            "components": components,
            "message_send_ttl_seconds": ttl,
        }
    ),
    st.one_of(standard_components, carousel_components),
    st.sampled_from(["MARKETING", "UTILITY", "AUTHENTICATION"]),
    st.none() | st.integers(30, 43200),
)

# CAMS has no field for it: never sent, never read back (and write-only in CAMS_TRAITS).
NOT_CARRIED = frozenset({"zero_tap_terms_accepted"})


def _without(keys: frozenset[str], value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without(keys, v) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(keys, v) for v in value]
    return value


def expected(template: Template) -> tuple[dict[str, Any], ...]:
    return tuple(canonical_components(_without(NOT_CARRIED, template.canonical_components())))


# --- round trips -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates)
def test_round_trip_through_the_emulator(template: Template) -> None:
    """desired -> wire -> emulator -> wire -> canonical == desired.canonical_components()"""

    async def round_trip() -> None:
        async with connect(create_app(qps=0)) as provider:
            created = await provider.create_template(template)
            [remote] = await provider.list_templates([], detail_for=[("round_trip", "en_US")])
        assert remote.id == created.id
        assert remote.components == expected(template)
        assert remote.category == template.category
        assert remote.message_send_ttl_seconds == template.message_send_ttl_seconds

    anyio.run(round_trip)


EVERY_KIND = [
    {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{1}}",
        "example": {"header_text": ["A-1"]},
    },
    {
        "type": "BODY",
        "text": "Hi {{1}} & {{2}} +100% *~",
        "example": {"body_text": [["Bob 你好", "a=b&c"]]},
        "add_security_recommendation": True,
    },
    {"type": "FOOTER", "text": "Expires soon", "code_expiration_minutes": 10},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Yes"},
            {
                "type": "URL",
                "text": "Track",
                "url": "https://x.io/t/{{1}}",
                "example": ["https://x.io/t/42"],
            },
            {"type": "URL", "text": "Home", "url": "https://x.io"},
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "8613800000000"},
            {"type": "COPY_CODE", "example": "SAVE10"},
            {
                "type": "OTP",
                "otp_type": "ONE_TAP",
                "text": "Copy",
                "autofill_text": "Autofill",
                "supported_apps": [{"package_name": "com.x", "signature_hash": "h4sh"}],
            },
            {
                "type": "OTP",
                "otp_type": "ZERO_TAP",
                "text": "Tap",
                "autofill_text": "Fill",
                "supported_apps": [{"package_name": "com.y", "signature_hash": "h5sh"}],
                "zero_tap_terms_accepted": True,
            },
            {"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"},
            {
                "type": "FLOW",
                "text": "Sign up",
                "flow_id": "123456",
                "flow_action": "NAVIGATE",
                "navigate_screen": "WELCOME",
            },
        ],
    },
    {
        "type": "CAROUSEL",
        "cards": [
            {
                "components": [
                    {
                        "type": "HEADER",
                        "format": "IMAGE",
                        "example": {"header_url": "https://x.io/a.png"},
                    },
                    {"type": "BODY", "text": "Card {{1}}", "example": {"body_text": [["one"]]}},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {
                                "type": "URL",
                                "text": "Buy",
                                "url": "https://x.io/b/{{1}}",
                                "example": ["https://x.io/b/1"],
                            },
                            {"type": "QUICK_REPLY", "text": "More"},
                        ],
                    },
                ]
            },
            {
                "components": [
                    {
                        "type": "HEADER",
                        "format": "VIDEO",
                        "example": {"header_url": "https://x.io/b.mp4"},
                    },
                    {"type": "BODY", "text": "Card two"},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "123456"}
                        ],
                    },
                ]
            },
        ],
    },
]


@pytest.mark.anyio
async def test_every_component_and_button_kind_round_trips_through_the_emulator() -> None:
    template = _template(EVERY_KIND)
    kinds = {type(c).__name__ for c in template.components}
    kinds |= {type(b).__name__ for c in template.components for b in getattr(c, "buttons", [])}
    assert kinds == {
        "Header",
        "Body",
        "Footer",
        "Buttons",
        "Carousel",
        "QuickReplyButton",
        "UrlButton",
        "PhoneNumberButton",
        "CopyCodeButton",
        "OtpButton",
        "FlowButton",
    }
    async with connect(create_app(qps=0)) as provider:
        await provider.create_template(template)
        [remote] = await provider.list_templates([])
    assert remote.components == expected(template)


@settings(max_examples=200, deadline=None)
@given(templates)
def test_round_trip_of_the_mapping_alone(template: Template) -> None:
    components, example = mapping.components_to_wire(template.components)
    # The wire is what CAMS documents: PascalCase component fields, string examples.
    assert all(
        set(c)
        <= {
            "Type",
            "Text",
            "Format",
            "Url",
            "AddSecretRecommendation",
            "CodeExpirationMinutes",
            "Buttons",
            "Cards",
        }
        for c in components
    )
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in example.items())
    assert tuple(mapping.components_from_wire(components, example)) == expected(template)


def test_write_only_keys_are_declared_for_the_planner() -> None:
    assert CAMS_TRAITS.write_only_component_keys >= NOT_CARRIED
    assert "header_url" in CAMS_TRAITS.write_only_component_keys


# --- the wire shapes, spelled out ------------------------------------------------------------


def _template(components: list[dict[str, Any]]) -> Template:
    return Template.model_validate(
        {
            "account": "a",
            "name": "n",
            "language": "en",
            "category": "UTILITY",
            "components": components,
        }
    )


def test_examples_go_into_the_example_map() -> None:
    template = _template(
        [
            {"type": "HEADER", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
            {"type": "BODY", "text": "Hi {{1}}, {{2}}", "example": {"body_text": [["Bob", "42"]]}},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Ok"},
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://x.io/{{1}}",
                        "example": ["https://x.io/42"],
                    },
                ],
            },
        ]
    )
    params = mapping.template_params(template)
    assert params["Components"] == (
        '[{"Type":"HEADER","Format":"TEXT","Text":"Order {{1}}"},'
        '{"Type":"BODY","Text":"Hi {{1}}, {{2}}"},'
        '{"Type":"BUTTONS","Buttons":[{"Type":"QUICK_REPLY","Text":"Ok"},'
        '{"Type":"URL","Text":"Track","Url":"https://x.io/{{1}}","UrlType":"dynamic"}]}]'
    )
    assert (
        params["Example"] == '{"header.1":"A-1","1":"Bob","2":"42","button.2.1":"https://x.io/42"}'
    )
    assert params["TemplateType"] == "WHATSAPP"


def test_copy_code_is_a_coupon_only_with_a_coupon_code() -> None:
    coupon = mapping.components_from_wire(
        [{"Type": "BUTTONS", "Buttons": [{"Type": "COPY_CODE", "CouponCode": "SAVE10"}]}], {}
    )
    otp = mapping.components_from_wire(
        [{"Type": "BUTTONS", "Buttons": [{"Type": "COPY_CODE", "Text": "Copy code"}]}], {}
    )
    assert coupon[0]["buttons"] == [{"type": "COPY_CODE", "example": "SAVE10"}]
    assert otp[0]["buttons"] == [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]


def test_deprecated_button_level_app_fields_are_read() -> None:
    [component] = mapping.components_from_wire(
        [
            {
                "Type": "BUTTONS",
                "Buttons": [
                    {
                        "Type": "ONE_TAP",
                        "Text": "Copy",
                        "AutofillText": "Fill",
                        "PackageName": "com.x",
                        "SignatureHash": "abc",
                    }
                ],
            }
        ],
        {},
    )
    assert component["buttons"][0]["supported_apps"] == [
        {"package_name": "com.x", "signature_hash": "abc"}
    ]


def test_kinds_wasync_does_not_model_come_back_in_snake_case() -> None:
    components = mapping.components_from_wire(
        [
            {"Type": "LIMITED_TIME_OFFER", "Text": "Deal", "hasExpiration": True},
            {
                "Type": "BUTTONS",
                "Buttons": [
                    {"Type": "MPM", "Text": "View", "ExtendAttrs": {"Action": "x"}},
                    {"Type": "QUICK_REPLY", "Text": "Stop", "IsOptOut": True},
                ],
            },
            {"Type": "BODY", "Text": "", "Caption": None},
        ],
        None,
    )
    assert components == [
        {"type": "LIMITED_TIME_OFFER", "text": "Deal", "has_expiration": True},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "MPM", "text": "View"},
                {"type": "QUICK_REPLY", "text": "Stop", "is_opt_out": True},
            ],
        },
        {"type": "BODY"},
    ]


@pytest.mark.parametrize(
    ("audit", "status"),
    [
        ("pass", "APPROVED"),
        ("fail", "REJECTED"),
        ("auditing", "PENDING"),
        ("unaudit", "DRAFT"),
        ("paused", "PAUSED"),
    ],
)
def test_audit_status(audit: str, status: str) -> None:
    assert mapping.status_from_wire(audit) == status


@pytest.mark.parametrize(
    ("components", "why"),
    [
        (
            [{"type": "BODY", "text": "{{1}}", "example": {"body_text": [["a"], ["b"]]}}],
            "one set of body examples",
        ),
        (
            [
                {"type": "BODY", "text": "x"},
                {"type": "BODY", "text": "{{1}}", "example": {"body_text": [["a"]]}},
            ],
            "only the first BODY",
        ),
        (
            [
                {"type": "BODY", "text": "x"},
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "FLOW", "text": "Go", "flow_name": "signup"}],
                },
            ],
            "flow_id",
        ),
        (
            [
                {"type": "BODY", "text": "x"},
                {
                    "type": "CAROUSEL",
                    "cards": [
                        {
                            "components": [
                                {
                                    "type": "BUTTONS",
                                    "buttons": [{"type": "COPY_CODE", "example": "X"}],
                                }
                            ]
                        }
                    ],
                },
            ],
            "carousel cards take",
        ),
    ],
)
@pytest.mark.anyio
async def test_what_cams_cannot_hold_is_refused_before_any_call(
    components: list[dict[str, Any]], why: str
) -> None:
    app = create_app(qps=0)
    async with connect(app) as provider:
        with pytest.raises(ProviderError) as err:
            await provider.create_template(_template(components))
    assert err.value.code == "UnsupportedByCams"
    assert err.value.error_class is ErrorClass.FATAL
    assert why in str(err.value) and "template.a.n.en" in str(err.value)
    assert sum(app.state.emulator.calls.values()) == 0

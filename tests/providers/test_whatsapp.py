"""Meta's shapes on their own, as the Meta provider will read them: no NXCloud field, no
envelope. (The NXCloud tests drive the same code through NXCloud's mapping and emulator.)"""

from __future__ import annotations

from typing import Any

import pytest

from wasync.providers.whatsapp import MalformedError
from wasync.providers.whatsapp.components import component_to_meta, components_from_meta
from wasync.providers.whatsapp.graph import GraphError, cursor_listing
from wasync.providers.whatsapp.templates import template_from_meta

pytestmark = pytest.mark.anyio


def test_a_template_object_as_graph_returns_it() -> None:
    info = {
        "id": 594425479261596,  # a bare number is tolerated
        "name": "order_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "status": "approved",
        "rejected_reason": "NONE",
        "quality_score": {"score": "GREEN", "date": 1750000000},
        "components": [
            {"type": "body", "text": "{{1}} is your verification code.", "example": {}},
            {
                "type": "header",
                "format": "image",
                "example": {"header_handle": ["https://scontent.whatsapp.net/x.jpg"]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Copy code",
                        "url": "https://www.whatsapp.com/otp/code/?otp_type=ONE_TAP"
                        "&cta_display_name=Autofill&package_name=com.shop"
                        "&signature_hash=K8a%2FAINcGX7",
                    },
                    {"type": "FLOW", "text": "Go", "flow_id": "1", "flow_action": "navigate"},
                ],
            },
        ],
    }
    template = template_from_meta(info, account="meta", phone=None)
    assert (template.id, template.phone, template.status, template.reason) == (
        "594425479261596",
        None,
        "APPROVED",
        None,
    )
    assert template.extra == {"quality_score": "GREEN"}
    assert list(template.components) == [
        {"type": "BODY"},  # Meta's wording of an authentication body: no spec can set it
        {"type": "HEADER", "format": "IMAGE"},  # Meta's CDN copy of the sample is not ours
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "OTP",
                    "text": "Copy code",
                    "otp_type": "ONE_TAP",
                    "autofill_text": "Autofill",
                    "supported_apps": [
                        {"package_name": "com.shop", "signature_hash": "K8a/AINcGX7"}
                    ],
                },
                {"type": "FLOW", "text": "Go", "flow_id": "1", "flow_action": "NAVIGATE"},
            ],
        },
    ]


def test_component_to_meta_lowers_the_flow_action_and_leaves_the_rest() -> None:
    canonical: list[dict[str, Any]] = [
        {"type": "BODY", "text": "Hi"},
        {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Go", "flow_action": "NAVIGATE"}]},
    ]
    assert [component_to_meta(c) for c in canonical] == [
        {"type": "BODY", "text": "Hi"},
        {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Go", "flow_action": "navigate"}]},
    ]
    assert canonical[1]["buttons"][0]["flow_action"] == "NAVIGATE"  # the input is left alone


def test_a_component_without_a_type_is_malformed_and_says_where() -> None:
    with pytest.raises(MalformedError, match=r"template x \(en\): components\[1\] has no type"):
        components_from_meta([{"type": "BODY"}, {"text": "?"}], "UTILITY", where="template x (en)")


def test_graphs_error_object() -> None:
    error = GraphError.read(
        {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2388024,
            "error_user_title": "Content in This Language Already Exists",
            "error_user_msg": "There is already English (US) content for this template.",
            "fbtrace_id": "AbCdEf",
        }
    )
    assert error is not None
    assert error.code_path == "100/2388024"
    assert error.text == (
        "Content in This Language Already Exists: "
        "There is already English (US) content for this template."
    )
    assert error.trace_id == "AbCdEf"
    plain = GraphError.read({"message": "(#4) Application request limit reached", "code": 4})
    assert plain is not None and (plain.code_path, plain.text) == (
        "4",
        "(#4) Application request limit reached",
    )
    assert GraphError.read("an error") is None


async def test_a_cursor_listing_follows_after_until_there_is_no_next() -> None:
    pages = {
        None: {"data": [1, 2], "paging": {"cursors": {"after": "A"}, "next": "https://g/?after=A"}},
        "A": {"data": [], "paging": {"cursors": {"after": "B"}, "next": "https://g/?after=B"}},
        "B": {"data": [3], "paging": {"cursors": {"before": "A", "after": "C"}}},
    }
    asked: list[str | None] = []

    async def fetch(after: str | None) -> dict[str, Any]:
        asked.append(after)
        return pages[after]

    assert await cursor_listing(fetch) == [1, 2, 3]
    assert asked == [None, "A", "B"]  # an empty page is not the end; a missing next is


async def test_a_cursor_that_comes_back_ends_the_listing_as_malformed() -> None:
    async def fetch(after: str | None) -> dict[str, Any]:
        return {"data": [after], "paging": {"cursors": {"after": "A"}, "next": "https://g"}}

    with pytest.raises(MalformedError, match="the after cursor 'A' came back twice"):
        await cursor_listing(fetch)

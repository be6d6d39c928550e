"""The clients read every documented example correctly: each sample is served as printed by
a stand-in server (``httpx.MockTransport``, not the emulator), and the real client's result,
or its error and what the error tells the user to do, is checked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cams.support import ENDPOINT, make_account
from nxcloud.support import BASE_URL as NX_URL
from nxcloud.support import make_account as nx_account
from nxcloud.support import make_template as nx_template

from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.cams.client import CamsProvider
from wasync.providers.nxcloud.client import NxcloudProvider

from .support import Reply, Served, by_cams_action, sample

pytestmark = pytest.mark.anyio

QR = QrCode(account="shop-cams", phone="8613800", label="p", prefilled_message="Hello")
CAMS_TEMPLATE = Template.model_validate(
    {
        "account": "shop-cams",
        "name": "welcome",
        "language": "en",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Bob"]]}}],
    }
)


@asynccontextmanager
async def cams_on(route: Callable[[httpx.Request], Reply]) -> AsyncIterator[CamsProvider]:
    served = Served(route)
    async with httpx.AsyncClient(base_url=ENDPOINT, transport=served.transport()) as http:
        yield CamsProvider(make_account(), http=http)


@asynccontextmanager
async def nx_on(
    route: Callable[[httpx.Request], Reply],
) -> AsyncIterator[tuple[NxcloudProvider, Served]]:
    served = Served(route)
    http = httpx.AsyncClient(base_url=NX_URL, transport=served.transport())
    provider = NxcloudProvider(nx_account(), http=http)
    try:
        yield provider, served
    finally:
        await provider.aclose()


def ok(file: str) -> Reply:
    found = sample(file)
    return found.status or 200, found.raw


# --- CAMS: documented successes ------------------------------------------------------------


async def test_cams_update_reply_as_the_page_prints_it_trailing_newline_and_all() -> None:
    reply = ok("cams/UpdatePhoneMessageQrdl.success.json")
    async with cams_on(lambda _: reply) as provider:
        current = RemoteQrCode("shop-cams", "86158********", "D9II3***", "Hi", "SVG")
        updated = await provider.update_qr_code(current, QR)
    # The code CAMS issued instead, without the newline the example shows after it.
    assert updated.code == "D9AA3***"
    assert (updated.phone, updated.image, updated.prefilled_message) == (
        "86158********",
        "PNG",
        "Hello",
    )
    assert (updated.deep_link_url, updated.qr_image_url) == ("https://wa.msg/", "https://img.png")


async def test_cams_qr_create_list_and_delete_replies() -> None:
    route = by_cams_action(
        {
            "CreatePhoneMessageQrdl": ok("cams/CreatePhoneMessageQrdl.success.json"),
            "ListPhoneMessageQrdl": ok("cams/ListPhoneMessageQrdl.success.json"),
            "DeletePhoneMessageQrdl": ok("cams/DeletePhoneMessageQrdl.success.json"),
        }
    )
    async with cams_on(route) as provider:
        created = await provider.create_qr_code(QR)
        listed = await provider.list_qr_codes(QR.phone)
        await provider.delete_qr_code(created)
    assert created.code == "D9II3***" and created.deep_link_url == "https://wa.qrdl/"
    assert listed == [created]


async def test_cams_template_replies() -> None:
    route = by_cams_action(
        {
            "CreateChatappTemplate": ok("cams/CreateChatappTemplate.success.json"),
            "ModifyChatappTemplate": ok("cams/ModifyChatappTemplate.success.json"),
            "ListChatappTemplate": ok("cams/ListChatappTemplate.success.json"),
            "GetChatappTemplateDetail": ok("cams/GetChatappTemplateDetail.success.json"),
            "DeleteChatappTemplate": ok("cams/DeleteChatappTemplate.success.json"),
        }
    )
    async with cams_on(route) as provider:
        created = await provider.create_template(CAMS_TEMPLATE)
        (listed,) = await provider.list_templates([])
        modified = await provider.update_template(listed, CAMS_TEMPLATE)
        await provider.delete_template(listed)
    assert created.id == modified.id == listed.id == "744c4b5c79c9432497a075bdfca3****"
    assert (listed.name, listed.language, listed.category) == ("welcome", "en", "MARKETING")
    assert (listed.status, listed.message_send_ttl_seconds) == ("APPROVED", 600)
    # The detail's Example map gives the body's {{1}} its example back.
    assert list(listed.components) == CAMS_TEMPLATE.canonical_components()
    assert listed.extra["quality_score"] == "GREEN"


# --- CAMS: documented errors ----------------------------------------------------------------


def error_body(code: str, message: str, status: int) -> bytes:
    """A documented code in the body CAMS answers errors with: the gateway's (cams.md §6,
    ``cams/error.gateway.json``) for 4xx and 5xx, the business envelope on HTTP 200."""
    template = sample("cams/error.gateway.json").json
    if status == 200:
        body = {"RequestId": template["RequestId"], "Code": code, "Message": message}
    else:
        body = {**template, "Code": code, "Message": message}
    return json.dumps(body).encode()


CAMS_CODES = [
    (table, row) for table, rows in sample("cams/errors.json").json.items() for row in rows["codes"]
]
THROTTLED = {"System.LimitControl", "Throttling.User", "Throttling.Api", "Throttling"}
TRANSIENT = {
    "InternalError",
    "ServiceUnavailable",
    "SignatureNonceUsed",
    "TemplateListError.QueryError",
}


@pytest.mark.parametrize(("table", "row"), CAMS_CODES, ids=[r["code"] for _, r in CAMS_CODES])
async def test_every_documented_cams_code_is_read_with_what_to_do(
    table: str, row: dict[str, Any]
) -> None:
    code, status = row["code"], row["status"]
    body = error_body(code, row.get("message", "(as documented)"), status)
    async with cams_on(lambda _: (status, body)) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.create_qr_code(QR)
    error = caught.value
    assert (error.code, error.http_status) == (code, status)
    expected = (
        ErrorClass.THROTTLED
        if code in THROTTLED
        else ErrorClass.TRANSIENT
        if code in TRANSIENT
        else ErrorClass.FATAL
    )
    assert error.error_class is expected
    assert error.hint, f"{code}: no advice"
    assert error.request_id == "6BE56E05-…"


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("Product.Unsubscript", "subscribe to (activate) Chat App Message Service"),
        ("Ram.PermissionDeny", "grant the RAM identity of account shop-cams the action "
         "cams:CreatePhoneMessageQrdl"),
        ("Unknown.ResourceOwnerId", "that the phone number belongs to a WABA of that space"),
        ("System.LimitControl", "wasync slows down and retries"),
    ],
)  # fmt: skip
async def test_the_four_codes_of_the_api_pages_say_what_to_do(code: str, advice: str) -> None:
    (row,) = [r for _, r in CAMS_CODES if r["code"] == code]
    body = error_body(code, row["message"], row["status"])
    async with cams_on(lambda _: (row["status"], body)) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.create_qr_code(QR)
    assert advice in str(caught.value)
    assert row["message"] in str(caught.value)


async def test_the_documented_gateway_error_body() -> None:
    reply = ok("cams/error.gateway.json")
    async with cams_on(lambda _: reply) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.list_qr_codes(QR.phone)
    error = caught.value
    assert (error.code, error.error_class) == ("InvalidImageId.NotFound", ErrorClass.FATAL)
    assert error.provider_message == "The specified ImageId does not exist."


# --- NXCloud --------------------------------------------------------------------------------


def current(template: Template, status: str = "REJECTED") -> RemoteTemplate:
    return RemoteTemplate(
        account="shop-nx",
        phone=template.phone,
        id="15125xxxx5168",
        name=template.name,
        language=template.language,
        category=template.category,
        status=status,
    )


async def test_nxcloud_update_reply_as_the_page_prints_it_has_no_id() -> None:
    reply = ok("nxcloud/updateTemplate.success.json")
    documented = set(sample("nxcloud/updateTemplate.request.json").json)
    async with nx_on(lambda _: reply) as (provider, served):
        updated = await provider.update_template(current(nx_template()), nx_template())
    assert (updated.id, updated.status) == ("15125xxxx5168", "PENDING")
    # What went up has only the fields the page's request example has.
    (request,) = served.requests
    assert set(json.loads(request.content)) <= documented


async def test_nxcloud_failure_example_is_a_write_that_may_have_acted() -> None:
    reply = ok("nxcloud/updateTemplate.failure.json")
    async with nx_on(lambda _: reply) as (provider, _):
        with pytest.raises(ProviderError) as caught:
            await provider.update_template(current(nx_template()), nx_template())
    error = caught.value
    assert (error.code, error.provider_message) == ("-1", "请求失败")
    assert error.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert "list, then retry" in str(error)


async def test_nxcloud_create_list_and_delete_replies() -> None:
    listed = ok("nxcloud/getTemplate.success.json")
    last_page = (200, b'{"code":0,"message":"Request successful","data":{"data":[]}}')

    def route(request: httpx.Request) -> Reply:
        action = request.url.path.rsplit("/", 1)[1]
        if action == "getTemplate":
            return last_page if json.loads(request.content).get("after") else listed
        return ok(f"nxcloud/{action}.success.json")

    async with nx_on(route) as (provider, served):
        created = await provider.create_template(nx_template())
        (got,) = await provider.list_templates([nx_template().phone or ""])
        await provider.delete_template(got)
    assert created.id == "900xxx0755"
    assert (got.id, got.name, got.language, got.category) == (
        "15125xxxx5168",
        "otp_test_01",
        "en_US",
        "OTP",
    )
    assert (got.status, got.reason, got.extra) == (
        "APPROVED",
        "INVALID_FORMAT",
        {"quality_score": "UNKNOWN"},
    )
    assert [c["type"] for c in got.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert got.components[0]["example"] == {"header_text": ["AA"]}
    # The page's after cursor was followed to the end.
    pages = [json.loads(r.content) for r in served.requests if r.url.path.endswith("getTemplate")]
    assert [p.get("after") for p in pages] == [None, "MTkZD"]


async def test_nxcloud_metas_refusal_example() -> None:
    reply = ok("nxcloud/error.9099.json")
    async with nx_on(lambda _: reply) as (provider, _):
        with pytest.raises(ProviderError) as caught:
            await provider.create_template(nx_template())
    error = caught.value
    assert (error.code, error.error_class) == ("9099/100", ErrorClass.FATAL)
    assert error.provider_message == "(#100) Invalid parameter"
    assert "Meta refused the request" in str(error)


NX_CODES = [row for rows in sample("nxcloud/errors.json").json.values() for row in rows["codes"]]
NX_ADVICE = {
    -1: "list, then retry",
    1001: "please report this as a bug",
    1002: "please report this as a bug",
    1003: "check secret_key for account shop-nx",
    1004: "check this machine's clock",
    1005: "check access_key for account shop-nx",
    9000: "NXCloud refused a parameter",
    9001: "list, then retry",
    9002: "is not a WhatsApp number of this NXCloud account",
    9006: "bind the number to the application",
}


@pytest.mark.parametrize("row", NX_CODES, ids=[str(r["code"]) for r in NX_CODES])
async def test_every_documented_nxcloud_code_is_read_with_what_to_do(row: dict[str, Any]) -> None:
    body = json.dumps({"code": row["code"], "message": row["message"], "data": None}).encode()
    async with nx_on(lambda _: (200, body)) as (provider, _):
        with pytest.raises(ProviderError) as caught:
            await provider.create_template(nx_template())
    error = caught.value
    assert error.code == str(row["code"])
    assert row["message"] in error.provider_message
    assert NX_ADVICE[row["code"]] in str(error)

"""The emulators answer as the documented examples do: the same keys, of the same JSON types
(the values are the emulator's own), the documented status and message for every
documented error code, and they take the documented request examples."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cams.support import ENDPOINT, make_account
from cams.test_emulator import _send, _v1_params, _v1_signed
from nxcloud.support import BASE_URL as NX_URL
from nxcloud.support import PHONE, FakeClock, make_template
from nxcloud.support import make_account as nx_account
from nxcloud.test_nx_emulator import call as nx_call

from wasync.errors import ProviderError
from wasync.model import QrCode, Template
from wasync.providers.cams.client import CamsProvider
from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox import cams, nxcloud
from wasync.sandbox.common import DEFAULT_ACCESS_KEY_SECRET, InProcessTransport

from .support import Sample, sample, samples, shape

pytestmark = pytest.mark.anyio


class Recording(InProcessTransport):
    """Into an emulator in process, keeping each raw reply by the API it answered."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.replies: dict[str, list[tuple[int, Any]]] = defaultdict(list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        body = await response.aread()
        api = request.headers.get("x-acs-action") or request.url.path.rsplit("/", 1)[1]
        self.replies[api].append((response.status_code, json.loads(body)))
        return response


@asynccontextmanager
async def cams_client(app: Any) -> AsyncIterator[tuple[CamsProvider, Recording]]:
    recording = Recording(app)
    async with httpx.AsyncClient(base_url=ENDPOINT, transport=recording) as http:
        yield CamsProvider(make_account(), http=http), recording


@asynccontextmanager
async def nx_client(app: Any, clock: FakeClock) -> AsyncIterator[tuple[NxcloudProvider, Recording]]:
    recording = Recording(app)
    http = httpx.AsyncClient(base_url=NX_URL, transport=recording)
    provider = NxcloudProvider(nx_account(), http=http, clock=clock)
    try:
        yield provider, recording
    finally:
        await provider.aclose()


def same_shape(documented: Sample, reply: Any) -> None:
    optional = frozenset(documented.optional)
    assert shape(reply, optional) == shape(documented.json, optional), documented.file


CAMS_TEMPLATE = Template.model_validate(
    {
        "account": "shop-cams",
        "name": "welcome",
        "language": "en",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Bob"]]}}],
        "message_send_ttl_seconds": 600,
    }
)


async def test_cams_replies_have_the_documented_keys_and_types() -> None:
    app = cams.create_app(qps=0)
    qr = QrCode(account="shop-cams", phone="8613800000000", label="p", prefilled_message="Hi")
    async with cams_client(app) as (provider, recorded):
        created = await provider.create_qr_code(qr)
        await provider.list_qr_codes(qr.phone)
        updated = await provider.update_qr_code(created, qr)
        await provider.delete_qr_code(updated)
        template = await provider.create_template(CAMS_TEMPLATE)
        app.state.emulator.set_template_status(template.id, "en", "REJECTED")
        (listed,) = await provider.list_templates([])
        await provider.update_template(listed, CAMS_TEMPLATE)
        await provider.delete_template(listed)
    documented = [s for s in samples() if s.provider == "cams" and s.kind == "response"]
    checked = set()
    for found in documented:
        if found.file.endswith(".json"):
            status, reply = recorded.replies[found.api][-1]
            assert status == found.status
            same_shape(found, reply)
            checked.add(found.api)
    assert len(checked) == 9  # every QR code and template API


async def test_cams_update_answers_the_new_code_with_the_documented_newline() -> None:
    app = cams.create_app(qps=0)
    qr = QrCode(account="shop-cams", phone="8613800000000", label="p", prefilled_message="Hi")
    async with cams_client(app) as (provider, recorded):
        created = await provider.create_qr_code(qr)
        updated = await provider.update_qr_code(created, qr)
    ((_, reply),) = recorded.replies["UpdatePhoneMessageQrdl"]
    assert reply["Data"]["QrdlCode"] == updated.code + "\n"
    assert updated.code != created.code  # a new code: the printed one stops working


CAMS_CODES = [row for rows in sample("cams/errors.json").json.values() for row in rows["codes"]]


@pytest.mark.parametrize("row", CAMS_CODES, ids=[r["code"] for r in CAMS_CODES])
async def test_cams_answers_every_documented_code_on_demand(row: dict[str, Any]) -> None:
    app = cams.create_app(qps=0)
    app.state.emulator.fail_next(row["code"], action="CreatePhoneMessageQrdl")
    qr = QrCode(account="shop-cams", phone="8613800000000", label="p", prefilled_message="Hi")
    async with cams_client(app) as (provider, recorded):
        with pytest.raises(ProviderError) as caught:
            await provider.create_qr_code(qr)
        assert await provider.list_qr_codes(qr.phone) == []  # nothing was done
    ((status, reply),) = recorded.replies["CreatePhoneMessageQrdl"]
    assert (status, reply["Code"], caught.value.code) == (row["status"], row["code"], row["code"])
    if "message" in row:
        assert reply["Message"] == row["message"]
    if status >= 400:  # the gateway's error body, as documented
        same_shape(sample("cams/error.gateway.json"), reply)
    else:  # a business refusal: the envelope, with the code
        assert set(reply) == {"RequestId", "Code", "Message"}


async def test_cams_takes_the_documented_request_examples() -> None:
    app = cams.create_app(qps=0)
    form = sample("cams/CreateChatappTemplate.request.sdk.json").json
    signed = _v1_signed(
        {**_v1_params("CreateChatappTemplate"), **form}, "GET", DEFAULT_ACCESS_KEY_SECRET
    )
    reply = await _send(app, "GET", params=signed)
    assert reply.status_code == 200 and reply.json()["Code"] == "OK", reply.text
    (stored,) = app.state.emulator.templates()
    assert stored["Example"] == {"1": "Bob"}
    assert stored["Components"][1]["Buttons"] == [{"Type": "QUICK_REPLY", "Text": "Yes"}]
    for page in sample("cams/ListChatappTemplate.request.page.json").json:
        params = {"Page": json.dumps(page), "CustSpaceId": form["CustSpaceId"]}
        signed = _v1_signed(
            {**_v1_params("ListChatappTemplate", **params)}, "GET", DEFAULT_ACCESS_KEY_SECRET
        )
        listed = (await _send(app, "GET", params=signed)).json()
        assert (listed["Code"], listed["Total"], len(listed["ListTemplate"])) == ("OK", 1, 1)


# --- NXCloud --------------------------------------------------------------------------------


async def test_nxcloud_replies_have_the_documented_keys_and_types() -> None:
    clock = FakeClock()
    app = nxcloud.create_app(qps=0, clock=clock)
    # The template of the getTemplate example: the documented rich components.
    rich = sample("nxcloud/getTemplate.success.json").json["data"]["data"][0]["components"]
    async with nx_client(app, clock) as (provider, recorded):
        created = await provider.create_template(
            make_template(category="MARKETING", components=rich)
        )
        app.state.emulator.set_status(PHONE, created.id, "REJECTED")
        (listed,) = await provider.list_templates([PHONE])
        await provider.update_template(listed, make_template())
        await provider.delete_template(listed)
    for file in (
        "nxcloud/createTemplate.success.json",
        "nxcloud/getTemplate.success.json",
        "nxcloud/deleteTemplate.success.json",
    ):
        found = sample(file)
        same_shape(found, recorded.replies[found.api][-1][1])
    # The page's update reply, value for value.
    ((_, update),) = recorded.replies["updateTemplate"]
    assert update == sample("nxcloud/updateTemplate.success.json").json


async def test_nxcloud_answers_the_failure_example_and_every_code_on_demand() -> None:
    clock = FakeClock()
    app = nxcloud.create_app(qps=0, clock=clock)
    codes = [r for rows in sample("nxcloud/errors.json").json.values() for r in rows["codes"]]
    for row in codes:
        app.state.emulator.fail_next("createTemplate", code=row["code"])
    async with nx_client(app, clock) as (provider, recorded):
        for _ in codes:
            with pytest.raises(ProviderError):
                await provider.create_template(make_template())
    answered = [reply for _, reply in recorded.replies["createTemplate"]]
    assert [(r["code"], r["message"]) for r in answered] == [
        (row["code"], row["message"]) for row in codes
    ]
    failure = sample("nxcloud/updateTemplate.failure.json").json
    assert answered[0] == failure  # the page's failure example, value for value


async def test_nxcloud_takes_the_documented_request_examples() -> None:
    app = nxcloud.create_app(qps=0)
    for name, components in sample("nxcloud/createTemplate.request.examples.json").json.items():
        category = "AUTHENTICATION" if name.startswith("authentication") else "MARKETING"
        body = {
            "appkey": "8exxxs",
            "business_phone": PHONE,
            "messaging_product": "whatsapp",
            "category": category,
            "language": "en_US",
            "name": name.replace(",", "").replace(" ", "_").lower(),
            "components": components,
        }
        reply = (await nx_call(app, "createTemplate", body)).json()
        assert reply["code"] == 0, (name, reply)
    (first, *_) = app.state.emulator.templates(PHONE)
    app.state.emulator.set_status(PHONE, first["id"], "REJECTED")
    for file in ("nxcloud/updateTemplate.request.json", "nxcloud/updateTemplate.request.s2.json"):
        # As printed, but for the masked number and id ("185xxx99", "15125xxxx5168").
        body = {**sample(file).json, "business_phone": PHONE, "template_id": first["id"]}
        reply = (await nx_call(app, "updateTemplate", body)).json()
        assert reply == sample("nxcloud/updateTemplate.success.json").json
        app.state.emulator.set_status(PHONE, first["id"], "REJECTED")

"""Alibaba's official SDK (alibabacloud-cams20200606 5.3.1) against the emulator over a
real socket: if the SDK is happy, the emulator speaks the real protocol, and what the SDK
writes our client reads back the same."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from alibabacloud_cams20200606 import models as m
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config
from starlette.applications import Starlette

from wasync.sandbox.cams import create_app
from wasync.sandbox.common import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, serving

from .support import connect, make_account

SPACE = "cams-sdk01"
PHONE = "8613800000000"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Starlette, str]]:
    app = create_app(qps=0)
    with serving(app) as url:
        yield app, url


def sdk(url: str, secret: str = DEFAULT_ACCESS_KEY_SECRET, **options: Any) -> Client:
    # The SDK builds http://<endpoint>/ from the host header, so the endpoint carries the port.
    return Client(
        Config(
            access_key_id=DEFAULT_ACCESS_KEY_ID,
            access_key_secret=secret,
            endpoint=url.removeprefix("http://"),
            protocol="http",
            **options,
        )
    )


def test_qr_code_create_list_update_delete(served: tuple[Starlette, str]) -> None:
    _, url = served
    client = sdk(url)
    created = client.create_phone_message_qrdl(
        m.CreatePhoneMessageQrdlRequest(
            cust_space_id=SPACE,
            phone_number=PHONE,
            generate_qr_image="PNG",
            prefilled_message="Hello world & 你好*~ 100%",
        )
    ).body
    assert created.code == "OK" and created.request_id
    code = created.data.qrdl_code
    assert created.data.prefilled_message == "Hello world & 你好*~ 100%"

    listed = client.list_phone_message_qrdl(
        m.ListPhoneMessageQrdlRequest(cust_space_id=SPACE, phone_number=PHONE)
    ).body
    assert [q.qrdl_code for q in listed.data] == [code]

    updated = client.update_phone_message_qrdl(
        m.UpdatePhoneMessageQrdlRequest(
            cust_space_id=SPACE,
            phone_number=PHONE,
            qrdl_code=code,
            generate_qr_image="SVG",
            prefilled_message="Autumn",
        )
    ).body
    new_code = updated.data.qrdl_code
    assert new_code != code and updated.data.generate_qr_image == "SVG"

    deleted = client.delete_phone_message_qrdl(
        m.DeletePhoneMessageQrdlRequest(cust_space_id=SPACE, phone_number=PHONE, qrdl_code=new_code)
    ).body
    assert deleted.code == "OK"
    assert (
        client.list_phone_message_qrdl(
            m.ListPhoneMessageQrdlRequest(cust_space_id=SPACE, phone_number=PHONE)
        ).body.data
        == []
    )


def test_template_create_list_get_modify_delete(served: tuple[Starlette, str]) -> None:
    app, url = served
    client = sdk(url)
    components = [
        m.CreateChatappTemplateRequestComponents(type="HEADER", format="TEXT", text="Order {{1}}"),
        m.CreateChatappTemplateRequestComponents(type="BODY", text="Hi {{1}}, it shipped"),
        m.CreateChatappTemplateRequestComponents(
            type="BUTTONS",
            buttons=[
                m.CreateChatappTemplateRequestComponentsButtons(type="QUICK_REPLY", text="Thanks"),
                m.CreateChatappTemplateRequestComponentsButtons(
                    type="URL", text="Track", url="https://x.io/{{1}}", url_type="dynamic"
                ),
            ],
        ),
    ]
    created = client.create_chatapp_template(
        m.CreateChatappTemplateRequest(
            cust_space_id=SPACE,
            name="sdk_shipped",
            language="en_US",
            category="UTILITY",
            template_type="WHATSAPP",
            components=components,
            example={"header.1": "A-1", "1": "Bob", "button.2.1": "https://x.io/42"},
            allow_category_change=True,  # deprecated, and sent as Python's "True"
            message_send_ttl_seconds=600,
        )
    ).body
    assert created.code == "OK" and created.success is True
    code = created.data.template_code
    assert created.data.template_name == "sdk_shipped"

    listed = client.list_chatapp_template(
        m.ListChatappTemplateRequest(
            cust_space_id=SPACE, page=m.ListChatappTemplateRequestPage(index=1, size=10)
        )
    ).body
    assert listed.total == 1
    [entry] = listed.list_template
    assert (entry.template_code, entry.audit_status, entry.language) == (code, "auditing", "en_US")

    detail = client.get_chatapp_template_detail(
        m.GetChatappTemplateDetailRequest(
            cust_space_id=SPACE, template_code=code, language="en_US", template_type="WHATSAPP"
        )
    ).body.data
    assert detail.name == "sdk_shipped" and detail.message_send_ttl_seconds == 600
    assert [c.type for c in detail.components] == ["HEADER", "BODY", "BUTTONS"]
    assert detail.components[2].buttons[1].url_type == "dynamic"
    assert detail.example["1"] == "Bob"

    # What the SDK wrote, wasync's client reads as canonical components.
    async def read_back() -> None:
        async with connect(None, make_account(cust_space_id=SPACE), base_url=url) as provider:
            [remote] = await provider.list_templates([])
        assert remote.components == (
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
             "example": {"header_text": ["A-1"]}},
            {"type": "BODY", "text": "Hi {{1}}, it shipped", "example": {"body_text": [["Bob"]]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": "https://x.io/{{1}}",
                 "example": ["https://x.io/42"]},
            ]},
        )  # fmt: skip

    anyio.run(read_back)

    refused = client.modify_chatapp_template(
        m.ModifyChatappTemplateRequest(
            cust_space_id=SPACE,
            template_code=code,
            language="en_US",
            template_type="WHATSAPP",
            components=[m.ModifyChatappTemplateRequestComponents(type="BODY", text="Changed")],
        )
    ).body
    # Under review: a business refusal on HTTP 200, which the SDK passes through.
    assert refused.code == "InvalidParameter.AuditStatusNotSupport" and refused.success is False

    app.state.emulator.set_template_status(code, "en_US", "fail", "INVALID_FORMAT")
    modified = client.modify_chatapp_template(
        m.ModifyChatappTemplateRequest(
            cust_space_id=SPACE,
            template_code=code,
            language="en_US",
            template_type="WHATSAPP",
            components=[m.ModifyChatappTemplateRequestComponents(type="BODY", text="Changed")],
        )
    ).body
    assert modified.code == "OK" and modified.data.template_code == code

    deleted = client.delete_chatapp_template(
        m.DeleteChatappTemplateRequest(
            cust_space_id=SPACE, template_code=code, language="en_US", template_type="WHATSAPP"
        )
    ).body
    assert deleted.code == "OK" and deleted.success is True
    again = client.delete_chatapp_template(
        m.DeleteChatappTemplateRequest(
            cust_space_id=SPACE, template_code=code, language="en_US", template_type="WHATSAPP"
        )
    ).body
    assert again.code == "DelError.TemplateNotExist"


def test_v1_signature_mode(served: tuple[Starlette, str]) -> None:
    _, url = served
    client = sdk(url, signature_algorithm="v2")  # the SDK's name for RPC HMAC-SHA1
    created = client.create_phone_message_qrdl(
        m.CreatePhoneMessageQrdlRequest(
            cust_space_id="cams-v1",
            phone_number=PHONE,
            generate_qr_image="SVG",
            prefilled_message="Signed the old way: ~*'()!",
        )
    ).body
    assert created.code == "OK"
    listed = client.list_phone_message_qrdl(
        m.ListPhoneMessageQrdlRequest(cust_space_id="cams-v1", phone_number=PHONE)
    ).body
    assert [q.prefilled_message for q in listed.data] == ["Signed the old way: ~*'()!"]


def test_the_sdk_sees_signature_errors_and_throttling_as_it_would_from_alibaba() -> None:
    with serving(create_app(qps=1)) as url:
        with pytest.raises(ClientException) as refused:
            sdk(url, secret="not-the-secret").list_phone_message_qrdl(
                m.ListPhoneMessageQrdlRequest(phone_number=PHONE)
            )
        assert refused.value.code == "SignatureDoesNotMatch"
        assert refused.value.status_code == 400

        client = sdk(url)
        client.list_phone_message_qrdl(m.ListPhoneMessageQrdlRequest(phone_number=PHONE))
        with pytest.raises(ThrottlingException) as throttled:
            client.list_phone_message_qrdl(m.ListPhoneMessageQrdlRequest(phone_number=PHONE))
        assert throttled.value.code == "Throttling.User"
        assert throttled.value.retry_after == 1000

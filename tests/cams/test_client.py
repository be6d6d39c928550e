"""The real CAMS client against the emulator over HTTP: every operation, paging, details,
review lifecycle, space scoping, idempotent deletes, logging without secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode, RemoteTemplate, Template
from wasync.providers.base import Provider
from wasync.providers.cams.client import LIST_PAGE_SIZE, CamsProvider
from wasync.sandbox.cams import create_app
from wasync.sandbox.common import DEFAULT_ACCESS_KEY_SECRET

from .support import SPACE, Connect, make_account, rewriting

pytestmark = pytest.mark.anyio

PHONE = "8613800000000"


def qr(message: str = "Hello world & 你好*~ +=%", **kw: Any) -> QrCode:
    return QrCode(account="shop-cams", phone=PHONE, label="poster", prefilled_message=message, **kw)


def template(name: str = "order_shipped", language: str = "en_US", **kw: Any) -> Template:
    data: dict[str, Any] = {
        "account": "shop-cams",
        "name": name,
        "language": language,
        "category": "UTILITY",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{1}}",
                "example": {"header_text": ["A-1"]},
            },
            {
                "type": "BODY",
                "text": "Hi {{1}}, order {{2}} shipped & is on its way*",
                "example": {"body_text": [["Bob", "12345"]]},
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://example.com/t/{{1}}",
                        "example": ["https://example.com/t/12345"],
                    },
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                ],
            },
        ],
    }
    data.update(kw)
    return Template.model_validate(data)


def by_name(templates: list[RemoteTemplate]) -> dict[tuple[str, str], RemoteTemplate]:
    return {(t.name, t.language): t for t in templates}


async def test_provider_satisfies_the_protocol(connect: Connect) -> None:
    async with connect(create_app(qps=0)) as provider:
        assert isinstance(provider, Provider)
        assert provider.account == "shop-cams"
        assert provider.traits.name == "cams"


async def test_qr_code_lifecycle(connect: Connect) -> None:
    app = create_app(qps=0)
    emulator = app.state.emulator
    async with connect(app) as provider:
        assert await provider.list_qr_codes(PHONE) == []
        created = await provider.create_qr_code(qr(image="PNG"))
        assert created.account == "shop-cams" and created.phone == PHONE
        assert created.prefilled_message == "Hello world & 你好*~ +=%"
        assert created.image == "PNG"
        assert created.deep_link_url.endswith(created.code)
        assert await provider.list_qr_codes(PHONE) == [created]
        # Stored in the account's space, not in another one.
        assert [q["QrdlCode"] for q in emulator.qr_codes(PHONE, SPACE)] == [created.code]
        assert emulator.qr_codes(PHONE, "") == []

        updated = await provider.update_qr_code(created, qr("Autumn sale", image="SVG"))
        assert updated.code != created.code  # CAMS retires the printed code
        assert updated.prefilled_message == "Autumn sale" and updated.image == "SVG"
        assert await provider.list_qr_codes(PHONE) == [updated]

        # The old code no longer exists: updating it again is refused, deleting it is a no-op.
        with pytest.raises(ProviderError) as err:
            await provider.update_qr_code(created, qr("again"))
        assert err.value.code == "InvalidQrdlCode.NotFound"
        assert err.value.error_class is ErrorClass.FATAL
        assert "plan again" in str(err.value)

        await provider.delete_qr_code(updated)
        assert await provider.list_qr_codes(PHONE) == []
        await provider.delete_qr_code(updated)  # a re-run after an interruption converges
    assert emulator.calls["DeletePhoneMessageQrdl"] == 2


async def test_qr_code_with_a_bad_phone_is_refused_with_a_hint(connect: Connect) -> None:
    async with connect(create_app(qps=0)) as provider:
        bad = QrCode(account="shop-cams", phone="+86 138", label="x", prefilled_message="hi")
        with pytest.raises(ProviderError) as err:
            await provider.create_qr_code(bad)
    assert err.value.code == "InvalidParameter.PhoneNumberError"
    assert err.value.error_class is ErrorClass.FATAL
    assert err.value.http_status == 200  # a business refusal: HTTP 200 with a Code
    assert err.value.request_id
    assert "country code" in (err.value.hint or "")


async def test_template_lifecycle(connect: Connect) -> None:
    app = create_app(qps=0)
    emulator = app.state.emulator
    desired = template(message_send_ttl_seconds=3600)
    async with connect(app) as provider:
        created = await provider.create_template(desired)
        assert created.status == "PENDING" and created.phone is None
        assert created.components == tuple(desired.canonical_components())

        [listed] = await provider.list_templates(["8613800000000"])
        assert listed.id == created.id
        assert listed.detailed and listed.status == "PENDING"
        assert listed.components == tuple(desired.canonical_components())
        assert listed.message_send_ttl_seconds == 3600
        assert listed.address == "template.shop-cams.order_shipped.en_US"

        # Under review: CAMS refuses the edit.
        with pytest.raises(ProviderError) as err:
            await provider.update_template(listed, desired)
        assert err.value.code == "InvalidParameter.AuditStatusNotSupport"
        assert err.value.error_class is ErrorClass.FATAL

        emulator.set_template_status(created.id, "en_US", "fail", "INVALID_FORMAT")
        [rejected] = await provider.list_templates([])
        assert rejected.status == "REJECTED" and rejected.reason == "INVALID_FORMAT"

        changed = template(
            components=[
                {
                    "type": "BODY",
                    "text": "Your order {{1}} is out",
                    "example": {"body_text": [["9"]]},
                }
            ]
        )
        updated = await provider.update_template(rejected, changed)
        assert updated.id == created.id and updated.status == "PENDING"
        [after] = await provider.list_templates([])
        assert after.status == "PENDING"
        assert after.components == tuple(changed.canonical_components())

        emulator.set_template_status(created.id, "en_US", "APPROVED")
        [approved] = await provider.list_templates([])
        assert approved.status == "APPROVED" and approved.reason is None

        await provider.delete_template(approved)
        assert await provider.list_templates([]) == []
        await provider.delete_template(approved)  # already gone: done


async def test_duplicate_name_and_language_is_refused(connect: Connect) -> None:
    async with connect(create_app(qps=0)) as provider:
        await provider.create_template(template())
        with pytest.raises(ProviderError) as err:
            await provider.create_template(template())
    assert err.value.code == "InvalidParameter.TemplateNameExist"
    assert err.value.error_class is ErrorClass.FATAL
    assert "plan again" in str(err.value)


async def test_delete_takes_only_one_language(connect: Connect) -> None:
    app = create_app(qps=0)
    async with connect(app) as provider:
        english = await provider.create_template(template(language="en_US"))
        chinese = await provider.create_template(template(language="zh_CN"))
        assert english.id == chinese.id  # one TemplateCode per name; the language tells them apart
        await provider.delete_template(english)
        remaining = await provider.list_templates([])
    assert [(t.name, t.language) for t in remaining] == [("order_shipped", "zh_CN")]


async def test_listing_pages_through_everything_with_the_largest_page(connect: Connect) -> None:
    app = create_app(qps=0)
    emulator = app.state.emulator
    total = 2 * LIST_PAGE_SIZE + 7
    for i in range(total):  # seeded through the service itself, not over HTTP, to stay fast
        emulator.call(
            "CreateChatappTemplate",
            {
                "CustSpaceId": SPACE,
                "Name": f"t_{i:03d}",
                "Language": "en",
                "Category": "MARKETING",
                "TemplateType": "WHATSAPP",
                "Components": [{"Type": "BODY", "Text": f"Body {i}"}],
            },
        )
    emulator.calls.clear()
    wanted = {("t_005", "en"), ("t_150", "en"), ("t_206", "en"), ("absent", "en")}
    async with connect(app) as provider:
        listed = await provider.list_templates([], detail_for=wanted)
    assert len(listed) == total
    assert len({t.id for t in listed}) == total
    assert emulator.calls["ListChatappTemplate"] == pages(emulator, total)
    # Details only for the managed pairs; the others come back without components.
    assert emulator.calls["GetChatappTemplateDetail"] == 3
    detailed = {(t.name, t.language) for t in listed if t.detailed}
    assert detailed == wanted - {("absent", "en")}
    assert by_name(listed)[("t_150", "en")].components == ({"type": "BODY", "text": "Body 150"},)
    assert by_name(listed)[("t_151", "en")].components == ()


async def test_an_exact_page_boundary_ends_without_an_extra_call(connect: Connect) -> None:
    app = create_app(qps=0)
    emulator = app.state.emulator
    for i in range(LIST_PAGE_SIZE):
        emulator.call(
            "CreateChatappTemplate",
            {
                "CustSpaceId": SPACE,
                "Name": f"t_{i}",
                "Language": "en",
                "Category": "UTILITY",
                "TemplateType": "WHATSAPP",
                "Components": [{"Type": "BODY", "Text": "x"}],
            },
        )
    emulator.calls.clear()
    async with connect(app) as provider:
        listed = await provider.list_templates([], detail_for=())
    assert len(listed) == LIST_PAGE_SIZE
    assert emulator.calls["ListChatappTemplate"] == pages(emulator, LIST_PAGE_SIZE)
    assert emulator.calls["GetChatappTemplateDetail"] == 0


def pages(emulator: Any, total: int) -> int:
    """ListChatappTemplate calls a listing of ``total`` takes: pages of LIST_PAGE_SIZE, or
    of the emulator's cap when the test run sets one (``--page-cap``)."""
    size = min(LIST_PAGE_SIZE, emulator.page_cap or LIST_PAGE_SIZE)
    return -(-total // size)


@pytest.mark.parametrize("cap", [7, 10, 99])
async def test_a_server_that_caps_the_page_is_listed_to_its_total(
    connect: Connect, cap: int
) -> None:
    # Alibaba's default page is 10, and caps differ per API: a page shorter than asked for
    # is not the end while the listing's Total says more are left.
    app = create_app(qps=0, page_cap=cap)
    _seed(app, 23)
    async with connect(app) as provider:
        listed = await provider.list_templates([], detail_for=())
    assert sorted(t.name for t in listed) == sorted(f"t_{i}" for i in range(23))
    assert app.state.emulator.calls["ListChatappTemplate"] == -(-23 // cap)


async def test_without_total_a_short_page_ends_the_listing(connect: Connect) -> None:
    app = create_app(qps=0, page_cap=7)
    _seed(app, 9)

    def without_total(status: int, body: bytes) -> tuple[int, bytes]:
        reply = json.loads(body)
        reply.pop("Total", None)
        return status, json.dumps(reply).encode()

    async with connect(rewriting(app, without_total)) as provider:
        listed = await provider.list_templates([], detail_for=())
    # Nothing says more are left: the first short page (7 of 100 asked) is taken as the end.
    assert len(listed) == 7
    assert app.state.emulator.calls["ListChatappTemplate"] == 1


async def test_templates_are_scoped_by_cust_space_id(connect: Connect) -> None:
    app = create_app(qps=0)
    async with connect(app, make_account("a", cust_space_id="cams-a")) as a:
        await a.create_template(template("only_in_a"))
    async with connect(app, make_account("b", cust_space_id="cams-b")) as b:
        assert await b.list_templates([]) == []
        await b.create_template(template("only_in_a"))  # same name, another space: allowed
    async with connect(app, make_account("direct", cust_space_id=None)) as direct:
        assert await direct.list_templates([]) == []


async def test_review_approves_after_the_configured_delay(connect: Connect) -> None:
    now = [1_800_000_000.0]
    app = create_app(qps=0, clock=lambda: now[0], approve_after=60)
    async with connect(app, clock=lambda: now[0]) as provider:
        await provider.create_template(template())
        [pending] = await provider.list_templates([])
        assert pending.status == "PENDING"
        now[0] += 61
        [approved] = await provider.list_templates([])
        assert approved.status == "APPROVED"


async def test_state_persists_across_emulator_restarts(connect: Connect, tmp_path: Path) -> None:
    async with connect(create_app(qps=0, state_dir=tmp_path)) as provider:
        created_qr = await provider.create_qr_code(qr())
        created = await provider.create_template(template())
    assert (tmp_path / "cams.json").exists()
    async with connect(create_app(qps=0, state_dir=tmp_path)) as provider:
        assert await provider.list_qr_codes(PHONE) == [created_qr]
        [listed] = await provider.list_templates([])
    assert listed.id == created.id


async def test_every_call_goes_through_the_gate(connect: Connect) -> None:
    entered: list[str] = []

    @asynccontextmanager
    async def gate(api: str = "") -> AsyncIterator[None]:
        entered.append(api)
        yield

    app = create_app(qps=0)
    async with connect(app, gate=gate) as provider:
        created = await provider.create_template(template())
        await provider.list_templates([])
        await provider.delete_template(created)
    # Each call names its API: CAMS counts each API apart.
    assert entered == [
        "CreateChatappTemplate",
        "ListChatappTemplate",
        "GetChatappTemplateDetail",
        "DeleteChatappTemplate",
    ]
    assert len(entered) == sum(app.state.emulator.calls.values())


async def test_debug_log_has_each_call_and_no_secret(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wasync.http")
    async with connect(create_app(qps=0)) as provider:
        await provider.create_qr_code(qr())
        assert DEFAULT_ACCESS_KEY_SECRET not in repr(provider)
    [record] = [r for r in caplog.records if r.name == "wasync.http"]
    line = record.getMessage()
    assert "CreatePhoneMessageQrdl" in line and "RequestId=" in line
    assert "CreatePhoneMessageQrdl: POST https://" in line and "-> HTTP 200 Code=OK" in line
    assert "authorization=***" in line
    assert "Signature=" not in line and DEFAULT_ACCESS_KEY_SECRET not in line


async def test_missing_credentials_name_the_account() -> None:
    import httpx

    from wasync.errors import ConfigError
    from wasync.providers.cams.account import CamsAccount

    account = CamsAccount(name="shop-cams", provider="cams")
    async with httpx.AsyncClient() as http:
        missing = "account shop-cams: access_key_id and access_key_secret are missing"
        with pytest.raises(ConfigError, match=missing):
            CamsProvider(account, http=http)


def _seed(app: Any, count: int) -> None:
    for i in range(count):
        app.state.emulator.call(
            "CreateChatappTemplate",
            {"CustSpaceId": SPACE, "Name": f"t_{i}", "Language": "en", "Category": "UTILITY",
             "TemplateType": "WHATSAPP", "Components": [{"Type": "BODY", "Text": "x"}]},
        )  # fmt: skip


async def test_a_failing_detail_call_fails_the_refresh_with_its_own_error(
    connect: Connect,
) -> None:
    app = create_app(qps=3)  # the listing and two details get through, then the bucket is dry
    _seed(app, 10)
    async with connect(app) as provider:
        with pytest.raises(ProviderError) as err:  # not an exception group
            await provider.list_templates([])
    assert err.value.error_class is ErrorClass.THROTTLED


async def test_a_template_deleted_between_listing_and_detail_is_left_out(
    connect: Connect,
) -> None:
    app = create_app(qps=0)
    _seed(app, 2)
    [first, _] = app.state.emulator.templates()
    calls = 0

    @asynccontextmanager
    async def gate(api: str = "") -> AsyncIterator[None]:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the listing, someone else deletes t_0
            app.state.emulator.call(
                "DeleteChatappTemplate",
                {"CustSpaceId": SPACE, "TemplateCode": first["TemplateCode"]},
            )
        yield

    async with connect(app, gate=gate) as provider:
        remaining = await provider.list_templates([])
    assert [t.name for t in remaining] == ["t_1"]

"""Every template operation of the real client against the emulator, over HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from wasync.errors import ConfigError, ErrorClass, ProviderError, WasyncError
from wasync.model import QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.plan.diff import strip_keys
from wasync.providers.base import Provider
from wasync.providers.nxcloud.client import PAGE_LIMIT, NxcloudProvider
from wasync.sandbox.common import DEFAULT_ACCESS_KEY_SECRET, InProcessTransport
from wasync.sandbox.nxcloud import NxcloudEmulator, create_app

from .support import OTHER_PHONE, PHONE, FakeClock, connect, make_account, make_template

pytestmark = pytest.mark.anyio


def by_key(templates: list[RemoteTemplate]) -> dict[tuple[str | None, str, str], RemoteTemplate]:
    return {(t.phone, t.name, t.language): t for t in templates}


async def test_it_is_a_provider_for_templates_only(provider: NxcloudProvider) -> None:
    assert isinstance(provider, Provider)
    assert provider.traits.kinds == frozenset({"template"})
    qr = QrCode(account="shop-nx", phone=PHONE, label="poster", prefilled_message="Hi")
    remote = RemoteQrCode(
        account="shop-nx", phone=PHONE, code="C1", prefilled_message="Hi", image="SVG"
    )
    for call in (
        provider.list_qr_codes(PHONE),
        provider.create_qr_code(qr),
        provider.update_qr_code(remote, qr),
        provider.delete_qr_code(remote),
    ):
        with pytest.raises(WasyncError, match="NXCloud has no QR code API"):
            await call


async def test_create_then_list_gives_back_the_template(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    desired = make_template()
    created = await provider.create_template(desired)
    assert created.status == "PENDING"
    assert created.id == emulator.templates(PHONE)[0]["id"]

    listed = await provider.list_templates([PHONE])
    assert len(listed) == 1
    got = listed[0]
    assert (got.account, got.phone, got.id) == ("shop-nx", PHONE, created.id)
    assert (got.name, got.language, got.category, got.status) == (
        "order_shipped",
        "en_US",
        "UTILITY",
        "PENDING",
    )
    assert list(got.components) == desired.canonical_components()
    assert got.detailed and got.reason is None
    assert got.address == "template.shop-nx.8618500009999.order_shipped.en_US"
    assert got.extra == {"quality_score": "UNKNOWN"}


async def test_templates_are_per_phone(provider: NxcloudProvider) -> None:
    await provider.create_template(make_template(phone=PHONE))
    await provider.create_template(make_template(phone=OTHER_PHONE, name="welcome"))
    assert [t.name for t in await provider.list_templates([PHONE])] == ["order_shipped"]
    both = await provider.list_templates([PHONE, OTHER_PHONE, PHONE])
    assert sorted((t.phone, t.name) for t in both) == [
        (OTHER_PHONE, "welcome"),
        (PHONE, "order_shipped"),
    ]


async def test_listing_follows_cursors_across_pages(
    app: Starlette, emulator: NxcloudEmulator, clock: FakeClock
) -> None:
    calls: list[str] = []

    @asynccontextmanager
    async def gate(api: str = "") -> AsyncIterator[None]:
        calls.append(api)
        yield

    total = 2 * PAGE_LIMIT + 5
    async with connect(app, clock=clock, gate=gate) as provider:
        for i in range(total):
            emulator.create_template(
                {
                    "appkey": "8exxxs",
                    "business_phone": PHONE,
                    "messaging_product": "whatsapp",
                    "name": f"t_{i:03d}",
                    "language": "en_US",
                    "category": "MARKETING",
                    "components": [{"type": "BODY", "text": f"Offer {i}"}],
                }
            )
        calls.clear()
        listed = await provider.list_templates([PHONE])
    assert [t.name for t in listed] == [f"t_{i:03d}" for i in range(total)]
    # Three pages (or more, under the run's --page-cap), each call through the gate.
    size = min(PAGE_LIMIT, emulator.page_cap or PAGE_LIMIT)
    assert calls == ["getTemplate"] * -(-total // size)


async def test_a_rejected_template_is_edited_with_its_new_category(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template(category="MARKETING"))
    emulator.set_status(PHONE, created.id, "REJECTED", reason="INCORRECT_CATEGORY")
    (current,) = await provider.list_templates([PHONE])
    assert (current.status, current.reason) == ("REJECTED", "INCORRECT_CATEGORY")

    desired = make_template(
        category="UTILITY",
        components=[
            {
                "type": "BODY",
                "text": "Order {{1}} is on its way.",
                "example": {"body_text": [["7"]]},
            }
        ],
    )
    updated = await provider.update_template(current, desired)
    assert (updated.id, updated.category, updated.status) == (current.id, "UTILITY", "PENDING")
    (after,) = await provider.list_templates([PHONE])
    assert (after.category, after.status) == ("UTILITY", "PENDING")
    assert list(after.components) == desired.canonical_components()


async def test_an_approved_template_keeps_its_category_and_is_edit_capped(
    provider: NxcloudProvider, emulator: NxcloudEmulator, clock: FakeClock
) -> None:
    created = await provider.create_template(make_template(category="UTILITY"))
    emulator.set_status(PHONE, created.id, "APPROVED")
    (current,) = await provider.list_templates([PHONE])
    # The category is not sent for an approved template: the edit goes through without it.
    desired = make_template(category="MARKETING", components=[{"type": "BODY", "text": "v2"}])
    updated = await provider.update_template(current, desired)
    assert (updated.category, updated.status) == ("UTILITY", "PENDING")

    emulator.set_status(PHONE, created.id, "APPROVED")
    (current,) = await provider.list_templates([PHONE])
    with pytest.raises(ProviderError) as info:
        await provider.update_template(
            current, make_template(components=[{"type": "BODY", "text": "v3"}])
        )
    assert info.value.error_class is ErrorClass.FATAL
    assert "once in 24 hours" in str(info.value)

    clock.advance(24 * 3600 + 1)
    await provider.update_template(
        current, make_template(components=[{"type": "BODY", "text": "v3"}])
    )


async def test_a_pending_template_cannot_be_edited(provider: NxcloudProvider) -> None:
    created = await provider.create_template(make_template())
    with pytest.raises(ProviderError) as info:
        await provider.update_template(
            created, make_template(components=[{"type": "BODY", "text": "x"}])
        )
    assert info.value.error_class is ErrorClass.FATAL
    assert info.value.code == "9099/100"
    assert "Template can't be edited" in str(info.value)
    assert "PENDING" in str(info.value)


async def test_ten_approved_edits_in_thirty_days(
    provider: NxcloudProvider, emulator: NxcloudEmulator, clock: FakeClock
) -> None:
    created = await provider.create_template(make_template())
    for i in range(10):
        emulator.set_status(PHONE, created.id, "APPROVED")
        await provider.update_template(
            created, make_template(components=[{"type": "BODY", "text": f"v{i}"}])
        )
        clock.advance(24 * 3600 + 1)
    emulator.set_status(PHONE, created.id, "APPROVED")
    with pytest.raises(ProviderError, match="10 times in 30 days"):
        await provider.update_template(
            created, make_template(components=[{"type": "BODY", "text": "v10"}])
        )
    # A rejected template may be edited without limit.
    emulator.set_status(PHONE, created.id, "REJECTED")
    await provider.update_template(
        created, make_template(components=[{"type": "BODY", "text": "v10"}])
    )


async def test_delete_takes_every_language_of_the_name(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    for language in ("en_US", "zh_CN", "es"):
        await provider.create_template(make_template(language=language))
    await provider.create_template(make_template(name="welcome"))
    await provider.create_template(make_template(phone=OTHER_PHONE))
    listed = by_key(await provider.list_templates([PHONE]))

    await provider.delete_template(listed[(PHONE, "order_shipped", "zh_CN")])
    assert [t["name"] for t in emulator.templates(PHONE)] == ["welcome"]
    assert [t["name"] for t in emulator.templates(OTHER_PHONE)] == ["order_shipped"]


async def test_deleting_a_name_that_is_gone_counts_as_done(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template())
    await provider.delete_template(created)
    await provider.delete_template(created)  # no error: the name is already gone
    assert emulator.templates(PHONE) == []


async def test_a_delete_that_nxcloud_reports_failed_is_an_error(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template())
    emulator.fail_next(
        "deleteTemplate", code=0, message="Request successful", data={"success": False}
    )
    with pytest.raises(ProviderError, match="did not delete order_shipped") as info:
        await provider.delete_template(created)
    assert info.value.error_class is ErrorClass.FATAL


async def test_a_deleted_approved_name_is_locked(
    provider: NxcloudProvider, emulator: NxcloudEmulator, clock: FakeClock
) -> None:
    created = await provider.create_template(make_template())
    emulator.set_status(PHONE, created.id, "APPROVED")
    await provider.delete_template(created)
    with pytest.raises(ProviderError, match="can't be reused"):
        await provider.create_template(make_template())
    clock.advance(30 * 86400)
    await provider.create_template(make_template())


async def test_duplicate_name_and_language_is_refused_with_metas_words(
    provider: NxcloudProvider,
) -> None:
    await provider.create_template(make_template())
    with pytest.raises(ProviderError) as info:
        await provider.create_template(make_template())
    error = info.value
    assert error.error_class is ErrorClass.FATAL
    assert error.code == "9099/100/2388024"
    assert error.request_id  # Meta's fbtrace_id
    assert "Content in This Language Already Exists" in str(error)


async def test_approve_after_approves_pending_templates_by_the_clock(clock: FakeClock) -> None:
    app = create_app(qps=0, clock=clock, approve_after=60)
    async with connect(app, clock=clock) as provider:
        await provider.create_template(make_template())
        clock.advance(59)
        assert [t.status for t in await provider.list_templates([PHONE])] == ["PENDING"]
        clock.advance(2)
        assert [t.status for t in await provider.list_templates([PHONE])] == ["APPROVED"]


async def test_a_template_without_phone_is_refused_before_any_call(
    provider: NxcloudProvider,
) -> None:
    with pytest.raises(WasyncError, match=r"template\.shop-nx\.order_shipped\.en_US: .*add phone:"):
        await provider.create_template(make_template(phone=None))


def carousel_template(body: str = "Card {{1}} of ours.") -> Template:
    card = {
        "components": [
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_url": "https://x.test/a.png"},
            },
            {"type": "BODY", "text": body, "example": {"body_text": [["7"]]}},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "More"},
                    {
                        "type": "URL",
                        "text": "Shop",
                        "url": "https://shop.test/{{1}}",
                        "example": ["https://shop.test/a"],
                    },
                ],
            },
        ]
    }
    return make_template(
        category="MARKETING",
        components=[
            {"type": "BODY", "text": "Pick one."},
            {"type": "CAROUSEL", "cards": [card, card]},
        ],
    )


async def test_a_carousel_goes_up_as_the_page_documents_and_reads_back_equal(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    desired = carousel_template()
    await provider.create_template(desired)
    (stored,) = emulator.templates(PHONE)
    carousel = stored["components"][1]
    assert carousel["type"] == "CAROUSEL" and len(carousel["cards"]) == 2
    header = carousel["cards"][0]["components"][0]
    # Sent as NXCloud's custom_header_handle_url; read back as Meta's copy, in header_handle.
    assert header["example"]["header_handle"][0].startswith("https://scontent.sandbox.invalid/")
    (listed,) = await provider.list_templates([PHONE])
    # As the planner compares them: the sample comes back as Meta's copy (write-only).
    keys = provider.traits.write_only_component_keys
    have = strip_keys(list(listed.components), keys)
    assert have == strip_keys(desired.canonical_components(), keys)


async def test_a_carousel_card_is_checked_by_metas_rules(provider: NxcloudProvider) -> None:
    too_long = carousel_template(body="x" * 161 + " {{1}}.")
    with pytest.raises(ProviderError) as info:
        await provider.create_template(too_long)
    assert info.value.code == "9099/100" and "at most 160 characters" in str(info.value)


async def test_an_update_reads_the_documented_reply_without_an_id(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template(message_send_ttl_seconds=300))
    emulator.set_status(PHONE, created.id, "REJECTED")
    (current,) = await provider.list_templates([PHONE])
    sent: list[bytes] = []
    original = emulator.update_template

    def spying(body: dict[str, object]) -> dict[str, object]:
        sent.append(repr(sorted(body)).encode())
        return original(body)

    emulator.update_template = spying  # type: ignore[method-assign]
    desired = make_template(
        message_send_ttl_seconds=600, components=[{"type": "BODY", "text": "Shipped."}]
    )
    updated = await provider.update_template(current, desired)
    # The page's success reply has no id: the template keeps the one it had.
    assert (updated.id, updated.status) == (created.id, "PENDING")
    # Only the fields updateTemplate's page lists go up: no message_send_ttl_seconds.
    assert sent == [
        repr(
            sorted(["appkey", "business_phone", "messaging_product", "template_id", "components"])
        ).encode()
    ]
    assert emulator.templates(PHONE)[0]["message_send_ttl_seconds"] == 300
    assert updated.message_send_ttl_seconds is None  # not read back: what it was is unknown


async def test_an_update_that_nxcloud_reports_failed_is_a_clear_error(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template())
    emulator.set_status(PHONE, created.id, "REJECTED")
    (current,) = await provider.list_templates([PHONE])
    emulator.fail_next("updateTemplate", code=0, data={"success": False})
    with pytest.raises(ProviderError) as info:
        await provider.update_template(
            current, make_template(components=[{"type": "BODY", "text": "v2"}])
        )
    error = info.value
    assert (error.code, error.error_class) == ("success=false", ErrorClass.FATAL)
    assert "NXCloud did not apply the update of order_shipped (en_US)" in str(error)
    assert "nothing was changed" in str(error) and "run wasync plan again" in str(error)


async def test_sha256_signing_is_accepted(app: Starlette, clock: FakeClock) -> None:
    async with connect(app, clock=clock, algorithm="sha256") as provider:
        await provider.create_template(make_template())
        assert len(await provider.list_templates([PHONE])) == 1


async def test_missing_credentials_are_a_config_error_naming_the_account() -> None:
    app = create_app(qps=0)
    async with httpx.AsyncClient(transport=InProcessTransport(app)) as http:
        with pytest.raises(ConfigError, match="account shop-nx: NXCloud needs secret_key"):
            NxcloudProvider(make_account(secret_key=None), http=http)
        with pytest.raises(ConfigError, match="unknown signing algorithm 'sha1'"):
            NxcloudProvider(make_account(), http=http, algorithm="sha1")


async def test_secrets_stay_out_of_repr_and_debug_log(
    app: Starlette, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "nx-secret-value-for-this-test"
    key = "nx-access-key-for-this-test"
    app = create_app(qps=0, clock=clock, access_key_id=key, access_key_secret=secret)
    caplog.set_level(logging.DEBUG, logger="wasync.http")
    async with connect(
        app, clock=clock, access_key=SecretStr(key), secret_key=SecretStr(secret)
    ) as provider:
        await provider.create_template(make_template())
        await provider.list_templates([PHONE])
        assert secret not in repr(provider) and key not in repr(provider)
    lines = [r.getMessage() for r in caplog.records if r.name == "wasync.http"]
    assert len(lines) == 2
    assert "nxcloud shop-nx createTemplate: POST https://" in lines[0]
    assert "nxcloud shop-nx getTemplate: POST https://" in lines[1]
    for line in lines:
        assert secret not in line and key not in line
        assert "-> HTTP 200 code=0" in line
        assert "sign=***" in line and "accesskey=***" in line


async def test_a_wrong_secret_says_which_account_and_what_to_check(
    app: Starlette, clock: FakeClock
) -> None:
    async with connect(
        app, clock=clock, secret_key=SecretStr("not-" + DEFAULT_ACCESS_KEY_SECRET)
    ) as p:
        with pytest.raises(ProviderError) as info:
            await p.list_templates([PHONE])
    assert info.value.error_class is ErrorClass.FATAL
    assert str(info.value) == (
        "nxcloud getTemplate failed: 1003: signature rejected (Invalid signature); "
        "check secret_key for account shop-nx, and that the clock is right"
    )
    assert DEFAULT_ACCESS_KEY_SECRET not in str(info.value)


async def test_a_refused_delete_of_a_name_that_still_exists_is_reported(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    created = await provider.create_template(make_template())
    meta = {"code": 100, "message": "(#100) Invalid parameter", "error_user_msg": "It is disabled."}
    emulator.fail_next("deleteTemplate", code=9099, data={"error": meta})
    with pytest.raises(ProviderError) as info:
        await provider.delete_template(created)
    assert (info.value.code, info.value.operation) == ("9099/100", "deleteTemplate")
    assert "It is disabled." in str(info.value)
    assert len(emulator.templates(PHONE)) == 1

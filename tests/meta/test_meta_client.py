"""The Meta client against the Graph emulator over HTTP: numbers, QR codes, templates
(named variables, authentication, media samples, edits, deletes), paging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode, Template
from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.common import drop_connection
from wasync.sandbox.meta import MetaWorld, create_app

from .support import (
    PHONE,
    PNG,
    WABA,
    FakeClock,
    Recording,
    connect,
    make_template,
)

pytestmark = pytest.mark.anyio

QR = QrCode(account="shop-meta", phone=PHONE, label="poster", prefilled_message="Hi there")


# --- numbers ---------------------------------------------------------------------------------


async def test_numbers_are_read_once_a_run_and_matched_by_their_digits(
    app: Starlette, clock: FakeClock
) -> None:
    recording = Recording(app)
    async with connect(app, transport=recording, clock=clock) as provider:
        await provider.create_qr_code(QR)
        await provider.list_qr_codes(PHONE)
        await provider.list_qr_codes("15550103333")
    # "+1 555-010-1111" is the spec's 15550101111; the numbers were listed once.
    assert recording.paths("GET").count(f"/v25.0/{WABA}/phone_numbers") == 1


async def test_a_number_the_waba_does_not_hold_is_named_with_the_ones_it_holds(
    provider: MetaProvider,
) -> None:
    with pytest.raises(ProviderError) as info:
        await provider.list_qr_codes("4915112345678")
    error = info.value
    assert error.error_class is ErrorClass.FATAL
    assert error.subject == "qr.shop-meta.4915112345678"  # the command locates it in the specs
    assert f"WABA {WABA} holds no number 4915112345678" in str(error)
    assert "15550101111, 15550102222, 15550103333" in str(error)
    assert "check waba_id of account shop-meta" in str(error)


# --- QR codes --------------------------------------------------------------------------------


async def test_a_qr_update_keeps_the_code_and_its_short_link(
    provider: MetaProvider, world: MetaWorld
) -> None:
    created = await provider.create_qr_code(QR)
    assert created.deep_link_url == f"https://wa.me/message/{created.code}"
    assert created.qr_image_url.endswith(".svg")  # generate_qr_image: SVG
    reworded = QR.model_copy(update={"prefilled_message": "Hello again"})
    updated = await provider.update_qr_code(created, reworded)
    assert (updated.code, updated.deep_link_url) == (created.code, created.deep_link_url)
    (listed,) = await provider.list_qr_codes(PHONE)
    assert (listed.code, listed.prefilled_message, listed.image) == (
        created.code,
        "Hello again",
        "",
    )
    assert [c["code"] for c in world.qr_codes(WABA, PHONE)] == [created.code]


async def test_qr_codes_are_listed_through_every_page_and_deleted(clock: FakeClock) -> None:
    app = create_app(clock=clock, page_cap=2)
    async with connect(app, clock=clock) as provider:
        made = [
            await provider.create_qr_code(QR.model_copy(update={"prefilled_message": f"m{i}"}))
            for i in range(5)
        ]
        listed = await provider.list_qr_codes(PHONE)
        assert [q.code for q in listed] == [q.code for q in made]
        await provider.delete_qr_code(made[0])
        await provider.delete_qr_code(made[0])  # gone already: the delete is done
        assert len(await provider.list_qr_codes(PHONE)) == 4


# --- templates -------------------------------------------------------------------------------


async def test_a_template_is_created_reviewed_and_read_back_as_sent(
    provider: MetaProvider, clock: FakeClock
) -> None:
    template = make_template(message_send_ttl_seconds=3600)
    created = await provider.create_template(template)
    assert (created.status, created.category) == ("PENDING", "UTILITY")
    (listed,) = await provider.list_templates([])
    assert (listed.id, listed.status) == (created.id, "PENDING")
    clock.advance(61)  # the emulator's review
    (listed,) = await provider.list_templates([])
    assert listed.status == "APPROVED"
    assert list(listed.components) == template.canonical_components()
    assert listed.message_send_ttl_seconds == 3600
    assert listed.extra["parameter_format"] == "POSITIONAL"


async def test_named_variables_go_up_and_come_back_in_any_order(
    provider: MetaProvider,
) -> None:
    template = make_template(
        parameter_format="NAMED",
        components=[
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{order_id}}",
                "example": {
                    "header_text_named_params": [{"param_name": "order_id", "example": "7"}]
                },
            },
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, order {{order_id}} shipped.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "order_id", "example": "7"},
                        {"param_name": "first_name", "example": "Ana"},
                    ]
                },
            },
        ],
    )
    await provider.create_template(template)
    (listed,) = await provider.list_templates([])
    assert listed.extra["parameter_format"] == "NAMED"
    assert list(listed.components) == template.canonical_components()


async def test_an_authentication_template_reads_back_without_drift(
    provider: MetaProvider, clock: FakeClock
) -> None:
    template = make_template(
        "login_code",
        category="AUTHENTICATION",
        components=[
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 5},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "OTP",
                        "otp_type": "ONE_TAP",
                        "text": "Copy code",
                        "autofill_text": "Autofill",
                        "supported_apps": [
                            {"package_name": "com.example.shop", "signature_hash": "K8a/AINcGX7"}
                        ],
                    }
                ],
            },
        ],
    )
    await provider.create_template(template)
    clock.advance(61)
    (listed,) = await provider.list_templates([])
    # Meta answers with a URL button on www.whatsapp.com/otp/code/ and its own wording.
    assert list(listed.components) == template.canonical_components()


async def test_find_template_picks_the_exact_name_among_loose_matches(
    provider: MetaProvider,
) -> None:
    for name in ("order", "order_shipped", "order_shipped_v2"):
        await provider.create_template(make_template(name))
    await provider.create_template(make_template("order_shipped", "es"))
    found = await provider.find_template(None, "order_shipped", "es")
    assert found is not None and (found.name, found.language) == ("order_shipped", "es")
    assert await provider.find_template(None, "order_shipped", "fr") is None


async def test_a_long_listing_is_read_through_short_pages(clock: FakeClock) -> None:
    app = create_app(clock=clock, page_cap=3)
    async with connect(app, clock=clock) as provider:
        for i in range(8):
            await provider.create_template(make_template(f"notice_{i}"))
        listed = await provider.list_templates([])
    assert sorted(t.name for t in listed) == [f"notice_{i}" for i in range(8)]


async def test_an_approved_template_takes_one_edit_a_day_and_meta_says_so(
    provider: MetaProvider, clock: FakeClock
) -> None:
    created = await provider.create_template(make_template())
    clock.advance(61)
    (approved,) = await provider.list_templates([])
    edited = make_template(
        components=[
            {
                "type": "BODY",
                "text": "Order {{1}} is on its way.",
                "example": {"body_text": [["12345"]]},
            }
        ]
    )
    updated = await provider.update_template(approved, edited)
    assert (updated.id, updated.status) == (created.id, "PENDING")
    clock.advance(61)
    (again,) = await provider.list_templates([])
    assert again.status == "APPROVED" and again.components == tuple(edited.canonical_components())
    with pytest.raises(ProviderError) as info:
        await provider.update_template(again, make_template())
    assert info.value.error_class is ErrorClass.FATAL
    assert "Edit Limit Reached: An approved template can be edited once in 24 hours" in str(
        info.value
    )
    clock.advance(86_400)
    await provider.update_template(again, make_template())


async def test_a_delete_takes_one_language_and_a_deleted_approved_name_is_locked(
    provider: MetaProvider, clock: FakeClock, world: MetaWorld
) -> None:
    await provider.create_template(make_template())
    await provider.create_template(make_template(language="es"))
    clock.advance(61)
    english = next(t for t in await provider.list_templates([]) if t.language == "en_US")
    await provider.delete_template(english)
    await provider.delete_template(english)  # already gone: done
    assert [t["language"] for t in world.templates(WABA)] == ["es"]
    with pytest.raises(ProviderError) as info:
        await provider.create_template(make_template())
    assert info.value.code == "100/2388023"
    assert "can't be added while the existing en_US content is being deleted" in str(info.value)
    assert "give the template another name in the spec" in str(info.value)


async def test_a_template_the_review_rejects_says_why(
    provider: MetaProvider, clock: FakeClock
) -> None:
    body = "Order {{1}} shipped. sandbox:reject:PROMOTIONAL"
    await provider.create_template(
        make_template(
            components=[{"type": "BODY", "text": body, "example": {"body_text": [["1"]]}}]
        )
    )
    clock.advance(61)
    (listed,) = await provider.list_templates([])
    assert (listed.status, listed.reason) == ("REJECTED", "PROMOTIONAL")


# --- media samples ---------------------------------------------------------------------------


def _media(name: str, file: str = "media/banner.png") -> Template:
    return make_template(
        name,
        category="MARKETING",
        components=[
            {"type": "HEADER", "format": "IMAGE", "example": {"header_file": file}},
            {
                "type": "BODY",
                "text": "Autumn sale from {{1}}.",
                "example": {"body_text": [["today"]]},
            },
        ],
    )


async def test_a_media_sample_is_uploaded_once_and_sent_as_its_handle(
    app: Starlette, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "banner.png").write_bytes(PNG)
    recording = Recording(app)
    async with connect(app, transport=recording, clock=clock, files=tmp_path) as provider:
        await provider.create_template(_media("autumn_a"))
        await provider.create_template(_media("autumn_b"))
        listed = await provider.list_templates([])
    uploads = [r for r in recording.requests if r.url.path.startswith("/v25.0/upload:")]
    assert len(uploads) == 1  # one file, one upload a run
    assert uploads[0].headers["authorization"].startswith("OAuth ")
    assert uploads[0].headers["file_offset"] == "0" and uploads[0].content == PNG
    started = next(r for r in recording.requests if r.url.path.endswith("/uploads"))
    assert dict(started.url.params) == {
        "file_name": "banner.png",
        "file_length": str(len(PNG)),
        "file_type": "image/png",
    }
    # Read back as Meta's CDN copy, which is not compared: no drift.
    for remote in listed:
        assert remote.components[0] == {"type": "HEADER", "format": "IMAGE"}


async def test_an_upload_whose_answer_is_lost_is_resumed_from_metas_offset(
    clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "banner.png").write_bytes(PNG)
    inner = create_app(clock=clock)
    lost = [1]

    async def losing(scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and "upload:" in scope["path"]
            and scope["method"] == "POST"
            and lost[0]
        ):
            lost[0] -= 1

            async def discard(message: Any) -> None:
                pass

            await inner(scope, receive, discard)  # the bytes arrive; the answer does not
            drop_connection(scope)
        await inner(scope, receive, send)

    recording = Recording(losing)
    async with connect(inner, transport=recording, clock=clock, files=tmp_path) as provider:
        created = await provider.create_template(_media("autumn"))
    sends = [r for r in recording.requests if "upload:" in r.url.path]
    assert [r.method for r in sends] == ["POST", "GET", "POST"]
    assert sends[2].headers["file_offset"] == str(len(PNG)) and sends[2].content == b""
    assert created.id


async def test_a_missing_sample_file_names_the_template_and_the_file(
    provider: MetaProvider, tmp_path: Path
) -> None:
    provider.read_files_from(tmp_path)
    with pytest.raises(Exception) as info:
        await provider.create_template(_media("autumn", "media/nowhere.png"))
    assert "template.shop-meta.autumn.en_US: cannot read the sample media/nowhere.png" in str(
        info.value
    )


async def test_requests_carry_the_token_as_a_bearer_header_only(
    app: Starlette, clock: FakeClock
) -> None:
    recording = Recording(app)
    async with connect(app, transport=recording, clock=clock) as provider:
        await provider.list_templates([])
    (request,) = recording.requests
    assert request.headers["authorization"] == "Bearer sandbox-access-token"
    assert "access_token" not in str(request.url)
    assert isinstance(request, httpx.Request)

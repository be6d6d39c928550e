"""Meta's documented examples (``samples/meta``), both ways: the client reads each one
served as printed by a stand-in server (not the emulator) and sends the documented
requests; the emulator answers with the documented keys and types, takes the documented
requests, and answers every documented error code on demand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from meta.support import PHONE, PNG, WABA, FakeClock, make_account
from pydantic import SecretStr

from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode, Template
from wasync.pacing.gate import RateGate
from wasync.pacing.limits import RateLimits, Window
from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.common import InProcessTransport
from wasync.sandbox.meta import DEFAULT_ACCESS_TOKEN, GraphError, create_app

from .support import Reply, Served, sample, samples, shape

pytestmark = pytest.mark.anyio

URL = "https://graph.facebook.invalid"
DOCUMENTED_PHONE = "16315555555"  # "+1 631-555-5555" in the phone numbers example


def ok(file: str) -> Reply:
    found = sample(file)
    return found.status or 200, found.raw


def by_path(routes: dict[tuple[str, str], Reply | Callable[[httpx.Request], Reply]]) -> Any:
    """Route a request by (method, the end of its path) to a documented reply."""

    def route(request: httpx.Request) -> Reply:
        for (method, end), reply in routes.items():
            if request.method == method and request.url.path.endswith(end):
                return reply(request) if callable(reply) else reply
        raise AssertionError(f"nothing documented for {request.method} {request.url.path}")

    return route


@asynccontextmanager
async def meta_on(route: Any, **options: Any) -> AsyncIterator[tuple[MetaProvider, Served]]:
    served = Served(route)
    http = httpx.AsyncClient(base_url=URL, transport=served.transport())
    provider = MetaProvider(make_account(), http=http, **options)
    try:
        yield provider, served
    finally:
        await provider.aclose()


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


# --- the client reads the documented replies -------------------------------------------------


async def test_qr_codes_as_the_page_prints_them_and_the_requests_it_prints() -> None:
    route = by_path(
        {
            ("GET", "/phone_numbers"): ok("meta/phone_numbers.success.json"),
            ("GET", "/1906385232743451/message_qrdls"): ok("meta/message_qrdls.list.success.json"),
            ("POST", "/1906385232743451/message_qrdls"): lambda r: ok(
                "meta/message_qrdls.update.success.json"
                if "code" in sent_json(r)
                else "meta/message_qrdls.create.success.json"
            ),
            ("DELETE", "/message_qrdls/4O4YGZEG3RIVE1"): ok(
                "meta/message_qrdls.delete.success.json"
            ),
        }
    )
    qr = QrCode(
        account="shop-meta", phone=DOCUMENTED_PHONE, label="c", prefilled_message="Cyber Monday"
    )
    async with meta_on(route) as (provider, served):
        created = await provider.create_qr_code(qr)
        listed = await provider.list_qr_codes(DOCUMENTED_PHONE)
        tuesday = qr.model_copy(update={"prefilled_message": "Cyber Tuesday"})
        updated = await provider.update_qr_code(created, tuesday)
        await provider.delete_qr_code(updated)
    assert (created.code, created.deep_link_url) == (
        "4O4YGZEG3RIVE1",
        "https://wa.me/message/4O4YGZEG3RIVE1",
    )
    assert [q.code for q in listed] == ["4O4YGZEG3RIVE1", "WOMVT6TJ2BP7A1"]
    assert (updated.code, updated.prefilled_message) == ("4O4YGZEG3RIVE1", "Cyber Tuesday")
    posts = [r for r in served.requests if r.method == "POST"]
    assert sent_json(posts[0]) == sample("meta/message_qrdls.create.request.json").json
    assert sent_json(posts[1]) == sample("meta/message_qrdls.update.request.json").json


async def test_the_documented_listing_reads_named_variables_and_a_media_header() -> None:
    empty: Reply = (200, b'{"data": []}')  # the page after the documented one
    route = by_path(
        {
            ("GET", "/message_templates"): lambda r: (
                empty if "after" in r.url.params else ok("meta/message_templates.list.success.json")
            )
        }
    )
    async with meta_on(route) as (provider, served):
        named, positional = await provider.list_templates([])
    # Only a missing paging.next ends a listing: the documented page's next is followed.
    assert [r.url.params.get("after") for r in served.requests] == [None, "QVFIU..."]
    assert (named.name, named.status, named.extra["parameter_format"]) == (
        "reservation_confirmation",
        "APPROVED",
        "NAMED",
    )
    header, body = named.components[0], named.components[1]
    assert header == {"type": "HEADER", "format": "IMAGE"}  # Meta's CDN copy is not compared
    assert [p["param_name"] for p in body["example"]["body_text_named_params"]] == [
        "date",
        "day",
        "number_of_guests",
        "time",
    ]
    assert positional.components[0]["example"] == {"header_text": ["Pablo"]}


async def test_the_documented_edit_request_is_what_the_client_sends() -> None:
    documented = sample("meta/template.edit.request.json").json
    desired = Template.model_validate(
        {
            "account": "shop-meta",
            "name": "seasonal_promotion",
            "language": "en",
            "category": "MARKETING",
            "components": documented["components"],
        }
    )
    route = by_path({("POST", "/564750795574598"): ok("meta/template.edit.success.json")})
    async with meta_on(route) as (provider, served):
        current = await _remote(desired, "564750795574598")
        updated = await provider.update_template(current, desired)
    assert sent_json(served.requests[0]) == documented
    assert (updated.id, updated.status) == ("564750795574598", "PENDING")


async def _remote(template: Template, id_: str) -> Any:
    from wasync.model import RemoteTemplate

    return RemoteTemplate(
        account="shop-meta",
        phone=None,
        id=id_,
        name=template.name,
        language=template.language,
        category=template.category,
        status="APPROVED",
    )


async def test_create_and_delete_replies_as_printed() -> None:
    route = by_path(
        {
            ("POST", "/message_templates"): ok("meta/message_templates.create.success.json"),
            ("DELETE", "/message_templates"): ok("meta/message_templates.delete.success.json"),
        }
    )
    otp = Template.model_validate(
        {
            "account": "shop-meta",
            "name": "authentication_code_copy_code_button",
            "language": "en_US",
            "category": "AUTHENTICATION",
            "message_send_ttl_seconds": 60,
            "components": [
                {"type": "BODY", "add_security_recommendation": True},
                {"type": "FOOTER", "code_expiration_minutes": 5},
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy Code"}],
                },
            ],
        }
    )
    async with meta_on(route) as (provider, served):
        created = await provider.create_template(otp)
        await provider.delete_template(created)
    assert (created.id, created.status, created.category) == (
        "594425479261596",
        "PENDING",
        "AUTHENTICATION",
    )
    # The documented request, in the canonical (upper-case) spelling wasync sends.
    documented = sample("meta/message_templates.create.request.authentication.json").json
    sent = sent_json(served.requests[0])
    assert {k: v for k, v in sent.items() if k != "components"} == {
        **{k: v for k, v in documented.items() if k != "components"},
        "category": "AUTHENTICATION",
    }
    assert json.dumps(sent["components"]).lower() == json.dumps(documented["components"]).lower()
    assert dict(served.requests[1].url.params) == {
        "hsm_id": "594425479261596",
        "name": "authentication_code_copy_code_button",
    }


async def test_a_sample_goes_up_with_the_documented_session_and_handle(tmp_path: Any) -> None:
    (tmp_path / "banner.png").write_bytes(PNG)
    route = by_path(
        {
            ("POST", "/900800700600500/uploads"): ok("meta/uploads.start.success.json"),
            (
                "POST",
                "/upload:MTphdHRhY2htZW50Ojlk2mJiZxUwLWV6MDUtNDIwMy05yTA3LWQ4ZDPmZGFkNTM0NT8=",
            ): ok("meta/uploads.send.success.json"),
            ("POST", "/message_templates"): ok("meta/message_templates.create.success.json"),
        }
    )
    template = Template.model_validate(
        {
            "account": "shop-meta",
            "name": "sale",
            "language": "en",
            "category": "MARKETING",
            "components": [
                {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "banner.png"}},
                {"type": "BODY", "text": "Sale today."},
            ],
        }
    )
    async with meta_on(route) as (provider, served):
        provider.read_files_from(tmp_path)
        await provider.create_template(template)
    _, send, create = served.requests
    assert send.url.params["sig"] == "ARZqkGCA_uQMxC8nHKI"  # the id's signature goes along
    assert send.headers["file_offset"] == "0"
    header = sent_json(create)["components"][0]
    assert header["example"] == {"header_handle": ["2:c2FtcGxl..."]}


async def test_the_documented_error_object_is_read_with_metas_words() -> None:
    route = by_path({("GET", "/message_templates"): ok("meta/error.json")})
    async with meta_on(route) as (provider, _):
        with pytest.raises(ProviderError) as info:
            await provider.list_templates([])
    error = info.value
    assert (error.code, error.error_class, error.request_id) == (
        "190/460",
        ErrorClass.FATAL,
        "EJplcsCHuLu",
    )
    assert "A title: A message (Message describing the error)" in str(error)
    assert "whatsapp_business_management" in str(error)


@pytest.mark.parametrize("row", sample("meta/errors.json").json, ids=lambda r: str(r["code"]))
async def test_every_documented_code_is_read_with_what_to_do(row: dict[str, Any]) -> None:
    body = {"error": {"message": row["meaning"], "type": "OAuthException", "code": row["code"]}}
    if "subcode" in row:
        body["error"]["error_subcode"] = row["subcode"]
    reply = (row["http"] or 400, json.dumps(body).encode())
    async with meta_on(lambda r: reply) as (provider, _):
        with pytest.raises(ProviderError) as info:
            await provider.list_templates([])
    error = info.value
    expected = {
        4: ErrorClass.THROTTLED,
        80007: ErrorClass.THROTTLED,
        80008: ErrorClass.THROTTLED,
        130429: ErrorClass.THROTTLED,
        17: ErrorClass.THROTTLED,
        32: ErrorClass.THROTTLED,
        613: ErrorClass.THROTTLED,
        2: ErrorClass.TRANSIENT,  # a read: retried
        1: ErrorClass.TRANSIENT,
    }.get(row["code"], ErrorClass.FATAL)
    assert error.error_class is expected
    assert row["meaning"] in str(error) and error.hint


async def test_the_usage_header_as_documented_reaches_the_window() -> None:
    header = sample("meta/usage.header.json").raw.decode().strip()

    def route(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []}, headers={"X-Business-Use-Case-Usage": header})

    window = Window(
        "requests", 3600, 200, apis=frozenset({"message_templates.list"}), reported=True
    )
    gate = RateGate(RateLimits(default=100.0, windows=(window,)))
    http = httpx.AsyncClient(base_url=URL, transport=httpx.MockTransport(route))
    provider = MetaProvider(make_account(), http=http, gate=gate)
    try:
        await provider.list_templates([])
    finally:
        await provider.aclose()
    (allowance,) = gate.allowances("message_templates.list")
    # 95% used after one call of ours: the budget is about one call, not 200.
    assert allowance.budget == pytest.approx(1 / 0.945)


# --- the emulator answers as documented ------------------------------------------------------


def same_shape(file: str, reply: Any) -> None:
    documented = sample(file)
    optional = frozenset(documented.optional)
    assert shape(reply, optional) == shape(documented.json, optional), file


@asynccontextmanager
async def graph() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = create_app(clock=FakeClock(), approve_after=1)
    headers = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=f"{URL}/v25.0", transport=InProcessTransport(app), headers=headers
    ) as http:
        yield http, app


async def test_the_emulator_answers_qr_calls_with_the_documented_shapes() -> None:
    async with graph() as (http, app):
        numbers = await http.get(f"/{WABA}/phone_numbers")  # the WABA exists once named
        phone_id = app.state.world.phone_id(WABA, PHONE)
        created = await http.post(
            f"/{phone_id}/message_qrdls", json=sample("meta/message_qrdls.create.request.json").json
        )
        code = created.json()["code"]
        second = await http.post(f"/{phone_id}/message_qrdls", json={"prefilled_message": "Hi"})
        listed = await http.get(f"/{phone_id}/message_qrdls")
        one = await http.get(f"/{phone_id}/message_qrdls/{code}")
        update = {**sample("meta/message_qrdls.update.request.json").json, "code": code}
        updated = await http.post(f"/{phone_id}/message_qrdls", json=update)
        deleted = await http.delete(f"/{phone_id}/message_qrdls/{code}")
    same_shape("meta/phone_numbers.success.json", numbers.json())
    same_shape("meta/message_qrdls.create.success.json", created.json())
    same_shape("meta/message_qrdls.list.success.json", listed.json())
    same_shape("meta/message_qrdls.get.success.json", one.json())
    same_shape("meta/message_qrdls.update.success.json", updated.json())
    same_shape("meta/message_qrdls.delete.success.json", deleted.json())
    assert second.status_code == 200
    assert (updated.json()["code"], updated.json()["prefilled_message"]) == (code, "Cyber Tuesday")


async def test_the_emulator_lists_templates_as_documented_and_takes_the_documented_requests() -> (
    None
):
    async with graph() as (http, app):
        created = await http.post(
            f"/{WABA}/message_templates",
            json=sample("meta/message_templates.create.request.authentication.json").json,
        )
        session = (
            await http.post(
                "/900800700600500/uploads",
                params={
                    "file_name": "a.png",
                    "file_length": str(len(PNG)),
                    "file_type": "image/png",
                },
            )
        ).json()["id"]
        path, _, sig = session.partition("?sig=")
        handle = (
            await http.post(
                f"/{path}",
                params={"sig": sig},
                content=PNG,
                headers={"file_offset": "0", "Authorization": f"OAuth {DEFAULT_ACCESS_TOKEN}"},
            )
        ).json()
        documented = sample("meta/message_templates.list.success.json").json["data"][0]
        components = json.loads(json.dumps(documented["components"]))
        components[0]["example"]["header_handle"] = [handle["h"]]
        made = {k: documented[k] for k in ("name", "language", "category", "parameter_format")}
        first = await http.post(
            f"/{WABA}/message_templates", json={**made, "components": components}
        )
        assert first.status_code == 200, first.json()
        app.state.world.review(WABA, "reservation_confirmation", "en_US", "APPROVED")
        # the first listed is the documented first one: list it alone, by name
        listed = await http.get(f"/{WABA}/message_templates", params={"name": "reservation"})
        fields = await http.get(
            f"/{WABA}/message_templates", params={"fields": "name,category,status", "limit": "5"}
        )
        plain = {"name": "plain", "language": "en", "category": "MARKETING"}
        plain_id = (
            await http.post(
                f"/{WABA}/message_templates",
                json={**plain, "components": [{"type": "BODY", "text": "Hi."}]},
            )
        ).json()["id"]
        app.state.world.review(WABA, "plain", "en", "APPROVED")
        edited = await http.post(
            f"/{plain_id}", json=sample("meta/template.edit.request.json").json
        )
        deleted = await http.delete(
            f"/{WABA}/message_templates",
            params={"hsm_id": created.json()["id"], "name": "authentication_code_copy_code_button"},
        )
    same_shape("meta/message_templates.create.success.json", created.json())
    assert created.json()["category"] == "AUTHENTICATION"
    same_shape("meta/uploads.start.success.json", {"id": session})
    assert session.startswith("upload:") and "?sig=" in session
    same_shape("meta/uploads.send.success.json", handle)
    same_shape(
        "meta/message_templates.list.success.json", {**listed.json(), "paging": documented_paging()}
    )
    same_shape(
        "meta/message_templates.list.fields.success.json",
        {**fields.json(), "paging": documented_paging()},
    )
    same_shape("meta/template.edit.success.json", edited.json())
    same_shape("meta/message_templates.delete.success.json", deleted.json())


def documented_paging() -> Any:
    """The listings here fit one page, where Graph (and the emulator) print no paging; the
    paging object itself is checked against a long listing in the emulator tests."""
    return sample("meta/message_templates.list.fields.success.json").json["paging"]


async def test_the_emulator_pages_a_long_listing_as_documented() -> None:
    app = create_app(clock=FakeClock(), page_cap=2)
    async with httpx.AsyncClient(
        base_url=f"{URL}/v25.0",
        transport=InProcessTransport(app),
        headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
    ) as http:
        for i in range(3):
            body = {
                "name": f"t{i}",
                "language": "en",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hi."}],
            }
            assert (await http.post(f"/{WABA}/message_templates", json=body)).status_code == 200
        page = await http.get(
            f"/{WABA}/message_templates", params={"fields": "name,category,status"}
        )
    same_shape("meta/message_templates.list.fields.success.json", page.json())


async def test_the_emulators_usage_header_has_the_documented_shape() -> None:
    async with graph() as (http, _):
        reply = await http.get(f"/{WABA}/message_templates")
    documented = sample("meta/usage.header.json")
    value = json.loads(reply.headers["x-business-use-case-usage"])
    optional = frozenset(documented.optional)
    assert shape(list(value.values()), optional) == shape(list(documented.json.values()), optional)
    assert list(value) == [WABA]  # keyed by the WABA


async def test_the_emulators_refusals_have_the_documented_error_shape() -> None:
    async with graph() as (http, app):
        app.state.world.fail_next(
            None,
            GraphError(
                190,
                "Message describing the error",
                subcode=460,
                title="A title",
                user_message="A message",
            ),
        )
        scripted = await http.get(f"/{WABA}/message_templates")
        bad = await http.get(f"/{WABA}/message_templates", headers={"Authorization": "Bearer nope"})
    same_shape("meta/error.json", scripted.json())
    documented = sample("meta/error.json").json["error"]
    refusal = bad.json()["error"]
    assert set(refusal) <= set(documented) and refusal["code"] == 190
    assert bad.status_code == 400 and "invalid_token" in bad.headers["www-authenticate"]


@pytest.mark.parametrize("row", sample("meta/errors.json").json, ids=lambda r: str(r["code"]))
async def test_the_emulator_answers_every_documented_code_on_demand(row: dict[str, Any]) -> None:
    async with graph() as (http, app):
        error = GraphError(
            row["code"], row["meaning"], subcode=row.get("subcode"), status=row["http"] or 400
        )
        app.state.world.fail_next("message_templates.list", error)
        reply = await http.get(f"/{WABA}/message_templates")
    assert reply.status_code == (row["http"] or 400)
    body = reply.json()["error"]
    assert (body["code"], body.get("error_subcode"), body["message"]) == (
        row["code"],
        row.get("subcode"),
        row["meaning"],
    )


def test_every_meta_sample_has_a_source_and_is_json() -> None:
    mine = [s for s in samples() if s.provider == "meta"]
    assert len(mine) >= 20
    for s in mine:
        assert s.source and (s.verbatim or s.note), s.file
        s.json  # noqa: B018 - every one parses


def test_the_account_used_here_is_the_sandbox_token() -> None:
    assert make_account().access_token == SecretStr(DEFAULT_ACCESS_TOKEN)

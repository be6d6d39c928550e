"""Every way a CAMS call fails, through the real client and the emulator over HTTP, and
the error class and hint each one gets."""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import ASGIApp

from wasync.errors import ErrorClass, ProtocolError, ProviderError
from wasync.model import QrCode
from wasync.providers.cams.client import classify, hint_for
from wasync.sandbox.cams import create_app
from wasync.sandbox.common import Fault, FaultConfig

from .support import Rewrite, connect, make_account, rewriting

pytestmark = pytest.mark.anyio

PHONE = "8613800000000"
QR = QrCode(account="shop-cams", phone=PHONE, label="poster", prefilled_message="Hello")


async def _create_fails(app: ASGIApp | None, **options: Any) -> ProviderError:
    async with connect(app, **options) as provider:
        with pytest.raises(ProviderError) as err:
            await provider.create_qr_code(QR)
    return err.value


def _no_secret_in(err: ProviderError, secret: str) -> None:
    assert secret not in str(err)
    assert secret not in repr(vars(err))


# --- gateway refusals ------------------------------------------------------------------------


async def test_wrong_secret_is_fatal_and_names_the_setting() -> None:
    secret = "not-the-right-secret-4711"
    err = await _create_fails(create_app(qps=0), account=make_account(secret=secret))
    assert err.code == "SignatureDoesNotMatch"
    assert err.error_class is ErrorClass.FATAL
    assert err.http_status == 400 and err.request_id
    assert "check access_key_secret for account shop-cams" in str(err)
    _no_secret_in(err, secret)


async def test_unknown_access_key_is_fatal_and_names_the_account() -> None:
    err = await _create_fails(create_app(qps=0), account=make_account(key_id="LTAI-nobody"))
    assert err.code == "InvalidAccessKeyId.NotFound"
    assert err.http_status == 404
    assert err.error_class is ErrorClass.FATAL
    assert "access_key_id of account shop-cams" in str(err)


async def test_a_clock_far_off_is_refused_as_expired() -> None:
    app = create_app(qps=0)
    err = await _create_fails(app, clock=lambda: time.time() - 16 * 60)
    assert err.code == "InvalidTimeStamp.Expired"
    assert err.error_class is ErrorClass.FATAL
    assert "clock" in (err.hint or "")
    assert app.state.emulator.qr_codes(PHONE) == []
    # Within the window is fine.
    async with connect(app, clock=lambda: time.time() - 14 * 60) as provider:
        await provider.create_qr_code(QR)


async def test_a_replayed_request_is_refused_and_the_refusal_is_retryable() -> None:
    app = create_app(qps=0)
    sent: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request)

    async with connect(app, event_hooks={"request": [keep]}) as provider:
        await provider.create_qr_code(QR)
        http: httpx.AsyncClient = provider._http
        replay = await http.send(sent[0])
    body = replay.json()
    assert replay.status_code == 400 and body["Code"] == "SignatureNonceUsed"
    assert len(app.state.emulator.qr_codes(PHONE)) == 1  # the replay did nothing
    # Nothing happened and a retry signs with a fresh nonce, so the executor may retry.
    assert classify("SignatureNonceUsed", 400) is ErrorClass.TRANSIENT


async def test_a_burst_over_the_limit_is_throttled_with_a_retry_after() -> None:
    app = create_app(qps=2)
    outcomes: list[object] = []
    async with connect(app) as provider:

        async def one() -> None:
            try:
                outcomes.append(await provider.list_qr_codes(PHONE))
            except ProviderError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(one)
        refused = [o for o in outcomes if isinstance(o, ProviderError)]
        # A bucket of 2 at 2/s: the burst gets 2 through (3 on a very slow machine).
        assert 3 <= len(refused) <= 4
        err = refused[0]
        assert err.code == "Throttling.User"
        assert err.provider_message == "Request was denied due to user flow control."
        assert err.error_class is ErrorClass.THROTTLED
        assert err.retry_after == 0.5
        await anyio.sleep(err.retry_after)
        assert await provider.list_qr_codes(PHONE) == []  # after the wait it goes through


async def test_system_limit_control_is_throttling_too() -> None:
    faults = FaultConfig(fault_rate=1.0, kinds=(Fault.THROTTLE,))
    app = create_app(qps=0, faults=faults, throttle_code="System.LimitControl")
    err = await _create_fails(app)
    assert err.code == "System.LimitControl"
    assert err.error_class is ErrorClass.THROTTLED
    assert err.retry_after is not None
    assert app.state.emulator.qr_codes(PHONE) == []


# --- server trouble and lost connections -------------------------------------------------------


async def test_a_5xx_is_transient_and_nothing_happened() -> None:
    app = create_app(qps=0, faults=FaultConfig(fault_rate=1.0, kinds=(Fault.SERVER_ERROR,)))
    err = await _create_fails(app)
    assert err.code == "ServiceUnavailable" and err.http_status == 503
    assert err.error_class is ErrorClass.TRANSIENT
    assert app.state.emulator.qr_codes(PHONE) == []


async def test_a_drop_before_acting_has_an_unknown_outcome() -> None:
    app = create_app(qps=0, faults=FaultConfig(fault_rate=1.0, kinds=(Fault.DROP_BEFORE,)))
    err = await _create_fails(app)
    assert err.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert err.code == "RemoteProtocolError"
    assert "may have been applied" in str(err)
    assert app.state.emulator.qr_codes(PHONE) == []


async def test_a_drop_after_acting_has_an_unknown_outcome_and_it_did_happen() -> None:
    app = create_app(qps=0, faults=FaultConfig(fault_rate=1.0, kinds=(Fault.DROP_AFTER,)))
    err = await _create_fails(app)
    assert err.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert len(app.state.emulator.qr_codes(PHONE)) == 1


@pytest.mark.virtual_clock
async def test_a_reply_slower_than_the_timeout_has_an_unknown_outcome() -> None:
    faults = FaultConfig(fault_rate=1.0, kinds=(Fault.SLOW,), slow_ms=600)
    app = create_app(qps=0, faults=faults)
    clock = asyncio.get_running_loop()  # virtual: the time the client waited
    started = clock.time()
    err = await _create_fails(app, http_timeout=0.1)
    assert clock.time() - started < 0.6  # it gave up at its timeout, not at the reply
    assert err.code == "ReadTimeout"
    assert err.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert len(app.state.emulator.qr_codes(PHONE)) == 1


@pytest.mark.virtual_clock
async def test_latency_delays_every_reply() -> None:
    app = create_app(qps=0, faults=FaultConfig(latency_ms=60))
    clock = asyncio.get_running_loop()  # virtual: the time the client waited
    async with connect(app) as provider:
        started = clock.time()
        await provider.list_qr_codes(PHONE)
        assert clock.time() - started == pytest.approx(0.06)


async def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = await _create_fails(None, base_url=f"http://127.0.0.1:{port}")
    assert err.code == "ConnectError"
    assert err.error_class is ErrorClass.TRANSIENT
    assert "retrying is safe" in str(err)


# --- replies that are not CAMS's shape ---------------------------------------------------------


def _json_edit(edit: Callable[[dict[str, Any]], object]) -> Rewrite:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        data = json.loads(body)
        edit(data)
        return status, json.dumps(data).encode()

    return rewrite


@pytest.mark.parametrize(
    ("rewrite", "detail"),
    [
        (lambda s, b: (200, b"<html>gateway</html>"), "not JSON"),
        (lambda s, b: (s, b[: len(b) // 2]), "not JSON"),
        (lambda s, b: (s, b"[1, 2]"), "not a JSON object"),
        (_json_edit(lambda d: d.pop("Code")), "no Code"),
        (_json_edit(lambda d: d.pop("Data")), "no Data"),
        (_json_edit(lambda d: d["Data"].pop("QrdlCode")), "no QrdlCode"),
    ],
    ids=["html", "truncated", "array", "no-code", "no-data", "no-qrdlcode"],
)
async def test_a_malformed_reply_is_a_protocol_error(rewrite: Rewrite, detail: str) -> None:
    app = rewriting(create_app(qps=0), rewrite)
    err = await _create_fails(app)
    assert isinstance(err, ProtocolError)
    assert err.operation == "CreatePhoneMessageQrdl"
    assert detail in err.provider_message
    assert err.error_class is ErrorClass.UNKNOWN_OUTCOME
    if detail.startswith("no ") and detail != "no Code":
        assert err.request_id and err.request_id in str(err)


async def test_a_listing_entry_without_identity_is_a_protocol_error() -> None:
    def strip_codes(data: dict[str, Any]) -> None:
        for item in data.get("ListTemplate") or []:
            item.pop("TemplateCode")

    app = create_app(qps=0)
    app.state.emulator.call(
        "CreateChatappTemplate",
        {
            "Name": "x",
            "Language": "en",
            "Category": "UTILITY",
            "TemplateType": "WHATSAPP",
            "CustSpaceId": "cams-test01",
            "Components": [{"Type": "BODY", "Text": "x"}],
        },
    )
    async with connect(rewriting(app, _json_edit(strip_codes))) as provider:
        with pytest.raises(ProtocolError, match="ListChatappTemplate") as err:
            await provider.list_templates([])
    assert "TemplateCode" in err.value.provider_message


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (502, ErrorClass.TRANSIENT),
        (504, ErrorClass.UNKNOWN_OUTCOME),  # the gateway gave up; CAMS may have acted
        (429, ErrorClass.THROTTLED),
        (403, ErrorClass.FATAL),
    ],
)
async def test_a_proxy_error_page_is_judged_by_its_status(
    status: int, error_class: ErrorClass
) -> None:
    app = rewriting(create_app(qps=0), lambda s, b: (status, b"<html>Bad Gateway</html>"))
    err = await _create_fails(app)
    assert not isinstance(err, ProtocolError)
    assert err.code == f"HTTP {status}" and err.error_class is error_class


async def test_a_permission_refusal_names_the_ram_action() -> None:
    denied = {
        "RequestId": "5E1E-1",
        "HostId": "cams.ap-southeast-1.aliyuncs.com",
        "Code": "Ram.PermissionDeny",
        "Message": "You are not authorized to perform the operation.",
    }
    app = rewriting(create_app(qps=0), lambda s, b: (400, json.dumps(denied).encode()))
    err = await _create_fails(app)
    assert err.error_class is ErrorClass.FATAL
    assert err.request_id == "5E1E-1"
    assert "cams:CreatePhoneMessageQrdl" in str(err)
    assert "shop-cams" in str(err)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling.Api", 400, ErrorClass.THROTTLED),
        ("Throttling", 400, ErrorClass.THROTTLED),
        ("System.LimitControl", 400, ErrorClass.THROTTLED),
        ("InternalError", 500, ErrorClass.TRANSIENT),
        ("ServiceUnavailable", 503, ErrorClass.TRANSIENT),
        ("SomethingNew", 500, ErrorClass.TRANSIENT),
        ("ServiceTimeout", 504, ErrorClass.UNKNOWN_OUTCOME),
        ("SignatureNonceUsed", 400, ErrorClass.TRANSIENT),
        ("InvalidParameter.LanguageNotSupport", 200, ErrorClass.FATAL),
        ("Product.Unsubscript", 400, ErrorClass.FATAL),
        ("DelError.TemplateNotExist", 200, ErrorClass.FATAL),
    ],
)
def test_classification(code: str, status: int, expected: ErrorClass) -> None:
    assert classify(code, status) is expected


def test_every_fatal_gateway_code_has_a_hint() -> None:
    for code in (
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Ram.PermissionDeny",
        "InvalidTimeStamp.Expired",
        "Product.Unsubscript",
        "Unknown.ResourceOwnerId",
        "InvalidParameter.PageInvalid",
    ):
        assert hint_for(code, "ListChatappTemplate", "shop-cams"), code


# --- what the HTTP base adds: the standard Retry-After, endpoints that cannot work -------------


def answering(status: int, headers: dict[str, str]) -> ASGIApp:
    """A front end that answers every request itself (a busy gateway, a rate limiter)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"<html>busy</html>"})

    return app


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12.0), (email.utils.formatdate(1_750_000_030, usegmt=True), 30.0)],
    ids=["seconds", "http-date"],
)
async def test_a_gateways_standard_retry_after_is_honoured(value: str, expected: float) -> None:
    app = answering(503, {"Retry-After": value})
    err = await _create_fails(app, clock=lambda: 1_750_000_000.0)
    assert (err.code, err.error_class) == ("HTTP 503", ErrorClass.TRANSIENT)
    assert err.retry_after == expected


async def test_cams_own_retry_after_in_milliseconds_wins_over_the_standard_one() -> None:
    app = answering(429, {"x-acs-retry-after": "250", "Retry-After": "9"})
    err = await _create_fails(app)
    assert (err.code, err.error_class, err.retry_after) == ("HTTP 429", ErrorClass.THROTTLED, 0.25)


async def test_an_endpoint_that_is_not_http_is_fatal_and_says_so() -> None:
    err = await _create_fails(None, base_url="ftp://cams.example")
    assert (err.code, err.error_class) == ("UnsupportedProtocol", ErrorClass.FATAL)
    assert "cannot send to ftp://cams.example" in str(err)
    assert "the endpoint of account shop-cams must be an https:// URL or sandbox" in str(err)

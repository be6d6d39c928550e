"""Every documented response code, produced by the emulator, as the client reports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from wasync.errors import ErrorClass, ProviderError
from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox.common import InProcessTransport
from wasync.sandbox.nxcloud import NxcloudEmulator, create_app

from .support import APPKEY, OTHER_PHONE, PHONE, FakeClock, Tamper, connect, make_template

pytestmark = pytest.mark.anyio


def tampered(name: str, value: str | None) -> Callable[[httpx.Request], httpx.Request]:
    def change(request: httpx.Request) -> httpx.Request:
        if value is None:
            del request.headers[name]
        else:
            request.headers[name] = value
        return request

    return change


async def failure(provider: NxcloudProvider, operation: str = "get") -> ProviderError:
    with pytest.raises(ProviderError) as info:
        if operation == "get":
            await provider.list_templates([PHONE])
        elif operation == "create":
            await provider.create_template(make_template())
        else:
            raise AssertionError(operation)
    return info.value


@pytest.mark.parametrize("header", ["accessKey", "ts", "bizType", "action", "sign"])
async def test_1001_a_missing_header(app: Starlette, clock: FakeClock, header: str) -> None:
    async with connect(app, clock=clock, transport=Tamper(app, tampered(header, None))) as p:
        error = await failure(p)
    assert (error.code, error.error_class) == ("1001", ErrorClass.FATAL)
    assert "missing common parameters (Missing common parameters)" in str(error)
    assert "please report this as a bug" in str(error)


@pytest.mark.parametrize(
    ("header", "value"), [("bizType", "3"), ("action", "createTemplate"), ("algorithm", "sha1")]
)
async def test_1002_wrong_biz_type_or_action(
    app: Starlette, clock: FakeClock, header: str, value: str
) -> None:
    async with connect(app, clock=clock, transport=Tamper(app, tampered(header, value))) as p:
        error = await failure(p)
    assert (error.code, error.error_class) == ("1002", ErrorClass.FATAL)
    assert "bizType or action refused (Parameter error)" in str(error)


@pytest.mark.parametrize(
    "change",
    [
        tampered("Content-Type", "text/plain"),  # the docs' first cause of 1003
        tampered("sign", "0" * 32),
        # the body changed on the way: what was signed is not what arrived
        lambda r: httpx.Request(r.method, r.url, headers=r.headers, content=r.content + b" "),
    ],
)
async def test_1003_the_sign_does_not_match(
    app: Starlette, clock: FakeClock, change: Callable[[httpx.Request], httpx.Request]
) -> None:
    async with connect(app, clock=clock, transport=Tamper(app, change)) as p:
        error = await failure(p)
    assert (error.code, error.error_class) == ("1003", ErrorClass.FATAL)
    assert "check secret_key for account shop-nx, and that the clock is right" in str(error)


@pytest.mark.parametrize("skew", [61.0, -61.0])
async def test_1004_a_clock_61_s_off_is_refused(
    app: Starlette, clock: FakeClock, skew: float
) -> None:
    async with connect(app, clock=lambda: clock() + skew) as p:
        error = await failure(p)
    assert (error.code, error.error_class) == ("1004", ErrorClass.FATAL)
    assert str(error) == (
        "nxcloud getTemplate failed: 1004: timestamp outside +-60 s (Timestamp has expired); "
        "check this machine's clock: NXCloud allows 60 s of difference"
    )


@pytest.mark.parametrize("skew", [59.0, -59.0])
async def test_a_clock_59_s_off_is_accepted(app: Starlette, clock: FakeClock, skew: float) -> None:
    async with connect(app, clock=lambda: clock() + skew) as p:
        assert await p.list_templates([PHONE]) == []


async def test_1005_an_unknown_access_key(app: Starlette, clock: FakeClock) -> None:
    async with connect(app, clock=clock, access_key=SecretStr("someone-else")) as p:
        error = await failure(p)
    assert (error.code, error.error_class) == ("1005", ErrorClass.FATAL)
    assert "access denied (Insufficient permissions)" in str(error)
    assert "check access_key for account shop-nx" in str(error)
    assert "someone-else" not in str(error)


async def test_9000_shows_the_providers_message(provider: NxcloudProvider) -> None:
    with pytest.raises(ProviderError) as info:
        await provider.create_template(make_template(language="english"))
    error = info.value
    assert (error.code, error.error_class) == ("9000", ErrorClass.FATAL)
    assert "Parameter exception: language 'english' is not a language code" in str(error)


@pytest.mark.parametrize("code", [9001, -1])
async def test_9001_and_minus_1_are_retryable_for_reads_and_deletes(
    provider: NxcloudProvider, emulator: NxcloudEmulator, code: int
) -> None:
    created = await provider.create_template(make_template())
    emulator.fail_next("getTemplate", code=code)
    error = await failure(provider)
    assert (error.code, error.error_class) == (str(code), ErrorClass.TRANSIENT)
    assert "safe to retry" in str(error)

    emulator.fail_next("deleteTemplate", code=code)
    with pytest.raises(ProviderError) as info:
        await provider.delete_template(created)
    assert info.value.error_class is ErrorClass.TRANSIENT
    await provider.delete_template(created)  # the retry the executor would make
    assert emulator.templates(PHONE) == []


@pytest.mark.parametrize("code", [9001, -1])
async def test_9001_and_minus_1_leave_a_create_or_update_unknown(
    provider: NxcloudProvider, emulator: NxcloudEmulator, code: int
) -> None:
    # NXCloud may fail after passing the request on: here it did create the template.
    emulator.fail_next("createTemplate", code=code, act=True)
    error = await failure(provider, "create")
    assert (error.code, error.error_class) == (str(code), ErrorClass.UNKNOWN_OUTCOME)
    assert "list, then retry" in str(error)
    assert len(emulator.templates(PHONE)) == 1

    (current,) = await provider.list_templates([PHONE])
    emulator.set_status(PHONE, current.id, "REJECTED")
    emulator.fail_next("updateTemplate", code=code)
    with pytest.raises(ProviderError) as info:
        await provider.update_template(current, make_template())
    assert info.value.error_class is ErrorClass.UNKNOWN_OUTCOME


async def test_9002_a_number_that_is_not_a_whatsapp_number(clock: FakeClock) -> None:
    app = create_app(qps=0, clock=clock, apps={APPKEY: [PHONE]})
    async with connect(app, clock=clock) as p:
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template(phone="8610000000000"))
    error = info.value
    assert (error.code, error.error_class) == ("9002", ErrorClass.FATAL)
    assert "商户手机号错误" in str(error)  # the updateTemplate page's words
    assert "business_phone 8610000000000 is not a WhatsApp number of this NXCloud account" in str(
        error
    )


async def test_9006_a_number_bound_to_another_app(clock: FakeClock) -> None:
    app = create_app(qps=0, clock=clock, apps={APPKEY: [PHONE], "otherapp": [OTHER_PHONE]})
    async with connect(app, clock=clock) as p:
        await p.create_template(make_template(phone=PHONE))
        with pytest.raises(ProviderError) as info:
            await p.list_templates([OTHER_PHONE])
    error = info.value
    assert (error.code, error.error_class) == ("9006", ErrorClass.FATAL)
    assert f"{OTHER_PHONE} is not bound to appkey {APPKEY}" in str(error)


async def test_9099_without_metas_object_still_says_what_nxcloud_said(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    emulator.fail_next("createTemplate", code=9099, message="WhatsApp error")
    error = await failure(provider, "create")
    assert (error.code, error.error_class) == ("9099", ErrorClass.FATAL)
    assert "WhatsApp error; Meta refused the request" in str(error)


async def test_an_undocumented_code_is_fatal_with_its_message(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    emulator.fail_next(code=9005, message="Insufficient account balance")
    error = await failure(provider)
    assert (error.code, error.error_class) == ("9005", ErrorClass.FATAL)
    assert "Insufficient account balance" in str(error)


async def test_the_rate_limit_answer_is_throttled(clock: FakeClock) -> None:
    app = create_app(qps=1, clock=clock)
    async with connect(app, clock=clock) as p:
        await p.list_templates([PHONE])
        error = await failure(p)
    assert (error.code, error.error_class, error.http_status) == (
        "HTTP 429",
        ErrorClass.THROTTLED,
        429,
    )
    assert error.retry_after == 1.0
    assert "lower qps for account shop-nx" in str(error)


def busy_gateway(status: int, headers: dict[str, str]) -> InProcessTransport:
    """A front end that answers every request itself with an HTML page."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"<html>busy</html>"})

    return InProcessTransport(app)


async def test_a_busy_gateway_is_retryable_for_reads_unknown_for_writes_and_says_when(
    app: Starlette, clock: FakeClock, emulator: NxcloudEmulator
) -> None:
    async with connect(app, clock=clock, transport=busy_gateway(503, {"Retry-After": "7"})) as p:
        read = await failure(p)
        write = await failure(p, "create")
    assert (read.code, read.error_class) == ("HTTP 503", ErrorClass.TRANSIENT)
    assert read.retry_after == 7.0
    assert "retrying is safe" in str(read)
    assert (write.error_class, write.retry_after) == (ErrorClass.UNKNOWN_OUTCOME, 7.0)
    assert "the change may have been applied; run wasync plan" in str(write)
    assert emulator.templates(PHONE) == []

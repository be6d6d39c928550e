"""Socket failures, injected faults and replies that are not NXCloud's shape."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from wasync.errors import ErrorClass, ProtocolError, ProviderError
from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox.common import Fault, FaultConfig
from wasync.sandbox.nxcloud import NxcloudEmulator, create_app

from .support import BASE_URL, PHONE, FakeClock, connect, make_template

pytestmark = pytest.mark.anyio


def faulty(clock: FakeClock, kind: Fault, **config: float) -> tuple[object, NxcloudEmulator]:
    app = create_app(
        qps=0, clock=clock, faults=FaultConfig(fault_rate=1.0, kinds=(kind,), **config)
    )
    return app, app.state.emulator


async def test_dropped_before_acting_is_unknown_and_nothing_happened(clock: FakeClock) -> None:
    app, emulator = faulty(clock, Fault.DROP_BEFORE)
    async with connect(app, clock=clock) as p:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template())
    assert (info.value.code, info.value.error_class) == (
        "RemoteProtocolError",
        ErrorClass.UNKNOWN_OUTCOME,
    )
    assert f"the connection to {BASE_URL} dropped before the reply" in str(info.value)
    assert emulator.templates(PHONE) == []


async def test_dropped_after_acting_is_unknown_and_it_happened(clock: FakeClock) -> None:
    app, emulator = faulty(clock, Fault.DROP_AFTER)
    async with connect(app, clock=clock) as p:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template())
    assert info.value.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert [t["name"] for t in emulator.templates(PHONE)] == ["order_shipped"]


@pytest.mark.virtual_clock
async def test_slower_than_the_timeout_is_unknown(clock: FakeClock) -> None:
    app, emulator = faulty(clock, Fault.SLOW, slow_ms=1000)
    loop = asyncio.get_running_loop()  # virtual: the time the client waited
    async with connect(app, clock=clock, timeout=0.2) as p:  # type: ignore[arg-type]
        started = loop.time()
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template())
        assert loop.time() - started < 1.0  # it gave up at its timeout, not at the reply
    assert (info.value.code, info.value.error_class) == ("ReadTimeout", ErrorClass.UNKNOWN_OUTCOME)
    assert "no reply within 0.2 s" in str(info.value)
    assert len(emulator.templates(PHONE)) == 1  # it acted, then answered late


async def test_slow_within_the_timeout_succeeds(clock: FakeClock) -> None:
    app, _ = faulty(clock, Fault.SLOW, slow_ms=100)
    async with connect(app, clock=clock, timeout=2.0) as p:  # type: ignore[arg-type]
        created = await p.create_template(make_template())
    assert created.id


@pytest.mark.virtual_clock
async def test_latency_is_added_to_every_reply(clock: FakeClock) -> None:
    app = create_app(qps=0, clock=clock, faults=FaultConfig(latency_ms=80))
    loop = asyncio.get_running_loop()  # virtual: the time the client waited
    async with connect(app, clock=clock) as p:
        started = loop.time()
        await p.list_templates([PHONE])
        assert loop.time() - started == pytest.approx(0.08)


async def test_a_server_error_is_retryable_for_reads_unknown_for_writes(clock: FakeClock) -> None:
    app, emulator = faulty(clock, Fault.SERVER_ERROR)
    async with connect(app, clock=clock) as p:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as read:
            await p.list_templates([PHONE])
        with pytest.raises(ProviderError) as write:
            await p.create_template(make_template())
    assert (read.value.code, read.value.http_status) == ("-1", 500)
    assert read.value.error_class is ErrorClass.TRANSIENT
    assert write.value.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert emulator.templates(PHONE) == []  # the fault answers without acting


async def test_the_throttle_fault_is_throttled(clock: FakeClock) -> None:
    app, emulator = faulty(clock, Fault.THROTTLE)
    async with connect(app, clock=clock) as p:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template())
    assert info.value.error_class is ErrorClass.THROTTLED
    assert emulator.templates(PHONE) == []


async def test_a_refused_connection_is_transient(clock: FakeClock) -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(qps=0, clock=clock)
    async with connect(
        app, clock=clock, transport=httpx.AsyncHTTPTransport(), base_url=f"http://127.0.0.1:{port}"
    ) as p:
        with pytest.raises(ProviderError) as info:
            await p.create_template(make_template())
    assert (info.value.code, info.value.error_class) == ("ConnectError", ErrorClass.TRANSIENT)
    assert f"could not connect to http://127.0.0.1:{port}" in str(info.value)


async def test_a_wrong_endpoint_path_is_fatal(clock: FakeClock) -> None:
    app = create_app(qps=0, clock=clock)
    async with connect(app, clock=clock, base_url="https://api2.nxcloud.invalid/v2") as p:
        with pytest.raises(ProviderError) as info:
            await p.list_templates([PHONE])
    assert (info.value.code, info.value.error_class) == ("HTTP 404", ErrorClass.FATAL)
    assert "check the endpoint of account shop-nx" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"code":0,"data":{"data":[{"id":"1","na', "not NXCloud's envelope"),  # truncated
        (b"<html>Bad Gateway</html>", "not NXCloud's envelope"),
        (b"[]", "not NXCloud's envelope"),
        (b'{"data":null,"message":"?"}', "not NXCloud's envelope"),
        (b'{"code":0,"data":null,"message":"ok"}', "data is NoneType, not an object"),
        (b'{"code":0,"data":{"paging":{}},"message":"ok"}', "the page has no data list"),
        (
            b'{"code":0,"data":{"data":[{"id":"1","language":"en","category":"UTILITY",'
            b'"status":"APPROVED"}]},"message":"ok"}',
            "a template has no name",
        ),
        (
            b'{"code":0,"data":{"data":[{"id":"1","name":"a","language":"en",'
            b'"category":"UTILITY","status":"APPROVED","components":{}}]},"message":"ok"}',
            "template a (en): components is not a list",
        ),
        (
            b'{"code":0,"data":{"data":[],"paging":{"next":"https://x"}},"message":"ok"}',
            "paging.next is set but there is no after cursor",
        ),
    ],
)
async def test_malformed_list_replies_are_protocol_errors(
    provider: NxcloudProvider, emulator: NxcloudEmulator, raw: bytes, detail: str
) -> None:
    emulator.fail_next("getTemplate", raw=raw)
    with pytest.raises(ProtocolError) as info:
        await provider.list_templates([PHONE])
    assert info.value.operation == "getTemplate"
    assert detail in str(info.value)
    assert str(info.value).startswith("nxcloud getTemplate failed: MalformedReply: ")


async def test_a_cursor_that_comes_back_twice_stops_the_listing(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    page = (
        b'{"code":0,"data":{"data":[],"paging":{"cursors":{"after":"QQ"},"next":"https://x"}},'
        b'"message":"ok"}'
    )
    emulator.fail_next("getTemplate", raw=page, times=2)
    with pytest.raises(ProtocolError, match="the after cursor 'QQ' came back twice"):
        await provider.list_templates([PHONE])


async def test_a_create_reply_without_id_is_a_protocol_error(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    emulator.fail_next("createTemplate", code=0, message="Request successful", data={})
    with pytest.raises(
        ProtocolError, match=r"nxcloud createTemplate failed: .*data\.id is missing"
    ):
        await provider.create_template(make_template())


async def test_a_gateway_error_page_is_retryable_for_reads(
    provider: NxcloudProvider, emulator: NxcloudEmulator
) -> None:
    emulator.fail_next("getTemplate", raw=b"<html>502 Bad Gateway</html>", http_status=502)
    with pytest.raises(ProviderError) as info:
        await provider.list_templates([PHONE])
    assert (info.value.code, info.value.error_class) == ("HTTP 502", ErrorClass.TRANSIENT)

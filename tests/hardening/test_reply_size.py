"""A reply larger than the provider's cap (``HttpProvider.max_reply_bytes``, 4 MiB) is
refused as soon as that is known, unread past the cap: one clear, final error that names the
endpoint and the cap, no retry, and memory bounded by the cap whatever the reply's size
(a 50 MB reply once took 3.1 GB). Replies under the cap are parsed in memory of the same
order as their size.

The servers here stream their replies chunk by chunk as the client reads them (httpx's ASGI
transport would hold a whole body in memory first), so that the memory measured is the
client's."""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from wasync.errors import ErrorClass, ProviderError
from wasync.providers.cams.client import CamsProvider
from wasync.providers.http import MAX_REPLY_BYTES

from .support import ENDPOINT, PHONE, cams_client, cams_ok

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]

CHUNK = 64 * 1024
HUGE = 50 * 1024 * 1024


class Streaming(httpx.AsyncBaseTransport):
    """Answers every request with ``size`` bytes of a JSON-looking body, made chunk by chunk
    as the client reads it; ``declare``: say the size in Content-Length; ``compress``:
    send it deflated (a small reply on the wire that inflates to ``size``)."""

    def __init__(self, size: int, *, declare: bool = False, compress: bool = False) -> None:
        self.size = size
        self.declare = declare
        self.compress = compress
        self.requests = 0
        self.sent = 0  # body bytes the client has pulled (before compression)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        headers = {"content-type": "application/json"}
        if self.declare:
            headers["content-length"] = str(self.size)
        if self.compress:
            headers["content-encoding"] = "deflate"
        return httpx.Response(200, headers=headers, stream=_Body(self))


class _Body(httpx.AsyncByteStream):
    def __init__(self, server: Streaming) -> None:
        self.server = server

    async def __aiter__(self) -> AsyncIterator[bytes]:
        server = self.server
        deflate = zlib.compressobj() if server.compress else None
        head = b'{"Code":"OK","Data":["'
        left = server.size - len(head)
        chunk = head
        while True:
            server.sent += len(chunk)
            yield deflate.compress(chunk) if deflate else chunk
            if left <= 0:
                break
            chunk = b"x" * min(CHUNK, left)
            left -= len(chunk)
        if deflate:
            yield deflate.flush()


async def refused(server: httpx.AsyncBaseTransport, **options: object) -> ProviderError:
    async with cams_client(server, **options) as client:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as info:
            await client.list_qr_codes(PHONE)
    return info.value


def assert_names_endpoint_and_cap(
    error: ProviderError, cap: str = "4 MiB", operation: str = "ListPhoneMessageQrdl"
) -> None:
    text = str(error)
    assert error.error_class is ErrorClass.FATAL
    assert error.code == "ReplyTooLarge"
    assert ENDPOINT in text
    assert f"cap of {cap}" in text
    assert operation in text
    assert "check the endpoint of account shop" in text


@pytest.mark.parametrize(
    ("declare", "compress"),
    [(False, False), (False, True)],
    ids=["streamed without a length", "deflated: 50 MB from a few kB on the wire"],
)
async def test_an_oversized_reply_is_refused_unread_in_memory_bounded_by_the_cap(
    declare: bool, compress: bool
) -> None:
    server = Streaming(HUGE, declare=declare, compress=compress)
    tracemalloc.start()
    try:
        error = await refused(server)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_names_endpoint_and_cap(error)
    assert server.requests == 1, "a reply too large is final: asking again gets the same"
    # Read up to the cap (plus the chunk that passed it), not the 50 MB on offer.
    assert server.sent <= MAX_REPLY_BYTES + 2 * CHUNK
    assert peak < 3 * MAX_REPLY_BYTES, f"peak {peak:,} bytes for a cap of {MAX_REPLY_BYTES:,}"


async def test_a_declared_length_over_the_cap_is_refused_before_any_byte_is_read() -> None:
    server = Streaming(HUGE, declare=True)
    error = await refused(server)
    assert_names_endpoint_and_cap(error)
    assert "52,428,800 bytes" in str(error)  # the size it announced
    assert server.sent == 0


async def test_the_cap_is_the_providers_own() -> None:
    class Frugal(CamsProvider):
        max_reply_bytes = 100_000

    small = Streaming(99_000)  # under the cap: read, then judged (not CAMS's shape)
    error = await refused(small, cls=Frugal)
    assert error.code == "MalformedReply"
    assert small.sent == 99_000
    large = Streaming(101_000)
    assert_names_endpoint_and_cap(await refused(large, cls=Frugal), cap="100,000 bytes")


async def test_a_write_refused_for_size_says_it_may_have_acted() -> None:
    from wasync.model import QrCode

    server = Streaming(HUGE)
    async with cams_client(server) as client:
        with pytest.raises(ProviderError) as info:
            await client.create_qr_code(
                QrCode(account="shop", phone=PHONE, label="a", prefilled_message="Hello")
            )
    assert_names_endpoint_and_cap(info.value, operation="CreatePhoneMessageQrdl")
    assert "the change may have been applied" in str(info.value)


async def test_a_reply_just_under_the_cap_parses_in_memory_of_the_same_order() -> None:
    # Listed QR codes as CAMS sends them, as many as fit in the cap.
    item = {
        "QrdlCode": "Q4VJZ4BX1MADYH",
        "PhoneNumber": PHONE,
        "PrefilledMessage": "Hello! I saw your autumn poster at the metro station.",
        "GenerateQrImage": "SVG",
        "DeepLinkUrl": "https://wa.me/message/Q4VJZ4BX1MADYH",
        "QrImageUrl": "https://example.invalid/qr/Q4VJZ4BX1MADYH.svg",
    }
    one = len(cams_ok([item] * 2)) - len(cams_ok([item]))
    count = (MAX_REPLY_BYTES - 1000) // one
    body = cams_ok([{**item, "QrdlCode": f"Q{i:013d}"} for i in range(count)])
    assert MAX_REPLY_BYTES - 4 * one < len(body) <= MAX_REPLY_BYTES

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    tracemalloc.start()
    try:
        async with cams_client(httpx.MockTransport(respond)) as client:
            codes = await client.list_qr_codes(PHONE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(codes) == count
    # The body, its parsed JSON and the models made from it: a small multiple of its size
    # (measured: 3.6x), not the 60x a 50 MB reply once took.
    assert peak < 8 * len(body), f"peak {peak:,} bytes for a reply of {len(body):,}"

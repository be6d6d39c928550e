"""When nothing can work, wasync says so soon, and says what to check.

- an endpoint that could not be reached at all (refused, unknown host): one short retry,
  then a final error naming the endpoint setting, the network and the proxy;
- a reply that is not JSON (a web page, garbage): no retry;
- anything else that may pass (5xx, 429, no reply): retried with exponential backoff and
  jitter (a refusal for rate never sooner than its Retry-After), but no longer than the
  account's ``retry_deadline`` while none of its calls goes through;
- ``timeout`` and ``retry_deadline`` must be finite and sensible in wasync.yaml.

Every test runs on the virtual clock (tests/conftest.py): the waits take no real time, and
the loop's clock says how long a user would have waited.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_runner import wasync

from wasync.errors import ErrorClass, ProviderError
from wasync.sandbox.common import InProcessTransport

from .support import PHONE, Counting, cams_client, cams_ok

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_clock]


def now() -> float:
    return asyncio.get_running_loop().time()


async def fails(
    transport: httpx.AsyncBaseTransport | None, base_url: str | None = None, **settings: object
) -> tuple[ProviderError, float]:
    """The error a listing ends with through ``transport`` (None: the network at
    ``base_url``), and how long it took on the loop's clock."""
    options = {"base_url": base_url} if base_url else {}
    started = now()
    async with cams_client(transport, **options, **settings) as client:  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as info:
            await client.list_qr_codes(PHONE)
    return info.value, now() - started


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: a connection to it is refused


# --- an endpoint that cannot be reached ---------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [f"http://127.0.0.1:{closed_port()}", "http://wasync-test-endpoint.invalid"],
    ids=["refused", "unknown host"],
)
async def test_an_endpoint_never_reached_gets_one_short_retry_and_says_what_to_check(
    endpoint: str,
) -> None:
    attempts: list[float] = []

    class Recording(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            attempts.append(now())
            return await super().handle_async_request(request)

    error, _ = await fails(Recording(), base_url=endpoint)
    assert len(attempts) == 2  # the first and one short retry
    if "127.0.0.1" in endpoint:  # (a name is resolved in a thread: the loop's clock jumps)
        assert 1.0 <= attempts[1] - attempts[0] < 1.2
    assert error.error_class is ErrorClass.FATAL
    text = str(error)
    assert endpoint in text
    assert "could not be reached at all" in text
    assert "`endpoint:` of account shop in wasync.yaml" in text
    assert "network" in text and "proxy" in text


async def test_once_the_endpoint_answered_a_refused_connection_is_retried_as_usual() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if server.requests == 1:
            return httpx.Response(200, content=cams_ok([]))
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    server = Counting(respond)
    async with cams_client(server) as client:
        assert await client.list_qr_codes(PHONE) == []
        with pytest.raises(ProviderError) as info:
            await client.list_qr_codes(PHONE)
    assert server.requests == 1 + 8  # the policy's 8 attempts: it may be a passing failure
    assert info.value.error_class is ErrorClass.TRANSIENT


async def test_a_zero_retry_deadline_means_no_retry_at_all() -> None:
    server = Counting(lambda r: httpx.Response(500, text="<html>oops</html>"))
    error, _ = await fails(server, retry_deadline=0)
    assert server.requests == 1
    assert "retry_deadline: 0 of account shop" in str(error)
    refused = Counting(lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused")))
    await fails(refused, retry_deadline=0)
    assert refused.requests == 1


# --- a reply that cannot be parsed --------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body>Welcome to nginx!</body></html>"),
        ("application/json", b'{"Code": "OK", "Data": ['),
        ("application/json", b""),
    ],
    ids=["an HTML page", "invalid JSON", "an empty body"],
)
async def test_a_reply_that_is_not_json_is_not_retried(content_type: str, body: bytes) -> None:
    server = Counting(
        lambda r: httpx.Response(200, content=body, headers={"content-type": content_type})
    )
    error, took = await fails(server)
    assert server.requests == 1
    assert took == 0
    assert error.error_class is ErrorClass.FATAL
    assert error.code == "MalformedReply"
    assert "probably not the CAMS API: check `endpoint:` of account shop" in str(error)


# --- failures that may pass: retried, within the deadline ---------------------------------


async def test_server_errors_are_retried_until_the_deadline() -> None:
    server = Counting(lambda r: httpx.Response(503, text="<html>Service Unavailable</html>"))
    error, took = await fails(server, retry_deadline=10)
    # 0.5 + 1 + 2 + 4 s of backoff (plus jitter) fit in 10 s; the next wait would not.
    assert 3 <= server.requests <= 6
    assert took <= 10
    assert error.error_class is ErrorClass.FATAL
    assert "gave up: no call to https://cams.ap-southeast-1.aliyuncs.com went through" in str(error)
    assert "retry_deadline: 10 of account shop in wasync.yaml" in str(error)


async def test_an_endpoint_that_never_worked_is_given_up_on_within_30_s() -> None:
    server = Counting(lambda r: httpx.Response(500, text="<html>Internal Server Error</html>"))
    error, took = await fails(server)  # retry_deadline: 120 by default
    assert took <= 30
    assert 4 <= server.requests <= 6  # 0.5 + 1 + 2 + 4 + 8 s of backoff (and jitter)
    assert "no call of account shop has gone through yet in this run" in str(error)


async def test_the_deadline_is_the_accounts_not_each_calls() -> None:
    server = Counting(lambda r: httpx.Response(503, text="down"))
    async with cams_client(server, retry_deadline=10) as client:
        started = now()
        for _ in range(3):  # three listings one after the other, as a refresh may make
            with pytest.raises(ProviderError):
                await client.list_qr_codes(PHONE)
        took = now() - started
    assert took <= 10  # not three times the deadline
    assert server.requests < 3 * 5  # each alone would make 5 (see the test above)


def hanging(answer_first: bool = False) -> tuple[InProcessTransport, list[float]]:
    """A server that never answers (but the first request, when ``answer_first``); the
    times the requests came."""
    times: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        times.append(now())
        if answer_first and len(times) == 1:
            body = cams_ok([])
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await asyncio.sleep(10_000)

    return InProcessTransport(app), times


async def test_an_endpoint_that_never_answered_and_hangs_fails_after_one_timeout() -> None:
    server, times = hanging()
    error, took = await fails(server, timeout=30)
    # Before: 8 attempts of 30 s and the waits between them, 311 s. Until a call has gone
    # through, no retry starts that could not end within 30 s of the first failure.
    assert len(times) == 1
    assert took == 30
    assert error.code == "ReadTimeout"
    assert error.error_class is ErrorClass.FATAL
    assert "no call of account shop has gone through yet in this run" in str(error)
    assert "raise `timeout:` (now 30 s) of account shop" in str(error)


async def test_an_endpoint_that_answered_then_hangs_gives_up_within_the_deadline() -> None:
    server, times = hanging(answer_first=True)
    async with cams_client(server, timeout=30) as client:
        assert await client.list_qr_codes(PHONE) == []
        started = now()
        with pytest.raises(ProviderError) as info:
            await client.list_qr_codes(PHONE)
        took = now() - started
    # No attempt starts that would end past the 120 s deadline: 30 + 0.5 + 30 + 1 + 30 s.
    assert len(times) == 1 + 3
    assert took <= 120
    assert info.value.error_class is ErrorClass.FATAL
    assert "retry_deadline: 120 of account shop in wasync.yaml" in str(info.value)


async def test_throttled_retries_back_off_exponentially_never_sooner_than_asked() -> None:
    times: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        times.append(now())
        return httpx.Response(429, text="slow down", headers={"retry-after": "1"})

    error, _ = await fails(Counting(respond))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 7
    for i, gap in enumerate(gaps):
        # the Retry-After, or the attempt's backoff if longer (capped at 30 s: RetryPolicy)
        floor = max(1.0, min(0.5 * 2**i, 30.0))
        assert floor <= gap <= floor * 1.5 + 0.05, (i, gaps)
    assert error.error_class is ErrorClass.THROTTLED


async def test_a_wait_the_provider_asks_for_is_honoured_past_the_deadline() -> None:
    times: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        times.append(now())
        if len(times) == 1:  # Meta: "regain access in 60 minutes", say
            return httpx.Response(429, text="wait", headers={"retry-after": "3600"})
        return httpx.Response(200, content=cams_ok([]))

    async with cams_client(Counting(respond), retry_deadline=10) as client:
        assert await client.list_qr_codes(PHONE) == []
    assert 3600 <= times[1] <= 3600 + 30


async def test_a_refusal_for_rate_without_a_wait_is_bounded_by_the_deadline() -> None:
    server = Counting(lambda r: httpx.Response(429, text="slow down"))
    error, took = await fails(server, retry_deadline=10)
    assert took <= 10
    assert error.error_class is ErrorClass.FATAL
    assert "retry_deadline: 10 of account shop" in str(error)


async def test_jitter_spreads_requests_throttled_together() -> None:
    times: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        times.append(now())
        return httpx.Response(429, text="slow down", headers={"retry-after": "1"})

    server = Counting(respond)
    async with cams_client(server) as client:
        results = await asyncio.gather(
            *(client.list_qr_codes(PHONE) for _ in range(20)), return_exceptions=True
        )
    assert all(isinstance(r, ProviderError) for r in results)
    retries = sorted(t for t in times if t > 0.5)
    assert len(set(round(t, 3) for t in retries)) > len(retries) // 2  # not all at once


# --- timeouts and deadlines in wasync.yaml ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("timeout", ".inf", "finite number"),
        ("timeout", ".nan", "finite number"),
        ("timeout", "0", "greater than 0"),
        ("timeout", "-5", "greater than 0"),
        ("timeout", "601", "less than or equal to 600"),
        ("retry_deadline", ".inf", "finite number"),
        ("retry_deadline", "-1", "greater than or equal to 0"),
        ("retry_deadline", "86400", "less than or equal to 3600"),
    ],
)
def test_absurd_timeouts_and_deadlines_are_refused_at_validation(
    tmp_path: Path, field: str, value: str, says: str
) -> None:
    (tmp_path / "wasync.yaml").write_text(
        f"accounts:\n  shop:\n    provider: cams\n    endpoint: sandbox\n    {field}: {value}\n"
    )
    result = wasync("validate", tmp_path)
    assert result.exit_code == 1, result
    assert "wasync.yaml:5:" in result.stderr
    assert f"accounts.shop.{field}" in result.stderr
    assert says in result.stderr, result
    assert "Traceback" not in result.output

"""Helpers of the hardening tests: the real CAMS client over an in-process transport, with
the session's read retries, and servers that misbehave."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from wasync.pacing.gate import RateGate
from wasync.pacing.retry import RetryingReads, RetryPolicy
from wasync.providers.cams.account import CamsAccount
from wasync.providers.cams.client import CamsProvider

ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
PHONE = "8615800001111"


def cams_account(**settings: Any) -> CamsAccount:
    return CamsAccount(
        name="shop",
        provider="cams",
        endpoint=ENDPOINT,
        cust_space_id="cams-hardening",
        access_key_id=SecretStr("sandbox-access-key-id"),
        access_key_secret=SecretStr("sandbox-access-key-secret"),
        **settings,
    )


@asynccontextmanager
async def cams_client(
    transport: httpx.AsyncBaseTransport,
    *,
    cls: type[CamsProvider] = CamsProvider,
    base_url: str = ENDPOINT,
    **settings: Any,
) -> AsyncIterator[CamsProvider]:
    """The real CAMS client over ``transport``, each read retried by the default policy
    (as a session does), paced by a gate that lets 1,000 calls a second through."""
    account = cams_account(**settings)
    gate = RateGate(1000)
    reads = RetryingReads(RetryPolicy(), gate, account.name)
    async with httpx.AsyncClient(base_url=base_url, transport=transport) as http:
        yield cls(account, http=http, gate=gate, reads=reads)


Respond = Callable[[httpx.Request], httpx.Response]


class Counting(httpx.AsyncBaseTransport):
    """A server in this process that answers each request with ``respond`` and counts
    the requests."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.respond(request)


def cams_ok(data: Any) -> bytes:
    return json.dumps({"Code": "OK", "RequestId": "req-1", "Data": data}).encode()

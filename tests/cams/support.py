"""Helpers for the CAMS tests: accounts, and the real client connected to an emulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wasync.providers.base import CallGate
from wasync.providers.cams.account import CamsAccount
from wasync.providers.cams.client import CamsProvider
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    InProcessTransport,
)

ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
SPACE = "cams-test01"


def make_account(
    name: str = "shop-cams",
    *,
    key_id: str = DEFAULT_ACCESS_KEY_ID,
    secret: str = DEFAULT_ACCESS_KEY_SECRET,
    cust_space_id: str | None = SPACE,
    timeout: float = 5.0,
) -> CamsAccount:
    return CamsAccount(
        name=name,
        provider="cams",
        endpoint=ENDPOINT,
        timeout=timeout,
        cust_space_id=cust_space_id,
        access_key_id=SecretStr(key_id),
        access_key_secret=SecretStr(secret),
    )


Connect = Callable[..., AbstractAsyncContextManager[CamsProvider]]


@asynccontextmanager
async def connect(
    app: ASGIApp | None,
    account: CamsAccount | None = None,
    *,
    http_timeout: float = 5.0,
    clock: Callable[[], float] = time.time,
    gate: CallGate | None = None,
    base_url: str = ENDPOINT,
    **http_options: Any,
) -> AsyncIterator[CamsProvider]:
    """The real client over ``app`` (None: the network at ``base_url``); ``http_timeout`` is
    the account's ``timeout``, which every call waits at most."""
    transport = InProcessTransport(app) if app is not None else None
    account = (account or make_account()).model_copy(update={"timeout": http_timeout})
    async with httpx.AsyncClient(base_url=base_url, transport=transport, **http_options) as http:
        provider = CamsProvider(account, http=http, gate=gate, clock=clock)
        yield provider
        await provider.aclose()


Rewrite = Callable[[int, bytes], tuple[int, bytes]]


def rewriting(app: ASGIApp, rewrite: Rewrite) -> ASGIApp:
    """``app`` with each reply's status and body passed through ``rewrite``: a stand-in for a
    proxy or a broken server between the client and the emulator."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = rewrite(start["status"], b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped

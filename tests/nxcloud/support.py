"""Helpers of the NXCloud tests: accounts, templates, a hand-moved clock, a client wired to
an emulator in process over HTTP (``InProcessTransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette

from wasync.model import Template
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    InProcessTransport,
)

PHONE = "8618500009999"
OTHER_PHONE = "8613900001111"
APPKEY = "8exxxs"
BASE_URL = "https://api2.nxcloud.invalid"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_account(**overrides: Any) -> NxcloudAccount:
    fields: dict[str, Any] = {
        "name": "shop-nx",
        "provider": "nxcloud",
        "appkey": APPKEY,
        "access_key": SecretStr(DEFAULT_ACCESS_KEY_ID),
        "secret_key": SecretStr(DEFAULT_ACCESS_KEY_SECRET),
        "timeout": 5.0,
    }
    fields.update(overrides)
    return NxcloudAccount(**fields)


def make_template(
    name: str = "order_shipped", language: str = "en_US", **overrides: Any
) -> Template:
    fields: dict[str, Any] = {
        "account": "shop-nx",
        "phone": PHONE,
        "name": name,
        "language": language,
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Your order {{1}} has shipped.",
                "example": {"body_text": [["12345"]]},
            }
        ],
    }
    fields.update(overrides)
    return Template.model_validate(fields)


@asynccontextmanager
async def connect(
    app: Starlette,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = BASE_URL,
    **options: Any,
) -> AsyncIterator[NxcloudProvider]:
    """A real client wired to ``app``; ``options`` go to the account or the provider."""
    provider_keys = {"gate", "clock", "algorithm"}
    account = make_account(**{k: v for k, v in options.items() if k not in provider_keys})
    http = httpx.AsyncClient(base_url=base_url, transport=transport or InProcessTransport(app))
    provider = NxcloudProvider(
        account, http=http, **{k: v for k, v in options.items() if k in provider_keys}
    )
    try:
        yield provider
    finally:
        await provider.aclose()


class Tamper(httpx.AsyncBaseTransport):
    """Stands between client and emulator and changes requests on the way, as a broken
    proxy would: the emulator's answers to requests the client never sends."""

    def __init__(self, app: Starlette, change: Callable[[httpx.Request], httpx.Request]) -> None:
        self._inner = InProcessTransport(app)
        self._change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(self._change(request))

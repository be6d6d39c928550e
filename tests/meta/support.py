"""Helpers of the Meta tests: accounts, templates, a hand-moved clock, a client wired to
the Graph emulator in process over HTTP (``InProcessTransport``), and a transport that
records what the client sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp

from wasync.model import Template
from wasync.providers.meta.account import MetaAccount
from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.common import InProcessTransport
from wasync.sandbox.meta import DEFAULT_ACCESS_TOKEN

WABA = "100200300400500"
APP_ID = "900800700600500"
PHONE = "15550101111"  # the emulator's "+1 555-010-1111"
OTHER_PHONE = "15550102222"
BASE_URL = "https://graph.facebook.invalid"
PNG = b"\x89PNG\r\n\x1a\n" + b"sample image bytes" * 8


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_account(**overrides: Any) -> MetaAccount:
    fields: dict[str, Any] = {
        "name": "shop-meta",
        "provider": "meta",
        "endpoint": BASE_URL,
        "waba_id": WABA,
        "app_id": APP_ID,
        "access_token": SecretStr(DEFAULT_ACCESS_TOKEN),
        "timeout": 5.0,
    }
    fields.update(overrides)
    return MetaAccount(**fields)


def make_template(
    name: str = "order_shipped", language: str = "en_US", **overrides: Any
) -> Template:
    fields: dict[str, Any] = {
        "account": "shop-meta",
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


class Recording(httpx.AsyncBaseTransport):
    """In front of the emulator: keeps every request (and may change it, as a broken
    proxy would, or drop the answer to one, as a network would)."""

    def __init__(
        self,
        app: ASGIApp,
        change: Callable[[httpx.Request], httpx.Request] | None = None,
    ) -> None:
        self._inner = InProcessTransport(app)
        self._change = change
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._change is not None:
            request = self._change(request)
        self.requests.append(request)
        return await self._inner.handle_async_request(request)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]


@asynccontextmanager
async def connect(
    app: ASGIApp,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = BASE_URL,
    files: Path | None = None,
    **options: Any,
) -> AsyncIterator[MetaProvider]:
    """A real client wired to ``app``; ``options`` go to the account or the provider;
    ``files`` is the spec folder sample files are read from."""
    provider_keys = {"gate", "clock", "reads"}
    account = make_account(**{k: v for k, v in options.items() if k not in provider_keys})
    http = httpx.AsyncClient(base_url=base_url, transport=transport or InProcessTransport(app))
    provider = MetaProvider(
        account, http=http, **{k: v for k, v in options.items() if k in provider_keys}
    )
    if files is not None:
        provider.read_files_from(files)
    try:
        yield provider
    finally:
        await provider.aclose()

"""What every emulator shares: fault injection, a server-side rate limit, state persistence,
and the in-process transport that lets the real clients talk to an emulator without a socket.

Emulators may share code with each other, never with the clients they emulate for: a
signing or parsing bug shared by both sides would pass every test.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Clock = Callable[[], float]  # seconds since the epoch

DEFAULT_ACCESS_KEY_ID = "sandbox-access-key-id"
DEFAULT_ACCESS_KEY_SECRET = "sandbox-access-key-secret"  # noqa: S105 - a published fake


class Fault(enum.Enum):
    THROTTLE = "throttle"  # answer with the provider's own throttling error
    SERVER_ERROR = "server_error"  # answer 5xx without acting
    DROP_BEFORE = "drop_before"  # drop the connection without acting
    DROP_AFTER = "drop_after"  # act, then drop the connection: the outcome is unknown
    SLOW = "slow"  # act, but answer late (past a short client timeout)


@dataclass
class FaultConfig:
    """Latency on every reply, and a share of replies that go wrong.

    ``fault_rate`` is the share of requests that get one of ``kinds``, chosen uniformly.
    """

    latency_ms: float = 0.0
    fault_rate: float = 0.0
    kinds: tuple[Fault, ...] = tuple(Fault)
    slow_ms: float = 2000.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self._rng = random.Random(self.seed)  # noqa: S311 - test faults, not security

    def draw(self) -> Fault | None:
        if self.fault_rate and self.kinds and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.kinds)
        return None

    async def delay(self, fault: Fault | None) -> None:
        ms = self.latency_ms + (self.slow_ms if fault is Fault.SLOW else 0.0)
        if ms > 0:
            await asyncio.sleep(ms / 1000.0)


class RateLimit:
    """Token bucket per key (an access key, optionally with an action): ``qps`` tokens per
    second, holding at most ``burst`` (default ``qps``, at least 1).

    This is the emulator's view of a provider's flow control: a request that finds the
    bucket empty is refused, as the real gateway refuses it.
    """

    def __init__(
        self, qps: float | None, burst: float | None = None, clock: Clock = time.monotonic
    ):
        self.qps = qps
        self.burst = max(1.0, burst if burst is not None else (qps or 1.0))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def allow(self, key: str) -> bool:
        if not self.qps:
            return True
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.qps)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                self.refused += 1
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


class JsonState:
    """An emulator's state as one JSON document, optionally persisted to a folder.

    Writes are atomic (temp file + rename) so a killed emulator never leaves a torn file.
    """

    def __init__(self, folder: Path | None, name: str) -> None:
        self.path = folder / f"{name}.json" if folder else None

    def load(self) -> dict[str, Any]:
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        return {}

    def save(self, data: dict[str, Any]) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class ConnectionDropped(Exception):  # noqa: N818 - names the event, not an error of ours
    """Raised (through ``drop_connection``) to drop the connection instead of answering."""


_DROP_FLAG = "wasync.drop_connection"


def drop_connection(scope: Scope) -> NoReturn:
    """Drop the current request's connection (pass ``request.scope``); never returns.

    The flag in the scope keeps Starlette's error middleware from answering 500 instead.
    """
    scope[_DROP_FLAG] = True
    raise ConnectionDropped


class DropConnections:
    """ASGI middleware: turns ``ConnectionDropped`` into a connection that ends mid-reply.

    It starts a response that promises a body and then raises, so uvicorn closes the socket
    and an HTTP client sees an incomplete reply (``httpx.RemoteProtocolError``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if scope.get(_DROP_FLAG):
                return  # a dropped connection sends nothing more
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ConnectionDropped:
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1024")],
                    }
                )
            raise


class InProcessTransport(httpx.AsyncBaseTransport):
    """httpx transport that serves requests from an emulator in this process.

    Real HTTP semantics through httpx's ASGI transport, plus the failure modes a socket has:
    a dropped connection surfaces as ``httpx.RemoteProtocolError`` and a reply slower than the
    client's read timeout as ``httpx.ReadTimeout``, exactly as they would over the network.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=DropConnections(app))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            if timeout is None:
                return await self._inner.handle_async_request(request)
            return await asyncio.wait_for(self._inner.handle_async_request(request), timeout)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the reply", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.contextmanager
def serving(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run an emulator ``app`` under uvicorn in a background thread; yields its base URL.

    For tests and benchmarks that want a real socket; ``wasync sandbox serve`` runs uvicorn
    in the foreground instead.
    """
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it, Nagle's algorithm holds small replies back (~45 ms per request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        DropConnections(app), log_level="critical", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    try:
        bound_port = sock.getsockname()[1]
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

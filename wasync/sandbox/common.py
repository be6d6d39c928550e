"""What every emulator shares: fault injection, a server-side rate limit, state persistence,
and the in-process transport that lets the real clients talk to an emulator without a socket.

Emulators may share code with each other, never with the clients they emulate for: a
signing or parsing bug shared by both sides would pass every test.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import enum
import json
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wasync.files import write_atomically

Clock = Callable[[], float]  # seconds since the epoch

# The page-size cap of an emulator whose ``create_app`` is given none (0 or None: only the
# API's own maximum). The test suite sets it (``pytest --page-cap N``) to run the provider
# tests against servers that return fewer items per page than the clients ask for.
page_cap_default: int | None = None

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
    injected: Counter[Fault] = field(init=False, default_factory=Counter)  # what went wrong
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self._rng = random.Random(self.seed)  # noqa: S311 - test faults, not security

    def draw(self) -> Fault | None:
        if self.fault_rate and self.kinds and self._rng.random() < self.fault_rate:
            fault = self._rng.choice(self.kinds)
            self.injected[fault] += 1
            return fault
        return None

    async def delay(self, fault: Fault | None) -> None:
        ms = self.latency_ms + (self.slow_ms if fault is Fault.SLOW else 0.0)
        if ms > 0:
            await asyncio.sleep(ms / 1000.0)


class RateLimit:
    """Token buckets per key and scope (an access key, and the API where the provider counts
    each API apart): ``qps`` tokens per second, holding at most ``burst`` (default: one
    second of requests, at least 1). ``per_scope`` gives the scopes with a rate of their
    own; every other scope gets ``qps``. A rate of None or 0 is no limit.

    This is the emulator's view of a provider's flow control: a request that finds its
    bucket empty is refused, as the real gateway refuses it.
    """

    def __init__(
        self,
        qps: float | None,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        per_scope: Mapping[str, float] | None = None,
    ):
        self.qps = qps
        self.per_scope = dict(per_scope or {})
        self.burst = burst
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.refused = 0
        self.refused_by: Counter[str] = Counter()  # refusals by scope

    def rate(self, scope: str = "") -> float | None:
        """Requests per second allowed in ``scope`` (None: no limit)."""
        return self.per_scope.get(scope, self.qps) or None

    def allow(self, key: str, scope: str = "") -> bool:
        qps = self.rate(scope)
        if not qps:
            return True
        burst = max(1.0, self.burst if self.burst is not None else qps)
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get((key, scope), (burst, now))
            tokens = min(burst, tokens + max(0.0, now - last) * qps)
            if tokens < 1.0:
                self._buckets[(key, scope)] = (tokens, now)
                self.refused += 1
                self.refused_by[scope] += 1
                return False
            self._buckets[(key, scope)] = (tokens - 1.0, now)
            return True


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars), several times quicker than
    ``copy.deepcopy``: replies copy what they show of the stored records."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


class _Spliced(Exception):  # noqa: N818 - a signal inside ``encode_reply``, never raised out
    pass


class _ReplyEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, JsonText):
            raise _Spliced
        return super().default(o)


# Encodes as Starlette's JSONResponse does: compact, UTF-8 as is, no NaN.
_REPLY = _ReplyEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
encode_json = _REPLY.encode
# The same, writing NaN and Infinity as Python's json does (an emulator that renders its
# replies with ``json.dumps`` and its defaults).
_REPLY_NAN = _ReplyEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":"))
encode_json_nan = _REPLY_NAN.encode


@dataclass(frozen=True, slots=True)
class JsonText:
    """A piece of a reply already encoded (``encode_json``): a reply holding it splices
    ``text`` in as is (``JsonReply``). Emulators keep what they only ever echo (template
    components) as such text, a fraction of the memory of the decoded data, and list it
    without encoding it again."""

    text: str


def encode_reply(value: Any, *, allow_nan: bool = False) -> str:
    """``value`` as JSON, byte for byte as ``JSONResponse`` renders it (``allow_nan``: as
    ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``), with ``JsonText``
    spliced in."""
    encode = (_REPLY_NAN if allow_nan else _REPLY).encode
    try:
        return encode(value)
    except _Spliced:
        return "".join(_pieces(value, encode))


def _pieces(value: Any, encode: Callable[[Any], str]) -> Iterator[str]:
    if isinstance(value, JsonText):
        yield value.text
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ("," if i else "") + encode(_key(key)) + ":"
            yield from _pieces(item, encode)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _pieces(item, encode)
        yield "]"
    else:
        yield encode(value)


def _key(key: Any) -> str:
    """A dict key as ``json`` writes it (its keys are strings)."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return encode_json(key)
    if isinstance(key, int | float):
        return encode_json(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


class JsonReply(JSONResponse):
    """A JSON reply, rendered as ``JSONResponse`` renders one, that may hold ``JsonText``."""

    def render(self, content: Any) -> bytes:
        return encode_reply(content).encode("utf-8")


def page_cap(given: int | None) -> int | None:
    """The page-size cap an emulator applies: ``given``, else ``page_cap_default``; None
    when neither caps (0 means no cap)."""
    cap = given if given is not None else page_cap_default
    if cap is not None and cap < 0:
        raise ValueError("page_cap must be 0 (no cap) or a positive number of items")
    return cap or None


class JsonState:
    """An emulator's state as one JSON document, optionally persisted to a folder.

    ``save`` marks the state changed; the file is written at most every ``debounce``
    seconds while changes come (by a timer thread, under the emulator's ``lock``), and at
    ``flush``: when the embedded sandbox closes, when another emulator in this process
    loads the same file, when a served emulator stops, and at exit. So an apply of N
    changes writes the file a few times, not N times (each write encodes the whole state:
    N writes cost N squared). A ``debounce`` of 0 (the default: tests that create an
    emulator read its file at once) writes at every ``save``; ``defer_writes`` sets one.
    Writes are atomic (temp file + rename), so a killed emulator never leaves a torn file;
    it loses at most the changes of its last ``debounce`` seconds.
    """

    DEBOUNCE = 0.25  # seconds: the embedded sandbox's and ``sandbox serve``'s
    WRITE_SHARE = 0.05  # of the time, at most, spent encoding and writing (large states)

    def __init__(self, folder: Path | None, name: str, *, debounce: float = 0.0) -> None:
        self.path = folder / f"{name}.json" if folder else None
        self.debounce = debounce
        # The emulator's lock: held while the state is encoded, so that no request changes
        # it half-way (the emulator sets its own; ``attach``).
        self.lock: threading.RLock | threading.Lock = threading.RLock()
        self._data: dict[str, Any] | None = None
        self._dirty = False
        self._timer: threading.Timer | None = None
        self._writing = threading.Lock()  # one write at a time, in order
        self.writes = 0  # files written, for tests and benchmarks
        self._cost = 0.0  # seconds the last write took
        if self.path is not None:
            _live_states.add(self)

    def attach(self, lock: threading.RLock | threading.Lock) -> None:
        """Encode the state under ``lock``, the one the emulator changes it under."""
        self.lock = lock

    def load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        flush_states(self.path)  # another emulator of this process may hold newer changes
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        return {}

    def save(self, data: dict[str, Any]) -> None:
        """The state changed (``data`` is the whole of it): write it soon."""
        if self.path is None:
            return
        with self.lock:
            self._data = data
            self._dirty = True
            if self.debounce <= 0:
                self.flush()
            elif self._timer is None:
                # Writing costs the whole state each time: wait long enough that writes
                # take at most a small share of the time (``WRITE_SHARE``).
                wait = max(self.debounce, self._cost / self.WRITE_SHARE)
                self._timer = threading.Timer(wait, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def _on_timer(self) -> None:
        with contextlib.suppress(OSError):  # the folder went away (a test's temporary one)
            self.flush()

    def release(self) -> None:
        """Write the state if it changed, then keep it no more: this store writes nothing
        again (its emulator is not used any more; ``InProcessTransport.release``)."""
        self.flush()
        with self.lock:
            timer, self._timer = self._timer, None
            self._data, self._dirty, self.path = None, False, None
        if timer is not None:
            timer.cancel()
        _live_states.discard(self)

    def flush(self) -> None:
        """Write the state now if it changed since the last write."""
        if self.path is None:
            return
        with self._writing:
            started = time.perf_counter()
            with self.lock:
                timer, self._timer = self._timer, None
                if not self._dirty or self._data is None:
                    return
                text = json.dumps(self._data, ensure_ascii=False, sort_keys=True)
                self._dirty = False
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            write_atomically(self.path, text)
            self.writes += 1
            self._cost = time.perf_counter() - started


_live_states: weakref.WeakSet[JsonState] = weakref.WeakSet()


def flush_states(path: Path | None = None) -> None:
    """Write every emulator state of this process that has changes not yet written (only
    the one kept in ``path``, when given)."""
    for state in list(_live_states):
        if path is None or state.path == path:
            state.flush()


def _flush_at_exit() -> None:
    for state in list(_live_states):
        with contextlib.suppress(Exception):  # exiting: nothing left to tell
            state.flush()


atexit.register(_flush_at_exit)


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

    def __init__(self, app: ASGIApp, rebuild: Callable[[], ASGIApp] | None = None) -> None:
        """``rebuild`` makes the emulator again from its state file (``release``)."""
        self._app: ASGIApp | None = app
        self._inner = httpx.ASGITransport(app=DropConnections(app))
        self._rebuild = rebuild

    def release(self) -> None:
        """Write the emulator's state if it changed and let go of it in memory (an embedded
        sandbox whose command reads no more: a plan once refreshed); a later request
        builds the emulator again from its state file (``rebuild``). Without ``rebuild``,
        or for an emulator that cannot let go, only writes it."""
        app = self._app
        release = getattr(getattr(app, "state", None), "release_state", None)
        if app is None or self._rebuild is None or not callable(release):
            if app is not None:
                flush_app(app)
            return
        release()
        self._app = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._app is None:
            assert self._rebuild is not None  # released only with a way back
            self._app = self._rebuild()
            self._inner = httpx.ASGITransport(app=DropConnections(self._app))
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            if timeout is None:
                response = await self._inner.handle_async_request(request)
            else:
                response = await asyncio.wait_for(
                    self._inner.handle_async_request(request), timeout
                )
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the reply", request=request) from exc
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _ReleasedOnClose(response.stream)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
        if self._app is not None:
            flush_app(self._app)  # the client is done with the emulator: write its state now


class _ReleasedOnClose(httpx.AsyncByteStream):
    """A reply's body that lets go of its bytes once the reply is closed.

    httpx binds a reply's stream back to the reply, a reference cycle that only the cyclic
    collector frees; reads run with the collector paused and what they leave is then frozen
    (``wasync.refresh``). A socket's stream holds no body once read, but the ASGI
    transport's holds all of it: every reply of a refresh stayed, about 9 MB at 20,000
    resources."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner: httpx.AsyncByteStream | None = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._inner is not None:
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


@contextlib.asynccontextmanager
async def write_state_at_shutdown(app: Any) -> AsyncIterator[None]:
    """A Starlette ``lifespan``: a served emulator writes its last changes as it stops."""
    try:
        yield
    finally:
        flush_app(app)


def defer_writes(app: ASGIApp, seconds: float = JsonState.DEBOUNCE) -> None:
    """Let the emulator ``app`` (from a ``create_app``) write its state at most every
    ``seconds`` while changes come, and when it is closed or stops (``JsonState``)."""
    store = getattr(getattr(app, "state", None), "state_file", None)
    if isinstance(store, JsonState):
        store.debounce = seconds


def flush_app(app: ASGIApp) -> None:
    """Write the state of the emulator ``app`` (from a ``create_app``) if it has changes."""
    flush = getattr(getattr(app, "state", None), "flush_state", None)
    if callable(flush):
        flush()


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
        flush_app(app)

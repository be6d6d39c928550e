"""Guards every test: no network beyond loopback, no real credentials from the environment.
And the event loop of the async tests, with a virtual clock for those marked
``virtual_clock``."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import selectors
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from cli_runner import CREDENTIAL_PREFIXES

# Settings of the test run itself (set by .ci/run or a developer), not credentials.
TEST_SETTINGS = ("WASYNC_TEST_ALLOW_NETWORK", "WASYNC_TEST_REQUIRE_CHROMIUM")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise OSError(f"test tried to reach {address!r}: tests may only use loopback")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise OSError(f"test tried to reach {address!r}: tests may only use loopback")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if os.environ.get("WASYNC_TEST_ALLOW_NETWORK") != "1":  # the README install test opts in
        monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(CREDENTIAL_PREFIXES) and name not in TEST_SETTINGS:
            monkeypatch.delenv(name)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only as far as the loop waits.

    When nothing is ready to run, it jumps to its next timer instead of sleeping: a sleep,
    a timeout, a rate gate's turn or an emulator's latency takes no real time, and the
    loop's ``time()`` says exactly how long the code under test waited, on an idle machine
    and on a busy one alike. For tests whose waits are all on the loop (the emulators in
    this process); an answer from a thread or a socket is still waited for in real time.
    """

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualClockLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer: only I/O can wake the loop
            return super().select(None)
        self._loop.advance(timeout)  # the loop's next timer is now due
        return []


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """asyncio; on a ``VirtualClockLoop`` for tests marked ``virtual_clock``: they assert on
    ``asyncio.get_running_loop().time()``, never on the wall clock."""
    if request.node.get_closest_marker("virtual_clock"):
        return ("asyncio", {"loop_factory": VirtualClockLoop})
    return "asyncio"


# --- a page cap for every emulator (pytest --page-cap N, or WASYNC_TEST_PAGE_CAP=N) ----------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--page-cap",
        type=int,
        default=None,
        help="make every emulator return at most N items a page, whatever the client asks "
        "(servers that cap pages below the client's size); default: WASYNC_TEST_PAGE_CAP",
    )


def pytest_configure(config: pytest.Config) -> None:
    cap = config.getoption("--page-cap") or int(os.environ.get("WASYNC_TEST_PAGE_CAP") or 0)
    config.stash[_PAGE_CAP] = cap or None


_PAGE_CAP = pytest.StashKey[int | None]()


@pytest.fixture(autouse=True)
def _page_cap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Emulators made in this process without a page_cap of their own take the run's."""
    cap = request.config.stash[_PAGE_CAP]
    if cap:
        from wasync.sandbox import common

        monkeypatch.setattr(common, "page_cap_default", cap)

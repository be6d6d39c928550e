"""Guards every test: no network beyond loopback, no real credentials from the environment."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex

CREDENTIAL_PREFIXES = ("ALIBABA_CLOUD_", "ALICLOUD_", "NXCLOUD_", "WASYNC_")


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
        if name.startswith(CREDENTIAL_PREFIXES) and name != "WASYNC_TEST_ALLOW_NETWORK":
            monkeypatch.delenv(name)


@pytest.fixture
def anyio_backend() -> str:
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

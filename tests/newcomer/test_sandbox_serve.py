"""`wasync sandbox serve` as a newcomer meets it: the banner names the keys as wasync.yaml
does, and a port that is taken is one clear error before anything claims to serve."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from cli_runner import clean_env, wasync

from wasync.providers import registry


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("provider", ["cams", "nxcloud"])
def test_a_busy_port_is_one_error_and_no_banner(provider: str, busy_port: int) -> None:
    result = wasync("sandbox", "serve", "--provider", provider, "--port", str(busy_port))
    assert result.exit_code == 1, result
    assert result.stderr == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use (another wasync sandbox "
        "serve, or another server); stop it, or pick a free port with --port\n"
    )
    assert "emulator on" not in result.output


def test_an_address_that_is_not_this_machines_is_one_error() -> None:
    result = wasync("sandbox", "serve", "--provider", "cams", "--host", "192.0.2.1", "--port", "0")
    assert result.exit_code == 1, result
    assert result.stderr.startswith("Error: cannot serve on 192.0.2.1:0: ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("provider", ["cams", "nxcloud"])
def test_the_banner_comes_once_the_port_serves_and_names_keys_as_wasync_yaml(
    provider: str,
) -> None:
    command = [sys.executable, "-m", "wasync", "sandbox", "serve", "--provider", provider]
    proc = subprocess.Popen(
        [*command, "--port", "0"], env=clean_env(), stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        prefix = f"wasync sandbox: {provider} emulator on http://127.0.0.1:"
        assert first.startswith(prefix), first
        url = first.strip().removeprefix("wasync sandbox: ").split(" on ")[1]
        # The socket listens before the banner is printed: a connection is accepted (the
        # server may still be starting to answer, so the reply may take a moment).
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5):
            pass
        keys = [proc.stderr.readline() for _ in registry.get(provider).credentials]
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator never answered"
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    names = [line.split(":")[0].strip() for line in keys]
    assert names == list(registry.get(provider).credentials)  # as the account fields
    assert [line.split()[-1] for line in keys] == [
        c.sandbox for c in registry.get(provider).credentials.values()
    ]

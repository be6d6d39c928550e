"""The emulator over a real socket, as `wasync sandbox serve --provider nxcloud` runs it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wasync.providers.nxcloud.client import NxcloudProvider
from wasync.sandbox.common import FaultConfig, serving
from wasync.sandbox.nxcloud import create_app

from .support import PHONE, make_account, make_template

pytestmark = pytest.mark.anyio


async def test_the_client_over_a_socket_with_the_serve_commands_options(tmp_path: Path) -> None:
    # The options `wasync sandbox serve` passes (wasync/commands/sandbox.py).
    app = create_app(
        access_key_id="sandbox-access-key-id",
        access_key_secret="sandbox-access-key-secret",
        state_dir=tmp_path,
        faults=FaultConfig(latency_ms=0, fault_rate=0),
        qps=50,
    )
    with serving(app) as url:
        provider = NxcloudProvider(make_account(), http=httpx.AsyncClient(base_url=url))
        try:
            created = await provider.create_template(make_template())
            async with httpx.AsyncClient(base_url=url) as http:
                review = {
                    "phone": PHONE,
                    "name": "order_shipped",
                    "language": "en_US",
                    "status": "APPROVED",
                }
                assert (await http.post("/_sandbox/review", json=review)).status_code == 200
            (listed,) = await provider.list_templates([PHONE])
            await provider.delete_template(listed)
            assert await provider.list_templates([PHONE]) == []
        finally:
            await provider.aclose()
    assert (listed.id, listed.status) == (created.id, "APPROVED")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`wasync sandbox serve --provider nxcloud` in a child process; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "wasync", "sandbox", "serve", "--provider", "nxcloud"]
    command += ["--port", str(port), "--state", str(tmp_path / "state")]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("`wasync sandbox serve` did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert f"nxcloud emulator on http://127.0.0.1:{port}" in stderr
    assert (tmp_path / "state" / "nxcloud.json").exists()


async def test_wasync_sandbox_serve_provider_nxcloud(served: str) -> None:
    provider = NxcloudProvider(make_account(), http=httpx.AsyncClient(base_url=served))
    try:
        await provider.create_template(make_template())
        assert [t.name for t in await provider.list_templates([PHONE])] == ["order_shipped"]
    finally:
        await provider.aclose()

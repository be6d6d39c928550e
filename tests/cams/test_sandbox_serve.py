"""`wasync sandbox serve --provider cams`: the app the command builds, served on a real
socket, and the real client talking to it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from cli_runner import wasync

from wasync.errors import ErrorClass, ProviderError
from wasync.model import QrCode
from wasync.sandbox.common import serving

from .support import connect, make_account


def test_sandbox_serve_builds_a_working_cams_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        # Stands in for uvicorn's blocking loop: the socket is bound, nothing serves it.
        served.update(app=server.config.app, port=sockets[0].getsockname()[1])
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    result = wasync(
        *("sandbox", "serve", "--provider", "cams"),
        *("--port", "8123", "--qps", "2", "--state", tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "cams emulator on http://127.0.0.1:8123" in result.output
    assert served["port"] == 8123
    monkeypatch.undo()  # uvicorn serves again, for `serving` below

    qr = QrCode(account="shop-cams", phone="8613800000000", label="p", prefilled_message="Hi")

    async def use(url: str) -> None:
        async with connect(None, make_account(cust_space_id=None), base_url=url) as provider:
            created = await provider.create_qr_code(qr)
            assert await provider.list_qr_codes(qr.phone) == [created]
            assert await provider.list_qr_codes(qr.phone) == [created]
            # --qps 2 for each API: the third listing is refused (the create counts apart).
            with pytest.raises(ProviderError) as err:
                await provider.list_qr_codes(qr.phone)
            assert err.value.error_class is ErrorClass.THROTTLED

    with serving(served["app"].app) as url:  # the app inside the command's DropConnections
        anyio.run(use, url)
    assert (tmp_path / "cams.json").exists()  # --state is honoured


@pytest.mark.parametrize("provider", ["cams", "nxcloud"])
def test_sandbox_serve_page_cap_reaches_the_emulator(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    served: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.update(app=server.config.app)  # bound, never served
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    result = wasync("sandbox", "serve", "--provider", provider, "--page-cap", "7", "--port", "0")
    assert result.exit_code == 0, result.output
    assert "page cap: 7" in result.output
    assert served["app"].app.state.emulator.page_cap == 7

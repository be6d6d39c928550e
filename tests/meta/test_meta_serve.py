"""`wasync sandbox serve --provider meta`: the app the command builds, its one credential
given with --credential, served on a real socket, and the real client talking to it."""

from __future__ import annotations

import shlex
import socket
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from cli_runner import wasync
from newcomer.readme import tagged
from pydantic import SecretStr

from wasync.model import QrCode
from wasync.providers.meta.client import MetaProvider
from wasync.sandbox.common import serving

from .support import PHONE, WABA, make_account, make_template

TOKEN = "EAAserve-test-token-42"


def serve(monkeypatch: pytest.MonkeyPatch, *args: Any) -> tuple[Any, dict[str, Any]]:
    served: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.update(app=server.config.app)  # bound, never served
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    if "--port" not in args:  # the default 8080 may be taken by a parallel test
        args = (*args, "--port", "0")
    result = wasync("sandbox", "serve", "--provider", "meta", *args)
    return result, served


def test_serve_takes_the_token_with_credential_and_does_not_print_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, served = serve(
        monkeypatch, "--credential", f"access_token={TOKEN}", "--state", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "meta emulator on http://127.0.0.1:" in result.output
    assert "access_token:      (as given with --credential access_token)" in result.output
    assert TOKEN not in result.output
    monkeypatch.undo()  # uvicorn serves again, for `serving` below

    async def use(url: str) -> None:
        account = make_account(endpoint=url, access_token=SecretStr(TOKEN))
        provider = MetaProvider(account, http=httpx.AsyncClient(base_url=url))
        try:
            qr = QrCode(account="shop-meta", phone=PHONE, label="p", prefilled_message="Hi")
            created = await provider.create_qr_code(qr)
            await provider.create_template(make_template())
            async with httpx.AsyncClient(base_url=url) as http:
                review = {"waba": WABA, "name": "order_shipped", "language": "en_US"}
                reply = await http.post("/_sandbox/review", json={**review, "status": "APPROVED"})
                assert reply.status_code == 200
            (listed,) = await provider.list_templates([])
            assert listed.status == "APPROVED"
            assert [q.code for q in await provider.list_qr_codes(PHONE)] == [created.code]
        finally:
            await provider.aclose()

    with serving(served["app"].app) as url:
        anyio.run(use, url)
    assert (tmp_path / "meta.json").exists()  # --state is honoured


def test_serve_without_a_credential_accepts_the_published_sandbox_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fresh process knows no secret; a client of another test in this one registered the
    # published fake token, which would be redacted from the output.
    monkeypatch.setattr("wasync.log._secrets", set())
    monkeypatch.setattr("wasync.log._pattern", None)
    result, _ = serve(monkeypatch)
    assert result.exit_code == 0
    assert "access_token:      sandbox-access-token" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--access-key-id", "x"),
            "Meta has no access key pair; give its credential with --credential "
            "access_token=VALUE (its credentials: access_token)",
        ),
        (
            ("--credential", "token=x"),
            "--credential 'token': write it as FIELD=VALUE, with FIELD one of Meta's "
            "credentials: access_token",
        ),
    ],
)
def test_serve_says_how_to_give_metas_token(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    result, served = serve(monkeypatch, *args)
    assert result.exit_code == 1 and not served
    assert message in result.output


def test_the_readmes_steps_serve_meta_and_an_account_uses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (command,) = [line for line in tagged("served-meta-command").splitlines() if line.strip()]
    words = shlex.split(command)
    assert words[:5] == ["wasync", "sandbox", "serve", "--provider", "meta"]
    result, served = serve(monkeypatch, *words[5:])
    assert result.exit_code == 0, result.output
    monkeypatch.undo()  # uvicorn serves again, for `serving` below
    config = tagged("served-meta")
    with serving(served["app"].app) as url:
        (tmp_path / "wasync.yaml").write_text(
            config.replace("http://127.0.0.1:8080", url), encoding="utf-8"
        )
        (tmp_path / "specs.yaml").write_text(
            "qr_codes:\n"
            "  - account: shop-meta\n"
            f'    phone: "{PHONE}"\n'
            "    label: poster\n"
            "    prefilled_message: Hello from the poster\n",
            encoding="utf-8",
        )
        assert wasync("plan", tmp_path, "--detailed-exitcode").exit_code == 2
        applied = wasync("apply", tmp_path, "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert wasync("plan", tmp_path, "--detailed-exitcode").exit_code == 0

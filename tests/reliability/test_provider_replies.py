"""Replies that are not what the provider documents, end to end: `wasync plan` and `wasync
apply` exit 1 with a message naming the provider, the operation and, when the reply has
one, its RequestId; never a traceback, and an apply never leaves a duplicate behind.

CAMS replies are corrupted by a small ASGI proxy in front of the emulator; NXCloud's by the
emulator's own ``fail_next(raw=...)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import clean_env, wasync_process
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .support import (
    CAMS_KEY_ID,
    CAMS_PHONE,
    CAMS_SECRET,
    CREDENTIAL_ENV,
    FAST_RETRIES,
    NX_PHONE,
    Folder,
    Served,
    assert_clean_failure,
    cams_account,
    nx_account,
    qr_spec,
    served,
    template_spec,
)

Rewrite = Callable[[bytes], bytes]
DEEP = b"[" * 100_000 + b"]" * 100_000


def corrupting(action: str, rewrite: Rewrite, after: int = 0) -> Callable[[ASGIApp], ASGIApp]:
    """A proxy that passes the replies to ``action`` (CAMS's x-acs-action, NXCloud's path)
    through ``rewrite``, with status 200, once ``after`` of them went through untouched."""

    def wrap(app: ASGIApp) -> ASGIApp:
        seen = 0

        async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal seen
            headers = dict(scope.get("headers", []))
            called = headers.get(b"x-acs-action", b"").decode() or scope.get("path", "")
            if not called.endswith(action) or seen < after:
                seen += called.endswith(action)
                await app(scope, receive, send)
                return
            start: Message = {}
            chunks: list[bytes] = []

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)
                    return
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = rewrite(b"".join(chunks))
                kept = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                kept.append((b"content-length", str(len(body)).encode()))
                await send({**start, "status": 200, "headers": kept})
                await send({"type": "http.response.body", "body": body})

            await app(scope, receive, capture)

        return proxy

    return wrap


def edit(change: Callable[[dict[str, object]], None]) -> Rewrite:
    def rewrite(body: bytes) -> bytes:
        data = json.loads(body)
        change(data)
        return json.dumps(data).encode()

    return rewrite


def drop(*keys: str) -> Rewrite:
    def change(data: dict[str, object]) -> None:
        for key in keys:
            data.pop(key, None)

    return edit(change)


def strip_items(data: dict[str, object]) -> None:
    data["ListTemplate"] = [{"TemplateName": "no_code"}]


CAMS_CASES = [
    # (operation, rewrite, expected, has a RequestId)
    ("ListPhoneMessageQrdl", lambda b: b"<html>502 Bad Gateway</html>", "is not JSON", False),
    ("ListPhoneMessageQrdl", lambda b: b[:-3], "is not JSON", True),  # cut off
    ("ListPhoneMessageQrdl", lambda b: DEEP, "is not JSON", False),
    ("ListPhoneMessageQrdl", drop("Code"), "the reply has no Code", True),
    ("ListPhoneMessageQrdl", edit(lambda d: d.update(Data="x")), "Data is not a list", True),
    ("ListChatappTemplate", edit(strip_items), "lacks TemplateCode", True),
    ("ListChatappTemplate", edit(lambda d: d.update(Total="many")), "Total not a number", True),
    ("ListChatappTemplate", lambda b: b"[]", "not a JSON object", False),
]


@pytest.mark.parametrize(
    ("operation", "rewrite", "expected", "request_id"),
    CAMS_CASES,
    ids=[f"{c[0]}: {c[2]}" for c in CAMS_CASES],
)
def test_a_malformed_cams_reply_is_a_clean_plan_error(
    tmp_path: Path, operation: str, rewrite: Rewrite, expected: str, request_id: bool
) -> None:
    with served(
        "cams",
        wrap=corrupting(operation, rewrite),
        access_key_id=CAMS_KEY_ID,
        access_key_secret=CAMS_SECRET,
        qps=0,
    ) as cams:
        root = Folder(tmp_path, [cams_account(cams.url)]).write(
            qr_codes=[qr_spec("live-cams", "p", "Hello")],
            templates=[template_spec("live-cams", "note", "Order", phone=None)],
        )
        result = wasync_process("plan", root, env=clean_env(CREDENTIAL_ENV), setup=FAST_RETRIES)
    assert_clean_failure(result, f"cams {operation} failed: MalformedReply: ", expected)
    assert ("(RequestId " in result.stderr) is request_id, result


NX_CASES = [
    (b"<html>502</html>", 200, "not NXCloud's envelope"),
    (b'{"code": 0, "data": {"data": [{"name": "x"', 200, "not NXCloud's envelope"),
    (DEEP, 200, "not NXCloud's envelope"),
    (b'{"code": 0, "data": {"paging": {}}}', 200, "the page has no data list"),
    (b'{"code": 0, "data": {"data": [{"name": "no_id"}]}}', 200, "getTemplate failed"),
    (b'{"code": 0, "data": []}', 200, "data is list, not an object"),
    (b'{"code": "zero"}', 200, "not NXCloud's envelope"),
]


@pytest.mark.parametrize(("raw", "status", "expected"), NX_CASES, ids=[c[2] for c in NX_CASES])
def test_a_malformed_nxcloud_reply_is_a_clean_plan_error(
    tmp_path: Path, nx: Served, raw: bytes, status: int, expected: str
) -> None:
    root = Folder(tmp_path, [nx_account(nx.url)]).write(
        templates=[template_spec("live-nx", "note", "Order")]
    )
    nx.app.state.emulator.fail_next("getTemplate", raw=raw, http_status=status, times=50)
    result = wasync_process("plan", root, env=clean_env(CREDENTIAL_ENV), setup=FAST_RETRIES)
    assert_clean_failure(result, "nxcloud getTemplate failed: ", expected)


def test_an_apply_through_garbled_create_replies_makes_each_code_once(tmp_path: Path) -> None:
    """A create whose reply is unreadable may have happened: apply reads back, never
    creates again blindly, and the remote ends with each code exactly once."""
    with served(
        "cams",
        wrap=corrupting("CreatePhoneMessageQrdl", lambda b: b"{truncated"),
        access_key_id=CAMS_KEY_ID,
        access_key_secret=CAMS_SECRET,
        qps=0,
    ) as cams:
        qrs = [qr_spec("live-cams", f"p{i}", f"Hello {i}") for i in range(4)]
        root = Folder(tmp_path, [cams_account(cams.url)]).write(qr_codes=qrs)
        result = wasync_process(
            "apply", root, "--auto-approve", env=clean_env(CREDENTIAL_ENV), setup=FAST_RETRIES
        )
        held = cams.app.state.emulator.qr_codes(CAMS_PHONE)
    assert "Traceback" not in result.output, result
    assert result.exit_code == 0, result  # every create confirmed by reading back
    assert sorted(q["PrefilledMessage"] for q in held) == [f"Hello {i}" for i in range(4)]


def test_an_apply_through_garbled_nxcloud_replies_fails_cleanly(tmp_path: Path) -> None:
    """The create acts but its reply is garbage, and so is every listing after the first:
    apply cannot confirm, says so, and does not create a second template."""
    with served(
        "nxcloud",
        wrap=corrupting("getTemplate", lambda b: b"<html>", after=1),
        access_key_id=CREDENTIAL_ENV["NXCLOUD_ACCESS_KEY"],
        access_key_secret=CREDENTIAL_ENV["NXCLOUD_SECRET_KEY"],
        qps=0,
    ) as nx:
        root = Folder(tmp_path, [nx_account(nx.url)]).write(
            templates=[template_spec("live-nx", "note", "Order")]
        )
        nx.app.state.emulator.fail_next("createTemplate", raw=b"\xff\xfe", act=True)
        env = clean_env(CREDENTIAL_ENV)
        result = wasync_process("apply", root, "--auto-approve", env=env, setup=FAST_RETRIES)
        held = nx.app.state.emulator.templates(NX_PHONE)
    assert_clean_failure(result, "nxcloud getTemplate failed: MalformedReply")
    assert "template.live-nx.8618500009999.note.en_US: " in result.stdout, result  # reported
    assert len(held) == 1

"""An emulator of NXCloud's WhatsApp HTTP API (template management), for tests and the sandbox.

``POST /api/wa/<action>`` answers as NXCloud does (reference/nxcloud.md): the envelope
``{code, data, message}`` over HTTP 200, after checking the common headers in the documented
way, written here independently of the client:

- a missing header: 1001; a ``bizType`` other than 2, an ``action`` that does not match the
  path or an unknown ``algorithm``: 1002; a sign that is not the md5 / sha256 of the headers,
  the raw body bytes received and the secret (or a wrong Content-Type): 1003; ``ts`` more
  than 60 s from the emulator's clock: 1004; an unknown accessKey: 1005.

Choices where NXCloud documents nothing:

- Rate limiting (none documented): a token bucket per accessKey (``qps``); a refused request
  gets HTTP 429 with ``Retry-After`` and a ``-1`` envelope, without acting. The client treats
  HTTP 429 as THROTTLED; the business ``-1`` alone means "failed".
- Injected server errors get HTTP 500 with the ``-1`` envelope, without acting.

``POST /_sandbox/review`` is not part of NXCloud: an unsigned hook for people running
``wasync sandbox serve`` to approve or reject a template, with JSON
``{"phone", "name", "language", "status", "reason"}``. Tests reach the same through
``app.state.emulator`` (an ``NxcloudEmulator``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from wasync.sandbox import common
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Clock,
    Fault,
    FaultConfig,
    JsonReply,
    RateLimit,
    drop_connection,
)
from wasync.sandbox.nxcloud_state import (
    DAY,
    FAILURE_MESSAGE,
    MAX_PAGE_LIMIT,
    MESSAGES,
    BusinessError,
    NxcloudEmulator,
    ScriptedReply,
)

__all__ = ["MAX_PAGE_LIMIT", "NxcloudEmulator", "create_app"]

SKEW_MS = 60_000
SIGNED_HEADERS = ("accessKey", "action", "bizType", "ts")
AUTH_MESSAGES = {code: MESSAGES[code] for code in (1001, 1002, 1003, 1004, 1005)}
# path action -> the action header values accepted there (the async page shows createTemplate)
ACTIONS: dict[str, frozenset[str]] = {
    "createTemplate": frozenset({"createTemplate"}),
    "createTemplateAsync": frozenset({"createTemplateAsync", "createTemplate"}),
    "updateTemplate": frozenset({"updateTemplate"}),
    "getTemplate": frozenset({"getTemplate"}),
    "deleteTemplate": frozenset({"deleteTemplate"}),
    "uploadTemplateFile": frozenset({"uploadTemplateFile"}),
}
MULTIPART = frozenset({"uploadTemplateFile"})


def envelope(
    code: int, data: Any = None, message: str | None = None, status: int = 200
) -> Response:
    if message is None:
        message = MESSAGES.get(code, FAILURE_MESSAGE)
    return JsonReply({"code": code, "data": data, "message": message}, status_code=status)


class _Gateway:
    """The HTTP face: authentication, rate limit, faults, then the emulator."""

    def __init__(
        self,
        emulator: NxcloudEmulator,
        *,
        access_key_id: str,
        access_key_secret: str,
        rate: RateLimit,
        faults: FaultConfig,
        clock: Clock,
    ) -> None:
        self.emulator = emulator
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.rate = rate
        self.faults = faults
        self.clock = clock

    async def handle(self, request: Request) -> Response:
        action = request.path_params["action"]
        if action not in ACTIONS:
            return PlainTextResponse("Not Found", status_code=404)
        fault = self.faults.draw()
        if fault is Fault.DROP_BEFORE:
            await self.faults.delay(None)
            drop_connection(request.scope)
        if fault is Fault.THROTTLE:
            await self.faults.delay(None)
            return self._throttled()
        if fault is Fault.SERVER_ERROR:
            await self.faults.delay(None)
            return envelope(-1, status=500)
        raw = await request.body()
        reply = self._answer(request, action, raw)
        if fault is Fault.DROP_AFTER:
            drop_connection(request.scope)
        await self.faults.delay(fault)  # SLOW: acted, then answers late
        return reply

    def _answer(self, request: Request, action: str, raw: bytes) -> Response:
        try:
            access_key = self._authenticate(request, action, raw)
        except BusinessError as exc:
            return envelope(exc.code, exc.data, exc.message)
        if not self.rate.allow(access_key):
            return self._throttled()
        script = self.emulator.take_script(action)
        if script is not None and not script.act:
            return _scripted(script)
        try:
            data = self._operate(request, action, raw)
        except BusinessError as exc:
            return envelope(exc.code, exc.data, exc.message)
        if script is not None:
            return _scripted(script)
        return envelope(0, data)

    def _throttled(self) -> Response:
        qps = self.rate.qps or 1.0
        response = envelope(-1, message="Too many requests", status=429)
        response.headers["Retry-After"] = f"{max(1, round(1 / qps))}"
        return response

    def _authenticate(self, request: Request, action: str, raw: bytes) -> str:
        """Checks the common headers; returns the accessKey. Raises with the 100x code."""
        headers = request.headers
        values = {name: headers.get(name, "") for name in (*SIGNED_HEADERS, "sign")}
        if not all(values.values()):
            raise BusinessError(1001, AUTH_MESSAGES[1001])
        algorithm = headers.get("algorithm", "md5").lower()
        if (
            values["bizType"] != "2"
            or values["action"] not in ACTIONS[action]
            or algorithm not in {"md5", "sha256"}
        ):
            raise BusinessError(1002, AUTH_MESSAGES[1002])
        if values["accessKey"] != self.access_key_id:
            raise BusinessError(1005, AUTH_MESSAGES[1005])
        ts = values["ts"]
        if not ts.isdigit() or abs(self.clock() * 1000 - int(ts)) > SKEW_MS:
            raise BusinessError(1004, AUTH_MESSAGES[1004])
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = "multipart/form-data" if action in MULTIPART else "application/json"
        if media_type != wanted:
            raise BusinessError(1003, AUTH_MESSAGES[1003])
        pairs = sorted((name, values[name]) for name in SIGNED_HEADERS)
        text = "&".join("=".join(pair) for pair in pairs)
        if action not in MULTIPART and raw:
            try:
                text += "&body=" + raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BusinessError(1003, AUTH_MESSAGES[1003]) from None
        text += "&accessSecret=" + self.access_key_secret
        expected = hashlib.new(algorithm, text.encode("utf-8")).hexdigest()
        if not hmac.compare_digest(expected, values["sign"]):
            raise BusinessError(1003, AUTH_MESSAGES[1003])
        return values["accessKey"]

    def _operate(self, request: Request, action: str, raw: bytes) -> Any:
        if action in MULTIPART:
            fields, content = _form(request.headers.get("content-type", ""), raw)
            return self.emulator.upload_template_file(fields, content)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BusinessError(9000, "Parameter exception: the body is not JSON") from None
        if not isinstance(body, dict):
            raise BusinessError(9000, "Parameter exception: the body is not a JSON object")
        operations = {
            "createTemplate": self.emulator.create_template,
            "createTemplateAsync": self.emulator.create_template,
            "updateTemplate": self.emulator.update_template,
            "getTemplate": self.emulator.get_template,
            "deleteTemplate": self.emulator.delete_template,
        }
        return operations[action](body)

    async def review(self, request: Request) -> Response:
        """Not NXCloud: set a template's review status (unsigned, for the sandbox)."""
        try:
            body = await request.json()
            phone, name, language, status = (
                str(body[k]) for k in ("phone", "name", "language", "status")
            )
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"error": "send JSON {phone, name, language, status[, reason]}"}, status_code=400
            )
        reason = body.get("reason")
        try:
            template = self.emulator.review(
                phone, name, language, status, str(reason) if reason else None
            )
        except KeyError as exc:
            return JSONResponse({"error": str(exc.args[0])}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "template": template})


def _scripted(script: ScriptedReply) -> Response:
    if script.raw is not None:
        return Response(script.raw, status_code=script.http_status, media_type="application/json")
    return envelope(script.code, script.data, script.message, status=script.http_status)


def _form(content_type: str, raw: bytes) -> tuple[dict[str, str], bytes]:
    """The text fields and the ``file`` part of a multipart/form-data body."""
    from email.parser import BytesParser  # only media uploads need it: the sandbox starts quicker
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: dict[str, str] = {}
    content = b""
    if not message.is_multipart():
        raise BusinessError(9000, "Parameter exception: the body is not multipart/form-data")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "file":
            content = data
        elif isinstance(name, str):
            fields[name] = data.decode("utf-8", "replace")
    return fields, content


def create_app(
    *,
    access_key_id: str = DEFAULT_ACCESS_KEY_ID,
    access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
    state_dir: Path | None = None,
    qps: float = 5.0,
    faults: FaultConfig | None = None,
    clock: Clock = time.time,
    approve_after: float | None = None,
    apps: Mapping[str, Collection[str]] | None = None,
    name_reuse_lock: float = 30 * DAY,
    page_cap: int | None = None,
) -> Starlette:
    """The emulator as an ASGI app; ``app.state.emulator`` is its ``NxcloudEmulator``.

    ``apps`` maps appkeys to their bound business numbers; None accepts any appkey and any
    number of digits. With it, a number no app holds gets 9002 and a number of another app
    9006. ``qps`` limits requests per accessKey (0 turns the limit off). ``approve_after``
    approves PENDING templates that many seconds after create or update; None keeps them
    pending until reviewed. ``name_reuse_lock`` is Meta's lock on the name of a deleted
    approved template. ``page_cap``: getTemplate returns at most that many templates a
    page, whatever ``limit`` asks; None: ``common.page_cap_default``; 0: no cap.
    """
    emulator = NxcloudEmulator(
        state_dir=state_dir,
        clock=clock,
        approve_after=approve_after,
        apps=apps,
        name_reuse_lock=name_reuse_lock,
        page_cap=common.page_cap(page_cap),
    )
    gateway = _Gateway(
        emulator,
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        rate=RateLimit(qps or None, clock=clock),
        faults=faults or FaultConfig(),
        clock=clock,
    )
    app = Starlette(
        lifespan=common.write_state_at_shutdown,
        routes=[
            Route("/api/wa/{action}", gateway.handle, methods=["POST"]),
            Route("/_sandbox/review", gateway.review, methods=["POST"]),
        ],
    )
    app.state.emulator = emulator
    app.state.flush_state = emulator.flush
    app.state.release_state = emulator.release
    app.state.state_file = emulator.state_file
    return app

"""Emulator of the Alibaba Cloud CAMS API (RPC style, version 2020-06-06) for the sandbox.

The HTTP side of the gateway lives here: one route, ``/`` over GET and POST; the action from
``x-acs-action`` (V3) or ``Action`` (V1); parameters merged from the query and a form body;
signature, clock and nonce checks (``cams_auth``); flow control per AccessKeyId; injected
faults. The service behind it is ``cams_service.CamsEmulator``, exposed as
``app.state.emulator`` so tests can inspect it and decide template reviews.

Flow control is counted as CAMS documents it: per AccessKeyId and per API, at each API's
documented rate (``DOCUMENTED_QPS``: 5/s for each QR code API, 50/s to create or modify a
template, 5/s to list, read or delete one), in token buckets that hold one second of
requests. It answers the gateway's ``Throttling.User`` (HTTP 400, "Request was denied due
to user flow control.") by default: the limit emulated is the per-user QPS that the gateway
enforces before CAMS sees the request, which is what that code reports. CAMS's own
``System.LimitControl`` (the code the API pages list) can be chosen with ``throttle_code``.
Both carry ``x-acs-retry-after`` in milliseconds.

Every documented error code (``DOCUMENTED_ERRORS``) can be answered on demand:
``app.state.emulator.fail_next(code, action=...)`` answers the next matching request, after
its signature is checked, with that code, its documented HTTP status and message, without
acting.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wasync.sandbox import common
from wasync.sandbox.cams_auth import GatewayError, Verifier
from wasync.sandbox.cams_service import VERSION, CamsEmulator
from wasync.sandbox.cams_wire import ApiError
from wasync.sandbox.common import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Clock,
    Fault,
    FaultConfig,
    JsonState,
    RateLimit,
    drop_connection,
)

__all__ = ["CamsEmulator", "create_app"]

THROTTLE_MESSAGES = {
    "Throttling.User": "Request was denied due to user flow control.",
    "System.LimitControl": "The system is under flow control.",
}
THROTTLE_CODES = frozenset(
    {"Throttling.User", "Throttling.Api", "Throttling", "System.LimitControl"}
)
# Requests per second per AccessKeyId owner and API (reference: cams.md §2, §3.4).
DOCUMENTED_QPS: dict[str, float] = {
    "CreatePhoneMessageQrdl": 5.0,
    "UpdatePhoneMessageQrdl": 5.0,
    "ListPhoneMessageQrdl": 5.0,
    "DeletePhoneMessageQrdl": 5.0,
    "CreateChatappTemplate": 50.0,
    "ModifyChatappTemplate": 50.0,
    "ListChatappTemplate": 5.0,
    "GetChatappTemplateDetail": 5.0,
    "DeleteChatappTemplate": 5.0,
}
# Parameters of the V1 envelope, not of the operation.
_V1_COMMON = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Signature",
        "Timestamp",
        "SecurityToken",
        "RegionId",
    }
)
_JSON_PARAMS = frozenset({"Components", "Example", "Page", "TemplateList"})


def create_app(
    *,
    access_key_id: str = DEFAULT_ACCESS_KEY_ID,
    access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
    state_dir: Path | None = None,
    qps: float | Mapping[str, float] | None = None,
    faults: FaultConfig | None = None,
    clock: Clock = time.time,
    approve_after: float | None = None,
    throttle_code: str = "Throttling.User",
    page_cap: int | None = None,
) -> Starlette:
    """The CAMS emulator as an ASGI app.

    ``qps``: requests per second per AccessKeyId and API. None: the documented rates
    (``DOCUMENTED_QPS``); a number: that rate for every API (0: no limit); a map: those
    APIs' rates, the documented ones for the others. ``approve_after`` seconds after a
    create or modify a template under review passes (None: it waits for
    ``app.state.emulator.set_template_status``). ``page_cap``: ListChatappTemplate returns
    at most that many templates a page, whatever ``Page.Size`` asks (as a server that caps
    pages below the client's size does); None: ``common.page_cap_default``; 0: no cap."""
    if throttle_code not in THROTTLE_MESSAGES:
        raise ValueError(f"throttle_code must be one of {', '.join(THROTTLE_MESSAGES)}")
    emulator = CamsEmulator(
        clock=clock,
        approve_after=approve_after,
        state=JsonState(state_dir, "cams"),
        page_cap=common.page_cap(page_cap),
    )
    verifier = Verifier({access_key_id: access_key_secret}, clock)
    if qps is None or isinstance(qps, Mapping):
        limiter = RateLimit(None, clock=clock, per_scope={**DOCUMENTED_QPS, **(qps or {})})
    else:
        limiter = RateLimit(qps or None, clock=clock)
    fault_config = faults or FaultConfig()

    def throttled(action: str, code: str = throttle_code, message: str = "") -> GatewayError:
        rate = limiter.rate(action)
        wait_ms = math.ceil(1000 / rate) if rate else 1000
        return GatewayError(
            400,
            code,
            message or THROTTLE_MESSAGES[code],
            headers={"x-acs-retry-after": str(wait_ms)},
        )

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4()).upper()
        host = request.headers.get("host", "cams.sandbox")
        fault = fault_config.draw()
        action = ""
        try:
            if fault is Fault.DROP_BEFORE:
                await fault_config.delay(None)
                drop_connection(request.scope)
            if fault is Fault.SERVER_ERROR:
                raise GatewayError(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                )
            if fault is Fault.THROTTLE:
                raise throttled(request.headers.get("x-acs-action", ""))
            if request.method not in ("GET", "POST"):
                raise GatewayError(
                    400, "UnsupportedHTTPMethod", f"{request.method} is not supported; use POST."
                )
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            query = parse_qsl(request.url.query, keep_blank_values=True)
            form: list[tuple[str, str]] = []
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            merged = dict([*query, *form])
            action = headers.get("x-acs-action") or merged.get("Action", "")
            version = headers.get("x-acs-version") or merged.get("Version", "")
            if not action:
                raise GatewayError(400, "MissingAction", "Action is mandatory for this request.")
            if version != VERSION:
                raise GatewayError(
                    400, "InvalidVersion", f"Specified parameter Version is not valid: {version!r}."
                )
            if action not in emulator.operations:
                raise GatewayError(
                    404,
                    "InvalidApi.NotFound",
                    f"Specified api {action} is not found, please check your url and method.",
                )
            signed = verifier.verify(
                method=request.method, headers=headers, query=query, form=form, body=body
            )
            scripted = emulator.take_failure(action)
            if scripted is not None and scripted.code in THROTTLE_CODES:
                raise throttled(action, scripted.code, scripted.message)
            if scripted is not None:
                raise scripted
            if not limiter.allow(signed.access_key_id, action):
                raise throttled(action)
            params = _business_params(merged)
            reply = emulator.call(action, params)
            status = 200
            payload: dict[str, Any] = {"RequestId": request_id, "Code": "OK", "Message": "OK"}
            if action in emulator.with_success:
                payload["Success"] = True
            payload.update(reply)
            extra_headers: dict[str, str] = {}
        except GatewayError as exc:
            status, extra_headers = exc.status, exc.headers
            payload = _gateway_error(request_id, host, exc.code, exc.message)
        except ApiError as exc:
            status, extra_headers = exc.status, {}
            if exc.status == 200:
                payload = {"RequestId": request_id, "Code": exc.code, "Message": exc.message}
                if action in emulator.with_success:
                    payload["Success"] = False
            else:
                payload = _gateway_error(request_id, host, exc.code, exc.message)
        await fault_config.delay(fault)
        if fault is Fault.DROP_AFTER:
            drop_connection(request.scope)
        return Response(
            common.encode_reply(payload, allow_nan=True),
            status_code=status,
            headers=extra_headers,
            media_type="application/json;charset=utf-8",
        )

    app = Starlette(
        routes=[Route("/", endpoint, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])],
        lifespan=common.write_state_at_shutdown,
    )
    app.state.emulator = emulator
    app.state.flush_state = emulator.flush
    app.state.release_state = emulator.release
    app.state.state_file = emulator.state_file
    app.state.verifier = verifier
    app.state.rate_limit = limiter
    return app


def _gateway_error(request_id: str, host: str, code: str, message: str) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": "https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US"
        f"&q={code}&product=cams&requestId={request_id}",
    }


def _business_params(merged: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in merged.items():
        if name in _V1_COMMON:
            continue
        if name in _JSON_PARAMS and value != "":
            try:
                params[name] = json.loads(value)
            except json.JSONDecodeError:
                raise ApiError(
                    400, "InvalidParameter", f"{name} is not valid JSON: {value[:80]!r}"
                ) from None
        else:
            params[name] = value
    return params

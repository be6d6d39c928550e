"""An emulator of Meta's Graph API for WhatsApp template and QR code management, for tests
and the sandbox.

``/{version}/...`` answers as Graph does (reference/meta-whatsapp.md), written here
independently of the client:

- the token: ``Authorization: Bearer <token>`` (``OAuth <token>`` too, as an upload
  session asks), or ``access_token`` in the query; none is Graph's code 104, a wrong one
  code 190 ("Invalid OAuth access token - Cannot parse access token"), both HTTP 400 with
  ``WWW-Authenticate``;
- ``GET /{WABA_ID}/phone_numbers``, ``GET|POST|DELETE /{WABA_ID}/message_templates``,
  ``GET|POST /{TEMPLATE_ID}``, ``GET|POST /{PHONE_NUMBER_ID}/message_qrdls``,
  ``GET|DELETE /{PHONE_NUMBER_ID}/message_qrdls/{CODE}``, and the Resumable Upload API:
  ``POST /{APP_ID}/uploads``, ``POST|GET /upload:{SESSION}`` (the rules: ``meta_state``);
- Meta's budgets per WABA per rolling hour: ``hourly_requests`` (the WABA edges and
  template edits; default 5,000, an active WABA's) and ``hourly_creations`` (100 template
  creations). A call over one is refused with code 80008 (HTTP 400) without acting;
- ``X-Business-Use-Case-Usage`` on every reply that concerns a WABA: the share of its
  hourly requests used (``call_count``, %), and ``estimated_time_to_regain_access``
  (minutes) while it is spent;
- ``qps``: a token bucket per token (off by default: Meta documents no per-second limit
  for these APIs); a refusal is code 4, "Application request limit reached";
- faults (``FaultConfig``): throttled (code 4), HTTP 500 with Graph's code 2
  (``is_transient``), a dropped connection before or after acting, a late answer.

Choices where Meta is silent: refused calls do not count in a budget; the usage header's
``total_cputime`` and ``total_time`` are half its ``call_count``; its ``type`` is
``whatsapp_business_management``.

``POST /_sandbox/review`` is not Graph's: an unsigned hook for people running
``wasync sandbox serve`` to approve or reject a template, with JSON
``{"waba", "name", "language", "status", "reason"}``. Tests reach the same through
``app.state.world`` (a ``MetaWorld``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wasync.sandbox import common
from wasync.sandbox.common import Clock, Fault, FaultConfig, RateLimit, drop_connection
from wasync.sandbox.meta_state import NAME_LOCK, GraphError, MetaWorld, no_object

__all__ = ["DEFAULT_ACCESS_TOKEN", "GraphError", "MetaWorld", "create_app"]

DEFAULT_ACCESS_TOKEN = "sandbox-access-token"  # noqa: S105 - a published fake
HOUR = 3600.0
VERSION = re.compile(r"v[0-9]{1,3}\.[0-9]{1,2}")
USAGE_HEADER = "X-Business-Use-Case-Usage"
USAGE_TYPE = "whatsapp_business_management"
# The operations each budget counts (the Graph rate limit page's WABA edges; the edit of a
# template by id is counted too).
WABA_OPERATIONS = frozenset(
    {
        "phone_numbers",
        "message_templates.list",
        "message_templates.create",
        "message_templates.delete",
        "template.edit",
    }
)
CREATIONS = frozenset({"message_templates.create"})


class Budget:
    """Calls per WABA per rolling hour, as Meta counts them."""

    def __init__(self, limit: int, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def _window(self, key: str) -> deque[float]:
        calls = self._calls.setdefault(key, deque())
        now = self._clock()
        while calls and calls[0] <= now - HOUR:
            calls.popleft()
        return calls

    def take(self, key: str) -> bool:
        """Count a call of ``key``; False (not counted) when the hour's budget is spent."""
        with self._lock:
            calls = self._window(key)
            if len(calls) >= self.limit:
                self.refused += 1
                return False
            calls.append(self._clock())
            return True

    def share(self, key: str) -> int:
        """The share of ``key``'s budget used in the last hour, in whole percent."""
        with self._lock:
            return min(100, round(100 * len(self._window(key)) / self.limit))

    def regain(self, key: str) -> int:
        """Minutes until ``key`` may call again (0 while it may)."""
        with self._lock:
            calls = self._window(key)
            if len(calls) < self.limit:
                return 0
            return max(1, math.ceil((calls[0] + HOUR - self._clock()) / 60))


class _Graph:
    """The HTTP face: version, token, routing, budgets, faults, then the world."""

    def __init__(
        self,
        world: MetaWorld,
        *,
        access_token: str,
        rate: RateLimit,
        requests: Budget,
        creations: Budget,
        faults: FaultConfig,
    ) -> None:
        self.world = world
        self.access_token = access_token
        self.rate = rate
        self.requests = requests
        self.creations = creations
        self.faults = faults
        self._traces = 0

    async def handle(self, request: Request) -> Response:
        version = request.path_params["version"]
        rest = request.path_params["rest"]
        fault = self.faults.draw()
        if fault is Fault.DROP_BEFORE:
            await self.faults.delay(None)
            drop_connection(request.scope)
        if fault is Fault.THROTTLE:
            await self.faults.delay(None)
            return self._refusal(_app_limit(), None)
        if fault is Fault.SERVER_ERROR:
            await self.faults.delay(None)
            return self._refusal(_unexpected(), None)
        raw = await request.body()
        reply = self._answer(request, version, rest, raw)
        if fault is Fault.DROP_AFTER:
            drop_connection(request.scope)
        await self.faults.delay(fault)  # SLOW: acted, then answers late
        return reply

    # --- one request ---------------------------------------------------------------------------

    def _answer(self, request: Request, version: str, rest: str, raw: bytes) -> Response:
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        waba: str | None = None
        try:
            if not VERSION.fullmatch(version):
                raise GraphError(2500, f"Unknown path components: /{version}/{rest}")
            token = self._token(request, query)
            operation, node, waba = self._route(request.method, rest, query)
            if not self.rate.allow(token):
                raise _app_limit()
            self._spend(operation, waba)
            script = self.world.take_script(operation)
            if script is not None and not script.act:
                raise script.error
            data = self._operate(operation, node, request, query, raw)
            if script is not None:
                raise script.error
        except GraphError as exc:
            return self._refusal(exc, waba)
        return self._json(data, 200, waba)

    def _token(self, request: Request, query: Mapping[str, str]) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() in {"bearer", "oauth"} else ""
        token = token or query.get("access_token", "")
        if not token:
            raise GraphError(104, "An access token is required to request this resource.")
        if token != self.access_token:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        return token

    def _route(
        self, method: str, rest: str, query: Mapping[str, str]
    ) -> tuple[str, str, str | None]:
        """The operation, its node, and the WABA it concerns (for budgets and the header)."""
        parts = rest.split("/")
        node = parts[0]
        if node.startswith("upload:"):
            if len(parts) == 1 and method in {"GET", "POST"}:
                return ("uploads.status" if method == "GET" else "uploads.send"), node, None
            raise no_object(node, method.lower())
        if len(parts) == 1:
            waba = self.world.waba_of_template(node)
            if waba is None:
                raise no_object(node, method.lower())
            if method == "POST":
                return "template.edit", node, waba
            if method == "GET":
                return "template.get", node, waba
            raise no_object(node, method.lower())
        edge = parts[1]
        if edge in {"phone_numbers", "message_templates"}:
            waba = self.world.waba_of(node)
            if waba is None or len(parts) != 2:
                raise no_object(node, method.lower())
            if edge == "phone_numbers" and method == "GET":
                return "phone_numbers", node, waba
            operations = {"GET": "list", "POST": "create", "DELETE": "delete"}
            if edge == "message_templates" and method in operations:
                return f"message_templates.{operations[method]}", node, waba
        elif edge == "message_qrdls":
            waba = self.world.waba_of_phone(node)
            if waba is None:
                raise no_object(node, method.lower())
            if len(parts) == 2 and method in {"GET", "POST"}:
                return (
                    ("message_qrdls.list" if method == "GET" else "message_qrdls.save"),
                    rest,
                    waba,
                )
            if len(parts) == 3 and method in {"GET", "DELETE"}:
                verb = "get" if method == "GET" else "delete"
                return f"message_qrdls.{verb}", rest, waba
        elif edge == "uploads" and len(parts) == 2 and method == "POST" and node.isdigit():
            return "uploads.start", node, None
        raise GraphError(2500, f"Unknown path components: /{rest}")

    def _spend(self, operation: str, waba: str | None) -> None:
        """Count the call in the WABA's budgets; refuse it (uncounted) when one is spent."""
        if waba is None:
            return
        if operation in CREATIONS and not self.creations.take(waba):
            raise GraphError(
                80008,
                "(#80008) There have been too many calls to this WhatsApp Business account. "
                "Wait a bit and try again. For more info, please refer to "
                "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                title="Template creation limit reached",
                user_message=f"A WhatsApp Business account can create "
                f"{self.creations.limit} message templates an hour. Try again later.",
                transient=True,
            )
        if operation in WABA_OPERATIONS and not self.requests.take(waba):
            raise GraphError(
                80008,
                "(#80008) There have been too many calls to this WhatsApp Business account. "
                "Wait a bit and try again. For more info, please refer to "
                "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                transient=True,
            )

    def _operate(
        self, operation: str, node: str, request: Request, query: Mapping[str, str], raw: bytes
    ) -> Any:
        world = self.world
        if operation == "phone_numbers":
            return world.phone_numbers(node, query)
        if operation == "message_templates.list":
            return world.list_templates(node, query)
        if operation == "message_templates.create":
            return world.create_template(node, _body(request, query, raw))
        if operation == "message_templates.delete":
            return world.delete_templates(node, query)
        if operation == "template.edit":
            return world.edit_template(node, _body(request, query, raw))
        if operation == "template.get":
            return world.get_template(node, query)
        phone, _, code = node.partition("/message_qrdls")
        if operation == "message_qrdls.list":
            return world.list_qr(phone, query)
        if operation == "message_qrdls.get":
            return world.list_qr(phone, query, code=code.strip("/"))
        if operation == "message_qrdls.save":
            return world.save_qr(phone, _body(request, query, raw))
        if operation == "message_qrdls.delete":
            return world.delete_qr(phone, code.strip("/"))
        if operation == "uploads.start":
            return world.start_upload(node, query)
        session = node.removeprefix("upload:")
        sig = query.get("sig", "")
        if operation == "uploads.status":
            return world.upload_status(session, sig)
        if not request.headers.get("authorization"):
            raise GraphError(104, "An access token is required to request this resource.")
        return world.send_upload(session, sig, request.headers.get("file_offset", ""), raw)

    # --- replies -------------------------------------------------------------------------------

    def _json(self, data: Any, status: int, waba: str | None) -> Response:
        response = JSONResponse(data, status_code=status)
        if waba is not None:
            share = self.requests.share(waba)
            usage = {
                waba: [
                    {
                        "type": USAGE_TYPE,
                        "call_count": share,
                        "total_cputime": share // 2,
                        "total_time": share // 2,
                        "estimated_time_to_regain_access": self.requests.regain(waba),
                    }
                ]
            }
            response.headers[USAGE_HEADER] = json.dumps(usage, separators=(",", ":"))
        return response

    def _refusal(self, error: GraphError, waba: str | None) -> Response:
        self._traces += 1
        trace = "A" + hashlib.sha1(f"{self._traces}".encode()).hexdigest()[:20]  # noqa: S324
        response = self._json({"error": {**error.error, "fbtrace_id": trace}}, error.status, waba)
        if error.error.get("code") in {104, 190}:
            response.headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{error.error["message"]}"'
            )
        return response

    async def review(self, request: Request) -> Response:
        """Not Graph's: set a template's review status (unsigned, for the sandbox)."""
        try:
            body = await request.json()
            waba, name, language, status = (
                str(body[k]) for k in ("waba", "name", "language", "status")
            )
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"error": "send JSON {waba, name, language, status[, reason]}"}, status_code=400
            )
        reason = body.get("reason")
        try:
            template = self.world.review(
                waba, name, language, status, str(reason) if reason else None
            )
        except KeyError as exc:
            return JSONResponse({"error": str(exc.args[0])}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "template": template})


def _body(request: Request, query: Mapping[str, str], raw: bytes) -> dict[str, Any]:
    """A POST's parameters: a JSON object, or form fields, over the query's."""
    params: dict[str, Any] = {k: v for k, v in query.items() if k != "access_token"}
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw:
        return params
    if media == "application/json":
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise GraphError(100, "(#100) The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise GraphError(100, "(#100) The request body is not a JSON object")
        return {**params, **body}
    if media == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        decoded: dict[str, Any] = {}
        for key, value in form.items():
            try:
                decoded[key] = json.loads(value) if value[:1] in "[{" else value
            except ValueError:
                decoded[key] = value
        return {**params, **decoded}
    raise GraphError(100, f"(#100) Unsupported content type {media or '(none)'}")


def _app_limit() -> GraphError:
    return GraphError(4, "(#4) Application request limit reached", transient=True)


def _unexpected() -> GraphError:
    return GraphError(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        transient=True,
        status=500,
    )


def create_app(
    *,
    access_token: str = DEFAULT_ACCESS_TOKEN,
    state_dir: Path | None = None,
    qps: float | None = None,
    faults: FaultConfig | None = None,
    clock: Clock = time.time,
    approve_after: float | None = None,
    page_cap: int | None = None,
    wabas: Mapping[str, Collection[str]] | None = None,
    hourly_requests: int = 5000,
    hourly_creations: int = 100,
    name_lock: float = NAME_LOCK,
) -> Starlette:
    """The emulator as an ASGI app; ``app.state.world`` is its ``MetaWorld`` and
    ``app.state.budgets`` its (requests, creations) ``Budget``s.

    ``wabas`` maps WABA ids to the display numbers they hold; None makes a WABA, with the
    sandbox numbers, for any id a call names. ``qps`` limits requests per token (None or 0:
    no limit). ``approve_after``: seconds until a template under review is decided (None:
    it stays PENDING until reviewed). ``page_cap``: at most that many items a page (None:
    ``common.page_cap_default``; 0: no cap). ``hourly_requests`` and ``hourly_creations``
    are the budgets per WABA per rolling hour; ``name_lock`` the seconds a deleted approved
    name stays locked.
    """
    world = MetaWorld(
        state_dir=state_dir,
        clock=clock,
        approve_after=approve_after,
        wabas=wabas,
        page_cap=common.page_cap(page_cap),
        name_lock=name_lock,
    )
    requests, creations = Budget(hourly_requests, clock), Budget(hourly_creations, clock)
    graph = _Graph(
        world,
        access_token=access_token,
        rate=RateLimit(qps or None, clock=clock),
        requests=requests,
        creations=creations,
        faults=faults or FaultConfig(),
    )
    app = Starlette(
        lifespan=common.write_state_at_shutdown,
        routes=[
            Route("/_sandbox/review", graph.review, methods=["POST"]),
            Route("/{version}/{rest:path}", graph.handle, methods=["GET", "POST", "DELETE"]),
        ],
    )
    app.state.world = world
    app.state.flush_state = world.flush
    app.state.release_state = world.release
    app.state.state_file = world.state_file
    app.state.budgets = (requests, creations)
    return app

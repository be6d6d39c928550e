"""Meta's WhatsApp Cloud API client: one WhatsApp Business Account (WABA), its message
templates and the message QR codes of its numbers, over the Graph API.

Every call is ``/{graph_version}/{node or edge}`` with the account's system user token in
an ``Authorization: Bearer`` header (``OAuth`` for an upload session, as the Resumable
Upload API asks), JSON in and out. A refusal is Graph's ``error`` object, classified by
``codes.py``; throttling answers carry Meta's ``X-Business-Use-Case-Usage`` header, read
on every reply (``_reply_usage``): the share of the WABA's hourly budget used goes to the
gate's window, and ``estimated_time_to_regain_access`` (minutes) is the wait of a refusal.

- Numbers: specs name a business number by its digits; Graph calls a number by its
  phone-number id. ``GET /{WABA_ID}/phone_numbers`` maps one to the other, once per run
  (one client per session). A number the WABA does not hold is a FATAL error whose subject
  is the QR codes of that number, so the command names the spec file and line.
- Templates: listed with cursor paging (only a missing ``paging.next`` ends a listing);
  created with ``POST /{WABA_ID}/message_templates``; edited with ``POST /{TEMPLATE_ID}``;
  one language deleted with ``hsm_id`` and ``name``.
- Media samples: each file named by ``header_file`` is uploaded once per run with the
  Resumable Upload API (``POST /{APP_ID}/uploads``, then the session; an answer lost on the
  way is resumed from the ``file_offset`` Meta has), and its handle sent as the example.
- QR codes: ``/{PHONE_NUMBER_ID}/message_qrdls``: listed, created with the image format,
  updated in place (the code and its short link stay), deleted.

Sending, timeouts, Retry-After and the debug line are the HTTP base's
(``wasync.providers.http``); wire <-> canonical is ``mapping.py``'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Unpack

import httpx
from pydantic import SecretStr

from wasync import __version__
from wasync.errors import ConfigError, ErrorClass, ProviderError, WasyncError
from wasync.log import register_secret
from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.http import Call, HttpOptions, HttpProvider, Reply
from wasync.providers.meta import mapping
from wasync.providers.meta.account import MetaAccount
from wasync.providers.meta.codes import GraphRefusal, classify, hint
from wasync.providers.meta.traits import (
    CREATE_QR,
    CREATE_TEMPLATE,
    DELETE_QR,
    DELETE_TEMPLATE,
    EDIT_TEMPLATE,
    LIST_QR,
    LIST_TEMPLATES,
    META_TRAITS,
    PHONE_NUMBERS,
    START_UPLOAD,
    UPDATE_QR,
    UPLOAD,
    UPLOAD_STATUS,
)
from wasync.providers.whatsapp import MalformedError
from wasync.providers.whatsapp.graph import cursor_listing

PAGE_LIMIT = "100"  # items asked for per page (a server may return fewer: not the end)
TEMPLATE_FIELDS = ",".join(
    (
        "id",
        "name",
        "language",
        "category",
        "status",
        "parameter_format",
        "components",
        "rejected_reason",
        "quality_score",
        "message_send_ttl_seconds",
    )
)
QR_FIELDS = "code,prefilled_message,deep_link_url"
PHONE_FIELDS = "id,display_phone_number,verified_name"
USAGE_HEADER = "x-business-use-case-usage"
UPLOAD_ROUNDS = 3  # an upload whose answer is lost is resumed this many times


@dataclass(frozen=True)
class GraphRequest:
    """One Graph call: method, path under the version, query, and a JSON or binary body."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    json: JsonDict | None = None
    content: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    oauth: bool = False  # "Authorization: OAuth <token>" (an upload session) for Bearer
    subject: str | None = None  # the address (or its start) an error is about


class MetaProvider(HttpProvider[GraphRequest, dict[str, Any]]):
    """One WABA. Takes ownership of ``http``: ``aclose()`` closes it."""

    traits = META_TRAITS
    api_name = "Meta's Graph API"

    def __init__(self, account: MetaAccount, **options: Unpack[HttpOptions]) -> None:
        token = account.access_token
        if token is None or not token.get_secret_value():
            raise ConfigError(
                f"account {account.name}: access_token is missing; set it in wasync.yaml "
                "from the environment, e.g. access_token: ${META_ACCESS_TOKEN} (a system "
                "user token with whatsapp_business_management)"
            )
        super().__init__(account, **options)
        self._token: SecretStr = token
        register_secret(token.get_secret_value())
        self._waba = account.waba_id
        self._version = account.graph_version
        self._app_id = account.app_id
        self._phones: dict[str, str] | None = None  # digits -> phone-number id, once a run
        self._phones_lock = asyncio.Lock()
        self._files: Path | None = None
        self._handles: dict[str, str] = {}  # sha256 of a sample -> its upload handle
        self._uploading: dict[str, asyncio.Lock] = {}

    def read_files_from(self, folder: Path) -> None:
        """Where the sample files the specs name are (the spec folder)."""
        self._files = folder

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the HTTP base's hooks ---------------------------------------------------------------

    def _build_request(self, call: Call[GraphRequest]) -> httpx.Request:
        sent = call.params
        scheme = "OAuth" if sent.oauth else "Bearer"
        headers = {
            "Authorization": f"{scheme} {self._token.get_secret_value()}",
            "Accept": "application/json",
            "User-Agent": f"wasync/{__version__}",
            **dict(sent.headers),
        }
        content: bytes | None = sent.content
        if sent.json is not None:
            content = json.dumps(sent.json, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif content is not None:
            headers["Content-Type"] = "application/octet-stream"
        return self._http.build_request(
            sent.method,
            f"/{self._version}/{sent.path}",
            params=list(sent.query) or None,
            headers=headers,
            content=content,
        )

    def _reply_error(self, call: Call[GraphRequest], reply: Reply) -> ProviderError | None:
        body = reply.body
        refusal = GraphRefusal.read(body.get("error")) if isinstance(body, dict) else None
        if refusal is None:
            return None  # not Graph's error object: judged by the HTTP status
        return self._error(
            call.operation,
            refusal.code_path,
            refusal.shown(),
            classify(refusal, read=call.read),
            hint=hint(
                refusal,
                account=self.account,
                waba=self._waba,
                qr=call.operation.startswith("message_qrdls"),
            ),
            request_id=refusal.trace_id,
            http_status=reply.status,
        )

    def _reply_result(self, call: Call[GraphRequest], reply: Reply) -> dict[str, Any]:
        body = reply.body
        if not isinstance(body, dict):
            raise self._malformed(
                call.operation, f"the reply is not a JSON object: {reply.excerpt(120)}"
            )
        return body

    def _describe_reply(self, reply: Reply) -> str:
        body = reply.body
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return f"code={error.get('code')} fbtrace_id={error.get('fbtrace_id')}"
        return f"{len(reply.content)} bytes"

    def _provider_retry_after(self, headers: httpx.Headers) -> float | None:
        usage = self._usage(headers)
        return usage[1] if usage is not None and usage[1] else None

    def _reply_usage(self, reply: Reply) -> tuple[float, float | None] | None:
        return self._usage(reply.headers)

    def _usage(self, headers: httpx.Headers) -> tuple[float, float | None] | None:
        """``X-Business-Use-Case-Usage``: ``{business id: [{type, call_count,
        total_cputime, total_time, estimated_time_to_regain_access}]}``, percentages and
        minutes. The WABA's entries (any, when none is the WABA's): the highest share used,
        and the wait Meta asks for in seconds (None when it asks for none)."""
        raw = headers.get(USAGE_HEADER)
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        entries = data.get(self._waba)
        if not isinstance(entries, list):
            entries = [e for value in data.values() if isinstance(value, list) for e in value]
        share, regain = 0.0, 0.0
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                value = entry.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    share = max(share, float(value) / 100)
            wait = entry.get("estimated_time_to_regain_access")
            if isinstance(wait, int | float) and not isinstance(wait, bool):
                regain = max(regain, float(wait) * 60)
        return share, (regain or None)

    # --- business numbers ---------------------------------------------------------------------

    async def _phone_id(self, phone: str) -> str:
        """The phone-number id of ``phone`` (digits), from the WABA's numbers (read once)."""
        async with self._phones_lock:
            if self._phones is None:
                self._phones = await self._list_phones()
        found = self._phones.get(phone)
        if found is not None:
            return found
        held = ", ".join(sorted(self._phones)) or "none"
        raise self._error(
            PHONE_NUMBERS,
            "UnknownPhoneNumber",
            f"WABA {self._waba} holds no number {phone} (it holds: {held})",
            ErrorClass.FATAL,
            hint=(
                "use a number of this WABA in the spec (country code then number, digits "
                f"only), or check waba_id of account {self.account}"
            ),
            subject=f"qr.{self.account}.{phone}",  # the spec entries of that number
        )

    async def _list_phones(self) -> dict[str, str]:
        async def page(after: str | None) -> Mapping[str, Any]:
            query = [("fields", PHONE_FIELDS), ("limit", PAGE_LIMIT)]
            if after is not None:
                query.append(("after", after))
            path = f"{self._waba}/phone_numbers"
            return await self._read(PHONE_NUMBERS, GraphRequest("GET", path, tuple(query)))

        try:
            return mapping.phone_ids(await cursor_listing(page))
        except MalformedError as exc:
            raise self._malformed(PHONE_NUMBERS, str(exc)) from None

    # --- QR codes -----------------------------------------------------------------------------

    async def list_qr_codes(self, phone: str) -> list[RemoteQrCode]:
        phone_id = await self._phone_id(phone)

        async def page(after: str | None) -> Mapping[str, Any]:
            query = [("fields", QR_FIELDS), ("limit", PAGE_LIMIT)]
            if after is not None:
                query.append(("after", after))
            request = GraphRequest("GET", f"{phone_id}/message_qrdls", tuple(query))
            return await self._read(LIST_QR, request)

        try:
            return [
                mapping.qr_from_wire(self.account, phone, q) for q in await cursor_listing(page)
            ]
        except MalformedError as exc:
            raise self._malformed(LIST_QR, str(exc)) from None

    async def create_qr_code(self, qr: QrCode) -> RemoteQrCode:
        phone_id = await self._phone_id(qr.phone)
        request = GraphRequest("POST", f"{phone_id}/message_qrdls", json=mapping.qr_body(qr))
        return self._qr(CREATE_QR, qr.phone, await self._call(CREATE_QR, request))

    async def update_qr_code(self, current: RemoteQrCode, desired: QrCode) -> RemoteQrCode:
        """Meta changes the prefilled message and keeps the code and its short link (the
        image format is not stored per code, so there is nothing else to change)."""
        phone_id = await self._phone_id(current.phone)
        body = {"code": current.code, "prefilled_message": desired.prefilled_message}
        request = GraphRequest("POST", f"{phone_id}/message_qrdls", json=body)
        return self._qr(UPDATE_QR, current.phone, await self._call(UPDATE_QR, request))

    async def delete_qr_code(self, current: RemoteQrCode) -> None:
        """A code already gone counts as deleted (a re-run after an interrupted apply)."""
        phone_id = await self._phone_id(current.phone)
        request = GraphRequest("DELETE", f"{phone_id}/message_qrdls/{current.code}")
        try:
            reply = await self._call(DELETE_QR, request)
        except ProviderError as exc:
            if exc.error_class is ErrorClass.FATAL and not any(
                q.code == current.code for q in await self.list_qr_codes(current.phone)
            ):
                return
            raise
        self._success(DELETE_QR, reply)

    def _qr(self, operation: str, phone: str, reply: dict[str, Any]) -> RemoteQrCode:
        try:
            return mapping.qr_from_wire(self.account, phone, reply)
        except MalformedError as exc:
            raise self._malformed(operation, str(exc)) from None

    # --- templates ----------------------------------------------------------------------------

    async def list_templates(
        self, phones: Collection[str], detail_for: Collection[tuple[str, str]] | None = None
    ) -> list[RemoteTemplate]:
        """Every template of the WABA, with components (the listing has them, so
        ``detail_for`` costs nothing; ``phones`` is ignored: templates belong to the WABA)."""
        return await self._list_templates()

    async def find_template(
        self, phone: str | None, name: str, language: str
    ) -> RemoteTemplate | None:
        """The listing filtered by ``name`` (which Meta matches loosely) and ``language``,
        then the exact one."""
        found = await self._list_templates((("name", name), ("language", language)))
        return next((t for t in found if (t.name, t.language) == (name, language)), None)

    async def _list_templates(
        self, filters: tuple[tuple[str, str], ...] = ()
    ) -> list[RemoteTemplate]:
        async def page(after: str | None) -> Mapping[str, Any]:
            query = [("fields", TEMPLATE_FIELDS), ("limit", PAGE_LIMIT), *filters]
            if after is not None:
                query.append(("after", after))
            request = GraphRequest("GET", f"{self._waba}/message_templates", tuple(query))
            return await self._read(LIST_TEMPLATES, request)

        try:
            listed = await cursor_listing(page)
            return [mapping.template_from_wire(info, account=self.account) for info in listed]
        except MalformedError as exc:
            raise self._malformed(LIST_TEMPLATES, str(exc)) from None

    async def create_template(self, template: Template) -> RemoteTemplate:
        """``POST /{WABA_ID}/message_templates``. Meta answers with the id, the status
        (PENDING, or already APPROVED or REJECTED) and the category it assigned."""
        components = await self._components(template)
        body = mapping.template_body(template, components)
        request = GraphRequest("POST", f"{self._waba}/message_templates", json=body)
        reply = await self._call(CREATE_TEMPLATE, request)
        id_ = reply.get("id")
        if isinstance(id_, int) and not isinstance(id_, bool):
            id_ = str(id_)
        if not isinstance(id_, str) or not id_:
            raise self._malformed(CREATE_TEMPLATE, "the reply has no id")
        status = reply.get("status")
        category = reply.get("category")
        return self._sent(
            template,
            id_,
            status.upper() if isinstance(status, str) and status else "PENDING",
            category.upper() if isinstance(category, str) and category else template.category,
        )

    async def update_template(self, current: RemoteTemplate, desired: Template) -> RemoteTemplate:
        """``POST /{TEMPLATE_ID}`` with the components (which replace the old ones as a
        whole), the TTL where the spec sets one, and the category only where it changes on a
        template whose status allows that (else the remote category stays, and the plan
        said so). Meta answers ``{"success": true}``; the template keeps its id."""
        components = await self._components(desired)
        body: JsonDict = {"components": components}
        category = current.category
        allowed = self.traits.template_category_editable_statuses
        if desired.category != current.category and current.status in allowed:
            body["category"] = category = desired.category
        if desired.message_send_ttl_seconds is not None:
            body["message_send_ttl_seconds"] = desired.message_send_ttl_seconds
        if desired.parameter_format is not None:
            body["parameter_format"] = desired.parameter_format
        reply = await self._call(EDIT_TEMPLATE, GraphRequest("POST", current.id, json=body))
        self._success(EDIT_TEMPLATE, reply, f"the edit of {current.address}")
        return self._sent(desired, current.id, "PENDING", category)  # back to review

    async def delete_template(self, current: RemoteTemplate) -> None:
        """``DELETE /{WABA_ID}/message_templates?hsm_id=&name=``: this language only. One
        already gone counts as deleted."""
        query = (("hsm_id", current.id), ("name", current.name))
        request = GraphRequest("DELETE", f"{self._waba}/message_templates", query)
        try:
            reply = await self._call(DELETE_TEMPLATE, request)
        except ProviderError as exc:
            gone = exc.error_class is ErrorClass.FATAL and (
                await self.find_template(None, current.name, current.language) is None
            )
            if gone:
                return
            raise
        self._success(DELETE_TEMPLATE, reply, f"the delete of {current.address}")

    def _sent(self, template: Template, id_: str, status: str, category: str) -> RemoteTemplate:
        return RemoteTemplate(
            account=self.account,
            phone=None,
            id=id_,
            name=template.name,
            language=template.language,
            category=category,
            status=status,
            components=tuple(template.canonical_components()),
            message_send_ttl_seconds=template.message_send_ttl_seconds,
        )

    def _success(self, operation: str, reply: dict[str, Any], what: str = "it") -> None:
        success = reply.get("success")
        if success is True:
            return
        if success is False:
            raise self._error(
                operation,
                "success=false",
                f"Meta did not carry out {what}",
                ErrorClass.FATAL,
                hint="nothing was changed; check the template or code in WhatsApp Manager, "
                "then run wasync plan again",
            )
        raise self._malformed(operation, "the reply has no success")

    # --- media samples: the Resumable Upload API ----------------------------------------------

    async def _components(self, template: Template) -> list[JsonDict]:
        """The template's components as Meta takes them, each sample file uploaded."""
        components = mapping.components_to_wire(template)
        handles: dict[str, str] = {}
        for file in mapping.sample_files(components):
            if file not in handles:
                handles[file] = await self._handle(template, file)
        return mapping.with_handles(components, handles.__getitem__)

    async def _handle(self, template: Template, file: str) -> str:
        """The upload handle of ``file`` (of the spec folder), uploaded once a run."""
        if self._app_id is None:
            raise ConfigError(
                f"{template.address}: a media header's sample is uploaded to the app: set "
                f"app_id of account {self.account} in wasync.yaml"
            )
        path = (self._files or Path()) / PurePosixPath(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise WasyncError(
                f"{template.address}: cannot read the sample {file} ({path}): "
                f"{exc.strerror or exc}; put the file there or fix header_file"
            ) from None
        digest = hashlib.sha256(content).hexdigest()
        lock = self._uploading.setdefault(digest, asyncio.Lock())
        async with lock:
            if digest not in self._handles:
                self._handles[digest] = await self._upload(path.name, content)
        return self._handles[digest]

    async def _upload(self, name: str, content: bytes) -> str:
        """Start a session on the app, send the bytes, and return Meta's handle. A send
        whose answer is lost is resumed from the offset Meta reports. An upload that fails
        left no template behind, so its failure is one a retry may repeat."""
        mime = mapping.MIME_TYPES.get(PurePosixPath(name).suffix.lower(), "")
        query = (("file_name", name), ("file_length", str(len(content))), ("file_type", mime))
        started = await self._call(
            START_UPLOAD, GraphRequest("POST", f"{self._app_id}/uploads", query)
        )
        session = started.get("id")
        if not isinstance(session, str) or not session.startswith("upload:"):
            raise self._malformed(START_UPLOAD, "the reply has no upload session id")
        offset = 0
        last: ProviderError | None = None
        for _ in range(UPLOAD_ROUNDS):
            request = GraphRequest(
                "POST",
                session,
                content=content[offset:],
                headers=(("file_offset", str(offset)),),
                oauth=True,
            )
            try:
                reply = await self._call(UPLOAD, request)
            except ProviderError as exc:
                if exc.error_class is not ErrorClass.UNKNOWN_OUTCOME:
                    raise _nothing_created(exc) from None
                last = exc
                status = await self._read(UPLOAD_STATUS, GraphRequest("GET", session, oauth=True))
                offset = _offset(status.get("file_offset"), len(content))
                continue
            handle = reply.get("h")
            if not isinstance(handle, str) or not handle:
                raise self._malformed(UPLOAD, "the reply has no file handle (h)")
            return handle
        assert last is not None
        raise _nothing_created(last)


def _offset(raw: Any, length: int) -> int:
    """The ``file_offset`` Meta reports (a number, or a string of digits), within the file."""
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= length:
        return raw
    return 0


def _nothing_created(error: ProviderError) -> ProviderError:
    """An upload's failure as the template change sees it: nothing was created yet, so a
    failure whose outcome was unknown is one a retry may repeat."""
    if error.error_class is not ErrorClass.UNKNOWN_OUTCOME:
        return error
    return ProviderError(
        provider=error.provider,
        operation=error.operation,
        code=error.code,
        message=error.provider_message,
        error_class=ErrorClass.TRANSIENT,
        request_id=error.request_id,
        http_status=error.http_status,
        hint="the sample's upload did not finish and no template was sent: retrying is safe",
        retry_after=error.retry_after,
    )

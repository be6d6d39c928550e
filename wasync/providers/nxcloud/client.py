"""The NXCloud WhatsApp HTTP API client: one account, templates only (reference/nxcloud.md).

Every call is ``POST /api/wa/<action>`` with the signed common headers. The JSON body is
serialised once and those exact bytes are both signed and sent. Replies are the envelope
``{code, data, message}``; anything but ``code: 0`` becomes a ``ProviderError`` whose class
tells the executor what it may do:

- 1001..1005 (authentication), 9000 (parameters), 9002 / 9006 (phone and app binding) and
  9099 (Meta's own refusal, in ``data.error``): FATAL.
- 9001 and -1 (NXCloud failed): TRANSIENT for getTemplate and deleteTemplate, which are safe
  to repeat; UNKNOWN_OUTCOME for createTemplate and updateTemplate, because NXCloud
  may have passed the request on to Meta before failing (the executor lists before retrying).
- HTTP 429: THROTTLED. NXCloud documents no throttling answer at all; a gateway's 429 is what
  wasync's emulator sends and what an HTTP front end would send, and it cannot be mistaken for
  the business ``-1`` (see ``wasync.sandbox.nxcloud``).
- timeouts and dropped connections: UNKNOWN_OUTCOME; refused connections: TRANSIENT (the
  HTTP base's tiers, ``wasync.providers.http``); replies that are not the documented shape:
  ``ProtocolError``.

Sending, timeouts, Retry-After and the debug line are the HTTP base's; this module signs,
reads the envelope and its codes, and calls the operations. Templates are Meta's shape
(``mapping.py``, ``wasync.providers.whatsapp``), listed with Graph's cursor paging.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any, NoReturn, TypeGuard, Unpack

import httpx
from pydantic import SecretStr

from wasync.errors import ConfigError, ErrorClass, ProviderError, WasyncError
from wasync.log import register_secret
from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.http import Call, HttpOptions, HttpProvider, Reply
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.providers.nxcloud.mapping import (
    components_from_wire,
    components_to_wire,
    template_from_wire,
)
from wasync.providers.nxcloud.signing import ALGORITHMS, sign
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.providers.whatsapp import MalformedError
from wasync.providers.whatsapp.graph import GraphError, cursor_listing

BIZ_TYPE = "2"  # WhatsApp
PAGE_LIMIT = 100  # getTemplate page size asked for; NXCloud's default is 20
# Operations that may be repeated as they are after a failure: reads and a delete by name
# (a second delete finds nothing and counts as done).
SAFE_TO_REPEAT = frozenset({"getTemplate", "deleteTemplate"})


@dataclass(frozen=True)
class NxRequest:
    """What one NXCloud call sends besides its action: the JSON body and the business phone
    it concerns (named in some hints)."""

    payload: JsonDict
    phone: str


class NxcloudProvider(HttpProvider[NxRequest, Any]):
    """One NXCloud account (``appkey``). Templates are scoped by business phone.

    Takes ownership of ``http`` (built by the caller with ``base_url`` and, for the sandbox,
    an in-process transport): ``aclose()`` closes it. Each call uses ``account.timeout``.
    """

    traits = NXCLOUD_TRAITS
    api_name = "NXCloud's WhatsApp API"

    def __init__(
        self, account: NxcloudAccount, *, algorithm: str = "md5", **options: Unpack[HttpOptions]
    ) -> None:
        if account.access_key is None or account.secret_key is None:
            missing = " and ".join(
                n for n in ("access_key", "secret_key") if getattr(account, n) is None
            )
            raise ConfigError(
                f"account {account.name}: NXCloud needs {missing}; set them in wasync.yaml, "
                "e.g. access_key: ${NXCLOUD_ACCESS_KEY} and secret_key: ${NXCLOUD_SECRET_KEY}"
            )
        if algorithm not in ALGORITHMS:
            raise ConfigError(
                f"account {account.name}: unknown signing algorithm {algorithm!r}; "
                f"use one of {', '.join(ALGORITHMS)}"
            )
        super().__init__(account, **options)
        self._appkey = account.appkey
        self._access_key: SecretStr = account.access_key
        self._secret: SecretStr = account.secret_key
        register_secret(self._access_key.get_secret_value())
        register_secret(self._secret.get_secret_value())
        self._algorithm = algorithm

    # --- QR codes: not an NXCloud feature ------------------------------------------------------

    def _no_qr(self) -> NoReturn:
        raise WasyncError(
            f"account {self.account}: NXCloud has no QR code API; "
            "manage message QR codes through a CAMS account"
        )

    async def list_qr_codes(self, phone: str) -> list[RemoteQrCode]:
        self._no_qr()

    async def create_qr_code(self, qr: QrCode) -> RemoteQrCode:
        self._no_qr()

    async def update_qr_code(self, current: RemoteQrCode, desired: QrCode) -> RemoteQrCode:
        self._no_qr()

    async def delete_qr_code(self, current: RemoteQrCode) -> None:
        self._no_qr()

    # --- templates -----------------------------------------------------------------------------

    async def list_templates(
        self, phones: Collection[str], detail_for: Collection[tuple[str, str]] | None = None
    ) -> list[RemoteTemplate]:
        """Every template of each phone. getTemplate returns components, so every template
        comes back detailed and ``detail_for`` costs nothing."""
        out: list[RemoteTemplate] = []
        for phone in dict.fromkeys(phones):
            out += await self._list_phone(phone)
        return out

    async def find_template(
        self, phone: str | None, name: str, language: str
    ) -> RemoteTemplate | None:
        """getTemplate filtered by ``name`` on ``phone``, then the ``language`` wanted."""
        if not phone:
            raise WasyncError(f"{name}.{language}: NXCloud templates need a phone to look up")
        for template in await self._list_phone(phone, name=name):
            if (template.name, template.language) == (name, language):
                return template
        return None

    async def _list_phone(self, phone: str, name: str | None = None) -> list[RemoteTemplate]:
        async def page(after: str | None) -> JsonDict:
            payload = self._base(phone) | {"limit": PAGE_LIMIT}
            if name is not None:
                payload["name"] = name
            if after is not None:
                payload["after"] = after
            data = await self._read("getTemplate", NxRequest(payload, phone))
            return self._object(data, "getTemplate", "data")

        try:
            return [
                template_from_wire(info, account=self.account, phone=phone)
                for info in await cursor_listing(page)
            ]
        except MalformedError as exc:
            raise self._malformed("getTemplate", str(exc)) from None

    async def create_template(self, template: Template) -> RemoteTemplate:
        """createTemplate. NXCloud answers with the id only; the template starts PENDING
        (the next refresh shows what Meta decided)."""
        phone = self._phone_of(template)
        wire = components_to_wire(template)
        payload = self._base(phone) | {
            "category": template.category,
            "language": template.language,
            "name": template.name,
        }
        if template.message_send_ttl_seconds is not None:
            payload["message_send_ttl_seconds"] = template.message_send_ttl_seconds
        payload["components"] = wire
        data = await self._call("createTemplate", NxRequest(payload, phone))
        id_ = self._id_of(data, "createTemplate")
        return self._sent(template, phone, id_, wire, template.category)

    async def update_template(self, current: RemoteTemplate, desired: Template) -> RemoteTemplate:
        """updateTemplate by id, with the fields its page lists (appkey, business_phone,
        messaging_product, category, template_id, components): the components are replaced
        as a whole. The category goes along only when it changes on a REJECTED template,
        the one case NXCloud allows; otherwise the remote category stays and the next plan
        reports the difference. No ``message_send_ttl_seconds``: the page does not list it
        (the traits say a TTL change cannot be made by an update).

        The documented reply is ``data: {"success": true}``, without an id: the template
        keeps its id. ``success: false`` is a refusal."""
        phone = current.phone or self._phone_of(desired)
        wire = components_to_wire(desired)
        payload = self._base(phone) | {"template_id": current.id}
        category = current.category
        if desired.category != current.category and current.status == "REJECTED":
            payload["category"] = category = desired.category
        payload["components"] = wire
        data = await self._call("updateTemplate", NxRequest(payload, phone))
        reply = self._object(data, "updateTemplate", "data")
        success = reply.get("success")
        if success is False:
            raise self._error(
                "updateTemplate",
                "success=false",
                f"NXCloud did not apply the update of {current.name} ({current.language}) "
                f"on {phone}",
                ErrorClass.FATAL,
                hint="nothing was changed; check the template's status and review limits in "
                "the NXCloud console (Meta allows an approved template one edit a day, ten "
                "a month), then run wasync plan again",
            )
        if success is not True and "id" not in reply:  # an older page answered with the id
            raise self._malformed("updateTemplate", "data has neither success nor id")
        updated = self._sent(desired, phone, current.id, wire, category)
        return replace(updated, message_send_ttl_seconds=current.message_send_ttl_seconds)

    async def delete_template(self, current: RemoteTemplate) -> None:
        """deleteTemplate by name: every language of ``current.name`` on ``current.phone``
        goes. A name that no longer exists counts as deleted (a repeated delete is done)."""
        phone = current.phone
        if not phone:
            raise WasyncError(f"{current.address}: NXCloud templates need a phone to delete")
        payload = self._base(phone) | {"name": current.name}
        try:
            data = await self._call("deleteTemplate", NxRequest(payload, phone))
        except ProviderError as exc:
            # Meta refuses to delete a name it does not hold; that is the goal reached.
            if exc.code.split("/")[0] in {"9000", "9099"} and not await self._exists(
                phone, current.name
            ):
                return
            raise
        success = self._object(data, "deleteTemplate", "data").get("success")
        if success is True:
            return
        if success is False and not await self._exists(phone, current.name):
            return
        if success is False:
            raise self._error(
                "deleteTemplate",
                "success=false",
                f"NXCloud did not delete {current.name} on {phone}",
                ErrorClass.FATAL,
                hint="check the template's status in the NXCloud console (a DISABLED "
                "template cannot be deleted)",
            )
        raise self._malformed("deleteTemplate", "data.success is missing")

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- helpers -------------------------------------------------------------------------------

    def _base(self, phone: str) -> JsonDict:
        return {"appkey": self._appkey, "business_phone": phone, "messaging_product": "whatsapp"}

    def _phone_of(self, template: Template) -> str:
        if not template.phone:
            raise WasyncError(
                f"{template.address}: NXCloud templates live on a business number; "
                "add phone: (country code and number, digits only) to this template"
            )
        return template.phone

    def _sent(
        self, template: Template, phone: str, id_: str, wire: list[JsonDict], category: str
    ) -> RemoteTemplate:
        return RemoteTemplate(
            account=self.account,
            phone=phone,
            id=id_,
            name=template.name,
            language=template.language,
            category=category,
            status="PENDING",
            components=tuple(components_from_wire(wire, category)),
            message_send_ttl_seconds=template.message_send_ttl_seconds,
        )

    async def _exists(self, phone: str, name: str) -> bool:
        return any(t.name == name for t in await self._list_phone(phone, name=name))

    # --- the HTTP base's hooks -------------------------------------------------------------------

    def _build_request(self, call: Call[NxRequest]) -> httpx.Request:
        """The signed common headers over the exact bytes sent."""
        action, sent = call.operation, call.params
        body = json.dumps(sent.payload, ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(self._clock() * 1000))
        headers = {
            "accessKey": self._access_key.get_secret_value(),
            "ts": ts,
            "bizType": BIZ_TYPE,
            "action": action,
            "sign": sign(
                access_key=self._access_key.get_secret_value(),
                secret=self._secret.get_secret_value(),
                action=action,
                biz_type=BIZ_TYPE,
                ts=ts,
                body=body,
                algorithm=self._algorithm,
            ),
        }
        if self._algorithm != "md5":
            headers["algorithm"] = self._algorithm
        return self._http.build_request(
            "POST",
            f"/api/wa/{action}",
            headers=headers | {"Content-Type": "application/json"},
            content=body,
        )

    def _reply_error(self, call: Call[NxRequest], reply: Reply) -> ProviderError | None:
        status = reply.status
        if 400 <= status < 500:
            return None  # 429: throttled; any other 4xx: not NXCloud's API (judged by status)
        envelope = reply.body
        if not _is_envelope(envelope):
            return None  # a 5xx page: judged by status; a 2xx: not the envelope (result)
        code = _code(envelope)
        if code == 0:
            if status >= 300:
                return self._malformed(call.operation, f"HTTP {status} with a success envelope")
            return None
        message = envelope.get("message")
        message = message if isinstance(message, str) and message else "(no message)"
        return self._business_error(call, code, message, envelope.get("data"), status)

    def _reply_result(self, call: Call[NxRequest], reply: Reply) -> Any:
        envelope = reply.body
        if not _is_envelope(envelope):
            raise self._malformed(
                call.operation, f"the reply is not NXCloud's envelope: {reply.excerpt()}"
            )
        return envelope.get("data")

    def _describe_reply(self, reply: Reply) -> str:
        envelope = reply.body
        code = envelope.get("code") if isinstance(envelope, dict) else "(not an envelope)"
        return f"code={code}, {len(reply.content)} bytes"

    def _server_error_class(self, call: Call[NxRequest], status: int) -> ErrorClass:
        if call.operation in SAFE_TO_REPEAT:
            return ErrorClass.TRANSIENT
        return ErrorClass.UNKNOWN_OUTCOME

    # --- NXCloud's codes -------------------------------------------------------------------------

    def _failed(
        self, call: Call[NxRequest], code: str, message: str, status: int | None
    ) -> ProviderError:
        """NXCloud failed (9001, -1): whether it acted is unknown for writes."""
        error_class = self._server_error_class(call, status or 500)
        if error_class is ErrorClass.TRANSIENT:
            hint = "NXCloud failed; safe to retry"
        else:
            hint = "NXCloud failed, maybe after passing the request on to Meta; list, then retry"
        return self._error(
            call.operation, code, message, error_class, hint=hint, http_status=status
        )

    def _business_error(
        self, call: Call[NxRequest], code: int, message: str, data: Any, status: int
    ) -> ProviderError:
        if code in (9001, -1):
            return self._failed(call, str(code), message, status)
        phone = call.params.phone
        hint: str | None
        request_id: str | None = None
        code_text = str(code)
        if code == 1001:
            message, hint = f"missing common parameters ({message})", _BUG
        elif code == 1002:
            message, hint = f"bizType or action refused ({message})", _BUG
        elif code == 1003:
            message = f"signature rejected ({message})"
            hint = f"check secret_key for account {self.account}, and that the clock is right"
        elif code == 1004:
            message = f"timestamp outside +-60 s ({message})"
            hint = "check this machine's clock: NXCloud allows 60 s of difference"
        elif code == 1005:
            message = f"access denied ({message})"
            hint = (
                f"check access_key for account {self.account}, and that the key has "
                "WhatsApp permission"
            )
        elif 1000 <= code <= 1099:
            message = f"authentication failed ({message})"
            hint = f"check access_key and secret_key for account {self.account}"
        elif code == 9002:
            hint = (
                f"business_phone {phone} is not a WhatsApp number of this NXCloud account: "
                "check the template's phone (country code and number, digits only)"
            )
        elif code == 9006:
            hint = (
                f"{phone} is not bound to appkey {self._appkey}: bind the number to the "
                f"application in the NXCloud console, or fix appkey of account {self.account}"
            )
        elif code == 9099:  # Meta refused; NXCloud passes Graph's error object in data.error
            meta = GraphError.read(data.get("error") if isinstance(data, dict) else None)
            if meta is not None:
                message = meta.text or message
                code_text = f"9099/{meta.code_path}"
                request_id = meta.trace_id
            hint = "Meta refused the request; act on its message, then plan again"
        elif code == 9000:
            hint = "NXCloud refused a parameter; `wasync validate` may tell which"
        else:
            hint = None
        return self._error(
            call.operation,
            code_text,
            message,
            ErrorClass.FATAL,
            hint=hint,
            request_id=request_id,
            http_status=status,
        )

    def _object(self, data: Any, action: str, what: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self._malformed(action, f"{what} is {type(data).__name__}, not an object")
        return data

    def _id_of(self, data: Any, action: str) -> str:
        value = self._object(data, action, "data").get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise self._malformed(action, "data.id is missing")
        return value


_BUG = "wasync sent a request NXCloud does not accept; please report this as a bug"


def _code(envelope: dict[str, Any]) -> int:
    return int(envelope["code"])  # a number, or a string of digits (``_is_envelope``)


def _is_envelope(body: Any) -> TypeGuard[dict[str, Any]]:
    """NXCloud's envelope ``{code, data, message}``: a number (or a numeric string) code."""
    if not isinstance(body, dict):
        return False
    code = body.get("code")
    if isinstance(code, str):
        return code.lstrip("-").isdigit()
    return isinstance(code, int) and not isinstance(code, bool)

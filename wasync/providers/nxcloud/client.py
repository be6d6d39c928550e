"""The NXCloud WhatsApp HTTP API client: one account, templates only (reference/nxcloud.md).

Every call is ``POST /api/wa/<action>`` with the signed common headers. The JSON body is
serialised once and those exact bytes are both signed and sent. Replies are the envelope
``{code, data, message}``; anything but ``code: 0`` becomes a ``ProviderError`` whose class
tells the executor what it may do:

- 1001..1005 (authentication), 9000 (parameters), 9002 / 9006 (phone and app binding) and
  9099 (Meta's own refusal, in ``data.error``): FATAL.
- 9001 and -1 (NXCloud failed): TRANSIENT for getTemplate, deleteTemplate and uploads, which
  are safe to repeat; UNKNOWN_OUTCOME for createTemplate and updateTemplate, because NXCloud
  may have passed the request on to Meta before failing (the executor lists before retrying).
- HTTP 429: THROTTLED. NXCloud documents no throttling answer at all; a gateway's 429 is what
  wasync's emulator sends and what an HTTP front end would send, and it cannot be mistaken for
  the business ``-1`` (see ``wasync.sandbox.nxcloud``).
- timeouts and dropped connections: UNKNOWN_OUTCOME; refused connections: TRANSIENT;
  replies that are not the documented shape: ``ProtocolError``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager
from typing import Any, NoReturn

import httpx
from pydantic import SecretStr

from wasync.config import NxcloudAccount
from wasync.errors import ConfigError, ErrorClass, ProtocolError, ProviderError, WasyncError
from wasync.log import http_call, http_log, register_secret
from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.base import CallGate, ReadRetry, no_retry
from wasync.providers.nxcloud.mapping import (
    components_from_wire,
    components_to_wire,
    template_from_wire,
)
from wasync.providers.nxcloud.signing import ALGORITHMS, sign
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.providers.transport import timeout_hint, tls_failure, tls_hint
from wasync.providers.whatsapp import MalformedError

PROVIDER = "nxcloud"
BIZ_TYPE = "2"  # WhatsApp
PAGE_LIMIT = 100  # getTemplate page size asked for; NXCloud's default is 20
# Operations that may be repeated as they are after a failure: reads, a delete by name
# (a second delete finds nothing and counts as done) and a media upload (a spare handle).
SAFE_TO_REPEAT = frozenset({"getTemplate", "deleteTemplate", "uploadTemplateFile"})


def _no_gate() -> AbstractAsyncContextManager[None]:
    return contextlib.nullcontext()


class NxcloudProvider:
    """One NXCloud account (``appkey``). Templates are scoped by business phone.

    Takes ownership of ``http`` (built by the caller with ``base_url`` and, for the sandbox,
    an in-process transport): ``aclose()`` closes it. Each call uses ``account.timeout``.
    """

    traits = NXCLOUD_TRAITS

    def __init__(
        self,
        account: NxcloudAccount,
        *,
        http: httpx.AsyncClient,
        gate: CallGate | None = None,
        reads: ReadRetry = no_retry,
        clock: Callable[[], float] = time.time,
        algorithm: str = "md5",
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
        self.account = account.name
        self._appkey = account.appkey
        self._access_key: SecretStr = account.access_key
        self._secret: SecretStr = account.secret_key
        register_secret(self._access_key.get_secret_value())
        register_secret(self._secret.get_secret_value())
        self._timeout = account.timeout
        self._http = http
        self._gate: CallGate = gate or _no_gate
        self._reads = reads
        self._clock = clock
        self._algorithm = algorithm

    def __repr__(self) -> str:
        return f"NxcloudProvider(account={self.account!r}, appkey={self._appkey!r})"

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
        out: list[RemoteTemplate] = []
        after: str | None = None
        seen: set[str] = set()
        while True:
            payload = self._base(phone) | {"limit": PAGE_LIMIT}
            if name is not None:
                payload["name"] = name
            if after is not None:
                payload["after"] = after
            data = await self._read("getTemplate", payload, phone=phone)
            page = _object(data, "getTemplate", "data")
            items = page.get("data")
            if not isinstance(items, list):
                raise _protocol("getTemplate", "the page has no data list")
            for info in items:
                try:
                    out.append(template_from_wire(info, account=self.account, phone=phone))
                except MalformedError as exc:
                    raise _protocol("getTemplate", str(exc)) from None
            paging = page.get("paging")
            if not isinstance(paging, dict) or not paging.get("next"):
                return out
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not isinstance(after, str) or not after:
                raise _protocol("getTemplate", "paging.next is set but there is no after cursor")
            if after in seen:
                raise _protocol("getTemplate", f"the after cursor {after!r} came back twice")
            seen.add(after)

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
        data = await self._call("createTemplate", payload, phone=phone)
        return self._sent(template, phone, _id_of(data, "createTemplate"), wire, template.category)

    async def update_template(self, current: RemoteTemplate, desired: Template) -> RemoteTemplate:
        """updateTemplate by id: the components are replaced as a whole. The category goes
        along only when it changes on a REJECTED template, the one case NXCloud allows;
        otherwise the remote category stays and the next plan reports the difference."""
        phone = current.phone or self._phone_of(desired)
        wire = components_to_wire(desired)
        payload = self._base(phone) | {"template_id": current.id}
        category = current.category
        if desired.category != current.category and current.status == "REJECTED":
            payload["category"] = category = desired.category
        if desired.message_send_ttl_seconds is not None:
            payload["message_send_ttl_seconds"] = desired.message_send_ttl_seconds
        payload["components"] = wire
        data = await self._call("updateTemplate", payload, phone=phone)
        return self._sent(desired, phone, _id_of(data, "updateTemplate"), wire, category)

    async def delete_template(self, current: RemoteTemplate) -> None:
        """deleteTemplate by name: every language of ``current.name`` on ``current.phone``
        goes. A name that no longer exists counts as deleted (a repeated delete is done)."""
        phone = current.phone
        if not phone:
            raise WasyncError(f"{current.address}: NXCloud templates need a phone to delete")
        payload = self._base(phone) | {"name": current.name}
        try:
            data = await self._call("deleteTemplate", payload, phone=phone)
        except ProviderError as exc:
            # Meta refuses to delete a name it does not hold; that is the goal reached.
            if exc.code.split("/")[0] in {"9000", "9099"} and not await self._exists(
                phone, current.name
            ):
                return
            raise
        success = _object(data, "deleteTemplate", "data").get("success")
        if success is True:
            return
        if success is False and not await self._exists(phone, current.name):
            return
        if success is False:
            raise ProviderError(
                provider=PROVIDER,
                operation="deleteTemplate",
                code="success=false",
                message=f"NXCloud did not delete {current.name} on {phone}",
                error_class=ErrorClass.FATAL,
                hint="check the template's status in the NXCloud console (a DISABLED "
                "template cannot be deleted)",
            )
        raise _protocol("deleteTemplate", "data.success is missing")

    async def upload_template_file(
        self, phone: str, content: bytes, mime_type: str, filename: str = "sample"
    ) -> str:
        """uploadTemplateFile: a media sample for a header; returns the ``4:...`` handle
        to use as ``example.header_handle``. Signed without the body (multipart)."""
        form = {"business_phone": phone, "messaging_product": "whatsapp", "type": mime_type}
        data = await self._call(
            "uploadTemplateFile", None, phone=phone, form=form, file=(filename, content, mime_type)
        )
        return _id_of(data, "uploadTemplateFile")

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

    async def _read(self, action: str, payload: JsonDict, *, phone: str) -> Any:
        """A call that changes nothing, so it may be retried (signed afresh each time)."""
        return await self._reads(lambda: self._call(action, payload, phone=phone))

    async def _call(
        self,
        action: str,
        payload: JsonDict | None,
        *,
        phone: str,
        form: dict[str, str] | None = None,
        file: tuple[str, bytes, str] | None = None,
    ) -> Any:
        """One signed request; returns the envelope's ``data`` or raises ``ProviderError``."""
        body = b""
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        async with self._gate():
            # Signed inside the gate: a wait for the rate limiter must not age the timestamp.
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
            started = time.monotonic()
            try:
                if file is not None:
                    response = await self._http.post(
                        f"/api/wa/{action}",
                        headers=headers,
                        data=form,
                        files={"file": file},
                        timeout=self._timeout,
                    )
                else:
                    response = await self._http.post(
                        f"/api/wa/{action}",
                        headers=headers | {"Content-Type": "application/json"},
                        content=body,
                        timeout=self._timeout,
                    )
            except httpx.HTTPError as exc:
                self._log(action, headers, None, started, type(exc).__name__)
                raise self._transport_error(action, exc) from None
        self._log(action, headers, response, started, "")
        return self._reply(action, response, phone)

    def _log(
        self,
        action: str,
        headers: dict[str, str],
        response: httpx.Response | None,
        started: float,
        outcome: str,
    ) -> None:
        if not http_log.isEnabledFor(logging.DEBUG):
            return
        if response is not None:
            try:
                envelope = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                envelope = None
            code = envelope.get("code") if isinstance(envelope, dict) else "(not an envelope)"
            outcome = f"code={code}, {len(response.content)} bytes"
        http_call(
            provider=PROVIDER,
            account=self.account,
            operation=action,
            method="POST",
            url=str(self._http.base_url.join(f"/api/wa/{action}")),
            status=response.status_code if response is not None else None,
            started=started,
            ended=time.monotonic(),
            outcome=outcome,
            headers=headers,
        )

    def _transport_error(self, action: str, exc: httpx.HTTPError) -> ProviderError:
        where = str(self._http.base_url)
        tls = tls_failure(exc)
        if tls is not None:
            cls, message = ErrorClass.FATAL, f"refused {where}: {tls}"
            hint = tls_hint(self.account)
        elif isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            cls, message = ErrorClass.TRANSIENT, f"could not connect to {where}"
            hint = "check the account's endpoint and the network; nothing was sent"
            if isinstance(exc, httpx.TimeoutException):
                hint += "; " + timeout_hint(self.account, self._timeout)
        elif isinstance(exc, httpx.TimeoutException):
            cls = ErrorClass.UNKNOWN_OUTCOME
            message = f"no reply within {self._timeout:g} s from {where}"
            hint = (
                "the request may have been carried out; the next refresh will show; "
                + timeout_hint(self.account, self._timeout)
            )
        elif isinstance(exc, httpx.TransportError) and not isinstance(
            exc, httpx.UnsupportedProtocol
        ):
            cls, message = ErrorClass.UNKNOWN_OUTCOME, "the connection dropped before the reply"
            hint = "the request may have been carried out; the next refresh will show"
        else:
            cls, message = ErrorClass.FATAL, f"cannot send to {where}: {exc}"
            hint = "check the account's endpoint (an https:// URL or 'sandbox')"
        return ProviderError(
            provider=PROVIDER,
            operation=action,
            code="TLSError" if tls is not None else type(exc).__name__,
            message=message,
            error_class=cls,
            hint=hint,
        )

    def _reply(self, action: str, response: httpx.Response, phone: str) -> Any:
        status = response.status_code
        if status == 429:
            raise ProviderError(
                provider=PROVIDER,
                operation=action,
                code="HTTP 429",
                message="too many requests",
                error_class=ErrorClass.THROTTLED,
                http_status=status,
                hint=f"lower qps for account {self.account} if this keeps happening",
                retry_after=_retry_after(response),
            )
        try:
            envelope = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            envelope = None
        code = envelope.get("code") if isinstance(envelope, dict) else None
        if isinstance(code, str) and code.lstrip("-").isdigit():
            code = int(code)
        if 400 <= status < 500:
            raise ProviderError(
                provider=PROVIDER,
                operation=action,
                code=f"HTTP {status}",
                message=_excerpt(response),
                error_class=ErrorClass.FATAL,
                http_status=status,
                hint=f"check the endpoint of account {self.account}: it does not look like "
                "NXCloud's WhatsApp API",
            )
        if not isinstance(code, int) or isinstance(code, bool):
            if status >= 500:
                raise self._failed(action, f"HTTP {status}", _excerpt(response), status)
            raise _protocol(action, f"the reply is not NXCloud's envelope: {_excerpt(response)}")
        assert isinstance(envelope, dict)
        message = envelope.get("message")
        message = message if isinstance(message, str) and message else "(no message)"
        if code == 0:
            if status >= 300:
                raise _protocol(action, f"HTTP {status} with a success envelope")
            return envelope.get("data")
        raise self._business_error(action, code, message, envelope.get("data"), status, phone)

    def _failed(self, action: str, code: str, message: str, status: int | None) -> ProviderError:
        """NXCloud failed (9001, -1, 5xx): whether it acted is unknown for writes."""
        if action in SAFE_TO_REPEAT:
            cls, hint = ErrorClass.TRANSIENT, "NXCloud failed; safe to retry"
        else:
            cls = ErrorClass.UNKNOWN_OUTCOME
            hint = "NXCloud failed, maybe after passing the request on to Meta; list, then retry"
        return ProviderError(
            provider=PROVIDER,
            operation=action,
            code=code,
            message=message,
            error_class=cls,
            http_status=status,
            hint=hint,
        )

    def _business_error(
        self, action: str, code: int, message: str, data: Any, status: int, phone: str
    ) -> ProviderError:
        if code in (9001, -1):
            return self._failed(action, str(code), message, status)
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
        elif code == 9099:
            meta = data.get("error") if isinstance(data, dict) else None
            if isinstance(meta, dict):
                text = meta.get("error_user_msg") or meta.get("message")
                title = meta.get("error_user_title")
                if isinstance(text, str) and text:
                    message = f"{title}: {text}" if isinstance(title, str) and title else text
                code_text = f"9099/{meta.get('code')}"
                if meta.get("error_subcode") is not None:
                    code_text += f"/{meta.get('error_subcode')}"
                trace = meta.get("fbtrace_id")
                request_id = trace if isinstance(trace, str) else None
            hint = "Meta refused the request; act on its message, then plan again"
        elif code == 9000:
            hint = "NXCloud refused a parameter; `wasync validate` may tell which"
        else:
            hint = None
        return ProviderError(
            provider=PROVIDER,
            operation=action,
            code=code_text,
            message=message,
            error_class=ErrorClass.FATAL,
            request_id=request_id,
            http_status=status,
            hint=hint,
        )


_BUG = "wasync sent a request NXCloud does not accept; please report this as a bug"


def _protocol(action: str, detail: str) -> ProtocolError:
    return ProtocolError(provider=PROVIDER, operation=action, detail=detail)


def _object(data: Any, action: str, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _protocol(action, f"{what} is {type(data).__name__}, not an object")
    return data


def _id_of(data: Any, action: str) -> str:
    value = _object(data, action, "data").get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise _protocol(action, "data.id is missing")
    return value


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.content[:limit].decode("utf-8", "replace").strip()
    return repr(text) if text else "(empty reply)"

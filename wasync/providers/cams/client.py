"""The Alibaba Cloud CAMS provider: message QR codes and WhatsApp templates of one account.

Every call is an RPC-style ``POST /`` signed with V3 (``signing.py``), the action and
version in ``x-acs-*`` headers and the business parameters in the query, as SDK 5.3.1 sends
them. Sending, timeouts, transport failures, Retry-After and the debug line are the HTTP
base's (``wasync.providers.http``); this module signs, reads CAMS's envelope (``Code``,
``Message``, ``RequestId``) with its code table, and calls the operations. Wire <->
canonical conversion is ``mapping.py``'s. No retries here: each failure becomes a
``ProviderError`` whose ``ErrorClass`` tells the executor what it may do.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard, Unpack

import httpx

from wasync import __version__
from wasync.cache import CacheFile, CacheStore
from wasync.errors import ConfigError, ErrorClass, ProtocolError, ProviderError
from wasync.log import register_secret
from wasync.model import QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.cams import mapping, signing
from wasync.providers.cams.account import CamsAccount
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.http import Call, HttpOptions, HttpProvider, Reply

API_VERSION = "2020-06-06"
# CAMS documents no maximum Page.Size; 100 is the emulator's and a common Alibaba cap.
LIST_PAGE_SIZE = 100
DETAIL_CONCURRENCY = 4  # detail calls in flight during a refresh; the gate still paces them
_MAX_PAGES = 10_000  # a server that never ends its listing is a protocol error, not a hang

# Codes that say the thing is already gone: a delete that meets them has nothing to do.
ABSENT_CODES = frozenset(
    {
        "DelError.TemplateNotExist",
        "DetailError.TemplateNotExist",
        "ModifyError.TemplateNotExist",
        "InvalidQrdlCode.NotFound",
    }
)
_TRANSIENT_CODES = frozenset(
    {"ServiceUnavailable", "InternalError", "SignatureNonceUsed", "TemplateListError.QueryError"}
)
# The gateway gave up waiting for CAMS, which may have acted meanwhile.
_TIMEOUT_CODES = frozenset({"ServiceTimeout", "GatewayTimeout", "RequestTimeout"})
_BUG = "wasync sent a request CAMS does not accept; please report this as a bug"


_REQUEST_ID = re.compile(r'"RequestId"\s*:\s*"([0-9A-Za-z-]{1,64})"')


def _is_throttling(code: str) -> bool:
    return code.startswith("Throttling") or code == "System.LimitControl"


def classify(code: str, http_status: int | None) -> ErrorClass:
    """How a refusal may be handled: throttling waits, server trouble retries, the rest is
    final. A reused nonce is transient: nothing happened, and a retry signs a fresh one. A
    gateway timeout (504) is not: the service may have acted after the gateway gave up."""
    if _is_throttling(code):
        return ErrorClass.THROTTLED
    if code in _TIMEOUT_CODES or http_status == 504:
        return ErrorClass.UNKNOWN_OUTCOME
    if code in _TRANSIENT_CODES or code.startswith("InternalError"):
        return ErrorClass.TRANSIENT
    if http_status is not None and http_status >= 500:
        return ErrorClass.TRANSIENT
    return ErrorClass.FATAL


def _hints(action: str, account: str) -> dict[str, str]:
    """What the user can do about each code CAMS documents (reference/cams.md §6)."""
    grant = f"grant the RAM identity of account {account} the action cams:{action}"
    endpoint = f"check the endpoint of account {account}: it does not look like the CAMS API"
    return {
        # the error table of the API pages
        "Product.Unsubscript": (
            "subscribe to (activate) Chat App Message Service (CAMS) in the console of the "
            f"Alibaba Cloud account that owns the access key of account {account}, then run "
            "wasync again"
        ),
        "Ram.PermissionDeny": grant,
        "Forbidden.RAM": grant,
        "NoPermission": grant,
        "Unknown.ResourceOwnerId": (
            f"check cust_space_id of account {account}, and that the phone number belongs "
            "to a WABA of that space: CAMS says they are not this access key owner's"
        ),
        # the business codes
        "Authentication.NoAuth": (
            f"the access key of account {account} may not use this space: check "
            "cust_space_id, or have the ISV authorise this customer"
        ),
        "InvalidParameter.MessageInvalid": (
            "CAMS refused the template's content; run wasync validate and check the "
            "component it names"
        ),
        "InvalidParameter.FooterHaveVariable": "remove the {{n}} variable from the FOOTER",
        "InvalidParameter.HeaderMoreVarable": "a HEADER takes at most one {{1}} variable",
        "InvalidParameter.HeaderMoreVariable": "a HEADER takes at most one {{1}} variable",
        "InvalidParameter.HeaderTypeNotSupport": (
            "use a HEADER format CAMS takes: TEXT, IMAGE, DOCUMENT or VIDEO"
        ),
        "InvalidParameter.ButtonTextHaveVariable": "remove the {{n}} variable from button texts",
        "InvalidParameter.UrlMoreVarable": "a URL button takes one {{1}} variable, at its end",
        "InvalidParameter.PhoneNumberError": (
            "use a number of a WABA in this space: country code then number, digits only"
        ),
        "InvalidParameter.TemplateNameExist": (
            "a template with this name and language exists already; run wasync plan again"
        ),
        "InvalidParameter.CreateError": (
            "CAMS could not create the template; check it in the CAMS console (Template "
            "Management), fix what it reports, and run wasync apply again"
        ),
        "InvalidParameter.PageInvalid": _BUG,
        "InvalidParameter.LanguageNotSupport": (
            "use a language code CAMS supports, e.g. en, en_US, zh_CN"
        ),
        "InvalidParameter.AuditStatusNotSupport": (
            "CAMS edits only unreviewed or rejected templates; delete and recreate it instead"
        ),
        "InvalidParameter.TemplateTypeNotSupport": _BUG,
        "TemplateListError.QueryError": "CAMS could not list the templates; retrying is safe",
        # the API gateway's codes
        "SignatureDoesNotMatch": f"check access_key_secret for account {account}",
        "IncompleteSignature": f"check access_key_secret for account {account}",
        "SignatureNonceUsed": "the provider failed before acting; retrying is safe",
        "InvalidTimeStamp.Expired": (
            "this machine's clock is more than 15 minutes off; synchronise it (NTP)"
        ),
        "InvalidTimeStamp.Format": _BUG,
        "InvalidAccessKeyId.NotFound": (
            f"Alibaba Cloud does not know the access_key_id of account {account}; check it"
        ),
        "InvalidAccessKeyId.Inactive": (
            f"the access key of account {account} is disabled; enable it or use another"
        ),
        "MissingCustSpaceId": (
            f"set cust_space_id of account {account} in wasync.yaml: the Space ID (ISV) or "
            "instance ID shown on the Channel Management page of the CAMS console"
        ),
        "MissingParameter": _BUG,
        "UnsupportedHTTPMethod": endpoint,
        "InvalidApi.NotFound": endpoint,
        "InvalidAction": endpoint,
        "InternalError": "the provider failed before acting; retrying is safe",
        "ServiceUnavailable": "the provider failed before acting; retrying is safe",
    }


def hint_for(code: str, action: str, account: str) -> str | None:
    """What the user can do about a refusal, in a few words."""
    known = _hints(action, account).get(code)
    if known is not None:
        return known
    if code in ABSENT_CODES:
        return "it is gone at the provider; run wasync plan again"
    if _is_throttling(code):
        return (
            "the request rate limit was hit; wasync slows down and retries; if it keeps "
            f"happening, lower qps of account {account} (per API: qps: {{{action}: N}})"
        )
    if classify(code, None) is ErrorClass.TRANSIENT:
        return "the provider failed before acting; retrying is safe"
    if code.startswith("Missing"):
        return _BUG
    if code.startswith(("InvalidParameter", "Invalid")):
        return "the provider refused a value; run wasync validate and check the field named"
    return None


def _utc_stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_id(body: Mapping[str, Any]) -> str | None:
    request_id = body.get("RequestId")
    return str(request_id) if request_id else None


def _is_envelope(body: Any) -> TypeGuard[dict[str, Any]]:
    """CAMS's reply: a JSON object with a ``Code`` (``"OK"`` on success)."""
    return isinstance(body, dict) and isinstance(body.get("Code"), str)


Params = Mapping[str, str | None]


class CamsProvider(HttpProvider[Params, dict[str, Any]]):
    """One CAMS account (one access key, optionally one CustSpaceId)."""

    traits = CAMS_TRAITS
    api_name = "the CAMS API"

    def __init__(self, account: CamsAccount, **options: Unpack[HttpOptions]) -> None:
        key_id, secret = account.access_key_id, account.access_key_secret
        missing = [
            name
            for name, value in (("access_key_id", key_id), ("access_key_secret", secret))
            if value is None or not value.get_secret_value()
        ]
        if key_id is None or secret is None or missing:
            verb = "are" if len(missing) > 1 else "is"
            raise ConfigError(
                f"account {account.name}: {' and '.join(missing)} {verb} missing; set "
                "them in wasync.yaml from the environment, e.g. "
                "access_key_secret: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"
            )
        super().__init__(account, **options)
        self._cust_space_id = account.cust_space_id
        self._key_id = key_id
        self._key_secret = secret
        register_secret(self._key_secret.get_secret_value())
        self._details: CacheFile | None = None

    def use_cache(self, store: CacheStore) -> None:
        """Keep template details in ``store``, in a file named by a digest of the account
        (its name, endpoint, space and key id: never a credential in the file or name)."""
        ident = "\0".join(
            (
                self.account,
                self._endpoint(),
                self._cust_space_id or "",
                self._key_id.get_secret_value(),
            )
        )
        digest = hashlib.blake2b(ident.encode(), digest_size=12, person=b"wasync-cams").hexdigest()
        self._details = store.file(f"cams-{digest}", "cams template details")

    # --- the HTTP base's hooks -----------------------------------------------------------------

    def _build_request(self, call: Call[Params]) -> httpx.Request:
        query = {k: v for k, v in call.params.items() if v is not None}
        if self._cust_space_id:
            query["CustSpaceId"] = self._cust_space_id
        body = b""
        signed = {
            "x-acs-action": call.operation,
            "x-acs-version": API_VERSION,
            "x-acs-date": _utc_stamp(self._clock()),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": signing.hashed_payload(body),
        }
        url = "/"
        if query:
            url += "?" + signing.canonical_query(query)
        request = self._http.build_request(
            "POST",
            url,
            headers={**signed, "accept": "application/json", "user-agent": f"wasync/{__version__}"},
            content=body,
        )
        signed["host"] = request.headers["host"]
        request.headers["Authorization"] = signing.authorization(
            access_key_id=self._key_id.get_secret_value(),
            access_key_secret=self._key_secret.get_secret_value(),
            method="POST",
            path=request.url.path,
            query=query,
            headers=signed,
            body=body,
        )
        return request

    def _reply_error(self, call: Call[Params], reply: Reply) -> ProviderError | None:
        body = reply.body
        if not _is_envelope(body) or (reply.status == 200 and body["Code"] == "OK"):
            return None
        code = body["Code"]
        return self._error(
            call.operation,
            code,
            str(body.get("Message") or "no message"),
            classify(code, reply.status),
            hint=hint_for(code, call.operation, self.account),
            request_id=_request_id(body),
            http_status=reply.status,
        )

    def _reply_result(self, call: Call[Params], reply: Reply) -> dict[str, Any]:
        body = reply.body
        if _is_envelope(body):
            return body
        request_id = reply.headers.get("x-acs-request-id")
        if isinstance(body, dict):
            request_id = _request_id(body) or request_id
            detail = "the reply has no Code"
        elif body is None:
            detail = f"the reply is not JSON: {reply.excerpt(120)}"
            # A cut-off reply may still show its RequestId, which support will ask for.
            found = _REQUEST_ID.search(reply.content[:4096].decode("utf-8", "replace"))
            request_id = request_id or (found.group(1) if found else None)
        else:
            detail = "the reply is not a JSON object"
        raise self._malformed(call.operation, detail, request_id)

    def _describe_reply(self, reply: Reply) -> str:
        body = reply.body
        if isinstance(body, dict):
            return f"Code={body.get('Code')} RequestId={body.get('RequestId')}"
        return reply.response.reason_phrase

    def _provider_retry_after(self, headers: httpx.Headers) -> float | None:
        raw = headers.get("x-acs-retry-after")  # milliseconds
        if raw and raw.strip().isdigit() and int(raw) > 0:
            return int(raw) / 1000.0
        return None

    def _server_error_class(self, call: Call[Params], status: int) -> ErrorClass:
        return classify("", status)

    # --- CAMS replies --------------------------------------------------------------------------

    def _bad_reply(self, action: str, body: Mapping[str, Any], detail: str) -> ProtocolError:
        return self._malformed(action, detail, _request_id(body))

    def _data_object(self, action: str, body: Mapping[str, Any], *keys: str) -> dict[str, Any]:
        data = body.get("Data")
        if not isinstance(data, dict):
            raise self._bad_reply(action, body, "the reply has no Data object")
        for key in keys:
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise self._bad_reply(action, body, f"the reply's Data has no {key}")
        return data

    async def _delete(self, action: str, params: Mapping[str, str | None]) -> None:
        try:
            await self._call(action, params)
        except ProviderError as exc:
            if exc.code not in ABSENT_CODES:
                raise
            # Already gone (a re-run after an interrupted apply): the delete is done.

    # --- QR codes ----------------------------------------------------------------------------

    async def list_qr_codes(self, phone: str) -> list[RemoteQrCode]:
        action = "ListPhoneMessageQrdl"
        body = await self._read(action, {"PhoneNumber": phone})
        data = body.get("Data")
        if data is None:
            return []
        if not isinstance(data, list):
            raise self._bad_reply(action, body, "the reply's Data is not a list")
        codes = []
        for item in data:
            code = item.get("QrdlCode") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(code, str) or not code.strip():
                raise self._bad_reply(action, body, "a listed QR code has no QrdlCode")
            codes.append(mapping.qr_from_wire(self.account, phone, item))
        return codes

    async def create_qr_code(self, qr: QrCode) -> RemoteQrCode:
        action = "CreatePhoneMessageQrdl"
        body = await self._call(action, mapping.qr_params(qr))
        data = self._data_object(action, body, "QrdlCode")
        return mapping.qr_from_wire(self.account, qr.phone, data)

    async def update_qr_code(self, current: RemoteQrCode, desired: QrCode) -> RemoteQrCode:
        action = "UpdatePhoneMessageQrdl"
        params = {
            **mapping.qr_params(desired),
            "PhoneNumber": current.phone,
            "QrdlCode": current.code,
        }
        body = await self._call(action, params)
        data = self._data_object(action, body, "QrdlCode")
        return mapping.qr_from_wire(self.account, current.phone, data)

    async def delete_qr_code(self, current: RemoteQrCode) -> None:
        await self._delete(
            "DeletePhoneMessageQrdl", {"PhoneNumber": current.phone, "QrdlCode": current.code}
        )

    # --- templates ---------------------------------------------------------------------------

    async def _list_all(self, **filters: str) -> list[RemoteTemplate]:
        """Every page of ListChatappTemplate; ``filters`` are its own (``Name``, ...)."""
        action = "ListChatappTemplate"
        listed: dict[tuple[str, str], RemoteTemplate] = {}
        received = 0
        for index in range(1, _MAX_PAGES + 1):
            page = mapping.compact_json({"Index": index, "Size": LIST_PAGE_SIZE})
            body = await self._read(
                action, {**filters, "TemplateType": mapping.TEMPLATE_TYPE, "Page": page}
            )
            items = body.get("ListTemplate") or []
            total = body.get("Total")
            if not isinstance(items, list) or (total is not None and not isinstance(total, int)):
                raise self._bad_reply(
                    action, body, "ListTemplate is not a list or Total not a number"
                )
            for item in items:
                try:
                    template = mapping.template_from_list(self.account, item)
                except (KeyError, TypeError, AttributeError):
                    raise self._bad_reply(
                        action,
                        body,
                        "a listed template lacks TemplateCode, TemplateName or Language",
                    ) from None
                listed.setdefault((template.id, template.language), template)
            # With Total, the listing ends once that many came back (a server may cap the
            # page below LIST_PAGE_SIZE); only without it does a short page end it.
            received += len(items)
            done = received >= total if total is not None else len(items) < LIST_PAGE_SIZE
            if done or not items:
                return list(listed.values())
        raise self._bad_reply(action, {}, f"the listing did not end after {_MAX_PAGES} pages")

    async def _detail(self, template: RemoteTemplate) -> RemoteTemplate | None:
        """The template with its components: from the cache when its listing's
        ``LastUpdateTime`` (and status and category) are those of a detail read before,
        else by GetChatappTemplateDetail (kept in the cache)."""
        key = _detail_key(template)
        cache = self._details if key is not None else None
        if cache is not None and key is not None:
            cached = cache.get(key)
            if isinstance(cached, dict) and _same_version(cached, template):
                try:
                    return mapping.template_from_detail(self.account, cached, template)
                except (KeyError, TypeError, ValueError, AttributeError):
                    pass  # a damaged entry: read the remote
            if cached is not None:
                cache.discard(key)
        action = "GetChatappTemplateDetail"
        try:
            body = await self._read(
                action,
                {
                    "TemplateCode": template.id,
                    "Language": template.language,
                    "TemplateType": mapping.TEMPLATE_TYPE,
                },
            )
        except ProviderError as exc:
            if exc.code in ABSENT_CODES:
                return None  # deleted since the listing
            raise
        data = self._data_object(action, body, "TemplateCode", "Name", "Language")
        try:
            detailed = mapping.template_from_detail(self.account, data, template)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._bad_reply(
                action, body, f"the template detail is malformed: {exc}"
            ) from None
        if cache is not None and key is not None and _same_version(data, template):
            cache.put(key, data)
        return detailed

    async def list_templates(
        self, phones: Collection[str], detail_for: Collection[tuple[str, str]] | None = None
    ) -> list[RemoteTemplate]:
        """Every WhatsApp template of the account's space (``phones`` is ignored: CAMS
        templates belong to the space). Details only for ``detail_for`` (None: all)."""
        listed = await self._list_all()
        wanted = None if detail_for is None else set(detail_for)
        limiter = asyncio.Semaphore(DETAIL_CONCURRENCY)

        async def fetch(template: RemoteTemplate) -> RemoteTemplate | None:
            if wanted is not None and (template.name, template.language) not in wanted:
                return template
            async with limiter:
                return await self._detail(template)

        tasks = [asyncio.ensure_future(fetch(t)) for t in listed]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            # The first failure is the answer; stop the other detail calls before raising it.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [t for t in results if t is not None]

    async def find_template(
        self, phone: str | None, name: str, language: str
    ) -> RemoteTemplate | None:
        """ListChatappTemplate filtered by ``Name`` and ``Language``, then the detail of the
        match (``phone`` is ignored, as in ``list_templates``). The ``Name`` filter may match
        more than the exact name, so the exact one is picked here."""
        listed = await self._list_all(Name=name, Language=language)
        for template in listed:
            if (template.name, template.language) == (name, language):
                return await self._detail(template)
        return None

    def _template_params(self, action: str, template: Template) -> dict[str, str]:
        try:
            return mapping.template_params(template)
        except mapping.CamsUnsupportedError as exc:
            raise self._error(
                action,
                "UnsupportedByCams",
                f"{template.address}: {exc}",
                ErrorClass.FATAL,
                hint="change the spec; CAMS cannot hold this template as written",
            ) from None

    def _created(self, template: Template, data: Mapping[str, Any]) -> RemoteTemplate:
        return RemoteTemplate(
            account=self.account,
            phone=None,
            id=str(data["TemplateCode"]),
            name=template.name,
            language=template.language,
            category=template.category,
            status="PENDING",  # a created or modified template goes to review
            components=tuple(template.canonical_components()),
            message_send_ttl_seconds=template.message_send_ttl_seconds,
        )

    async def create_template(self, template: Template) -> RemoteTemplate:
        action = "CreateChatappTemplate"
        body = await self._call(action, self._template_params(action, template))
        return self._created(template, self._data_object(action, body, "TemplateCode"))

    async def update_template(self, current: RemoteTemplate, desired: Template) -> RemoteTemplate:
        action = "ModifyChatappTemplate"
        params: dict[str, str | None] = {**self._template_params(action, desired)}
        # Name and category are fixed once created; the code and language say which one.
        params.pop("Name")
        params.pop("Category")
        params["TemplateCode"] = current.id
        params["Language"] = current.language
        body = await self._call(action, params)
        return self._created(desired, self._data_object(action, body, "TemplateCode"))

    async def delete_template(self, current: RemoteTemplate) -> None:
        """Only ``current.language`` goes: CAMS deletes every language without one."""
        await self._delete(
            "DeleteChatappTemplate",
            {
                "TemplateCode": current.id,
                "Language": current.language,
                "TemplateType": mapping.TEMPLATE_TYPE,
            },
        )


def _detail_key(template: RemoteTemplate) -> str | None:
    """What a cached detail is filed under: the template's code, language and the
    ``LastUpdateTime`` of its listing (None without one: not cached)."""
    if template.updated_at is None:
        return None
    return f"{template.id}\t{template.language}\t{template.updated_at.isoformat()}"


def _same_version(data: Mapping[str, Any], template: RemoteTemplate) -> bool:
    """The detail ``data`` agrees with the template's listing on what both carry."""
    return (
        mapping.status_from_wire(str(data.get("AuditStatus") or "")) == template.status
        and str(data.get("Category") or "") == template.category
        and str(data.get("TemplateCode")) == template.id
        and str(data.get("Language")) == template.language
    )

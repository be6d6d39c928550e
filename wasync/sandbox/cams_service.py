"""What the CAMS emulator holds and how its operations behave (reference/cams.md §2, §3, §8).

``CamsEmulator`` is the service behind the gateway: message QR codes kept per
(CustSpaceId, phone) and WhatsApp templates per CustSpaceId, with the reply shapes of SDK
5.3.1. It sees parameters that the HTTP layer (``wasync/sandbox/cams.py``) has already
authenticated, merged and decoded.

Choices where the reference leaves CAMS unspecified (each is an emulator decision):

- Business refusals (a duplicate name, an unknown template, a status that forbids an edit)
  answer HTTP 200 with ``Code`` set, the way the SDK lets them through; requests that lack a
  required parameter are refused by the gateway with HTTP 400 ``Missing{Name}``.
- ``Page.Size`` is at most ``MAX_PAGE_SIZE`` (100); more, or an index below 1, is
  ``InvalidParameter.PageInvalid``.
- A template name gets one ``TemplateCode``; each of its languages is a (code, language) pair.
- An unknown QR code is ``InvalidQrdlCode.NotFound`` (the gateway's ``Invalid{Name}.NotFound``
  pattern); an unknown template is ``DelError.TemplateNotExist`` on delete,
  ``DetailError.TemplateNotExist`` on detail and ``ModifyError.TemplateNotExist`` on modify.
- A missing ``CustSpaceId`` means the caller's own (direct-customer) space, where it is
  optional: CreateChatappTemplate, ModifyChatappTemplate and GetChatappTemplateDetail
  require it (the current API metadata), and refuse without it (``MissingCustSpaceId``).
- ``page_cap`` makes ListChatappTemplate return fewer templates a page than ``Page.Size``
  asks, with the full ``Total``, as a server with a lower cap than the client expects.
- UpdatePhoneMessageQrdl answers with the new code followed by a newline, as its documented
  example shows; lookups by ``QrdlCode`` ignore surrounding white space.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import secrets
import string
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from wasync.sandbox.cams_wire import (
    DOCUMENTED_ERRORS,
    ApiError,
    boolean,
    component_out,
    invalid,
    missing,
    parse_components,
    parse_page,
    required_str,
)
from wasync.sandbox.common import Clock, JsonState, JsonText, encode_json, encode_json_nan

VERSION = "2020-06-06"
MAX_PREFILLED_MESSAGE = 140  # Meta's limit, which CAMS passes on

CAMS_STATUSES = ("pass", "fail", "auditing", "unaudit")
_CANONICAL_TO_CAMS = {
    "APPROVED": "pass",
    "REJECTED": "fail",
    "PENDING": "auditing",
    "DRAFT": "unaudit",
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_PHONE = re.compile(r"^[1-9][0-9]{5,19}$")
Reply = dict[str, Any]


_REJECT = re.compile(r"sandbox:reject(?::([A-Z_]+))?")


def sandbox_rejection(components: Any) -> str | None:
    """Not CAMS: the sandbox's review rejects a template whose text holds
    ``sandbox:reject`` (``sandbox:reject:PROMOTIONAL`` names the reason; else
    ``INVALID_FORMAT``), so a rejection can be tried. The reason, or None to approve."""
    found = _REJECT.search(json.dumps(components))
    return None if found is None else found.group(1) or "INVALID_FORMAT"


class CamsEmulator:
    """State and behaviour of the emulated CAMS service.

    Thread-safe: the HTTP app and a test (through ``set_template_status``) may act at once.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        approve_after: float | None = None,
        state: JsonState | None = None,
        page_cap: int | None = None,
    ) -> None:
        self.clock = clock
        self.approve_after = approve_after
        self.page_cap = page_cap  # at most this many templates a page, whatever Size asks
        self._failures: list[tuple[str | None, ApiError]] = []
        self._store = state or JsonState(None, "cams")
        self._lock = threading.RLock()
        self._store.attach(self._lock)
        self._data: dict[str, Any] = self._store.load() or {"spaces": {}}
        # A space's QR codes are kept per phone as their encoded JSON text (``_stored``):
        # a code is only ever listed, replaced or deleted, never changed in place.
        # And a template's Components as their encoded text: replaced, never changed.
        migrated = _compact_qr(self._data["spaces"])
        migrated = _compact_templates(self._data["spaces"]) or migrated
        # Lookups that do not scan every template: (name, language) and (code, language)
        # of each space's templates, and the reviews due, soonest first.
        self._index: dict[str, _SpaceIndex] = {}
        self._reviews: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._version = 0  # bumped at every change: listings reuse their matches until then
        self._listed: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for space_id, space in self._data["spaces"].items():
            self._index[space_id] = _SpaceIndex(space["templates"])
            for tpl in space["templates"]:
                self._queue_review(tpl)
        self.calls: Counter[str] = Counter()  # accepted calls by action, for tests and benches
        self.operations: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "CreatePhoneMessageQrdl": self.create_qrdl,
            "UpdatePhoneMessageQrdl": self.update_qrdl,
            "ListPhoneMessageQrdl": self.list_qrdl,
            "DeletePhoneMessageQrdl": self.delete_qrdl,
            "CreateChatappTemplate": self.create_template,
            "ModifyChatappTemplate": self.modify_template,
            "ListChatappTemplate": self.list_templates,
            "GetChatappTemplateDetail": self.template_detail,
            "DeleteChatappTemplate": self.delete_template,
        }
        # Operations that carry Success in their reply (the template ones, SDK models).
        self.with_success = {name for name in self.operations if "Chatapp" in name}
        if migrated:  # written once in the compact form
            self._store.save(self._data)

    # --- plumbing ------------------------------------------------------------------------

    def call(self, action: str, params: dict[str, Any]) -> Reply:
        with self._lock:
            self.calls[action] += 1
            self._settle_reviews()
            return self.operations[action](params)

    @contextmanager
    def _mutation(self) -> Iterator[None]:
        with self._lock:
            yield
            self._changed()

    def flush(self) -> None:
        """Write the state's last changes now (``common.JsonState.flush``)."""
        self._store.flush()

    def release(self) -> None:
        """Write the state's last changes and let go of it: this emulator is not used
        again (``common.InProcessTransport.release``)."""
        with self._lock:
            self._store.release()
            self._data, self._index, self._listed, self._reviews = {"spaces": {}}, {}, {}, []

    @property
    def state_file(self) -> JsonState:
        return self._store

    def _changed(self) -> None:
        self._version += 1
        self._listed.clear()
        self._store.save(self._data)

    def _space(self, params: dict[str, Any]) -> dict[str, Any]:
        space_id = str(params.get("CustSpaceId") or "")
        spaces: dict[str, dict[str, Any]] = self._data["spaces"]
        space = spaces.get(space_id)
        if space is None:
            space = spaces[space_id] = {"qr": {}, "templates": []}
            self._index[space_id] = _SpaceIndex(space["templates"])
        return space

    def _indexed(self, space: dict[str, Any]) -> _SpaceIndex:
        for space_id, found in self._data["spaces"].items():
            if found is space:
                return self._index[space_id]
        raise KeyError("not a space of this emulator")

    def _settle_reviews(self) -> None:
        if self.approve_after is None:
            return
        now = self.clock()
        changed = False
        while self._reviews and self._reviews[0][0] <= now:
            due, _, tpl = heapq.heappop(self._reviews)
            if tpl["AuditStatus"] == "auditing" and tpl.get("ReviewDue") == due:
                found = _REJECT.search(tpl["Components"])  # as sandbox_rejection's
                reason = None if found is None else found.group(1) or "INVALID_FORMAT"
                tpl["AuditStatus"], tpl["Reason"] = ("fail", reason) if reason else ("pass", "")
                tpl["ReviewDue"] = None
                tpl["LastUpdateTime"] = int(now * 1000)
                changed = True
        if changed:
            self._changed()

    def _start_review(self, tpl: dict[str, Any]) -> None:
        now = self.clock()
        tpl["AuditStatus"] = "auditing"
        tpl["Reason"] = ""
        tpl["ReviewDue"] = None if self.approve_after is None else now + self.approve_after
        tpl["LastUpdateTime"] = int(now * 1000)
        self._queue_review(tpl)

    def _queue_review(self, tpl: dict[str, Any]) -> None:
        due = tpl.get("ReviewDue")
        if tpl["AuditStatus"] == "auditing" and due is not None:
            heapq.heappush(self._reviews, (due, next(self._seq), tpl))

    # --- test and inspection helpers -------------------------------------------------------

    def fail_next(self, code: str, *, action: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``action`` (any when None), once their
        signature is checked, with the documented error ``code`` (``DOCUMENTED_ERRORS``:
        its HTTP status and message), without acting."""
        if code not in DOCUMENTED_ERRORS:
            raise ValueError(f"{code!r} is not a documented CAMS error code")
        status, message = DOCUMENTED_ERRORS[code]
        with self._lock:
            self._failures += [(action, ApiError(status, code, message))] * times

    def take_failure(self, action: str) -> ApiError | None:
        """The failure ``fail_next`` set up for this request, if any."""
        with self._lock:
            for i, (wanted, error) in enumerate(self._failures):
                if wanted in (None, action):
                    del self._failures[i]
                    return error
            return None

    def _spaces(self, cust_space_id: str | None) -> list[dict[str, Any]]:
        if cust_space_id is None:
            return list(self._data["spaces"].values())
        return [self._space({"CustSpaceId": cust_space_id})]

    def set_template_status(
        self,
        code: str,
        language: str,
        status: str,
        reason: str = "",
        *,
        cust_space_id: str | None = None,
    ) -> None:
        """Decide a review: ``status`` is a CAMS AuditStatus (pass, fail, auditing,
        unaudit) or its canonical name (APPROVED, REJECTED, PENDING, DRAFT). Template codes
        are unique, so the space need not be named."""
        cams = _CANONICAL_TO_CAMS.get(status, status)
        if cams not in CAMS_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(CAMS_STATUSES)}")
        with self._mutation():
            found = [
                tpl
                for space in self._spaces(cust_space_id)
                if (tpl := self._find_template(space, code, None, language)) is not None
            ]
            if not found:
                raise KeyError(f"no template {code} in {language}")
            tpl = found[0]
            tpl["AuditStatus"] = cams
            tpl["Reason"] = reason if cams == "fail" else ""
            tpl["ReviewDue"] = None
            tpl["LastUpdateTime"] = int(self.clock() * 1000)

    def templates(self, cust_space_id: str | None = None) -> list[dict[str, Any]]:
        """Stored templates (of one space, or of all when None), as copies."""
        with self._lock:
            return [
                {**t, "Components": json.loads(t["Components"])}
                for space in self._spaces(cust_space_id)
                for t in space["templates"]
            ]

    def qr_codes(self, phone: str, cust_space_id: str | None = None) -> list[dict[str, Any]]:
        """Stored QR codes of ``phone`` (in one space, or in all when None), as copies."""
        with self._lock:
            return [
                json.loads(q)
                for space in self._spaces(cust_space_id)
                for q in space["qr"].get(phone, [])
            ]

    # --- message QR codes ------------------------------------------------------------------

    def _qr_params(self, params: dict[str, Any], *, full: bool) -> tuple[str, str, str]:
        phone = required_str(params, "PhoneNumber")
        if not _PHONE.match(phone):
            raise invalid(
                "InvalidParameter.PhoneNumberError",
                "The phone number is invalid: country code then number, digits only, no +.",
            )
        if not full:
            return phone, "", ""
        image = required_str(params, "GenerateQrImage")
        if image not in ("PNG", "SVG"):
            raise ApiError(400, "InvalidParameter", "GenerateQrImage must be PNG or SVG.")
        message = required_str(params, "PrefilledMessage")
        if len(message) > MAX_PREFILLED_MESSAGE:
            raise invalid(
                "InvalidParameter.MessageInvalid",
                f"PrefilledMessage is longer than {MAX_PREFILLED_MESSAGE} characters.",
            )
        return phone, image, message

    def _new_qr(self, phone: str, image: str, message: str) -> dict[str, Any]:
        alphabet = string.ascii_uppercase + string.digits
        # One read of the system's randomness for the code, not one per character.
        code = "".join(alphabet[b % len(alphabet)] for b in secrets.token_bytes(14))
        return {
            "QrdlCode": code,
            "PhoneNumber": phone,
            "PrefilledMessage": message,
            "GenerateQrImage": image,
            "DeepLinkUrl": f"https://wa.me/message/{code}",
            "QrImageUrl": f"https://scontent.sandbox.invalid/qrdl/{code}.{image.lower()}",
        }

    def create_qrdl(self, params: dict[str, Any]) -> Reply:
        phone, image, message = self._qr_params(params, full=True)
        with self._mutation():
            qr = self._new_qr(phone, image, message)
            self._space(params)["qr"].setdefault(phone, []).append(_stored(qr))
        return {"Data": qr}

    def update_qrdl(self, params: dict[str, Any]) -> Reply:
        phone, image, message = self._qr_params(params, full=True)
        code = required_str(params, "QrdlCode")
        with self._mutation():
            codes = self._space(params)["qr"].get(phone, [])
            index = _index_of_code(codes, code)
            # CAMS: the original code stops working after an update; a new one replaces it.
            qr = self._new_qr(phone, image, message)
            codes[index] = _stored(qr)
        # The documented reply of UpdatePhoneMessageQrdl shows the code with a trailing
        # newline ("QrdlCode": "D9AA3***\n"); the code itself has none.
        return {"Data": {**qr, "QrdlCode": qr["QrdlCode"] + "\n"}}

    def list_qrdl(self, params: dict[str, Any]) -> Reply:
        phone, _, _ = self._qr_params(params, full=False)
        return {"Data": [JsonText(q) for q in self._space(params)["qr"].get(phone, [])]}

    def delete_qrdl(self, params: dict[str, Any]) -> Reply:
        phone, _, _ = self._qr_params(params, full=False)
        code = required_str(params, "QrdlCode")
        with self._mutation():
            codes = self._space(params)["qr"].get(phone, [])
            del codes[_index_of_code(codes, code)]
        return {}

    # --- templates -------------------------------------------------------------------------

    def _find_template(
        self, space: dict[str, Any], code: str | None, name: str | None, language: str | None
    ) -> dict[str, Any] | None:
        index = self._indexed(space)
        if language and (code or name):
            tpl = (
                index.by_code.get((code, language)) if code else index.by_name.get((name, language))
            )
            if tpl is None or (name and tpl["Name"] != name):
                return None
            return tpl
        for tpl in space["templates"]:
            if code and tpl["TemplateCode"] != code:
                continue
            if name and tpl["Name"] != name:
                continue
            if language and tpl["Language"] != language:
                continue
            return tpl  # type: ignore[no-any-return]
        return None

    def _template_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        components = parse_components(params.get("Components"))
        example = params.get("Example")
        if example is None:
            example = {}
        if not isinstance(example, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in example.items()
        ):
            raise ApiError(400, "InvalidParameter", "Example must be a JSON object of strings.")
        # Kept as text (``_compact_templates``); NaN as the replies' json.dumps writes it.
        fields: dict[str, Any] = {"Components": encode_json_nan(components), "Example": example}
        ttl = params.get("MessageSendTtlSeconds")
        if ttl not in (None, ""):
            try:
                seconds = int(ttl)
            except ValueError:
                raise ApiError(
                    400, "InvalidParameter", "MessageSendTtlSeconds must be an integer."
                ) from None
            if not 30 <= seconds <= 2592000:
                raise ApiError(
                    400, "InvalidParameter", "MessageSendTtlSeconds must be within 30..2592000."
                )
            fields["MessageSendTtlSeconds"] = seconds
        if "CategoryChangePaused" in params:
            fields["CategoryChangePaused"] = boolean(params["CategoryChangePaused"])
        return fields

    def create_template(self, params: dict[str, Any]) -> Reply:
        required_str(params, "CustSpaceId")  # required by the current API metadata
        name = required_str(params, "Name")
        language = required_str(params, "Language")
        category = required_str(params, "Category")
        template_type = required_str(params, "TemplateType")
        if "Components" not in params:
            raise missing("Components")
        _check_template_type(template_type)
        if not _NAME.match(name):
            raise invalid(
                "InvalidParameter",
                "Name may hold only lower-case letters, digits and underscores (1..512).",
            )
        if not _LANGUAGE.match(language):
            raise invalid(
                "InvalidParameter.LanguageNotSupport", f"Language {language} is not supported."
            )
        if category not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
            raise invalid("InvalidParameter", f"Category {category} is not supported.")
        fields = self._template_fields(params)
        with self._mutation():
            space = self._space(params)
            if self._find_template(space, None, name, language):
                raise invalid(
                    "InvalidParameter.TemplateNameExist",
                    "A template with this name already exists in this language.",
                )
            same_name = self._find_template(space, None, name, None)
            code = same_name["TemplateCode"] if same_name else secrets.token_hex(16)
            tpl: dict[str, Any] = {
                "TemplateCode": code,
                "Name": name,
                "Language": language,
                "Category": category,
                "TemplateType": template_type,
                "QualityScore": "UNKNOWN",
                "AllowSend": True,
                "CategoryChangePaused": False,
                "MessageSendTtlSeconds": None,
                **fields,
            }
            self._start_review(tpl)
            space["templates"].append(tpl)
            self._indexed(space).add(tpl)
        return {"Data": {"TemplateCode": code, "TemplateName": name}}

    def modify_template(self, params: dict[str, Any]) -> Reply:
        required_str(params, "CustSpaceId")  # required by the current API metadata
        language = required_str(params, "Language")
        code = str(params.get("TemplateCode") or "")
        name = str(params.get("TemplateName") or "")
        if not code and not name:
            raise missing("TemplateCode")
        if "Components" not in params:
            raise missing("Components")
        fields = self._template_fields(params)
        with self._mutation():
            tpl = self._find_template(self._space(params), code, name, language)
            if tpl is None:
                raise invalid("ModifyError.TemplateNotExist", "The template does not exist.")
            if tpl["AuditStatus"] not in ("unaudit", "fail"):
                raise invalid(
                    "InvalidParameter.AuditStatusNotSupport",
                    "Only templates that are not yet reviewed or were rejected can be modified "
                    f"(this one is {tpl['AuditStatus']}).",
                )
            tpl.update(fields)
            self._start_review(tpl)
        return {"Data": {"TemplateCode": tpl["TemplateCode"], "TemplateName": tpl["Name"]}}

    def list_templates(self, params: dict[str, Any]) -> Reply:
        index, size = parse_page(params.get("Page"))
        status = params.get("AuditStatus")
        if status and status not in CAMS_STATUSES:
            raise invalid(
                "InvalidParameter.AuditStatusNotSupport", f"AuditStatus {status} is not supported."
            )
        if params.get("TemplateType"):
            _check_template_type(str(params["TemplateType"]))
        filters = {
            "TemplateCode": params.get("Code"),
            "Language": params.get("Language"),
            "AuditStatus": status,
            "Category": params.get("Category"),
            "TemplateType": params.get("TemplateType"),
        }
        name = params.get("Name")
        space = self._space(params)
        listing = (id(space), name, *filters.values())
        matches = self._listed.get(listing)
        if matches is None:  # the pages of one listing filter once, until a change
            matches = self._listed[listing] = [
                t
                for t in space["templates"]
                if all(not want or t[key] == want for key, want in filters.items())
                and (not name or name in t["Name"])
            ]
        if self.page_cap:
            size = min(size, self.page_cap)  # silently, as a server that caps pages does
        page = matches[(index - 1) * size : index * size]
        return {
            "Total": len(matches),
            "ListTemplate": [
                {
                    "TemplateCode": t["TemplateCode"],
                    "TemplateName": t["Name"],
                    "Language": t["Language"],
                    "Category": t["Category"],
                    "AuditStatus": t["AuditStatus"],
                    "TemplateType": t["TemplateType"],
                    "Reason": t["Reason"],
                    "LastUpdateTime": t["LastUpdateTime"],
                }
                for t in page
            ],
        }

    def template_detail(self, params: dict[str, Any]) -> Reply:
        required_str(params, "CustSpaceId")  # required by the current API metadata
        language = required_str(params, "Language")
        code = str(params.get("TemplateCode") or "")
        name = str(params.get("TemplateName") or "")
        if not code and not name:
            raise missing("TemplateCode")
        tpl = self._find_template(self._space(params), code, name, language)
        if tpl is None:
            raise invalid("DetailError.TemplateNotExist", "The template does not exist.")
        data = {
            "TemplateCode": tpl["TemplateCode"],
            "Name": tpl["Name"],  # Name here, TemplateName everywhere else (SDK model)
            "Language": tpl["Language"],
            "Category": tpl["Category"],
            "TemplateType": tpl["TemplateType"],
            "AuditStatus": tpl["AuditStatus"],
            "Reason": tpl["Reason"],
            "QualityScore": tpl["QualityScore"],
            "Components": [component_out(c) for c in json.loads(tpl["Components"])],
            "Example": dict(tpl["Example"]),
            "AllowSend": tpl["AllowSend"],
            "CategoryChangePaused": tpl["CategoryChangePaused"],
        }
        if tpl["MessageSendTtlSeconds"] is not None:  # an int when set, absent when not
            data["MessageSendTtlSeconds"] = tpl["MessageSendTtlSeconds"]
        return {"Data": data}

    def delete_template(self, params: dict[str, Any]) -> Reply:
        code = str(params.get("TemplateCode") or "")
        name = str(params.get("TemplateName") or "")
        language = str(params.get("Language") or "")
        if not code and not name:
            raise missing("TemplateCode")
        if language and not params.get("TemplateType"):
            raise missing("TemplateType")  # "required when deleting with a language"
        with self._mutation():
            space = self._space(params)
            keep = [
                t
                for t in space["templates"]
                if (code and t["TemplateCode"] != code)
                or (name and t["Name"] != name)
                or (language and t["Language"] != language)
            ]
            if len(keep) == len(space["templates"]):
                raise invalid("DelError.TemplateNotExist", "The template does not exist.")
            space["templates"][:] = keep
            self._indexed(space).rebuild()
        return {}


# --- helpers -------------------------------------------------------------------------------


def _check_template_type(template_type: str) -> None:
    if template_type not in ("WHATSAPP", "VIBER"):
        raise invalid(
            "InvalidParameter.TemplateTypeNotSupport",
            f"TemplateType {template_type} is not supported; use WHATSAPP or VIBER.",
        )


def _stored(qr: dict[str, Any]) -> str:
    """A QR code as kept: its encoded text, listed as is (``common.JsonText``)."""
    return encode_json(qr)


def _compact_qr(spaces: dict[str, Any]) -> bool:
    """Every space's QR codes as their encoded text (``_stored``), in place; True when
    some were decoded (a state written before codes were kept as text)."""
    migrated = False
    for space in spaces.values():
        for codes in space["qr"].values():
            for i, qr in enumerate(codes):
                if not isinstance(qr, str):
                    codes[i], migrated = _stored(qr), True
    return migrated


_FEW_VALUES = ("Language", "Category", "TemplateType", "QualityScore", "AuditStatus", "Reason")


def _compact_templates(spaces: dict[str, Any]) -> bool:
    """Every template's Components as their encoded text, in place (equal texts kept once),
    and the few distinct statuses, categories and languages kept once each; True when some
    Components were decoded (a state written before they were kept as text)."""
    texts: dict[str, str] = {}
    migrated = False
    for space in spaces.values():
        for tpl in space["templates"]:
            text = tpl["Components"]
            if not isinstance(text, str):
                text, migrated = encode_json_nan(text), True
            tpl["Components"] = texts.setdefault(text, text)
            for key in _FEW_VALUES:
                if type(value := tpl.get(key)) is str:
                    tpl[key] = sys.intern(value)
    return migrated


def _index_of_code(codes: list[str], code: str) -> int:
    for i, qr in enumerate(codes):
        if json.loads(qr)["QrdlCode"] == code.strip():
            return i
    raise invalid(
        "InvalidQrdlCode.NotFound", f"The QR code {code} does not exist for this phone number."
    )


class _SpaceIndex:
    """A space's templates by (name, language) and by (code, language)."""

    def __init__(self, templates: list[dict[str, Any]]) -> None:
        self.templates = templates
        self.by_name: dict[tuple[str | None, str], dict[str, Any]] = {}
        self.by_code: dict[tuple[str | None, str], dict[str, Any]] = {}
        self.rebuild()

    def rebuild(self) -> None:
        self.by_name.clear()
        self.by_code.clear()
        for tpl in self.templates:
            self.add(tpl)

    def add(self, tpl: dict[str, Any]) -> None:
        self.by_name.setdefault((tpl["Name"], tpl["Language"]), tpl)
        self.by_code.setdefault((tpl["TemplateCode"], tpl["Language"]), tpl)

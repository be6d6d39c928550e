"""The Meta emulator's world: WhatsApp Business Accounts (WABAs), their numbers, message
templates and QR codes, uploads, and Meta's rules, as the Graph API enforces them.

``MetaWorld`` holds the state and answers each operation with the JSON Graph returns, or
raises ``GraphError`` with Graph's error object. The HTTP side (tokens, paths, rate
limits, the usage header, faults) is ``wasync.sandbox.meta``.

What it emulates (reference/meta-whatsapp.md), and the choices where Meta is silent:

- a WABA exists once it is named (or only the WABAs ``wabas`` lists), and holds the
  numbers ``wabas`` gives it (default: three sandbox numbers, ``SANDBOX_NUMBERS``), each
  with a phone-number id;
- templates per WABA, unique by name and language (100/2388024); new and edited templates
  are PENDING, and ``approve_after`` seconds later review decides: APPROVED, or REJECTED
  when a text of the template holds ``sandbox:reject`` (``rejected_reason``
  INVALID_FORMAT) or ``sandbox:reject:REASON``; ``POST /_sandbox/review`` and ``review``
  set any status;
- editing: only APPROVED, REJECTED or PAUSED templates; an approved template's category
  cannot change; an approved template takes one edit per 24 hours and ten per 30 days; an
  edit goes back to review;
- deleting: ``name`` deletes every language, ``hsm_id`` + ``name`` one; an approved name
  deleted cannot be created again for 30 days (100/2388023, Meta's "being deleted" words);
- Meta's read-back forms: an OTP button as a URL button on
  ``https://www.whatsapp.com/otp/code/``, authentication wording filled in, a media sample
  as a CDN link in ``header_handle``; only the fields a listing asks for (``fields``);
- media samples: ``header_handle`` must be a handle the Resumable Upload API issued;
- QR codes per number, at most 2,000; an update keeps the code and its short link;
- listings page with opaque cursors (keyset, so a deleted item does not shift a page);
  ``paging.next`` only when there is more, and no ``paging`` at all on a listing of one
  page (as the documented examples of short lists show).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from wasync.sandbox.common import Clock, JsonState
from wasync.sandbox.meta_behaviour import (
    CATEGORIES,
    EDITABLE,
    OTP_URL,
    STATUSES,
    authentication_body,
    otp_as_url,
)

GRAPH = "https://graph.facebook.com"
DAY = 86_400.0
NAME_LOCK = 30 * DAY
DEFAULT_PAGE = 25  # Graph's default page size
MAX_PAGE = 100
QR_LIMIT = 2000
PREFILLED_MAX = 140
# Numbers every WABA holds unless ``wabas`` says otherwise (display form, as Graph shows it).
SANDBOX_NUMBERS = ("+1 555-010-1111", "+1 555-010-2222", "+1 555-010-3333")
UPLOAD_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})
DEFAULT_TEMPLATE_FIELDS = (
    "name",
    "parameter_format",
    "components",
    "language",
    "status",
    "category",
    "id",
)
TEMPLATE_FIELDS = frozenset(
    {
        *DEFAULT_TEMPLATE_FIELDS,
        "rejected_reason",
        "quality_score",
        "message_send_ttl_seconds",
        "sub_category",
        "previous_category",
    }
)
REJECT = re.compile(r"sandbox:reject(?::([A-Z_]+))?")
NAME = re.compile(r"[a-z0-9_]{1,512}")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
POSITIONAL = re.compile(r"\{\{(\d+)\}\}")
NAMED = re.compile(r"\{\{([a-z_]+)\}\}")
CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class GraphError(Exception):
    """A refusal, as Graph's ``error`` object with its HTTP status."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        title: str | None = None,
        user_message: str | None = None,
        status: int = 400,
        transient: bool | None = None,
        kind: str = "OAuthException",
    ) -> None:
        self.status = status
        self.error: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if subcode is not None:
            self.error["error_subcode"] = subcode
        if transient is not None:
            self.error["is_transient"] = transient
        if title is not None:
            self.error["error_user_title"] = title
        if user_message is not None:
            self.error["error_user_msg"] = user_message
        super().__init__(message)


def invalid(title: str, detail: str, *, subcode: int | None = None) -> GraphError:
    """Graph's refusal of a value: code 100 with the user-facing title and message."""
    return GraphError(100, "Invalid parameter", subcode=subcode, title=title, user_message=detail)


def missing(name: str) -> GraphError:
    return GraphError(100, f"(#100) The parameter {name} is required")


def no_object(node: str, method: str = "post") -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please "
        "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        kind="GraphMethodException",
    )


@dataclass
class ScriptedError:
    """A canned refusal for the next matching call (tests: codes the rules never make)."""

    operation: str | None
    error: GraphError
    act: bool  # carry the call out first, then refuse


class MetaWorld:
    """State and rules; thread-safe (the HTTP server and a test may both use it)."""

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        clock: Clock = time.time,
        approve_after: float | None = None,
        wabas: Mapping[str, Collection[str]] | None = None,
        page_cap: int | None = None,
        name_lock: float = NAME_LOCK,
    ) -> None:
        self.clock = clock
        self.approve_after = approve_after
        self.page_cap = page_cap
        self.name_lock = name_lock
        self.fixed = wabas is not None  # only these WABAs exist
        self._lock = threading.RLock()
        self._scripts: list[ScriptedError] = []
        self._store = JsonState(state_dir, "meta")
        self._store.attach(self._lock)
        data = self._store.load()
        self._seq: int = data.get("seq", 0)
        # waba id -> {"numbers": {display: phone id}, "templates": {id: record},
        #             "deleted": {name: time}}
        self._wabas: dict[str, dict[str, Any]] = data.get("wabas", {})
        # phone id -> {"waba", "display", "codes": {code: record}}
        self._phones: dict[str, dict[str, Any]] = data.get("phones", {})
        self._sessions: dict[str, dict[str, Any]] = data.get("sessions", {})
        self._handles: dict[str, dict[str, Any]] = data.get("handles", {})
        for waba, numbers in (wabas or {}).items():
            self._waba(waba, numbers)

    # --- test hooks ----------------------------------------------------------------------------

    def templates(self, waba: str) -> list[dict[str, Any]]:
        """The stored records of ``waba`` (copies), in creation order."""
        with self._lock:
            self._advance()
            return [copy.deepcopy(t) for t in self._ordered(waba)]

    def find(self, waba: str, name: str, language: str) -> dict[str, Any] | None:
        with self._lock:
            self._advance()
            return next(
                (
                    copy.deepcopy(t)
                    for t in self._ordered(waba)
                    if (t["name"], t["language"]) == (name, language)
                ),
                None,
            )

    def qr_codes(self, waba: str, display: str) -> list[dict[str, Any]]:
        """The QR codes of a number (its display form or digits), in creation order."""
        with self._lock:
            phone = self._phone_of(waba, display)
            codes = self._phones[phone]["codes"].values()
            return [copy.deepcopy(c) for c in sorted(codes, key=lambda c: c["seq"])]

    def phone_id(self, waba: str, display: str) -> str:
        with self._lock:
            return self._phone_of(waba, display)

    def review(
        self, waba: str, name: str, language: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Put a template in ``status`` (APPROVED, REJECTED, PAUSED, ...)."""
        status = status.upper()
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {sorted(STATUSES)}")
        with self._lock:
            self._advance()
            for record in self._ordered(waba):
                if (record["name"], record["language"]) == (name, language):
                    self._decide(record, status, reason)
                    self._save()
                    return self._shown(record, DEFAULT_TEMPLATE_FIELDS)
            raise KeyError(f"no template {name} ({language}) in WABA {waba}")

    def fail_next(
        self, operation: str | None, error: GraphError, *, act: bool = False, times: int = 1
    ) -> None:
        """Refuse the next ``times`` calls of ``operation`` (any when None) with ``error``,
        after authentication; ``act``: carry each out first."""
        with self._lock:
            self._scripts.extend([ScriptedError(operation, error, act)] * times)

    def take_script(self, operation: str) -> ScriptedError | None:
        with self._lock:
            for i, script in enumerate(self._scripts):
                if script.operation in (None, operation):
                    return self._scripts.pop(i)
            return None

    # --- what a node is ------------------------------------------------------------------------

    def waba_of(self, node: str, *, create: bool = True) -> str | None:
        """``node`` as a WABA id: known, or made on first use (unless ``wabas`` fixed them)."""
        with self._lock:
            if node in self._wabas:
                return node
            if self.fixed or not create or not node.isdigit() or self._is_other(node):
                return None
            self._waba(node, SANDBOX_NUMBERS)
            return node

    def waba_of_phone(self, phone_id: str) -> str | None:
        with self._lock:
            found = self._phones.get(phone_id)
            return found["waba"] if found else None

    def waba_of_template(self, template_id: str) -> str | None:
        with self._lock:
            for waba, data in self._wabas.items():
                if template_id in data["templates"]:
                    return waba
            return None

    def _is_other(self, node: str) -> bool:
        return node in self._phones or any(node in w["templates"] for w in self._wabas.values())

    def _waba(self, waba: str, numbers: Iterable[str]) -> None:
        data = self._wabas.setdefault(waba, {"numbers": {}, "templates": {}, "deleted": {}})
        for display in numbers:
            if display not in data["numbers"]:
                digits = "".join(ch for ch in display if ch.isdigit())
                seed = hashlib.sha256(f"{waba}:{digits}".encode()).hexdigest()
                phone_id = str(10**14 + int(seed[:13], 16) % (9 * 10**14))
                data["numbers"][display] = phone_id
                self._phones[phone_id] = {"waba": waba, "display": display, "codes": {}}
        self._save()

    def _phone_of(self, waba: str, display: str) -> str:
        digits = "".join(ch for ch in display if ch.isdigit())
        for shown, phone_id in self._wabas[waba]["numbers"].items():
            if "".join(ch for ch in shown if ch.isdigit()) == digits:
                return str(phone_id)
        raise KeyError(f"WABA {waba} holds no number {display}")

    # --- phone numbers -------------------------------------------------------------------------

    def phone_numbers(self, waba: str, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            numbers = self._wabas[waba]["numbers"]
            items = [
                {
                    "verified_name": "Sandbox Shop",
                    "display_phone_number": display,
                    "id": phone_id,
                    "quality_rating": "GREEN",
                }
                for display, phone_id in numbers.items()
            ]
            keyed = [(i + 1, item) for i, item in enumerate(items)]
            return self._page(keyed, query, f"{waba}/phone_numbers")

    # --- templates -----------------------------------------------------------------------------

    def list_templates(self, waba: str, query: Mapping[str, str]) -> dict[str, Any]:
        fields = _fields(query.get("fields"), DEFAULT_TEMPLATE_FIELDS, TEMPLATE_FIELDS)
        name, language = query.get("name"), query.get("language")
        status, category = _upper_set(query.get("status")), _upper_set(query.get("category"))
        with self._lock:
            self._advance()
            items = [
                (t["seq"], self._shown(t, fields))
                for t in self._ordered(waba)
                if (not name or name in t["name"])
                and (not language or t["language"] == language)
                and (not status or t["status"] in status)
                and (not category or t["category"] in category)
            ]
            return self._page(items, query, f"{waba}/message_templates")

    def get_template(self, template_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        fields = _fields(query.get("fields"), ("id",), TEMPLATE_FIELDS)
        with self._lock:
            self._advance()
            waba = self.waba_of_template(template_id)
            if waba is None:
                raise no_object(template_id, "get")
            return self._shown(self._wabas[waba]["templates"][template_id], fields)

    def create_template(self, waba: str, body: Mapping[str, Any]) -> dict[str, Any]:
        name = _text(body, "name")
        language = _text(body, "language")
        category = _text(body, "category").upper()
        if category not in CATEGORIES:
            raise invalid(
                "Invalid category",
                "The category must be one of AUTHENTICATION, MARKETING or UTILITY.",
            )
        if not NAME.fullmatch(name):
            raise invalid(
                "Invalid template name",
                "Template names can only contain lowercase letters, numbers and underscores.",
            )
        if not LANGUAGE.fullmatch(language):
            raise invalid("Invalid language", f"{language} is not a supported language.")
        fmt = _parameter_format(body)
        ttl = _ttl(body)
        with self._lock:
            self._advance()
            components = self._components(body.get("components"), category, fmt)
            data = self._wabas[waba]
            for t in data["templates"].values():
                if (t["name"], t["language"]) == (name, language):
                    raise invalid(
                        "Content in This Language Already Exists",
                        f"There is already {language} content for this template. You can "
                        "create a new template and try again.",
                        subcode=2388024,
                    )
            deleted = data["deleted"].get(name)
            if deleted is not None and self.clock() - deleted < self.name_lock:
                raise invalid(
                    f"{language} content is being deleted",
                    f"New {language} content can't be added while the existing {language} "
                    "content is being deleted. Try again in 4 weeks or make a new template.",
                    subcode=2388023,
                )
            self._seq += 1
            template_id = str(10**15 + self._seq * 7919)
            now = self.clock()
            record = {
                "id": template_id,
                "seq": self._seq,
                "name": name,
                "language": language,
                "category": category,
                "parameter_format": fmt,
                "status": "PENDING",
                "rejected_reason": "NONE",
                "quality_score": {"score": "UNKNOWN", "date": int(now)},
                "components": components,
                "message_send_ttl_seconds": ttl,
                "review_due": self._due(now),
                "approved_edits": [],
            }
            data["templates"][template_id] = record
            self._save()
            return {"id": template_id, "status": "PENDING", "category": category}

    def edit_template(self, template_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._advance()
            waba = self.waba_of_template(template_id)
            if waba is None:
                raise no_object(template_id)
            record = self._wabas[waba]["templates"][template_id]
            status = record["status"]
            if status not in EDITABLE:
                raise invalid(
                    "Message Template Can't Be Edited",
                    f"This template is {status}. Only templates with an APPROVED, REJECTED "
                    "or PAUSED status can be edited.",
                )
            category = body.get("category")
            if category is not None:
                category = str(category).upper()
                if category not in CATEGORIES:
                    raise invalid("Invalid category", "The category is not valid.")
                if category != record["category"] and status == "APPROVED":
                    raise invalid(
                        "Category Can't Be Edited",
                        "You can't edit the category of an approved template.",
                    )
            if not any(k in body for k in ("components", "category", "message_send_ttl_seconds")):
                raise invalid(
                    "Nothing to edit",
                    "An edit changes the category, components or time-to-live.",
                )
            fmt = _parameter_format(body, record.get("parameter_format") or "POSITIONAL")
            components = record["components"]
            if "components" in body:
                components = self._components(
                    body.get("components"), category or record["category"], fmt
                )
            ttl = _ttl(body) if "message_send_ttl_seconds" in body else None
            now = self.clock()
            if status == "APPROVED":
                edits = [t for t in record["approved_edits"] if now - t < 30 * DAY]
                if any(now - t < DAY for t in edits) or len(edits) >= 10:
                    last = max(edits)
                    raise invalid(
                        "Edit Limit Reached",
                        "An approved template can be edited once in 24 hours and 10 times "
                        "in 30 days. This template was last edited at "
                        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(last))}.",
                    )
                record["approved_edits"] = [*edits, now]
            record["components"] = components
            record["parameter_format"] = fmt
            if category is not None:
                record["category"] = category
            if ttl is not None:
                record["message_send_ttl_seconds"] = ttl
            record["status"] = "PENDING"
            record["rejected_reason"] = "NONE"
            record["review_due"] = self._due(now)
            self._save()
            return {"success": True}

    def delete_templates(self, waba: str, query: Mapping[str, str]) -> dict[str, Any]:
        name = query.get("name")
        hsm_id = query.get("hsm_id")
        if not name:
            raise missing("name")
        with self._lock:
            self._advance()
            data = self._wabas[waba]
            doomed = [
                i
                for i, t in data["templates"].items()
                if t["name"] == name and (hsm_id is None or i == hsm_id)
            ]
            if not doomed:
                raise invalid(
                    "Message template not found",
                    f"The message template {name} doesn't exist"
                    + (f" with ID {hsm_id}" if hsm_id else "")
                    + " in this WhatsApp Business Account.",
                    subcode=2593002,
                )
            if any(data["templates"][i]["status"] == "DISABLED" for i in doomed):
                raise invalid("Template Can't Be Deleted", "Disabled templates can't be deleted.")
            if any(data["templates"][i]["status"] == "APPROVED" for i in doomed):
                data["deleted"][name] = self.clock()
            for i in doomed:
                del data["templates"][i]
            self._save()
            return {"success": True}

    # --- QR codes ------------------------------------------------------------------------------

    def list_qr(self, phone_id: str, query: Mapping[str, str], code: str | None = None) -> Any:
        fields = _fields(
            query.get("fields"),
            ("code", "prefilled_message", "deep_link_url"),
            frozenset({"code", "prefilled_message", "deep_link_url", "qr_image_url"}),
            formats=True,
        )
        with self._lock:
            codes = self._phones[phone_id]["codes"]
            if code is not None:
                if code not in codes:
                    raise no_object(code, "get")
                return {"data": [self._qr_shown(codes[code], fields)]}
            items = [(c["seq"], self._qr_shown(c, fields)) for c in codes.values()]
            return self._page(sorted(items), query, f"{phone_id}/message_qrdls")

    def save_qr(self, phone_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a code, or (with ``code``) change the message of one: same code, same link."""
        message = body.get("prefilled_message")
        if not isinstance(message, str) or not message.strip():
            raise missing("prefilled_message")
        if len(message) > PREFILLED_MAX:
            raise invalid(
                "Message too long",
                f"A prefilled message can contain up to {PREFILLED_MAX} characters.",
            )
        with self._lock:
            codes = self._phones[phone_id]["codes"]
            code = body.get("code")
            if code is not None:
                record = codes.get(str(code))
                if record is None:
                    raise invalid(
                        "QR code not found", f"There is no QR code {code} on this number."
                    )
                record["prefilled_message"] = message
                self._save()
                return self._qr_shown(record, ("code", "prefilled_message", "deep_link_url"))
            image = str(body.get("generate_qr_image") or "PNG").upper()
            if image not in {"SVG", "PNG"}:
                raise invalid("Invalid image format", "generate_qr_image is SVG or PNG.")
            if len(codes) >= QR_LIMIT:
                raise invalid(
                    "QR code limit reached",
                    f"A phone number can't be associated with more than {QR_LIMIT:,} QR codes "
                    "and short links.",
                )
            self._seq += 1
            new = _qr_code(self._seq, phone_id)
            codes[new] = {"code": new, "seq": self._seq, "prefilled_message": message}
            self._save()
            shown = self._qr_shown(codes[new], ("code", "prefilled_message", "deep_link_url"))
            shown["qr_image_url"] = _qr_image(new, image)
            return shown

    def delete_qr(self, phone_id: str, code: str) -> dict[str, Any]:
        with self._lock:
            codes = self._phones[phone_id]["codes"]
            if code not in codes:
                raise no_object(code, "delete")
            del codes[code]
            self._save()
            return {"success": True}

    @staticmethod
    def _qr_shown(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            name, _, fmt = field.partition(".format(")
            if name == "code":
                out["code"] = record["code"]
            elif name == "prefilled_message":
                out["prefilled_message"] = record["prefilled_message"]
            elif name == "deep_link_url":
                out["deep_link_url"] = f"https://wa.me/message/{record['code']}"
            elif name == "qr_image_url":
                out["qr_image_url"] = _qr_image(record["code"], fmt.rstrip(")") or "PNG")
        return out

    # --- the Resumable Upload API -----------------------------------------------------------

    def start_upload(self, app: str, query: Mapping[str, str]) -> dict[str, Any]:
        name = query.get("file_name") or ""
        length = query.get("file_length") or ""
        kind = query.get("file_type") or ""
        if not name:
            raise missing("file_name")
        if not length.isdigit() or int(length) < 1:
            raise invalid("Invalid file length", "file_length is the file's size in bytes.")
        if kind not in UPLOAD_TYPES:
            raise invalid(
                "Invalid file type",
                f"file_type must be one of {', '.join(sorted(UPLOAD_TYPES))}.",
            )
        with self._lock:
            self._seq += 1
            token = base64.urlsafe_b64encode(f"1:attachment:{self._seq}?file_type={kind}".encode())
            session = token.decode()
            signature = hashlib.sha256(f"{app}:{session}".encode()).hexdigest()[:19]
            self._sessions[session] = {
                "app": app,
                "name": name,
                "length": int(length),
                "type": kind,
                "data": "",
                "sig": signature,
            }
            self._save()
            return {"id": f"upload:{session}?sig={signature}"}

    def send_upload(
        self, session: str, sig: str, offset_header: str, data: bytes
    ) -> dict[str, Any]:
        with self._lock:
            found = self._session(session, sig)
            have = base64.b64decode(found["data"])
            if not offset_header.isdigit():
                raise missing("file_offset")
            offset = int(offset_header)
            if offset != len(have):
                raise invalid(
                    "Invalid file offset",
                    f"The upload session is at offset {len(have)}, not {offset}; resume from "
                    f"file_offset {len(have)}.",
                )
            have += data
            if len(have) > found["length"]:
                raise invalid(
                    "File too long", f"The session was started for {found['length']} bytes."
                )
            found["data"] = base64.b64encode(have).decode()
            if len(have) < found["length"]:
                self._save()
                return {"id": f"upload:{session}", "file_offset": len(have)}
            handle = found.get("handle")
            if not handle:
                digest = hashlib.sha256(have).hexdigest()
                kind = base64.b64encode(found["type"].encode()).decode()
                handle = f"4::{kind}:{base64.b64encode(digest[:24].encode()).decode()}"
                found["handle"] = handle
                self._handles[handle] = {"type": found["type"], "sha256": digest}
            self._save()
            return {"h": handle}

    def upload_status(self, session: str, sig: str) -> dict[str, Any]:
        with self._lock:
            found = self._session(session, sig)
            return {"id": f"upload:{session}", "file_offset": len(base64.b64decode(found["data"]))}

    def _session(self, session: str, sig: str) -> dict[str, Any]:
        found = self._sessions.get(session)
        if found is None or found["sig"] != sig:
            raise no_object(f"upload:{session}")
        return found

    # --- templates: Meta's rules on components -----------------------------------------------

    def _components(self, raw: Any, category: str, fmt: str) -> list[dict[str, Any]]:
        """Check components as Meta does and store them in Meta's read-back form."""
        if not isinstance(raw, list) or not raw:
            raise missing("components")
        auth = category == "AUTHENTICATION"
        out: list[dict[str, Any]] = []
        expiry: int | None = None
        for index, item in enumerate(raw):
            where = f"components[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise invalid("Invalid parameter", f"{where}: every component has a type.")
            c = copy.deepcopy(item)
            c["type"] = kind = c["type"].upper()
            if kind == "HEADER":
                c = self._header(c, where, auth, fmt)
            elif kind == "BODY":
                c = _body(c, where, auth, fmt)
            elif kind == "FOOTER":
                if auth:
                    expiry = c.get("code_expiration_minutes")
                    if expiry is not None:
                        if not isinstance(expiry, int) or not 1 <= expiry <= 90:
                            raise invalid(
                                "Invalid parameter",
                                "code_expiration_minutes must be between 1 and 90.",
                            )
                        c["text"] = f"This code expires in {expiry} minutes."
                elif not isinstance(c.get("text"), str) or not c["text"]:
                    raise invalid("Invalid parameter", f"{where}: a footer needs text.")
            elif kind == "BUTTONS":
                buttons = c.get("buttons")
                if not isinstance(buttons, list) or not buttons:
                    raise invalid("Invalid parameter", f"{where}: buttons are required.")
                c["buttons"] = [_button(b, where, auth) for b in buttons]
            elif kind == "CAROUSEL":
                c = self._carousel(c, where, category, fmt)
            else:
                raise invalid("Invalid parameter", f"{where}: unknown component type {kind}.")
            out.append(c)
        kinds = [c["type"] for c in out]
        if not auth and "BODY" not in kinds:
            raise invalid("Invalid parameter", "A template needs a BODY component.")
        if auth and expiry is not None:  # Meta repeats the expiry in the OTP link
            for c in out:
                for b in c.get("buttons", []):
                    if str(b.get("url", "")).startswith(OTP_URL):
                        b["url"] = b["url"].replace(
                            "&code=otp", f"&code_expiration_minutes={expiry}&code=otp"
                        )
                        b["example"] = [b["url"].replace("{{1}}", "123456")]
        return out

    def _carousel(self, c: dict[str, Any], where: str, category: str, fmt: str) -> dict[str, Any]:
        if category != "MARKETING":
            raise invalid("Invalid parameter", "Carousel templates are MARKETING templates.")
        cards = c.get("cards")
        if not isinstance(cards, list) or not 2 <= len(cards) <= 10:
            raise invalid("Invalid parameter", f"{where}: a carousel has 2 to 10 cards.")
        out = []
        for i, card in enumerate(cards):
            parts = card.get("components") if isinstance(card, dict) else None
            if not isinstance(parts, list) or not parts:
                raise invalid("Invalid parameter", f"{where}.cards[{i}]: components required.")
            kept = []
            for j, raw in enumerate(parts):
                at = f"{where}.cards[{i}].components[{j}]"
                if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                    raise invalid("Invalid parameter", f"{at}: every component has a type.")
                part = copy.deepcopy(raw)
                part["type"] = kind = part["type"].upper()
                if kind == "HEADER":
                    if str(part.get("format", "")).upper() not in {"IMAGE", "VIDEO"}:
                        raise invalid(
                            "Invalid parameter", f"{at}: a card header is IMAGE or VIDEO."
                        )
                    part = self._header(part, at, False, fmt)
                elif kind == "BODY":
                    part = _body(part, at, False, fmt)
                    if len(part["text"]) > 160:
                        raise invalid(
                            "Invalid parameter", f"{at}: a card body has at most 160 characters."
                        )
                elif kind == "BUTTONS":
                    buttons = part.get("buttons")
                    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 2:
                        raise invalid("Invalid parameter", f"{at}: a card has one or two buttons.")
                    part["buttons"] = [_button(b, at, False) for b in buttons]
                else:
                    raise invalid("Invalid parameter", f"{at}: a card holds HEADER, BODY, BUTTONS.")
                kept.append(part)
            out.append({**card, "components": kept})
        return {**c, "cards": out}

    def _header(self, c: dict[str, Any], where: str, auth: bool, fmt: str) -> dict[str, Any]:
        if auth:
            raise invalid("Invalid parameter", "Authentication templates have no header.")
        shape = str(c.get("format", "TEXT")).upper()
        c["format"] = shape
        example = c.get("example")
        if example is not None and not isinstance(example, dict):
            raise invalid("Invalid parameter", f"{where}: example is an object.")
        if shape == "TEXT":
            text = c.get("text")
            if not isinstance(text, str) or not text or len(text) > 60:
                raise invalid(
                    "Invalid parameter",
                    f"{where}: a text header has 1 to 60 characters.",
                    subcode=2388040,
                )
            _check_variables(text, example, where, fmt, header=True)
            if example and isinstance(example.get("header_text"), str):
                example["header_text"] = [example["header_text"]]
        elif shape in {"IMAGE", "VIDEO", "DOCUMENT"}:
            handles = (example or {}).get("header_handle")
            if (
                not isinstance(handles, list)
                or len(handles) != 1
                or handles[0] not in self._handles
            ):
                raise invalid(
                    "Invalid Media Handle",
                    f"{where}: example.header_handle must hold one handle from the "
                    "Resumable Upload API.",
                )
            digest = self._handles[handles[0]]["sha256"][:24]
            c["example"] = {
                "header_handle": [f"https://scontent.whatsapp.net/v/t61.29466-34/{digest}"]
            }
        elif shape != "LOCATION":
            raise invalid("Invalid parameter", f"{where}: unknown header format {shape}.")
        return c

    # --- review, paging, persistence ---------------------------------------------------------

    def _due(self, now: float) -> float | None:
        return None if self.approve_after is None else now + self.approve_after

    def _advance(self) -> None:
        """Finish the reviews whose time has come."""
        now = self.clock()
        changed = False
        for data in self._wabas.values():
            for t in data["templates"].values():
                due = t.get("review_due")
                if t["status"] == "PENDING" and due is not None and due <= now:
                    found = REJECT.search(_texts(t["components"]))
                    if found:
                        self._decide(t, "REJECTED", found.group(1) or "INVALID_FORMAT")
                    else:
                        self._decide(t, "APPROVED")
                    changed = True
        if changed:
            self._save()

    @staticmethod
    def _decide(record: dict[str, Any], status: str, reason: str | None = None) -> None:
        record["status"] = status
        record["review_due"] = None
        default = "INVALID_FORMAT" if status == "REJECTED" else "NONE"
        record["rejected_reason"] = reason or default

    def _ordered(self, waba: str) -> list[dict[str, Any]]:
        data = self._wabas.get(waba)
        return sorted(data["templates"].values(), key=lambda t: t["seq"]) if data else []

    @staticmethod
    def _shown(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            if field == "sub_category" and record["category"] != "MARKETING":
                continue
            if field == "sub_category":
                out[field] = "CUSTOM"
            elif field == "previous_category":
                continue
            elif field == "message_send_ttl_seconds":
                if record.get(field) is not None:
                    out[field] = record[field]
            elif field == "parameter_format":
                out[field] = record.get(field) or "POSITIONAL"
            elif field in record:
                out[field] = copy.deepcopy(record[field])
        return out

    def _page(
        self, items: list[tuple[int, dict[str, Any]]], query: Mapping[str, str], edge: str
    ) -> dict[str, Any]:
        """One page of ``items`` (keyset, opaque cursors), as Graph pages an edge."""
        limit = _limit(query.get("limit"))
        if self.page_cap:
            limit = min(limit, self.page_cap)
        after, before = _cursor(query.get("after"), "after"), _cursor(query.get("before"), "before")
        if after is not None:
            page = [item for item in items if item[0] > after][:limit]
        elif before is not None:
            page = [item for item in items if item[0] < before][-limit:]
        else:
            page = items[:limit]
        out: dict[str, Any] = {"data": [item for _, item in page]}
        if not page:
            return out
        first, last = page[0][0], page[-1][0]
        more, fewer = any(k > last for k, _ in items), any(k < first for k, _ in items)
        if not (more or fewer):  # one page: no paging, as the documented examples show
            return out
        paging: dict[str, Any] = {"cursors": {"before": _encode(first), "after": _encode(last)}}
        kept = {k: v for k, v in query.items() if k not in {"after", "before", "access_token"}}
        url = f"{GRAPH}/v25.0/{edge}?{urlencode({**kept, 'limit': limit})}"
        if more:
            paging["next"] = f"{url}&after={_encode(last)}"
        if fewer:
            paging["previous"] = f"{url}&before={_encode(first)}"
        out["paging"] = paging
        return out

    def flush(self) -> None:
        """Write the state's last changes now (``common.JsonState.flush``)."""
        self._store.flush()

    def release(self) -> None:
        """Write the state's last changes and let go of it: this emulator is not used
        again (``common.InProcessTransport.release``)."""
        with self._lock:
            self._store.release()
            self._wabas, self._phones, self._sessions, self._handles = {}, {}, {}, {}

    @property
    def state_file(self) -> JsonState:
        return self._store

    def _save(self) -> None:
        self._store.save(
            {
                "seq": self._seq,
                "wabas": self._wabas,
                "phones": self._phones,
                "sessions": self._sessions,
                "handles": self._handles,
            }
        )


# --- components ---------------------------------------------------------------------------


def _check_variables(
    text: str, example: Mapping[str, Any] | None, where: str, fmt: str, *, header: bool = False
) -> None:
    """Variables as the template's parameter_format writes them, each with an example."""
    prefix = "header" if header else "body"
    if fmt == "NAMED":
        if POSITIONAL.search(text):
            raise invalid(
                "Parameter format does not match",
                f"{where}: this template's parameters are NAMED; {{{{1}}}} is positional.",
                subcode=2388047,
            )
        names = list(dict.fromkeys(NAMED.findall(text)))
        given = (example or {}).get(f"{prefix}_text_named_params")
        if names and not isinstance(given, list):
            raise invalid(
                "Missing Sample Values",
                f"{where}: add {prefix}_text_named_params with an example for each parameter.",
            )
        if names:
            keys = sorted(str(e.get("param_name")) for e in given or [] if isinstance(e, dict))
            if keys != sorted(names):
                raise invalid(
                    "Sample Values Don't Match",
                    f"{where}: examples for {keys}, variables {sorted(names)}.",
                )
        return
    if NAMED.search(text):
        raise invalid(
            "Parameter format does not match",
            f"{where}: named parameters need parameter_format NAMED.",
            subcode=2388047,
        )
    numbers = list(dict.fromkeys(int(n) for n in POSITIONAL.findall(text)))
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        raise invalid(
            "Invalid parameter",
            f"{where}: parameters are numbered {{{{1}}}}, {{{{2}}}}, ... in order.",
        )
    if not numbers:
        return
    values = (example or {}).get(f"{prefix}_text")
    if header and isinstance(values, str):
        values = [values]
    if not header and isinstance(values, list) and values and isinstance(values[0], list):
        values = values[0]
    if not isinstance(values, list) or len(values) != len(numbers):
        raise invalid(
            "Missing Sample Values",
            f"{where}: add {prefix}_text with one example for each of {len(numbers)} parameters.",
        )


def _body(c: dict[str, Any], where: str, auth: bool, fmt: str) -> dict[str, Any]:
    if auth:
        return authentication_body(c)
    text = c.get("text")
    if not isinstance(text, str) or not text or len(text) > 1024:
        raise invalid(
            "Invalid parameter", f"{where}: a body has 1 to 1024 characters.", subcode=2388040
        )
    example = c.get("example")
    _check_variables(text, example if isinstance(example, dict) else None, where, fmt)
    if isinstance(example, dict):
        values = example.get("body_text")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            example["body_text"] = [values]
    return c


def _button(raw: Any, where: str, auth: bool) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise invalid("Invalid parameter", f"{where}: every button has a type.")
    b = copy.deepcopy(raw)
    b["type"] = kind = b["type"].upper()
    if kind == "OTP":
        if not auth:
            raise invalid("Invalid parameter", "OTP buttons belong to AUTHENTICATION templates.")
        return otp_as_url(
            b, lambda m: invalid("Invalid parameter", m), apps_needed="supported_apps"
        )
    if auth:
        raise invalid("Invalid parameter", "An authentication template has one OTP button.")
    if kind == "FLOW" and isinstance(b.get("flow_action"), str):
        b["flow_action"] = b["flow_action"].upper()
    if kind != "COPY_CODE" and (not isinstance(b.get("text"), str) or not b["text"]):
        raise invalid("Invalid parameter", f"{where}: a {kind} button needs text.")
    return b


def _texts(components: Any) -> str:
    """Every text of a template, for the review's ``sandbox:reject`` hook."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(components)
    return "\n".join(found)


# --- small readers ------------------------------------------------------------------------


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise missing(key)
    return value


def _parameter_format(body: Mapping[str, Any], default: str = "POSITIONAL") -> str:
    raw = body.get("parameter_format")
    if raw is None:
        return default
    fmt = str(raw).upper()
    if fmt not in {"NAMED", "POSITIONAL"}:
        raise invalid("Invalid parameter", "parameter_format is NAMED or POSITIONAL.")
    return fmt


def _ttl(body: Mapping[str, Any]) -> int | None:
    ttl = body.get("message_send_ttl_seconds")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < -1):
        raise invalid("Invalid parameter", "message_send_ttl_seconds is a number of seconds.")
    return ttl


def _fields(
    raw: str | None,
    default: Iterable[str],
    known: Collection[str],
    *,
    formats: bool = False,
) -> tuple[str, ...]:
    if not raw:
        return tuple(default)
    fields = tuple(f.strip() for f in raw.split(",") if f.strip())
    if "id" in known and "id" not in fields:
        fields = (*fields, "id")  # Graph returns a node's id whatever the fields asked
    for field in fields:
        name = field.partition(".format(")[0] if formats else field
        if name not in known:
            raise GraphError(100, f"(#100) Tried accessing nonexisting field ({name})")
    return fields


def _upper_set(raw: str | None) -> set[str]:
    return {v.strip().upper() for v in raw.split(",") if v.strip()} if raw else set()


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if not raw.isdigit() or int(raw) < 1:
        raise invalid("Invalid parameter", "limit is a positive whole number.")
    return min(int(raw), MAX_PAGE)


def _encode(key: int) -> str:
    return base64.urlsafe_b64encode(f"key:{key:020d}".encode()).decode().rstrip("=")


def _cursor(raw: str | None, name: str) -> int | None:
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "key" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid("Invalid parameter", f"{name} is not a cursor from a previous page.")


def _qr_code(seq: int, phone_id: str) -> str:
    digest = hashlib.sha256(f"{phone_id}:{seq}".encode()).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:13]) + "1"


def _qr_image(code: str, fmt: str) -> str:
    return f"https://scontent.sandbox.invalid/qr/{code}.{fmt.lower()}"

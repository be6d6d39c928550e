"""The NXCloud emulator's world: templates per business phone, and Meta's rules behind them.

``NxcloudEmulator`` holds the state and answers the template operations with the ``data`` of
NXCloud's envelope, or raises ``BusinessError`` with the envelope's code. The HTTP side
(signature, timestamps, rate limit, faults) is ``wasync.sandbox.nxcloud``.

What it emulates, and the choices made where the documentation is silent:

- templates live per business phone; ids are 16-digit numeric strings, in creation order;
- new and edited templates are PENDING; ``approve_after`` seconds later (by the clock) they
  become APPROVED (REJECTED if their text holds ``sandbox:reject``: ``sandbox_rejection``),
  or a test / ``POST /_sandbox/review`` sets any status;
- Meta's rules come back as code 9099 with Meta's error object in ``data.error``: name plus
  language is unique (subcode 2388024); PENDING (and other non-editable) templates cannot be
  edited; the category changes only on a REJECTED template; an APPROVED template takes one
  edit per 24 h and ten per 30 days; a name deleted while approved is locked for 30 days;
- Meta's read-back shapes: ``header_text`` as a list, ``body_text`` nested, media samples as
  CDN links in ``header_handle``, AUTHENTICATION bodies and footers with Meta's wording, and
  OTP buttons as ``type: URL`` buttons pointing at ``https://www.whatsapp.com/otp/code/``;
- lenient elsewhere: unknown component and button fields are stored and echoed;
- getTemplate pages by opaque keyset cursors: ``limit`` defaults to 20 and is capped at
  ``MAX_PAGE_LIMIT`` (or at ``page_cap``); ``paging.next`` / ``previous`` only when such a
  page exists;
- CAROUSEL components (``cards`` of HEADER, BODY and BUTTONS, as the updateTemplate page's
  card table has them) under Meta's carousel rules;
- updateTemplate answers the page's example verbatim (``{"success": true}``, no id) and
  does not apply a ``message_send_ttl_seconds``, which the page does not list.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import heapq
import json
import re
import sys
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from wasync.sandbox.common import Clock, JsonState, JsonText, encode_json
from wasync.sandbox.meta_behaviour import (
    CATEGORIES,
    EDITABLE,
    OTP_URL,
    STATUSES,
    authentication_body,
    otp_as_url,
)

MAX_PAGE_LIMIT = 100
DEFAULT_PAGE_LIMIT = 20
CARDS_MIN, CARDS_MAX, CARD_BODY_MAX = 2, 10, 160  # Meta's carousel rules
CARD_BUTTONS = frozenset({"QUICK_REPLY", "URL", "PHONE_NUMBER"})
DAY = 86400.0
MEDIA_TYPES = frozenset({"application/pdf", "video/mp4", "image/jpeg", "image/png", "image/jpg"})
NAME = re.compile(r"[a-z0-9_]{1,512}")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
PHONE = re.compile(r"\d{6,15}")

# The response codes of the template pages, with the current (Chinese) page's words
# (sources: nxcloud-updateTemplate); 9003..9010 and 9099 as the 2023 English pages of other
# endpoints give them (reference: nxcloud.md §3.2).
SUCCESS_MESSAGE = "请求成功"
FAILURE_MESSAGE = "请求失败"
MESSAGES = {
    0: SUCCESS_MESSAGE,
    -1: FAILURE_MESSAGE,
    # authentication, "1000~100X" (the calling-convention page)
    1001: "Missing common parameters",
    1002: "Parameter error",
    1003: "Invalid signature",
    1004: "Timestamp has expired",
    1005: "Insufficient permissions",
    9000: "参数异常",
    9001: "系统业务错误",
    9002: "商户手机号错误",
    9003: "Application does not exist/unavailable",
    9004: "No corresponding country pricing for the application",
    9005: "Insufficient account balance",
    9006: "该whatsapp号码未绑定应用",
    9007: "Non-integrator request",
    9008: "APPKEY does not exist",
    9009: "Maximum of 1000 customer applications reached",
    9010: "Auth-mechanism customer info differs from the APPKEY's customer",
    9099: "WhatsApp error",
}


class BusinessError(Exception):
    """An envelope with a non-zero code."""

    def __init__(self, code: int, message: str | None = None, data: Any = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, FAILURE_MESSAGE)
        self.data = data
        super().__init__(f"{code}: {self.message}")


def parameter_error(detail: str) -> BusinessError:
    return BusinessError(9000, f"Parameter exception: {detail}")


def meta_error(title: str, detail: str, *, subcode: int | None = None) -> BusinessError:
    """Meta's refusal as NXCloud passes it on (code 9099, Meta's error in data.error)."""
    error: dict[str, Any] = {
        "message": "(#100) Invalid parameter",
        "type": "OAuthException",
        "code": 100,
        "error_user_title": title,
        "error_user_msg": detail,
        "fbtrace_id": "A" + hashlib.sha1(detail.encode()).hexdigest()[:20],  # noqa: S324
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return BusinessError(9099, data={"error": error})


_REJECT = re.compile(r"sandbox:reject(?::([A-Z_]+))?")


def sandbox_rejection(components: Any) -> str | None:
    """Not NXCloud: the sandbox's review rejects a template whose text holds
    ``sandbox:reject`` (``sandbox:reject:PROMOTIONAL`` names the reason, as Meta's
    ``rejected_reason``; else ``INVALID_FORMAT``), so a rejection can be tried. The reason,
    or None to approve."""
    found = _REJECT.search(json.dumps(components))
    return None if found is None else found.group(1) or "INVALID_FORMAT"


@dataclass
class ScriptedReply:
    """A canned answer for the next matching call (tests: codes the rules never produce)."""

    action: str | None
    code: int
    message: str
    data: Any
    http_status: int
    raw: bytes | None
    act: bool  # carry the request out first, then answer with this


class NxcloudEmulator:
    """State and rules; thread-safe (the HTTP server and a test may both use it)."""

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        clock: Clock = time.time,
        approve_after: float | None = None,
        apps: Mapping[str, Collection[str]] | None = None,
        name_reuse_lock: float = 30 * DAY,
        page_cap: int | None = None,
    ) -> None:
        self.clock = clock
        self.page_cap = page_cap  # at most this many templates a page, whatever limit asks
        self.approve_after = approve_after
        self.apps = {k: frozenset(v) for k, v in apps.items()} if apps is not None else None
        self.name_reuse_lock = name_reuse_lock
        self._store = JsonState(state_dir, "nxcloud")
        self._lock = threading.RLock()
        self._store.attach(self._lock)
        self._scripts: list[ScriptedReply] = []
        data = self._store.load()
        self._next_id: int = data.get("next_id", 1)
        # phone -> template id -> record; a record's components are kept as their encoded
        # JSON text (``common.encode_json``): they are only ever replaced, and listed far more often
        # than read, so they cost a fifth of the memory and are not encoded per listing.
        self._phones: dict[str, dict[str, dict[str, Any]]] = data.get("phones", {})
        migrated = _compact(self._phones)
        self._uploads: dict[str, dict[str, Any]] = data.get("uploads", {})
        # phone -> name -> when a name with an approved version was deleted
        self._deleted: dict[str, dict[str, float]] = data.get("deleted", {})
        # The reviews due, soonest first: (due, id, record); a review is not found by
        # scanning every template at every call.
        self._reviews: list[tuple[float, str, dict[str, Any]]] = []
        for templates in self._phones.values():
            for record in templates.values():
                self._queue_review(record)
        if migrated:  # written once in the compact form
            self._save()

    def _queue_review(self, record: dict[str, Any]) -> None:
        due = record.get("review_due")
        if record["status"] == "PENDING" and due is not None:
            heapq.heappush(self._reviews, (due, record["id"], record))

    # --- test hooks ----------------------------------------------------------------------------

    def templates(self, phone: str) -> list[dict[str, Any]]:
        """The stored records of ``phone`` (copies), in creation order."""
        with self._lock:
            self._advance()
            return [_decoded(t) for t in self._sorted(phone)]

    def find(self, phone: str, name: str, language: str) -> dict[str, Any] | None:
        with self._lock:
            self._advance()
            for t in self._phones.get(phone, {}).values():
                if t["name"] == name and t["language"] == language:
                    return _decoded(t)
            return None

    def set_status(
        self, phone: str, template_id: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Review hook: put a template in ``status`` (APPROVED, REJECTED, PAUSED, ...)."""
        status = status.upper()
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {sorted(STATUSES)}")
        with self._lock:
            record = self._phones.get(phone, {}).get(template_id)
            if record is None:
                raise KeyError(f"no template {template_id} on {phone}")
            record["status"] = status
            record["review_due"] = None
            default = "INVALID_FORMAT" if status == "REJECTED" else "NONE"
            record["rejected_reason"] = reason or default
            self._save()
            return self._echo(record)

    def review(
        self, phone: str, name: str, language: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        found = self.find(phone, name, language)
        if found is None:
            raise KeyError(f"no template {name} ({language}) on {phone}")
        return self.set_status(phone, found["id"], status, reason)

    def fail_next(
        self,
        action: str | None = None,
        *,
        code: int = -1,
        message: str | None = None,
        data: Any = None,
        http_status: int = 200,
        raw: bytes | None = None,
        act: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``action`` (any when None) with ``code`` (or
        the ``raw`` bytes), after authentication. ``act=True`` carries the call out first."""
        reply = ScriptedReply(
            action,
            code,
            message or MESSAGES.get(code, FAILURE_MESSAGE),
            data,
            http_status,
            raw,
            act,
        )
        with self._lock:
            self._scripts.extend([reply] * times)

    def take_script(self, action: str) -> ScriptedReply | None:
        with self._lock:
            for i, reply in enumerate(self._scripts):
                if reply.action in (None, action):
                    return self._scripts.pop(i)
            return None

    # --- checks shared by the operations -------------------------------------------------------

    def check_phone(self, appkey: str | None, phone: Any) -> str:
        """9002 for a number that is not a known WhatsApp number, 9006 when it is not bound
        to ``appkey``. Without configured apps any appkey and any digits number pass."""
        if not isinstance(phone, str) or not PHONE.fullmatch(phone):
            raise BusinessError(9002)
        if self.apps is None:
            return phone
        if not any(phone in phones for phones in self.apps.values()):
            raise BusinessError(9002)
        if appkey is not None and phone not in self.apps.get(appkey, frozenset()):
            raise BusinessError(9006)
        return phone

    def _common(self, body: Mapping[str, Any]) -> str:
        appkey = _string(body, "appkey")
        phone = _string(body, "business_phone")
        if body.get("messaging_product") != "whatsapp":
            raise parameter_error("messaging_product must be whatsapp")
        return self.check_phone(appkey, phone)

    # --- operations ----------------------------------------------------------------------------

    def create_template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        phone = self._common(body)
        name = _string(body, "name")
        language = _string(body, "language")
        category = _string(body, "category")
        if category not in CATEGORIES:
            raise parameter_error("category must be MARKETING, UTILITY or AUTHENTICATION")
        if not NAME.fullmatch(name):
            raise meta_error(
                "Invalid template name",
                "Template names hold lowercase letters, digits and underscores only.",
            )
        if not LANGUAGE.fullmatch(language):
            raise parameter_error(f"language {language!r} is not a language code")
        ttl = _ttl(body)
        components = self._normalise(body.get("components"), category)
        with self._lock:
            self._advance()
            for t in self._phones.get(phone, {}).values():
                if t["name"] == name and t["language"] == language:
                    raise meta_error(
                        "Content in This Language Already Exists",
                        f"There is already {language} content for this template ({name}).",
                        subcode=2388024,
                    )
            deleted_at = self._deleted.get(phone, {}).get(name)
            if deleted_at is not None and self.clock() - deleted_at < self.name_reuse_lock:
                raise meta_error(
                    "Template name unavailable",
                    f"{name} was deleted while approved and can't be reused until "
                    f"{self.name_reuse_lock / DAY:g} days have passed.",
                )
            template_id = str(1_000_000_000_000_000 + self._next_id)
            self._next_id += 1
            now = self.clock()
            self._phones.setdefault(phone, {})[template_id] = created = {
                "id": template_id,
                "seq": self._next_id,
                "name": name,
                "language": language,
                "category": category,
                "status": "PENDING",
                "rejected_reason": "NONE",
                "quality_score": {"score": "UNKNOWN"},
                "components": components,
                "message_send_ttl_seconds": ttl,
                "created_at": now,
                "review_due": self._due(now),
                "approved_edits": (),
            }
            self._queue_review(created)
            self._save()
        return {"id": template_id}

    def update_template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        phone = self._common(body)
        template_id = _string(body, "template_id")
        category = body.get("category")
        if category is not None and category not in CATEGORIES:
            raise parameter_error("category must be MARKETING, UTILITY or AUTHENTICATION")
        # The page lists no message_send_ttl_seconds: one sent is not applied.
        with self._lock:
            self._advance()
            record = self._phones.get(phone, {}).get(template_id)
            if record is None:
                raise meta_error(
                    "Template not found",
                    f"Unsupported post request. Object with ID '{template_id}' does not exist.",
                    subcode=33,
                )
            status = record["status"]
            if status not in EDITABLE:
                raise meta_error(
                    "Template can't be edited",
                    f"This template is {status}; only APPROVED, REJECTED or PAUSED templates "
                    "can be edited.",
                )
            if category is not None and category != record["category"] and status != "REJECTED":
                raise meta_error(
                    "Category can't be edited",
                    f"The category of a {status} template can't be changed.",
                )
            components = self._normalise(body.get("components"), category or record["category"])
            now = self.clock()
            if status == "APPROVED":
                edits = [t for t in record["approved_edits"] if now - t < 30 * DAY]
                if any(now - t < DAY for t in edits):
                    raise meta_error(
                        "Edit limit reached",
                        "An approved template can be edited once in 24 hours.",
                    )
                if len(edits) >= 10:
                    raise meta_error(
                        "Edit limit reached",
                        "An approved template can be edited 10 times in 30 days.",
                    )
                record["approved_edits"] = (*edits, now)
            record["components"] = components
            if category is not None:
                record["category"] = category
            record["status"] = "PENDING"
            record["rejected_reason"] = "NONE"
            record["review_due"] = self._due(now)
            self._queue_review(record)
            self._save()
            # The page's success reply, verbatim: no id (the template keeps its own).
            return {"success": True}

    def get_template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        phone = self._common(body)
        limit = _limit(body.get("limit"))
        if self.page_cap:
            limit = min(limit, self.page_cap)
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise parameter_error("name must be a string")
        after, before = _cursor(body, "after"), _cursor(body, "before")
        with self._lock:
            self._advance()
            items = [t for t in self._sorted(phone) if not name or t["name"] == name]
            if after is not None:
                page = [t for t in items if t["seq"] > after][:limit]
            elif before is not None:
                page = [t for t in items if t["seq"] < before][-limit:]
            else:
                page = items[:limit]
            out: dict[str, Any] = {"data": [_listed(t) for t in page]}
            if not page:
                return out
            first, last = page[0]["seq"], page[-1]["seq"]
            paging: dict[str, Any] = {
                "cursors": {"before": _encode_cursor(first), "after": _encode_cursor(last)}
            }
            url = self._page_url(phone, limit)
            if any(t["seq"] > last for t in items):
                paging["next"] = f"{url}&after={_encode_cursor(last)}"
            if any(t["seq"] < first for t in items):
                paging["previous"] = f"{url}&before={_encode_cursor(first)}"
            out["paging"] = paging
            return out

    def delete_template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        phone = self._common(body)
        name = _string(body, "name")
        with self._lock:
            self._advance()
            templates = self._phones.get(phone, {})
            doomed = [i for i, t in templates.items() if t["name"] == name]
            if not doomed:
                raise meta_error(
                    "Message template not found",
                    f"There is no template named {name} on this WhatsApp Business Account.",
                )
            if any(templates[i]["status"] == "APPROVED" for i in doomed):
                self._deleted.setdefault(phone, {})[name] = self.clock()
            for i in doomed:
                del templates[i]
            self._save()
        return {"success": True}

    def upload_template_file(self, fields: Mapping[str, str], content: bytes) -> dict[str, Any]:
        phone = fields.get("business_phone")
        if not phone:
            raise parameter_error("business_phone is required")
        if fields.get("messaging_product") != "whatsapp":
            raise parameter_error("messaging_product must be whatsapp")
        mime = fields.get("type")
        if mime not in MEDIA_TYPES:
            raise parameter_error(f"type must be one of {', '.join(sorted(MEDIA_TYPES))}")
        if not content:
            raise parameter_error("file is required")
        self.check_phone(None, phone)
        digest = hashlib.sha256(content).hexdigest()
        with self._lock:
            token = f"sandbox:{len(self._uploads) + 1}:{digest[:16]}"
            handle = "4:" + base64.b64encode(token.encode()).decode().rstrip("=")
            self._uploads[handle] = {"phone": phone, "type": mime, "sha256": digest}
            self._save()
        return {"id": handle}

    # --- internals -----------------------------------------------------------------------------

    def _due(self, now: float) -> float | None:
        return None if self.approve_after is None else now + self.approve_after

    def _advance(self) -> None:
        """Finish the reviews whose time has come (``approve_after``)."""
        now = self.clock()
        changed = False
        while self._reviews and self._reviews[0][0] <= now:
            due, _, t = heapq.heappop(self._reviews)
            if t["status"] == "PENDING" and t.get("review_due") == due:
                reason = _rejection(t["components"])
                verdict = ("REJECTED", reason) if reason else ("APPROVED", "NONE")
                t["status"], t["rejected_reason"] = verdict
                t["review_due"] = None
                changed = True
        if changed:
            self._save()

    def _sorted(self, phone: str) -> list[dict[str, Any]]:
        return sorted(self._phones.get(phone, {}).values(), key=lambda t: t["seq"])

    def flush(self) -> None:
        """Write the state's last changes now (``common.JsonState.flush``)."""
        self._store.flush()

    def release(self) -> None:
        """Write the state's last changes and let go of it: this emulator is not used
        again (``common.InProcessTransport.release``)."""
        with self._lock:
            self._store.release()
            self._phones, self._uploads, self._deleted, self._reviews = {}, {}, {}, []

    @property
    def state_file(self) -> JsonState:
        return self._store

    def _save(self) -> None:
        self._store.save(
            {
                "next_id": self._next_id,
                "phones": self._phones,
                "uploads": self._uploads,
                "deleted": self._deleted,
            }
        )

    def _page_url(self, phone: str, limit: int) -> str:
        waba = int(hashlib.sha256(phone.encode()).hexdigest()[:12], 16) % 10**15
        fields = "id,category,language,name,status,components,rejected_reason,quality_score"
        query = urlencode({"fields": fields, "limit": limit})
        return f"https://graph.facebook.com/v15.0/{waba}/message_templates?{query}"

    @staticmethod
    def _echo(record: Mapping[str, Any]) -> dict[str, Any]:
        """A templateInfo as getTemplate returns it (the fields NXCloud asks Meta for);
        a listing splices the same from the stored text (``_listed``)."""
        out = {k: record[k] for k in ("id", "category", "language", "name", "status")}
        out["components"] = json.loads(record["components"])
        out["rejected_reason"] = record["rejected_reason"]
        out["quality_score"] = dict(record["quality_score"])
        return out

    def _normalise(self, raw: Any, category: str) -> str:
        """Check components as Meta would; their encoded text in Meta's read-back form."""
        if not isinstance(raw, list) or not raw:
            raise parameter_error("components is required")
        authentication = category == "AUTHENTICATION"
        out: list[dict[str, Any]] = []
        expiry: int | None = None
        for index, item in enumerate(raw):
            where = f"components[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise parameter_error(f"{where}.type is required")
            c = copy.deepcopy(item)
            c["type"] = kind = c["type"].upper()
            if kind == "HEADER":
                c = self._header(c, where, authentication)
            elif kind == "BODY":
                c = _body(c, where, authentication)
            elif kind == "FOOTER":
                if authentication:
                    expiry = c.get("code_expiration_minutes")
                    if expiry is not None:
                        if not isinstance(expiry, int) or not 1 <= expiry <= 90:
                            raise meta_error(
                                "Invalid parameter",
                                "code_expiration_minutes must be between 1 and 90.",
                            )
                        c["text"] = f"This code expires in {expiry} minutes."
                elif not isinstance(c.get("text"), str) or not c["text"]:
                    raise meta_error("Invalid parameter", f"{where}: a footer needs text.")
            elif kind == "BUTTONS":
                buttons = c.get("buttons")
                if not isinstance(buttons, list) or not buttons:
                    raise parameter_error(f"{where}.buttons is required")
                c["buttons"] = [_button(b, f"{where}.buttons", authentication) for b in buttons]
            elif kind == "CAROUSEL":
                c = self._carousel(c, where, category)
            else:
                raise parameter_error(
                    f"{where}.type must be HEADER, BODY, FOOTER, BUTTONS or CAROUSEL"
                )
            out.append(c)
        kinds = {c["type"] for c in out}
        if "CAROUSEL" in kinds and kinds & {"HEADER", "FOOTER", "BUTTONS"}:
            raise meta_error(
                "Invalid parameter",
                "A carousel template has a body and cards only: no header, footer or buttons.",
            )
        if authentication and expiry is not None:  # Meta repeats the expiry in the OTP link
            for c in out:
                for b in c.get("buttons", []):
                    if str(b.get("url", "")).startswith(OTP_URL):
                        b["url"] = b["url"].replace(
                            "&code=otp", f"&code_expiration_minutes={expiry}&code=otp"
                        )
                        b["example"] = [b["url"].replace("{{1}}", "123456")]
        try:
            return encode_json(out)
        except ValueError:  # NaN or Infinity: not JSON, so no reply could carry it
            raise parameter_error("components must be JSON (no NaN or Infinity)") from None

    def _carousel(self, c: dict[str, Any], where: str, category: str) -> dict[str, Any]:
        """A CAROUSEL component: ``cards``, each with ``components`` of type HEADER (an
        IMAGE or VIDEO sample), BODY and BUTTONS (the updateTemplate page's card table),
        under Meta's rules: MARKETING only, 2 to 10 cards of the same shape, a card body of
        at most 160 characters, at most two buttons a card."""
        if category != "MARKETING":
            raise meta_error("Invalid parameter", "Carousel templates are MARKETING templates.")
        cards = c.get("cards")
        if not isinstance(cards, list) or not CARDS_MIN <= len(cards) <= CARDS_MAX:
            raise meta_error(
                "Invalid parameter", f"{where}: a carousel has {CARDS_MIN} to {CARDS_MAX} cards."
            )
        shapes = []
        out_cards = []
        for i, card in enumerate(cards):
            at = f"{where}.cards[{i}]"
            parts = card.get("components") if isinstance(card, dict) else None
            if not isinstance(parts, list) or not parts:
                raise parameter_error(f"{at}.components is required")
            out_parts = []
            for j, raw in enumerate(parts):
                part_at = f"{at}.components[{j}]"
                if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                    raise parameter_error(f"{part_at}.type is required")
                part = copy.deepcopy(raw)
                part["type"] = kind = part["type"].upper()
                if kind == "HEADER":
                    if str(part.get("format", "")).upper() not in {"IMAGE", "VIDEO"}:
                        raise meta_error(
                            "Invalid parameter", f"{part_at}: a card header is an IMAGE or VIDEO."
                        )
                    part = self._header(part, part_at, False)
                elif kind == "BODY":
                    part = _body(part, part_at, False)
                    if len(part["text"]) > CARD_BODY_MAX:
                        raise meta_error(
                            "Invalid parameter",
                            f"{part_at}: a card body has at most {CARD_BODY_MAX} characters.",
                        )
                elif kind == "BUTTONS":
                    buttons = part.get("buttons")
                    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 2:
                        raise meta_error(
                            "Invalid parameter", f"{part_at}: a card has one or two buttons."
                        )
                    part["buttons"] = [_button(b, f"{part_at}.buttons", False) for b in buttons]
                    if any(b["type"] not in CARD_BUTTONS for b in part["buttons"]):
                        raise meta_error(
                            "Invalid parameter",
                            f"{part_at}: card buttons are QUICK_REPLY, URL or PHONE_NUMBER.",
                        )
                else:
                    raise parameter_error(f"{part_at}.type must be HEADER, BODY or BUTTONS")
                out_parts.append(part)
            if not any(p["type"] == "HEADER" for p in out_parts):
                raise meta_error("Invalid parameter", f"{at}: every card has a media header.")
            shapes.append(
                [
                    (p["type"], p.get("format"), [b["type"] for b in p.get("buttons", [])])
                    for p in out_parts
                ]
            )
            out_cards.append({**card, "components": out_parts})
        if any(shape != shapes[0] for shape in shapes):
            raise meta_error("Invalid parameter", f"{where}: all cards have the same components.")
        return {**c, "cards": out_cards}

    def _header(self, c: dict[str, Any], where: str, authentication: bool) -> dict[str, Any]:
        if authentication:
            raise meta_error("Invalid parameter", "Authentication templates have no header.")
        fmt = c.get("format", "TEXT")
        if not isinstance(fmt, str):
            raise parameter_error(f"{where}.format must be a string")
        c["format"] = fmt = fmt.upper()
        example = c.get("example")
        if example is not None and not isinstance(example, dict):
            raise parameter_error(f"{where}.example must be an object")
        if fmt == "TEXT":
            if not isinstance(c.get("text"), str) or not c["text"]:
                raise meta_error("Invalid parameter", f"{where}: a text header needs text.")
            if example and isinstance(example.get("header_text"), str):
                example["header_text"] = [example["header_text"]]
        elif fmt in {"IMAGE", "VIDEO", "DOCUMENT"}:
            example = example or {}
            url = example.pop("custom_header_handle_url", None)
            handle = example.pop("header_handle", None)
            if handle is not None and handle not in self._uploads:
                raise meta_error(
                    "Invalid media handle",
                    f"{where}: header_handle is not a handle from uploadTemplateFile.",
                )
            source = url or handle  # the URL wins when both are given
            if not source:
                raise meta_error("Invalid parameter", f"{where}: a media header needs a sample.")
            digest = hashlib.sha256(str(source).encode()).hexdigest()[:24]
            example["header_handle"] = [f"https://scontent.sandbox.invalid/t/{digest}"]
            c["example"] = example
        elif fmt != "LOCATION":
            raise parameter_error(f"{where}.format must be TEXT, IMAGE, VIDEO or DOCUMENT")
        return c


def _compact(phones: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """Loaded records made small, in place: components as their encoded text
    (``common.encode_json``), equal texts kept once (one template set on many numbers);
    the few distinct statuses, categories, languages and quality scores kept once each.
    True when some components were decoded (a state written before they were kept as
    text). Nothing changes a record's values in place: they are replaced."""
    texts: dict[str, str] = {}
    scores: dict[str, dict[str, Any]] = {}  # by repr: equal JSON data, equal repr
    migrated = False
    for templates in phones.values():
        for record in templates.values():
            text = record["components"]
            if not isinstance(text, str):
                text, migrated = encode_json(text), True
            record["components"] = texts.setdefault(text, text)
            for key in _FEW_VALUES:
                if type(value := record.get(key)) is str:
                    record[key] = sys.intern(value)
            score = record["quality_score"]
            record["quality_score"] = scores.setdefault(repr(score), score)
            record["approved_edits"] = tuple(record["approved_edits"])
    return migrated


_FEW_VALUES = ("category", "language", "status", "rejected_reason")


def _decoded(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stored record with its components decoded (the test hooks')."""
    out = copy.deepcopy(dict(record))
    out["components"] = json.loads(record["components"])
    return out


def _listed(record: Mapping[str, Any]) -> JsonText:
    """``NxcloudEmulator._echo`` of ``record`` as reply text, its components spliced in."""
    e = _encode_value
    return JsonText(
        f'{{"id":{e(record["id"])},"category":{e(record["category"])},'
        f'"language":{e(record["language"])},"name":{e(record["name"])},'
        f'"status":{e(record["status"])},"components":{record["components"]},'
        f'"rejected_reason":{e(record["rejected_reason"])},'
        f'"quality_score":{e(record["quality_score"])}}}'
    )


def _encode_value(value: Any) -> str:
    """``encode_json(value)``, quicker for the strings that most values are."""
    return encode_basestring(value) if type(value) is str else encode_json(value)


def _rejection(components: str) -> str | None:
    """``sandbox_rejection`` of stored (encoded) components: the marker reads the same in
    the compact text as in ``json.dumps``'s."""
    found = _REJECT.search(components)
    return None if found is None else found.group(1) or "INVALID_FORMAT"


def _body(c: dict[str, Any], where: str, authentication: bool) -> dict[str, Any]:
    if authentication:
        return authentication_body(c)
    if not isinstance(c.get("text"), str) or not c["text"]:
        raise meta_error("Invalid parameter", f"{where}: a body needs text.")
    example = c.get("example")
    if isinstance(example, dict):
        values = example.get("body_text")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            example["body_text"] = [values]
    return c


def _button(raw: Any, where: str, authentication: bool) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise parameter_error(f"{where}: every button needs a type")
    b = copy.deepcopy(raw)
    b["type"] = kind = b["type"].upper()
    if kind == "OTP":
        if not authentication:
            raise meta_error("Invalid parameter", "OTP buttons belong to AUTHENTICATION only.")
        return otp_as_url(
            b, lambda m: meta_error("Invalid parameter", m), apps_needed="package_name"
        )
    if authentication:
        raise meta_error("Invalid parameter", "Authentication templates take one OTP button.")
    if kind not in {"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW"}:
        return b  # a kind NXCloud does not list: pass it through to "Meta"
    if kind != "COPY_CODE" and (not isinstance(b.get("text"), str) or not b["text"]):
        raise meta_error("Invalid parameter", f"{where}: a {kind} button needs text.")
    return b


def _string(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise parameter_error(f"{key} is required")
    return value


def _ttl(body: Mapping[str, Any]) -> int | None:
    ttl = body.get("message_send_ttl_seconds")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
        raise parameter_error("message_send_ttl_seconds must be a whole number of seconds")
    return ttl


def _limit(raw: Any) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_LIMIT
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise parameter_error("limit must be a positive whole number")
    return min(raw, MAX_PAGE_LIMIT)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _cursor(body: Mapping[str, Any], key: str) -> int | None:
    raw = body.get(key)
    if raw is None or raw == "":
        return None
    try:
        text = base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "seq" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise parameter_error(f"{key} is not a cursor from a previous page")

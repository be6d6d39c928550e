"""Graph's error object, classified: what the executor may do with a refusal, and what the
user should do, in words that quote Meta's own (``error_user_title``, ``error_user_msg``).

Codes from Meta's error code pages and the Graph reference of the template and QR code
edges (reference/meta-whatsapp.md §4.2): Meta advises acting on ``code`` (template
errors add a 2388xxx ``error_subcode``), and marks a retryable failure ``is_transient``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wasync.errors import ErrorClass

TOKEN = 190  # invalid or expired access token (subcode 463: expired, 460: password changed)
PERMISSION = frozenset({10, *range(200, 300)})  # a permission is missing
# Rate limits: the app's (4), a user's (17), a page's (32), custom (613), the WABA's
# (80007), the WhatsApp Business Management API's business use case (80008), throughput.
THROTTLING = frozenset({4, 17, 32, 613, 80007, 80008, 130429})
TRANSIENT = frozenset({1, 2, 131000, 131016})  # unknown / service unavailable
INVALID_PARAMETER = 100
NOT_FOUND_SUBCODE = 33  # 100/33: "Object with ID ... does not exist"
EXISTS_SUBCODE = 2388024  # content in this language already exists
NAME_LOCKED_SUBCODE = 2388023  # the name is being deleted (a guess at the number)
COUNT_LIMIT_SUBCODE = 2388019  # the WABA's template limit

PERMISSION_NAME = "whatsapp_business_management"


@dataclass(frozen=True)
class GraphRefusal:
    """The parts of Graph's ``error`` object that wasync reads."""

    code: int | None
    subcode: int | None
    message: str  # ``message``, Graph's technical text: "(#100) Invalid parameter"
    title: str  # ``error_user_title``, for people; may be empty
    user_message: str  # ``error_user_msg``, for people; may be empty
    trace_id: str | None  # ``fbtrace_id``: what Meta's support asks for
    transient: bool  # ``is_transient``

    @classmethod
    def read(cls, raw: Any) -> GraphRefusal | None:
        if not isinstance(raw, Mapping):
            return None

        def text(key: str) -> str:
            value = raw.get(key)
            return value.strip() if isinstance(value, str) else ""

        def number(key: str) -> int | None:
            value = raw.get(key)
            if isinstance(value, bool):
                return None
            if isinstance(value, int):
                return value
            if isinstance(value, str) and value.isdigit():
                return int(value)
            return None

        trace = raw.get("fbtrace_id")
        return cls(
            code=number("code"),
            subcode=number("error_subcode"),
            message=text("message"),
            title=text("error_user_title"),
            user_message=text("error_user_msg"),
            trace_id=trace if isinstance(trace, str) and trace else None,
            transient=raw.get("is_transient") is True,
        )

    @property
    def code_path(self) -> str:
        """``100`` or ``100/2388024``."""
        code = "?" if self.code is None else str(self.code)
        return code if self.subcode is None else f"{code}/{self.subcode}"

    def shown(self) -> str:
        """Meta's words: the user-facing title and message where Meta gives them, with the
        technical message after them; else the technical message."""
        people = ": ".join(p for p in (self.title, self.user_message) if p)
        if people and self.message and self.message not in people:
            return f"{people} ({self.message})"
        return people or self.message or "(no message)"

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLING

    @property
    def not_found(self) -> bool:
        return self.code == INVALID_PARAMETER and self.subcode == NOT_FOUND_SUBCODE


def classify(refusal: GraphRefusal, *, read: bool) -> ErrorClass:
    """Throttling waits; a transient failure is retried (a write's outcome is unknown:
    the executor reads back first); the rest is final."""
    if refusal.throttled:
        return ErrorClass.THROTTLED
    if refusal.code in TRANSIENT or refusal.transient:
        return ErrorClass.TRANSIENT if read else ErrorClass.UNKNOWN_OUTCOME
    return ErrorClass.FATAL


def hint(refusal: GraphRefusal, *, account: str, waba: str, qr: bool = False) -> str:
    """What the user can do about ``refusal``, in a few words."""
    code, subcode = refusal.code, refusal.subcode
    if code == TOKEN:
        state = "has expired" if subcode == 463 else "is invalid or has expired"
        return (
            f"the access token of account {account} {state}: make a new system user token "
            f"with the {PERMISSION_NAME} permission (Business Settings > Users > System "
            "users > Generate new token) and put it in the environment variable that "
            "access_token reads; wasync stopped, since no retry can help"
        )
    if code in PERMISSION:
        also = " and whatsapp_business_messaging" if qr else ""
        return (
            f"the access token of account {account} may not do this: give its system user "
            f"the {PERMISSION_NAME}{also} permission and full control of WABA {waba} "
            "(Business Settings > Users > System users > Assign assets), then run wasync "
            "again; wasync stopped, since no retry can help"
        )
    if refusal.throttled:
        return (
            f"Meta's rate limit ({code}) for WABA {waba}: wasync waits and goes on by itself; "
            "if it keeps happening, another app shares the WABA's budget: lower "
            f"requests_per_hour of account {account}"
        )
    if code in TRANSIENT or refusal.transient:
        return "Meta failed for now; wasync retries (a change is read back first)"
    if subcode == EXISTS_SUBCODE:
        return "a template with this name and language exists already: run wasync plan again"
    if subcode == NAME_LOCKED_SUBCODE:
        return (
            "WhatsApp locks the name of a deleted approved template for 30 days: give the "
            "template another name in the spec"
        )
    if subcode == COUNT_LIMIT_SUBCODE:
        return "the WABA holds as many templates as Meta allows: delete unused ones first"
    if refusal.not_found:
        return "it is gone at Meta: run wasync plan again"
    if code == INVALID_PARAMETER:
        return (
            "Meta refused a value: act on its message above (wasync validate may say more), "
            "then run wasync plan again"
        )
    return "act on Meta's message above, then run wasync plan again"

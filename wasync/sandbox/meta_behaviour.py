"""What Meta does to a template, seen by both emulators that hold Meta templates.

NXCloud passes templates through to Meta, so its emulator shows the same behaviour as the
Graph emulator: the statuses a template can have, the fixed wording of an authentication
body, and an OTP button read back as a URL button. Each emulator keeps its own error
wording (``refuse`` builds the error in the provider's shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

STATUSES = frozenset(
    {
        "APPROVED",
        "IN_APPEAL",
        "PENDING",
        "REJECTED",
        "PENDING_DELETION",
        "DELETED",
        "DISABLED",
        "PAUSED",
        "LIMIT_EXCEEDED",
        "ARCHIVED",
    }
)
EDITABLE = frozenset({"APPROVED", "REJECTED", "PAUSED"})
CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
OTP_URL = "https://www.whatsapp.com/otp/code/"

Refuse = Callable[[str], Exception]


def authentication_body(c: dict[str, Any]) -> dict[str, Any]:
    """Meta writes an authentication template's body itself."""
    text = "*{{1}}* is your verification code."
    if c.get("add_security_recommendation"):
        text += " For your security, do not share this code."
    c["text"] = text
    c["example"] = {"body_text": [["123456"]]}
    return c


def otp_as_url(b: dict[str, Any], refuse: Refuse, *, apps_needed: str) -> dict[str, Any]:
    """Meta keeps an OTP button and reads it back as a URL button carrying its settings."""
    otp_type = str(b.pop("otp_type", "COPY_CODE")).upper()
    apps = list(b.pop("supported_apps", None) or [])
    if "package_name" in b or "signature_hash" in b:  # the legacy form (up to v20)
        apps.insert(
            0,
            {
                "package_name": b.pop("package_name", ""),
                "signature_hash": b.pop("signature_hash", ""),
            },
        )
    if otp_type in {"ONE_TAP", "ZERO_TAP"} and not apps:
        raise refuse(f"A {otp_type} button needs {apps_needed}.")
    query: list[tuple[str, str]] = [("otp_type", otp_type)]
    autofill = b.pop("autofill_text", None)
    if autofill:
        query.append(("cta_display_name", str(autofill)))
    for app in apps:
        if not isinstance(app, dict):
            raise refuse("supported_apps holds objects.")
        query += [
            ("package_name", str(app.get("package_name", ""))),
            ("signature_hash", str(app.get("signature_hash", ""))),
        ]
    b.pop("zero_tap_terms_accepted", None)  # accepted once, never read back
    url = f"{OTP_URL}?{urlencode(query)}&code=otp{{{{1}}}}"
    return {**b, "type": "URL", "url": url, "example": [url.replace("{{1}}", "123456")]}

"""Logging to stderr, with every known secret redacted as ``***``.

Config loading registers each credential it reads; anything written through the ``wasync``
loggers, every crash report and (through ``wasync.output``) everything the CLI prints passes
through ``redact`` first. A secret is also hidden in the forms a request or a reply could
carry it: URL-encoded and JSON-escaped. Signature and authorization headers are replaced by
name, since a signature is as good as a password for the minutes it stays valid.

``--debug`` turns on the ``wasync.http`` trace: one line per HTTP call, written by
``http_call`` so that every provider's line has the same shape.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from urllib.parse import quote, quote_plus

REDACTED = "***"
SECRET_HEADERS = frozenset({"authorization", "sign", "accesskey", "x-acs-security-token"})
MIN_SECRET_LENGTH = 4  # shorter values would hide ordinary text, and are no secret anyway
# Headers every request carries and nobody debugs; left out of the trace to keep it one line.
_PLAIN_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "x-acs-content-sha256",  # CAMS calls have no body: always the hash of nothing
    }
)

http_log = logging.getLogger("wasync.http")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_debug_handler: logging.Handler | None = None


def _forms(value: str) -> set[str]:
    """The ways ``value`` can appear in text: as is, URL-encoded, JSON-escaped."""
    return {
        value,
        quote(value, safe=""),
        quote(value, safe="/"),
        quote_plus(value, safe=""),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``redact`` hides it wherever it appears."""
    global _pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        forms = {form for secret in _secrets for form in _forms(secret)}
        ordered = sorted(forms, key=len, reverse=True)  # the longest form wins an overlap
        _pattern = re.compile("|".join(map(re.escape, ordered)))


def redact(text: str) -> str:
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern else text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else redact(v)) for k, v in headers.items()}


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def enable_debug() -> None:
    """Send wasync's debug log (one line per HTTP call, retries) to stderr."""
    global _debug_handler
    logger = logging.getLogger("wasync")
    if _debug_handler is None:
        _debug_handler = logging.StreamHandler()
        _debug_handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(_debug_handler)
    logger.setLevel(logging.DEBUG)


def debug_enabled() -> bool:
    return _debug_handler is not None


def http_call(
    *,
    provider: str,
    account: str,
    operation: str,
    method: str,
    url: str,
    status: int | None,
    started: float,
    ended: float,
    outcome: str = "",
    headers: Mapping[str, str] | None = None,
) -> None:
    """Log one HTTP call on ``wasync.http``: who, what, where, the answer and how long.

    ``status`` is None when no answer came (``outcome`` then says why); ``headers`` are the
    request's, shown with credentials and signatures replaced by ``***``.
    """
    if not http_log.isEnabledFor(logging.DEBUG):
        return
    answer = f"HTTP {status}" if status is not None else "no answer"
    line = (
        f"{provider} {account} {operation}: {method} {url} -> {answer}"
        f"{' ' + outcome if outcome else ''} in {(ended - started) * 1000:.0f} ms"
    )
    if headers is not None:
        shown = redact_headers(
            {k: v for k, v in headers.items() if k.lower() not in _PLAIN_HEADERS}
        )
        line += "; headers: " + ", ".join(f"{k}={v}" for k, v in shown.items())
    http_log.debug("%s", line)

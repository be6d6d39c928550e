"""Logging to stderr, with every known secret redacted as ``***``.

Config loading registers each credential it reads; anything written through the ``wasync``
loggers, and every crash report, passes through ``redact`` first. Providers also redact their
signature and authorization headers by name before logging a request.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "***"
SECRET_HEADERS = frozenset({"authorization", "sign", "accesskey", "x-acs-security-token"})

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``redact`` hides it wherever it appears."""
    global _pattern
    if not value or len(value) < 4:  # too short to search for without hiding ordinary text
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(map(re.escape, ordered)))


def redact(text: str) -> str:
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern else text


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else redact(v)) for k, v in headers.items()}


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def enable_debug() -> None:
    """Send wasync's debug log (one line per HTTP call) to stderr."""
    handler = logging.StreamHandler()
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    logger = logging.getLogger("wasync")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

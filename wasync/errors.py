"""The error tiers of wasync.

A ``WasyncError`` is something the user can fix (a bad spec, a missing variable, a provider
refusal): the CLI prints its message and exits 1, never with a traceback. Anything else that
escapes is a bug: exit 3 with a crash report.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from wasync.log import redact

# A value quoted in a message is cut to this many characters, followed by its length: an
# error must not echo a 200,000-character label or a provider's whole error page.
SHOWN_CHARS = 200
# A quoted value ('...' as repr writes it, "..." as JSON does), or any other run without
# spaces (an address holding the value), longer than SHOWN_CHARS. Possessive, so that a
# quote never closed costs one pass, not one per quote.
_LONG_VALUE = re.compile(
    rf"'(?:[^'\\\n]|\\.){{{SHOWN_CHARS + 1},}}+'"
    rf'|"(?:[^"\\\n]|\\.){{{SHOWN_CHARS + 1},}}+"'
    rf"|[^\s'\"]{{{SHOWN_CHARS + 1},}}+"
)


def clip(text: str) -> str:
    """``text`` with each value longer than ``SHOWN_CHARS`` cut there and its length said:
    ``'xxxx…' (200,000 characters)``; a long run without quotes (an address) keeps its end
    too: ``qr.xxxx…(200,020 characters)…xxxx.8615800001111.poster``."""
    if len(text) <= SHOWN_CHARS:
        return text
    text = _LONG_VALUE.sub(_cut, text)
    # What is still a long run holds quotes that pair with nothing (a value of quotes).
    return _LONG_RUN.sub(_cut_run, text)


_LONG_RUN = re.compile(rf"\S{{{2 * SHOWN_CHARS + 1},}}+")


def _cut(found: re.Match[str]) -> str:
    value = found.group()
    if value[0] in "'\"":
        inner = value[1:-1]
        return f"{value[0]}{inner[:SHOWN_CHARS]}…{value[0]} ({len(inner):,} characters)"
    return _cut_run(found)


def _cut_run(found: re.Match[str]) -> str:
    # An address or a path: its end names the resource (phone, label), so keep some of it.
    value = found.group()
    tail = SHOWN_CHARS // 4
    return f"{value[: SHOWN_CHARS - tail]}…({len(value):,} characters)…{value[-tail:]}"


class WasyncError(Exception):
    """A user-facing error: one clear message, exit code 1. Its text cuts long values
    (``clip``)."""

    exit_code = 1

    def __str__(self) -> str:
        return clip(super().__str__())


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: 1-based line and column in a file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One finding about the specs, as ``file:line:col: address: field: what; allowed``."""

    message: str
    location: Location | None = None
    address: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [str(self.location)] if self.location else []
        parts += [p for p in (self.address, self.field) if p]
        parts.append(self.message)
        return clip(": ".join(parts))

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message) if loc else ("", 0, 0, self.message)


class SpecError(WasyncError):
    """One or more problems in wasync.yaml or the spec files; all are reported together,
    in file order, after ``causes``: problems the others follow from (a broken
    wasync.yaml), said first."""

    def __init__(self, problems: Iterable[Problem], *, causes: Iterable[Problem] = ()) -> None:
        self.problems = [
            *sorted(causes, key=Problem.sort_key),
            *sorted(problems, key=Problem.sort_key),
        ]
        n = len(self.problems)
        summary = f"{n} problem{'s' if n != 1 else ''} in the specs"
        super().__init__("\n".join([*map(str, self.problems), summary]))


class ConfigError(WasyncError):
    """wasync.yaml is unusable (bad account, missing environment variable, unknown provider)."""


class ErrorClass(enum.Enum):
    """How the executor may react to a failed provider call."""

    THROTTLED = "throttled"  # the provider refused for rate; nothing happened; retry later
    TRANSIENT = "transient"  # the provider failed before acting (5xx, refused connection); retry
    UNKNOWN_OUTCOME = "unknown_outcome"  # sent, no answer (timeout, dropped): it may have happened
    FATAL = "fatal"  # the provider refused this request; retrying cannot help

    @property
    def retryable(self) -> bool:
        return self is not ErrorClass.FATAL


class ProviderError(WasyncError):
    """A provider call failed. Carries the provider's own code, message and request id."""

    def __init__(
        self,
        *,
        provider: str,
        operation: str,
        code: str,
        message: str,
        error_class: ErrorClass,
        request_id: str | None = None,
        http_status: int | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        subject: str | None = None,
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.code = code
        # Replies may quote the request (a proxy's error page, a signature check's
        # string-to-sign): hide any registered secret before the message goes anywhere.
        self.provider_message = redact(message)
        self.error_class = error_class
        self.request_id = request_id
        self.http_status = http_status
        self.hint = hint
        self.retry_after = retry_after  # seconds, when the provider said how long to wait
        # The address (or the start of one: ``qr.shop.15550001111``) of what the error is
        # about, so that a command can name where the specs declare it (file and line).
        self.subject = subject
        # Set by the HTTP base for an error that may pass: the latest time (event-loop clock)
        # a retry may start, and the error to raise instead once none can (the account's
        # retry deadline is spent).
        self.retry_by: float | None = None
        self.out_of_time: ProviderError | None = None
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"{self.provider} {self.operation} failed: {self.code}: {self.provider_message}"
        if self.request_id:
            text += f" (RequestId {self.request_id})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    @property
    def retryable(self) -> bool:
        return self.error_class.retryable


class ProtocolError(ProviderError):
    """The provider answered with something that is not its documented shape."""

    def __init__(
        self, *, provider: str, operation: str, detail: str, request_id: str | None = None
    ) -> None:
        super().__init__(
            provider=provider,
            operation=operation,
            code="MalformedReply",
            message=detail,
            error_class=ErrorClass.UNKNOWN_OUTCOME,
            request_id=request_id,
            hint="the reply was not understood; re-run later, and report it if it persists",
        )

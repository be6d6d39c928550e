"""One HTTP base for every provider client: send, time out, classify, retry reads, log.

A client subclasses ``HttpProvider`` and fills in a few documented hooks (octoDNS's
``BaseProvider`` is the model). The base owns the workflow of every call::

    _call(operation, params) / _read(...)   reads go through the executor's ReadRetry, and
      |                                     each attempt is a call of its own, signed afresh
      +- the rate gate (CallGate), entered with the call's operation: the API's bucket
      |    +- _build_request(call)           HOOK: the request, built and signed inside the
      |    |                                 gate, so that a wait cannot age a timestamp
      |    +- send with the account's timeout; read the whole body here, in one place
      |    +- one ``wasync.http`` debug line  (_describe_reply HOOK), credentials redacted
      +- no complete exchange (httpx error)  -> ProviderError in its tier, see below
      +- _reply_error(call, reply)           HOOK: the provider's own refusal, classified by
      |                                      its error-code table; None when there is none
      +- still HTTP >= 400                   -> judged by the status (429, 4xx, 5xx)
      +- _reply_result(call, reply)          HOOK: the payload (an envelope's data, or the
                                             whole body); ProtocolError when malformed
    Every error raised from a reply carries the reply's Retry-After: the provider's own
    header (_provider_retry_after HOOK, e.g. CAMS's milliseconds) or the standard one. A
    refusal for rate (THROTTLED) is also reported to the call's bucket, which slows down,
    and with its wait to the call's windows, which pause. Every reply's usage report, where
    the provider sends one (_reply_usage HOOK, e.g. Meta's X-Business-Use-Case-Usage), goes
    to the call's windows (``wasync.pacing.gate.Turn.usage``).

Tiers of an exchange that did not complete (what the executor may do, ``ErrorClass``):

- TLS refused the server: FATAL, no retry can help (the endpoint or the trust store is wrong);
- never reached (refused, no connection within the timeout, no free connection): TRANSIENT;
- an endpoint that is not http(s): FATAL;
- anything else: sent, but no complete answer (read timeout, dropped connection, a body that
  cannot be decoded): UNKNOWN_OUTCOME; the executor reads back before deciding.

A reply's body is streamed in ``_receive`` and refused (ReplyTooLarge, FATAL) once it
passes ``max_reply_bytes``, by its Content-Length before a byte is read, else as the decoded
bytes come in: a hostile or broken endpoint cannot fill the memory.

Failing fast when nothing can work (the retries themselves are the policy's,
``wasync.pacing.retry``; the base says when none is worth it):

- an endpoint never reached in this run (connection refused, unknown host, no answer to
  connect): one retry ``FIRST_CONTACT_RETRY_S`` later, then FATAL with what to check;
- a read whose reply is not JSON at all (a web page, garbage): FATAL at once, since asking
  again gets the same (a write keeps UNKNOWN_OUTCOME: it is read back);
- any other error that may pass (but a refusal for rate that says when to come back)
  carries the account's retry deadline (``retry_by``): no retry starts that could not end
  within ``retry_deadline`` seconds of the first failure since a call of the account last
  went through (``FIRST_CONTACT_DEADLINE_S`` at most while none has gone through yet in
  this run); then ``out_of_time``, the same error said as final, is raised instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import logging
import math
import re
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Generic, Required, TypedDict, TypeVar

import httpx

from wasync.config import AccountBase
from wasync.errors import ErrorClass, ProtocolError, ProviderError
from wasync.log import http_call, http_log
from wasync.pacing.gate import Turn
from wasync.providers.base import CallGate, ReadRetry, no_retry
from wasync.traits import ProviderTraits

P = TypeVar("P")  # what a call carries to ``_build_request``: query, payload, ...
R = TypeVar("R")  # what an accepted call returns: the envelope's data, the body, ...

# The default cap on a reply's body (``HttpProvider.max_reply_bytes``).
MAX_REPLY_BYTES = 4 * 1024 * 1024

# Nothing was sent: no connection was made (or none was free) in time.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The endpoint could not be reached (refused, unknown host, no answer to connect); before
# any reply came from it, one short retry (``FIRST_CONTACT_RETRY_S`` later), then give up.
_UNREACHED = (httpx.ConnectError, httpx.ConnectTimeout)
FIRST_CONTACT_RETRY_S = 1.0
# Until a call of the account has gone through in this run, its failures (5xx, 429, no
# reply) are retried this long at most, however long ``retry_deadline`` is: an endpoint
# that has not worked once is more likely wrong or down than briefly unwell.
FIRST_CONTACT_DEADLINE_S = 30.0


@dataclass(frozen=True)
class Call(Generic[P]):
    """One logical request, as the hooks see it."""

    operation: str  # the provider's name for it (an action, an endpoint): errors and logs
    params: P  # whatever ``_build_request`` needs
    read: bool = False  # changes nothing: retried by the read policy; a lost answer is harmless


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


class Reply:
    """A complete answer: status, headers and the body, read once."""

    def __init__(self, response: httpx.Response, content: bytes | None = None) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.content = response.content if content is None else content

    @functools.cached_property
    def body(self) -> Any:
        """The body parsed as JSON; None when it is not JSON (nested past the parser's
        depth counts as not JSON)."""
        try:
            parsed = json.loads(self.content)
        except (ValueError, RecursionError):
            return None
        # JSON may spell a lone surrogate (\ud800), which no UTF-8 text can hold: plans,
        # digests and spec files would fail to encode it. Rare, so looked for first.
        if _SURROGATE_ESCAPE.search(self.content):
            return _without_surrogates(parsed)
        return parsed

    def excerpt(self, limit: int = 200) -> str:
        """The start of the body, quoted, for a message about a reply nobody expected."""
        text = self.content[:limit].decode("utf-8", "replace").strip()
        return repr(text) if text else "(empty reply)"


class HttpOptions(TypedDict, total=False):
    """What a session hands every client besides its account (``**options`` of a client)."""

    http: Required[httpx.AsyncClient]  # base_url, transport, TLS settings
    gate: CallGate | None  # entered around every request (rate limiting lives there)
    reads: ReadRetry  # runs each read, retrying it as the executor's policy allows
    clock: Callable[[], float]  # seconds since the epoch: signatures, HTTP-date Retry-After


def _no_gate(api: str = "") -> AbstractAsyncContextManager[Turn | None]:
    return contextlib.nullcontext()


class HttpProvider(ABC, Generic[P, R]):
    """One account at a provider's HTTP API. Subclasses set ``traits`` and ``api_name`` and
    implement the hooks ``_build_request``, ``_reply_error`` and ``_reply_result``; the
    others have defaults. See the module docstring for the order they run in."""

    traits: ProviderTraits
    api_name = "the provider's API"  # "it does not look like <api_name>": a wrong endpoint
    # The largest reply body read, decoded (docs/providers.md): a larger one is refused
    # unread, so that a hostile or broken endpoint cannot fill the memory. The largest
    # documented page of any provider is well under 1 MiB.
    max_reply_bytes = MAX_REPLY_BYTES

    def __init__(
        self,
        account: AccountBase,
        *,
        http: httpx.AsyncClient,
        gate: CallGate | None = None,
        reads: ReadRetry = no_retry,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account.name
        self._timeout = account.timeout
        self._deadline = account.retry_deadline
        # What this run has seen of the endpoint (event-loop time): whether any reply came,
        # when the first attempt to connect failed before one did, and when the attempt
        # began that started the current run of retryable failures (None: the last call
        # went through). See ``_judged``.
        self._reached = False
        self._answered = False  # a call went through, or was refused for itself
        self._unreachable_since: float | None = None
        self._failing_since: float | None = None
        self._http = http
        self._gate: CallGate = gate or _no_gate
        self._reads = reads
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account!r}, endpoint={self._endpoint()!r})"

    async def aclose(self) -> None:
        """The caller owns the HTTP client and closes it."""

    # --- hooks -------------------------------------------------------------------------------

    @abstractmethod
    def _build_request(self, call: Call[P]) -> httpx.Request:
        """The signed request for ``call`` (``self._http.build_request``, relative URL).
        Runs inside the rate gate, once per attempt: sign here, never earlier."""

    @abstractmethod
    def _reply_error(self, call: Call[P], reply: Reply) -> ProviderError | None:
        """The error this reply reports in the provider's own format (an envelope's code,
        an error object), with the class and hint its code-table gives; None when the reply
        is no refusal in that format. A reply left unexplained here with HTTP >= 400 is
        judged by its status (``_status_error``)."""

    @abstractmethod
    def _reply_result(self, call: Call[P], reply: Reply) -> R:
        """The payload of an accepted reply (HTTP < 400, no ``_reply_error``): an envelope's
        data or the whole body. Raise ``self._malformed(...)`` when it is not the documented
        shape: the call may have acted, so the executor reads back before deciding."""

    def _describe_reply(self, reply: Reply) -> str:
        """A few words for the debug line after ``-> HTTP <status>``: the provider's code
        and request id, never the body (it may hold phone numbers)."""
        return f"{len(reply.content)} bytes"

    def _provider_retry_after(self, headers: httpx.Headers) -> float | None:
        """Seconds to wait, from a header of the provider's own; None: the standard
        ``Retry-After`` (seconds or an HTTP-date) decides."""
        return None

    def _reply_usage(self, reply: Reply) -> tuple[float, float | None] | None:
        """The provider's own count of the budget the call counts in, from the reply (a
        usage header): the share used (0..1), and the seconds until it lets calls through
        again where it says; None when the reply has no such report."""
        return None

    def _server_error_class(self, call: Call[P], status: int) -> ErrorClass:
        """The class of a 5xx the provider's format does not explain (a gateway's page).
        By default a read may be retried; a write may have acted before the failure."""
        return ErrorClass.TRANSIENT if call.read else ErrorClass.UNKNOWN_OUTCOME

    # --- what clients call -------------------------------------------------------------------

    async def _call(self, operation: str, params: P, *, read: bool = False) -> R:
        """One request; its payload, or a ``ProviderError`` whose class says what the
        executor may do. ``read=True``: see ``_read``."""
        call = Call(operation, params, read)
        if read:
            return await self._reads(lambda: self._exchange(call))
        return await self._exchange(call)

    async def _read(self, operation: str, params: P) -> R:
        """A call that changes nothing, so it may be retried (signed afresh each time)."""
        return await self._call(operation, params, read=True)

    def _error(
        self,
        operation: str,
        code: str,
        message: str,
        error_class: ErrorClass,
        *,
        hint: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        subject: str | None = None,
    ) -> ProviderError:
        """A ``ProviderError`` of this provider (its message is redacted there);
        ``subject``: the address (or its start) the error is about."""
        return ProviderError(
            provider=self.traits.name,
            operation=operation,
            code=code,
            message=message,
            error_class=error_class,
            hint=hint,
            request_id=request_id,
            http_status=http_status,
            subject=subject,
        )

    def _malformed(
        self, operation: str, detail: str, request_id: str | None = None
    ) -> ProtocolError:
        """A reply that is not the documented shape."""
        return ProtocolError(
            provider=self.traits.name, operation=operation, detail=detail, request_id=request_id
        )

    def _unknown_hint(self, call: Call[P]) -> str:
        """What an unanswered ``call`` means for the user."""
        if call.read:
            return "a read: nothing was changed"
        return "the change may have been applied; run wasync plan to see whether it was"

    # --- the workflow ------------------------------------------------------------------------

    async def _exchange(self, call: Call[P]) -> R:
        try:
            reply, turn, started = await self._send(call)
        except _Unsent as unsent:
            if unsent.unreached:
                raise self._first_contact(call, unsent.error, unsent.started) from None
            raise self._judged(call, unsent.error, unsent.started) from None
        self._reached = True
        if turn is not None:
            usage = self._reply_usage(reply)
            if usage is not None:
                turn.usage(*usage)  # the provider's count of the call's windows
        try:
            result = self._interpret(call, reply)
        except ProviderError as exc:
            if exc.retry_after is None:
                exc.retry_after = self._retry_after(reply)
            if exc.error_class is ErrorClass.THROTTLED and turn is not None:
                # that API's bucket slows down; its windows pause for the wait asked for
                turn.throttled(exc.retry_after)
            if call.read and isinstance(exc, ProtocolError) and reply.body is None:
                raise self._unreadable(call, exc) from None
            raise self._judged(call, exc, started) from None
        self._failing_since = None
        self._answered = True
        return result

    def _judged(self, call: Call[P], exc: ProviderError, started: float) -> ProviderError:
        """``exc``, with the account's retry deadline on it when it may pass: no retry may
        start after ``retry_by`` (then ``out_of_time`` is raised instead, see
        ``wasync.pacing.retry``): the deadline is ``retry_deadline`` seconds after the
        attempt that began the account's current run of failures (no call went through
        since), less the time this attempt took (so that the next ends before it)."""
        if not exc.retryable:
            self._failing_since = None  # an answer: the endpoint works, the request did not
            self._answered = True
            return exc
        if exc.error_class is ErrorClass.THROTTLED and exc.retry_after:
            # The provider works and said when to come back (Meta: up to an hour): that
            # wait is honoured, bounded by the policy's attempts, not by the deadline.
            return exc
        now = _loop_time()
        if self._failing_since is None:
            self._failing_since = started
        deadline = self._deadline
        why = f"retry_deadline: {deadline:g} of account {self.account} in wasync.yaml"
        if not self._answered and deadline > FIRST_CONTACT_DEADLINE_S:
            deadline = FIRST_CONTACT_DEADLINE_S
            why = f"no call of account {self.account} has gone through yet in this run"
        exc.retry_by = self._failing_since + deadline - (now - started)
        exc.out_of_time = _final(
            exc,
            f"gave up: no call to {self._endpoint()} went through for "
            f"{now - self._failing_since:.0f} s ({why})",
        )
        return exc

    def _first_contact(self, call: Call[P], exc: ProviderError, started: float) -> ProviderError:
        """A connection that could not be made (refused, unknown host, no answer to
        connect): before any reply came from the endpoint in this run, one short retry,
        then final; once the endpoint has answered, the usual retries and deadline."""
        if self._reached:
            return self._judged(call, exc, started)
        first = self._unreachable_since is None or started < self._unreachable_since
        if first and self._deadline >= FIRST_CONTACT_RETRY_S:
            if self._unreachable_since is None:
                self._unreachable_since = _loop_time()
            if exc.retry_after is None:
                exc.retry_after = FIRST_CONTACT_RETRY_S
            return exc
        return _final(
            exc,
            f"gave up: {self._endpoint()} could not be reached at all; check the spelling of "
            f"`endpoint:` of account {self.account} in wasync.yaml, this machine's network and "
            "DNS, and any proxy it must use (HTTPS_PROXY)",
            replace_hint=True,
        )

    def _unreadable(self, call: Call[P], exc: ProviderError) -> ProviderError:
        """A read whose reply is not JSON at all (a web page, a proxy's or a captive
        portal's, or a cut-off body): asking again gets the same, so it is final."""
        self._failing_since = None
        return _final(
            exc,
            f"the reply is not JSON, so this is probably not {self.api_name}: check "
            f"`endpoint:` of account {self.account} in wasync.yaml (and any proxy on the way)",
            replace_hint=True,
        )

    async def _send(self, call: Call[P]) -> tuple[Reply, Turn | None, float]:
        """The reply, the call's turn at the gate, and when (loop time) it was sent;
        ``_Unsent`` when no complete reply came, or one that is not read."""
        async with self._gate(call.operation) as turn:
            request = self._build_request(call)
            request.extensions["timeout"] = httpx.Timeout(self._timeout).as_dict()
            started = time.monotonic()
            sent_at = _loop_time()
            try:
                response = await self._http.send(request, stream=True)
                try:
                    content = await self._receive(response)
                finally:
                    await response.aclose()
            except httpx.RequestError as exc:
                self._log(call, request, None, started, type(exc).__name__)
                error = self._transport_error(call, exc)
                raise _Unsent(error, sent_at, unreached=isinstance(exc, _UNREACHED)) from None
            except ReplyTooLarge as exc:
                self._log(call, request, None, started, f"reply over {exc.cap} bytes")
                raise _Unsent(self._too_large(call, exc), sent_at) from None
            reply = Reply(response, content)
            self._log(call, request, reply, started)
        return reply, turn, sent_at

    async def _receive(self, response: httpx.Response) -> bytes:
        """The whole body of ``response``, decoded: the one place a reply's bytes come in.
        Streamed, and refused (``ReplyTooLarge``) as soon as it is known to pass
        ``max_reply_bytes``: by its Content-Length before any byte is read, else as the
        decoded bytes come in (a compressed reply is counted after decompression)."""
        cap = self.max_reply_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ReplyTooLarge(cap, int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise ReplyTooLarge(cap, None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, call: Call[P], exc: ReplyTooLarge) -> ProviderError:
        size = f"{exc.size:,} bytes" if exc.size is not None else "more than that"
        hint = (
            f"check the endpoint of account {self.account}: {self.api_name} never sends "
            "a reply that large"
        )
        if not call.read:
            hint += "; " + self._unknown_hint(call)
        return self._error(
            call.operation,
            "ReplyTooLarge",
            f"the reply from {self._endpoint()} is over wasync's cap of "
            f"{_mib(exc.cap)} ({size}); it was not read",
            ErrorClass.FATAL,
            hint=hint,
        )

    def _interpret(self, call: Call[P], reply: Reply) -> R:
        error = self._reply_error(call, reply)
        if error is None and reply.status >= 400:
            error = self._status_error(call, reply)
        if error is not None:
            raise error
        return self._reply_result(call, reply)

    def _status_error(self, call: Call[P], reply: Reply) -> ProviderError:
        """A refusal the provider's format does not explain (a proxy's or a gateway's page,
        a wrong endpoint), judged by its HTTP status."""
        status = reply.status
        if status == 429:
            error_class, message = ErrorClass.THROTTLED, "too many requests"
            hint = f"lower qps for account {self.account} if this keeps happening"
        elif status >= 500:
            error_class, message = self._server_error_class(call, status), reply.excerpt()
            if error_class is ErrorClass.UNKNOWN_OUTCOME:
                hint = self._unknown_hint(call)
            else:
                hint = "the server failed; retrying is safe"
        else:
            error_class, message = ErrorClass.FATAL, reply.excerpt()
            hint = (
                f"check the endpoint of account {self.account}: it does not look like "
                f"{self.api_name}"
            )
        return self._error(
            call.operation, f"HTTP {status}", message, error_class, hint=hint, http_status=status
        )

    def _retry_after(self, reply: Reply) -> float | None:
        own = self._provider_retry_after(reply.headers)
        if own is not None:
            return own
        return retry_after_seconds(reply.headers.get("retry-after"), self._clock())

    def _transport_error(self, call: Call[P], exc: httpx.RequestError) -> ProviderError:
        where = self._endpoint()
        detail = str(exc) or "no detail"
        timed_out = isinstance(exc, httpx.TimeoutException)
        tls = tls_failure(exc)
        if tls is not None:
            return self._error(
                call.operation,
                "TLSError",
                f"refused {where}: {tls}",
                ErrorClass.FATAL,
                hint=tls_hint(self.account),
            )
        if isinstance(exc, _NEVER_SENT):
            error_class = ErrorClass.TRANSIENT
            message = f"could not connect to {where}" + (
                f" within {self._timeout:g} s" if timed_out else f": {detail}"
            )
            hint = "nothing was sent, so retrying is safe"
            if not timed_out:
                hint += f"; if it persists, check the endpoint of account {self.account}"
        elif isinstance(exc, httpx.UnsupportedProtocol):
            return self._error(
                call.operation,
                type(exc).__name__,
                f"cannot send to {where}: {detail}",
                ErrorClass.FATAL,
                hint=f"the endpoint of account {self.account} must be an https:// URL or sandbox",
            )
        else:
            error_class = ErrorClass.UNKNOWN_OUTCOME
            if timed_out:
                message = f"no reply within {self._timeout:g} s from {where}"
            elif isinstance(exc, httpx.DecodingError):
                message = f"the reply from {where} could not be decoded: {detail}"
            else:
                message = f"the connection to {where} dropped before the reply: {detail}"
            hint = self._unknown_hint(call)
        if timed_out:
            hint += "; " + timeout_hint(self.account, self._timeout)
        return self._error(call.operation, type(exc).__name__, message, error_class, hint=hint)

    def _endpoint(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def _log(
        self,
        call: Call[P],
        request: httpx.Request,
        reply: Reply | None,
        started: float,
        outcome: str = "",
    ) -> None:
        if not http_log.isEnabledFor(logging.DEBUG):
            return
        http_call(
            provider=self.traits.name,
            account=self.account,
            operation=call.operation,
            method=request.method,
            url=str(request.url.copy_with(query=None)),  # the query may carry phone numbers
            status=reply.status if reply is not None else None,
            started=started,
            ended=time.monotonic(),
            outcome=self._describe_reply(reply) if reply is not None else outcome,
            headers=request.headers,
        )


class _Unsent(Exception):  # noqa: N818 - carries an error from _send to _exchange
    """No reply to judge: ``error`` says why; ``started``: when the request went out
    (loop time); ``unreached``: no connection could be made."""

    def __init__(self, error: ProviderError, started: float, *, unreached: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.started = started
        self.unreached = unreached


def _loop_time() -> float:
    """The event loop's clock: what retry waits are measured by (tests: a virtual one)."""
    return asyncio.get_running_loop().time()


def _final(exc: ProviderError, words: str, *, replace_hint: bool = False) -> ProviderError:
    """``exc`` as an error no retry follows (FATAL), with ``words`` said after its hint (or
    instead of it)."""
    final = type(exc).__new__(type(exc))  # the same kind of error (a ProtocolError stays one)
    final.__dict__.update(exc.__dict__)
    final.retry_by = final.out_of_time = None
    final.error_class = ErrorClass.FATAL
    final.hint = words if replace_hint or not exc.hint else f"{exc.hint}; {words}"
    final.args = (final.describe(),)
    return final


class ReplyTooLarge(Exception):  # noqa: N818 - a state, like asyncio's QueueFull
    """A reply's body passed ``max_reply_bytes`` (``size``: its Content-Length, if given)."""

    def __init__(self, cap: int, size: int | None) -> None:
        super().__init__(cap, size)
        self.cap = cap
        self.size = size


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


# --- the words for a failed exchange ---------------------------------------------------------


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The wait a ``Retry-After`` header asks for: delta-seconds or an HTTP-date (RFC 9110
    10.2.3), measured from ``now`` (seconds since the epoch); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return max(0.0, seconds) if math.isfinite(seconds) else None


def tls_failure(exc: BaseException) -> str | None:
    """The TLS problem behind ``exc`` (a certificate that does not verify, a server that
    does not speak TLS), in words; None when ``exc`` is no TLS problem."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            detail = current.verify_message or current.reason or "not trusted"
            return f"its TLS certificate could not be verified ({detail})"
        if isinstance(current, ssl.SSLError):
            return f"the TLS handshake failed ({current.reason or current})"
        current = current.__cause__ or current.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "its TLS certificate could not be verified"
    return None


def tls_hint(account: str) -> str:
    return (
        f"wasync verifies certificates: check that the endpoint of account {account} is the "
        "provider's https:// URL; behind a proxy that re-signs TLS, point SSL_CERT_FILE at "
        "its CA bundle"
    )


def timeout_hint(account: str, seconds: float | None) -> str:
    now = f" (now {seconds:g} s)" if seconds else ""
    return (
        f"if the provider is only slow, raise `timeout:`{now} of account {account} in wasync.yaml"
    )

"""What a failed HTTP exchange means, in words, the same for every provider.

The providers classify failures for the executor (``ErrorClass``); this module gives the
person reading the error the two facts they need that httpx buries in a chain of
exceptions: whether TLS refused the server (no retry can help; the endpoint or the trust
store is wrong) and, for a timeout, which setting to raise.
"""

from __future__ import annotations

import ssl


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

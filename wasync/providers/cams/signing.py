"""Alibaba Cloud request signature V3, ``ACS3-HMAC-SHA256`` (reference/cams.md §5.1).

The client signs every request with this; nothing here touches the network. The emulator
verifies signatures with its own code (``wasync/sandbox/cams_auth.py``), so that a mistake
on one side cannot hide behind the same mistake on the other.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"

# Headers the signature must cover: the gateway insists on these (besides content-type
# when there is a body); the SDK signs a few more, which is allowed.
REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 text: only ``A-Z a-z 0-9 - _ . ~`` stay literal, so a
    space is ``%20`` and ``*`` is ``%2A``."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, name and value percent-encoded, joined by ``=`` and ``&``.

    The same string is used on the wire, so what is signed is exactly what is sent.
    """
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params)
    )


def hashed_payload(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_hash: str,
) -> str:
    """The text that gets hashed and signed. ``headers`` must hold every signed name
    (lower case)."""
    names = sorted(signed_headers)
    header_block = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
    return "\n".join(
        [
            method.upper(),
            path,
            canonical_query(query),
            header_block,
            ";".join(names),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(access_key_secret: str, to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 keyed with the raw secret (no ``&`` suffix, unlike V1)."""
    key = access_key_secret.encode("utf-8")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    *,
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes = b"",
) -> str:
    """The ``Authorization`` header value, signing every header in ``headers``.

    ``headers`` are the ones to sign (any case); they must include ``REQUIRED_SIGNED_HEADERS``
    and ``x-acs-content-sha256`` must be the hash of ``body``.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in REQUIRED_SIGNED_HEADERS if name not in lowered]
    if missing:
        raise ValueError(f"cannot sign without the headers {', '.join(missing)}")
    payload_hash = hashed_payload(body)
    if lowered["x-acs-content-sha256"] != payload_hash:
        raise ValueError("x-acs-content-sha256 does not match the body")
    canonical = canonical_request(
        method=method,
        path=path,
        query=query,
        headers=lowered,
        signed_headers=lowered,
        payload_hash=payload_hash,
    )
    sig = signature(access_key_secret, string_to_sign(canonical))
    signed = ";".join(sorted(lowered))
    return f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={sig}"

"""NXCloud request signing (API接口调用约定, reference/nxcloud.md §2).

The string to sign is the four required headers sorted by name, then ``&body=<raw json>`` when
the body is non-empty, then ``&accessSecret=<secret>``; its MD5 (or SHA-256, when the
``algorithm`` header says so) in lowercase hex is the ``sign`` header. The body part is the
exact bytes sent: the server hashes what it received, so re-serialising would break the sign.
Multipart requests sign without a body.
"""

from __future__ import annotations

import hashlib

ALGORITHMS = ("md5", "sha256")
DEFAULT_ALGORITHM = "md5"


def string_to_sign(
    *, access_key: str, action: str, biz_type: str, ts: str, body: bytes | str | None, secret: str
) -> bytes:
    """The bytes that are hashed. Holds the secret: never log or show it."""
    headers = {"accessKey": access_key, "action": action, "bizType": biz_type, "ts": ts}
    text = "&".join(f"{k}={headers[k]}" for k in sorted(headers))
    raw = text.encode("utf-8")
    if body:
        raw += b"&body=" + (body.encode("utf-8") if isinstance(body, str) else body)
    return raw + b"&accessSecret=" + secret.encode("utf-8")


def sign(
    *,
    access_key: str,
    secret: str,
    action: str,
    biz_type: str,
    ts: str,
    body: bytes | str | None = None,
    algorithm: str = DEFAULT_ALGORITHM,
) -> str:
    """The ``sign`` header for one request: lowercase hex of md5 or sha256."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signing algorithm {algorithm!r}; use one of {ALGORITHMS}")
    raw = string_to_sign(
        access_key=access_key, action=action, biz_type=biz_type, ts=ts, body=body, secret=secret
    )
    return hashlib.new(algorithm, raw).hexdigest()

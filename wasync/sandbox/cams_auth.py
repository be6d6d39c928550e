"""The CAMS emulator's gateway checks: V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1) signature
verification, the clock window and nonce replay (reference/cams.md §5, §8).

Written from the reference text alone, independently of the client's signer: the percent
encoding, canonical forms and HMACs below are this module's own.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wasync.sandbox.common import Clock

WINDOW_SECONDS = 15 * 60  # x-acs-date / Timestamp skew the gateway tolerates
V3_ALGORITHM = "ACS3-HMAC-SHA256"
V3_MUST_SIGN = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


@dataclass
class GatewayError(Exception):
    """A refusal by the API gateway, before the service sees the request."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def rfc3986(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        out.append(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}")
    return "".join(out)


def _sorted_query(pairs: Sequence[tuple[str, str]]) -> str:
    encoded = sorted((rfc3986(k), rfc3986(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _parse_time(text: str, name: str) -> float:
    try:
        stamp = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise GatewayError(
            400,
            "InvalidTimeStamp.Format",
            f"Specified {name} is not valid: {text!r}; expected yyyy-MM-ddTHH:mm:ssZ in UTC.",
        ) from None
    return stamp.timestamp()


class NonceBook:
    """Nonces seen within the window. Memory stays bounded: a nonce is forgotten once its
    request time has left the window, since such a replay fails the time check anyway."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def claim(self, access_key_id: str, nonce: str, request_time: float, now: float) -> bool:
        """Record a nonce; False if it was already used."""
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                _, old = heapq.heappop(self._expiry)
                self._seen.discard(old)
            key = (access_key_id, nonce)
            if key in self._seen:
                return False
            self._seen.add(key)
            heapq.heappush(self._expiry, (request_time + self.window, key))
            return True


@dataclass(frozen=True)
class SignedCall:
    """A request whose signature checked out."""

    access_key_id: str
    style: str  # "v3" or "v1"


class Verifier:
    def __init__(self, keys: Mapping[str, str], clock: Clock) -> None:
        self.keys = dict(keys)
        self.clock = clock
        self.nonces = NonceBook()

    def verify(
        self,
        *,
        method: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        form: Sequence[tuple[str, str]],
        body: bytes,
    ) -> SignedCall:
        """``headers`` with lower-case names; ``query`` and ``form`` decoded pairs."""
        if "authorization" in headers:
            return self._verify_v3(method, headers, query, body)
        if any(k == "Signature" for k, _ in (*query, *form)):
            return self._verify_v1(method, query, form)
        raise GatewayError(
            400,
            "IncompleteSignature",
            "The request is not signed: send an Authorization header (V3) "
            "or a Signature parameter (V1).",
        )

    def _secret(self, access_key_id: str) -> str:
        secret = self.keys.get(access_key_id)
        if secret is None:
            raise GatewayError(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        return secret

    def _check_time(self, stamp: float) -> None:
        if abs(self.clock() - stamp) > WINDOW_SECONDS:
            raise GatewayError(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired: it must be within 15 minutes "
                "of the server's time.",
            )

    def _claim_nonce(self, access_key_id: str, nonce: str, stamp: float) -> None:
        if not self.nonces.claim(access_key_id, nonce, stamp, self.clock()):
            raise GatewayError(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )

    # --- V3 ----------------------------------------------------------------------------

    def _verify_v3(
        self,
        method: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        body: bytes,
    ) -> SignedCall:
        scheme, _, rest = headers["authorization"].partition(" ")
        if scheme != V3_ALGORITHM:
            raise GatewayError(
                400, "IncompleteSignature", f"Unsupported signature algorithm {scheme!r}."
            )
        fields: dict[str, str] = {}
        for part in rest.split(","):
            name, eq, value = part.strip().partition("=")
            if eq:
                fields[name] = value
        for name in ("Credential", "SignedHeaders", "Signature"):
            if not fields.get(name):
                raise GatewayError(
                    400, "IncompleteSignature", f"The Authorization header lacks {name}."
                )
        access_key_id = fields["Credential"]
        secret = self._secret(access_key_id)
        signed = fields["SignedHeaders"].split(";")
        if signed != sorted(set(signed)) or any(n != n.lower() for n in signed):
            raise GatewayError(
                400,
                "IncompleteSignature",
                "SignedHeaders must list lower-case header names, sorted, each once.",
            )
        unsigned = [n for n in V3_MUST_SIGN if n not in signed]
        if unsigned:
            raise GatewayError(
                400, "IncompleteSignature", f"These headers must be signed: {', '.join(unsigned)}."
            )
        absent = [n for n in signed if n not in headers]
        if absent:
            raise GatewayError(
                400, "IncompleteSignature", f"Signed headers are missing: {', '.join(absent)}."
            )
        stamp = _parse_time(headers["x-acs-date"], "x-acs-date")
        self._check_time(stamp)
        body_hash = hashlib.sha256(body).hexdigest()
        if headers["x-acs-content-sha256"] != body_hash:
            raise GatewayError(
                400,
                "SignatureDoesNotMatch",
                "x-acs-content-sha256 does not match the SHA-256 of the request body.",
            )
        canonical = "\n".join(
            [
                method.upper(),
                "/",
                _sorted_query(query),
                "".join(f"{n}:{headers[n].strip()}\n" for n in signed),
                ";".join(signed),
                body_hash,
            ]
        )
        to_sign = V3_ALGORITHM + "\n" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise GatewayError(
                400,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                f"provided. Check your key and signing method. Server string to sign: {to_sign!r}",
            )
        self._claim_nonce(access_key_id, headers["x-acs-signature-nonce"], stamp)
        return SignedCall(access_key_id, "v3")

    # --- V1 ----------------------------------------------------------------------------

    def _verify_v1(
        self, method: str, query: Sequence[tuple[str, str]], form: Sequence[tuple[str, str]]
    ) -> SignedCall:
        params = dict([*query, *form])
        for name in (
            "AccessKeyId",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "Timestamp",
        ):
            if not params.get(name):
                raise GatewayError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise GatewayError(
                400,
                "IncompleteSignature",
                "V1 signatures need SignatureMethod=HMAC-SHA1 and SignatureVersion=1.0.",
            )
        access_key_id = params["AccessKeyId"]
        secret = self._secret(access_key_id)
        stamp = _parse_time(params["Timestamp"], "Timestamp")
        self._check_time(stamp)
        signed_pairs = [(k, v) for k, v in (*query, *form) if k != "Signature"]
        to_sign = "&".join([method.upper(), rfc3986("/"), rfc3986(_sorted_query(signed_pairs))])
        digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            raise GatewayError(
                400,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                f"provided. Check your key and signing method. Server string to sign: {to_sign!r}",
            )
        self._claim_nonce(access_key_id, params["SignatureNonce"], stamp)
        return SignedCall(access_key_id, "v1")

"""Canonical JSON and the sha256 digests a saved plan is checked with.

A remote fingerprint covers what the plan was decided on (identity, content, status), not
what a provider may vary between two listings of an unchanged resource (signed image links,
rejection notes, provider extras), or every plan would look stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return (
        "sha256:"
        + hashlib.sha256(canonical_json(value).encode("utf-8", "surrogatepass")).hexdigest()
    )


# The fields each view holds, in the order the views write them (``specs_digest`` does not
# sort keys). A remote view leaves out what a provider varies between two listings of an
# unchanged resource: the code's links, rejection notes, extras.
REMOTE_QR_FIELDS = ("account", "phone", "code", "prefilled_message", "image")
REMOTE_TEMPLATE_FIELDS = (
    *("account", "phone", "id", "name", "language", "category", "status", "components"),
    *("message_send_ttl_seconds", "detailed"),
)
DESIRED_QR_FIELDS = ("account", "phone", "label", "prefilled_message", "image", "code", "protect")
DESIRED_TEMPLATE_FIELDS = (
    *("account", "phone", "name", "language", "category", "components"),
    *("message_send_ttl_seconds", "protect", "parameter_format"),
)


def _view(kind: str, resource: object, fields: Iterable[str], **given: Any) -> JsonDict:
    """``kind`` and ``resource``'s ``fields``, in order; ``given`` values stand in for the
    fields they name."""
    return {"kind": kind, **{f: given[f] if f in given else getattr(resource, f) for f in fields}}


def remote_view(remote: RemoteQrCode | RemoteTemplate) -> JsonDict:
    """The fingerprinted fields of a remote resource."""
    if isinstance(remote, RemoteQrCode):
        return _view("qr", remote, REMOTE_QR_FIELDS)
    return _view("template", remote, REMOTE_TEMPLATE_FIELDS, components=list(remote.components))


def remote_fingerprint(remote: RemoteQrCode | RemoteTemplate) -> str:
    return sha256_of(remote_view(remote))


def desired_view(resource: QrCode | Template, components: list[JsonDict] | None = None) -> JsonDict:
    """Everything a spec entry says. ``components`` may pass the canonical components
    already computed, so large spec sets are not dumped twice."""
    if isinstance(resource, QrCode):
        return _view("qr", resource, DESIRED_QR_FIELDS)
    # The canonical form keeps every value the spec set except empty ones, which mean the
    # same as absent; header_url (write-only) is still in it here.
    if components is None:
        components = resource.canonical_components()
    return _view("template", resource, DESIRED_TEMPLATE_FIELDS, components=components)


def specs_digest(views: Iterable[tuple[str, JsonDict]]) -> str:
    """Digest of the desired state from (address, view) pairs, independent of their order.

    Keys are not sorted (half the cost on large spec sets): views are built in one fixed
    key order, and a plan is only checked by the wasync version that wrote it."""
    digest = SpecsDigest()
    for address, view in sorted(views, key=lambda pair: pair[0]):
        digest.add(address, view)
    return digest.result()


class SpecsDigest:
    """``specs_digest`` of views given one at a time in address order: each slice is hashed
    as it fills, so the views (and the components they hold) need not all be kept."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self._slice: list[JsonDict] = []
        self._last: str | None = None
        self._started = False

    def add(self, address: str, view: JsonDict) -> None:
        if self._last is not None and address <= self._last:
            raise ValueError(f"views out of address order: {address!r} after {self._last!r}")
        self._last = address
        self._slice.append(view)
        if len(self._slice) == _SLICE:
            self._flush()

    def _flush(self) -> None:
        # The digest of the compact JSON of every view, hashed a slice at a time: the
        # whole text of a large spec set would be tens of MB held at once.
        if self._slice:
            self._hash.update((b"," if self._started else b"") + _compact_json(self._slice)[1:-1])
            self._started, self._slice = True, []

    def result(self) -> str:
        self._flush()
        final = self._hash.copy()
        final.update(b"]")
        return "sha256:" + final.hexdigest()


_SLICE = 500


def _compact_json(value: list[JsonDict]) -> bytes:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` as UTF-8, written
    by pydantic-core's serializer (byte for byte the same, three times faster); a lone
    surrogate, which it refuses, takes the slow path."""
    try:
        return to_json(value)
    except PydanticSerializationError:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8", "surrogatepass")

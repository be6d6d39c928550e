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

from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value).encode()).hexdigest()


def remote_view(remote: RemoteQrCode | RemoteTemplate) -> JsonDict:
    """The fingerprinted fields of a remote resource."""
    if isinstance(remote, RemoteQrCode):
        return {
            "kind": "qr",
            "account": remote.account,
            "phone": remote.phone,
            "code": remote.code,
            "prefilled_message": remote.prefilled_message,
            "image": remote.image,
        }
    return {
        "kind": "template",
        "account": remote.account,
        "phone": remote.phone,
        "id": remote.id,
        "name": remote.name,
        "language": remote.language,
        "category": remote.category,
        "status": remote.status,
        "components": list(remote.components),
        "message_send_ttl_seconds": remote.message_send_ttl_seconds,
        "detailed": remote.detailed,
    }


def remote_fingerprint(remote: RemoteQrCode | RemoteTemplate) -> str:
    return sha256_of(remote_view(remote))


def desired_view(resource: QrCode | Template, components: list[JsonDict] | None = None) -> JsonDict:
    """Everything a spec entry says. ``components`` may pass the canonical components
    already computed, so large spec sets are not dumped twice."""
    if isinstance(resource, QrCode):
        return {
            "kind": "qr",
            "account": resource.account,
            "phone": resource.phone,
            "label": resource.label,
            "prefilled_message": resource.prefilled_message,
            "image": resource.image,
            "code": resource.code,
            "protect": resource.protect,
        }
    return {
        "kind": "template",
        "account": resource.account,
        "phone": resource.phone,
        "name": resource.name,
        "language": resource.language,
        "category": resource.category,
        # The canonical form keeps every value the spec set except empty ones, which mean
        # the same as absent; header_url (write-only) is still in it here.
        "components": resource.canonical_components() if components is None else components,
        "message_send_ttl_seconds": resource.message_send_ttl_seconds,
        "protect": resource.protect,
    }


def specs_digest(views: Iterable[tuple[str, JsonDict]]) -> str:
    """Digest of the desired state from (address, view) pairs, independent of their order.

    Keys are not sorted (half the cost on large spec sets): views are built in one fixed
    key order, and a plan is only checked by the wasync version that wrote it."""
    ordered = [view for _, view in sorted(views, key=lambda pair: pair[0])]
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

"""Remote resources as spec entries: what ``wasync import`` writes for each.

A QR code has no name at the provider: its label is made from its code (``qr-<code>``,
lowercased) and the entry pins ``code:``. Values the provider does not read back are kept from
the entry being replaced, or filled in with a note (a media header's sample URL).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from wasync.importer.account import Target
from wasync.model import Desired, JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.traits import SAMPLE_URL

# Stands in for a media sample the provider does not return; .invalid never resolves.
SAMPLE_PLACEHOLDER = "https://sample.invalid/replace-me"
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# Where a provider that takes the sample as a file (header_file) gets it from, by format.
SAMPLE_SUFFIX = {"IMAGE": ".png", "VIDEO": ".mp4", "DOCUMENT": ".pdf"}

_NOT_LABEL = re.compile(r"[^a-z0-9_-]+")


def labels_in_use(desired: Desired) -> dict[str, set[str]]:
    """The QR labels of each number."""
    labels: dict[str, set[str]] = defaultdict(set)
    for q in desired.qr_codes:
        labels[q.phone].add(q.label)
    return labels


def label_for(qr: RemoteQrCode, labels: dict[str, set[str]]) -> str:
    """``qr-<code>``, lowercased, made unique on its number (codes that differ only in case
    get ``-2``, ``-3``...), and added to ``labels``. The planner lists codes in code order, so
    this is stable."""
    base = "qr-" + (_NOT_LABEL.sub("-", qr.code.lower()).strip("-") or "code")
    label, n = base, 1
    while label in labels[qr.phone]:
        n += 1
        label = f"{base}-{n}"
    labels[qr.phone].add(label)
    return label


def qr_entry(r: RemoteQrCode, label: str, previous: QrCode | None) -> JsonDict:
    """The spec entry for ``r``; ``previous`` is the entry it replaces, whose image (when
    the provider did not return one) and ``protect`` are kept."""
    entry: JsonDict = {
        "account": r.account,
        "phone": r.phone,
        "label": label,
        "prefilled_message": r.prefilled_message,
    }
    image = r.image or (previous.image if previous else "")
    if image:
        entry["image"] = image
    entry["code"] = r.code
    if previous is not None and previous.protect:
        entry["protect"] = True
    return entry


def template_entry(
    r: RemoteTemplate, previous: Template | None, target: Target
) -> tuple[JsonDict, dict[str, str]]:
    """The spec entry for ``r``, and comments for the values the provider did not return
    (by dotted path in the entry). ``previous`` is the spec entry it replaces, whose
    write-only values and settings are kept."""
    traits = target.settings.traits
    components = [dict(c) for c in r.components]
    if previous is not None:
        components = _carry(
            components, previous.canonical_components(), traits.write_only_component_keys
        )
    notes: dict[str, str] = {}
    # A provider that takes the sample as a file of the spec folder gets a path to put it at.
    file = None if SAMPLE_URL in traits.template_media_samples else f"media/{r.name}-{r.language}"
    _fill_unreturned(components, "components", target.provider, notes, file)
    entry: JsonDict = {"account": r.account}
    if traits.template_scope == "phone" and r.phone:
        entry["phone"] = r.phone
    entry |= {"name": r.name, "language": r.language, "category": r.category}
    if r.extra.get("parameter_format") == "NAMED":  # where the provider says so
        entry["parameter_format"] = "NAMED"
    entry["components"] = components
    ttl = r.message_send_ttl_seconds
    if previous is not None and (ttl is None or not traits.template_ttl_read_back):
        ttl = previous.message_send_ttl_seconds
    if ttl is not None:
        entry["message_send_ttl_seconds"] = ttl
    if previous is not None and previous.protect:
        entry["protect"] = True
    return entry, notes


def _carry(new: Any, old: Any, keys: frozenset[str]) -> Any:
    """``new`` with the write-only values of ``old`` (the provider does not return them)
    where both have the same shape at the same place. Where ``new`` lacks a key of ``old``,
    only the write-only values under it are carried (``_carry({}, ...)``)."""
    if isinstance(new, dict) and isinstance(old, Mapping):
        for tag in ("type", "format"):
            if tag in new and tag in old and new[tag] != old[tag]:
                return new
        out = dict(new)
        for k, v in old.items():
            if k in out:
                out[k] = _carry(out[k], v, keys)
            elif k in keys:
                out[k] = v
            else:
                kept = _carry({}, v, keys)
                if kept:
                    out[k] = kept
        return out
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_carry(n, o, keys) for n, o in zip(new, old, strict=True)]
    return new


def _fill_unreturned(
    components: list[JsonDict],
    at: str,
    provider: str,
    notes: dict[str, str],
    file: str | None = None,
) -> None:
    """Values a spec needs that the provider does not read back: a media header's sample
    (a placeholder URL to replace, or, with ``file``, the path in the spec folder to put
    the file at) and a ZERO_TAP button's terms (accepted, or the template would not
    exist)."""
    for i, c in enumerate(components):
        here = f"{at}.{i}"
        kind = c.get("type")
        if kind == "HEADER" and c.get("format") in MEDIA_FORMATS:
            example = dict(c.get("example") or {})
            if file is not None and not example.get("header_file"):
                path = file + SAMPLE_SUFFIX[c["format"]]
                example["header_file"] = path
                c["example"] = example
                notes[f"{here}.example.header_file"] = (
                    f"{provider} does not return the sample: put the file at {path} in the "
                    "spec folder"
                )
            elif file is None and not example.get("header_url"):
                example["header_url"] = SAMPLE_PLACEHOLDER
                c["example"] = example
                notes[f"{here}.example.header_url"] = (
                    f"{provider} does not return the sample: put its public URL here"
                )
        elif kind == "BUTTONS":
            for b in c.get("buttons") or ():
                if b.get("otp_type") == "ZERO_TAP" and "zero_tap_terms_accepted" not in b:
                    b["zero_tap_terms_accepted"] = True
        elif kind == "CAROUSEL":
            for j, card in enumerate(c.get("cards") or ()):
                inner = [dict(x) for x in card.get("components") or ()]
                card_file = None if file is None else f"{file}-card{j + 1}"
                _fill_unreturned(inner, f"{here}.cards.{j}.components", provider, notes, card_file)
                card["components"] = inner

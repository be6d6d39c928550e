"""NXCloud wire shapes <-> wasync's canonical model (the only place that knows both).

NXCloud passes Meta's template shape through, so this is Meta's mapping
(``wasync.providers.whatsapp``) plus what NXCloud does its own way:

- HEADER, BODY, FOOTER, BUTTONS and CAROUSEL components are documented (the current
  updateTemplate page's component table has ``cards``, each with HEADER, BODY and BUTTONS
  components); no LIMITED_TIME_OFFER;
- media header samples (of the template, or of a carousel card): canonical
  ``example.header_url`` goes up as
  ``example.custom_header_handle_url`` and comes back under that name (Meta's own copy,
  ``header_handle``, is dropped with the rest of Meta's shape; ``header_url`` is write-only,
  see the traits);
- OTP buttons: one supported app goes up in NXCloud's documented form (``package_name`` and
  ``signature_hash`` on the button).
"""

from __future__ import annotations

from typing import Any

from wasync.errors import WasyncError
from wasync.model import JsonDict, RemoteTemplate, Template, canonical_components
from wasync.providers.whatsapp.components import component_to_meta, components_from_meta
from wasync.providers.whatsapp.templates import template_from_meta

COMPONENT_TYPES = frozenset({"HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL"})
SAMPLE_URL = "custom_header_handle_url"  # NXCloud's field for a media header's sample URL


# --- canonical -> wire ---------------------------------------------------------------------


def components_to_wire(template: Template) -> list[JsonDict]:
    """The ``components`` of a createTemplate / updateTemplate body."""
    out: list[JsonDict] = []
    for index, component in enumerate(canonical_components(template.components)):
        kind = component["type"]
        if kind not in COMPONENT_TYPES:
            raise WasyncError(
                f"{template.address}: components[{index}]: NXCloud documents no {kind} "
                "component (only HEADER, BODY, FOOTER, BUTTONS and CAROUSEL); put this "
                "template on a CAMS account or drop the component"
            )
        out.append(_to_wire(component_to_meta(component)))
    return out


def _to_wire(wire: JsonDict) -> JsonDict:
    """One of Meta's components in NXCloud's own forms (a card's components too)."""
    kind = wire["type"]
    if kind == "HEADER":
        return _header_to_wire(wire)
    if kind == "BUTTONS":
        return {**wire, "buttons": [_button_to_wire(b) for b in wire["buttons"]]}
    if kind == "CAROUSEL":
        cards = [
            {**card, "components": [_to_wire(c) for c in card["components"]]}
            for card in wire["cards"]
        ]
        return {**wire, "cards": cards}
    return wire


def _header_to_wire(header: JsonDict) -> JsonDict:
    example = dict(header.get("example") or {})
    if "header_url" in example:
        example[SAMPLE_URL] = example.pop("header_url")
    return {**header, "example": example} if example else header


def _button_to_wire(button: JsonDict) -> JsonDict:
    apps = button.get("supported_apps") or []
    if button["type"] != "OTP" or len(apps) != 1:
        return button
    out = dict(button)  # NXCloud documents the single app as fields of the button
    del out["supported_apps"]
    out["package_name"] = apps[0]["package_name"]
    out["signature_hash"] = apps[0]["signature_hash"]
    return out


# --- wire -> canonical ---------------------------------------------------------------------


def template_from_wire(info: Any, *, account: str, phone: str) -> RemoteTemplate:
    """One ``templateInfo`` of a getTemplate page (Meta's template object) as a remote
    template of ``phone``."""
    return template_from_meta(
        info, account=account, phone=phone, read_components=components_from_wire
    )


def components_from_wire(raw: Any, category: str, *, where: str = "template") -> list[JsonDict]:
    """Wire components (as sent or as returned) in canonical form."""
    return [_sample_back(c) for c in components_from_meta(raw, category, where=where)]


def _sample_back(component: JsonDict) -> JsonDict:
    """NXCloud's sample URL field back under its canonical name (in cards too)."""
    if component["type"] == "CAROUSEL":
        cards = [
            {**card, "components": [_sample_back(c) for c in card.get("components", [])]}
            for card in component.get("cards", [])
        ]
        return {**component, "cards": cards}
    example = component.get("example")
    if component["type"] != "HEADER" or not isinstance(example, dict) or SAMPLE_URL not in example:
        return component
    example = dict(example)
    example["header_url"] = example.pop(SAMPLE_URL)
    return {**component, "example": example}

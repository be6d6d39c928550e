"""Meta's template components, canonical <-> the JSON Meta's API takes and returns.

wasync's canonical components already use Meta's vocabulary (``wasync.model``), so most of
a component goes through as it is. What differs, both ways:

- FLOW ``flow_action`` is lower case on the wire (``navigate``), upper case in the model;
- OTP: Meta returns an authentication OTP button as a ``type: URL`` button pointing at
  ``https://www.whatsapp.com/otp/code/?otp_type=...``, mapped back to OTP; the legacy
  button-level ``package_name``/``signature_hash`` (up to Graph v20) become a supported app;
- AUTHENTICATION bodies and footers come back with the wording Meta supplies, which no spec
  can set: that text is dropped;
- examples come back in more than one form: ``header_text`` as a list or a plain string,
  ``body_text`` as ``[[...]]`` or flat, a URL button's ``example`` as a list or a string;
- ``header_handle`` in a media header's example is Meta's own handle or CDN copy of the
  sample: dropped (the canonical ``header_url`` is write-only);
- types, formats and OTP types are upper-cased;
- a CAROUSEL's cards hold components of their own (HEADER, BODY, BUTTONS), read the same way.

Unknown keys pass through both ways, so a field Meta adds shows up as drift, not as loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard, get_args
from urllib.parse import parse_qsl, urlsplit

from wasync.model import JsonDict, OtpType, canonical_components
from wasync.providers.whatsapp import MalformedError

OTP_URL_PREFIX = "https://www.whatsapp.com/otp/code/"


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A mapping: a reply's dict at the cost of a type check, anything else as the ABC
    says (tens of thousands of components are read per refresh at scale)."""
    return type(value) is dict or isinstance(value, Mapping)


OTP_TYPES: tuple[str, ...] = get_args(OtpType)  # Meta's otp_type values


# --- canonical -> Meta ---------------------------------------------------------------------


def component_to_meta(component: JsonDict) -> JsonDict:
    """A canonical component (``canonical_components``) as Meta's API takes it."""
    if component["type"] == "BUTTONS":
        return {**component, "buttons": [button_to_meta(b) for b in component["buttons"]]}
    if component["type"] == "CAROUSEL":
        cards = [
            {**card, "components": [component_to_meta(c) for c in card["components"]]}
            for card in component["cards"]
        ]
        return {**component, "cards": cards}
    return component


def button_to_meta(button: JsonDict) -> JsonDict:
    if button["type"] == "FLOW" and "flow_action" in button:
        return {**button, "flow_action": button["flow_action"].lower()}
    return button


# --- Meta -> canonical ---------------------------------------------------------------------


def components_from_meta(raw: Any, category: str, *, where: str = "template") -> list[JsonDict]:
    """Meta's components (as sent or as returned) in canonical form."""
    if not isinstance(raw, list):
        raise MalformedError(f"{where}: components is not a list")
    authentication = category.upper() == "AUTHENTICATION"
    out: list[JsonDict] = []
    for index, component in enumerate(raw):
        if not _is_map(component) or not isinstance(component.get("type"), str):
            raise MalformedError(f"{where}: components[{index}] has no type")
        c = dict(component)
        c["type"] = kind = c["type"].upper()
        if kind == "HEADER":
            c = _header_from_meta(c)
        elif kind == "BODY":
            if authentication:  # Meta's wording: "<code> is your verification code."
                c.pop("text", None)
                c.pop("example", None)
            else:
                c = _body_from_meta(c)
        elif kind == "FOOTER" and authentication:
            c.pop("text", None)  # Meta's wording: "This code expires in N minutes."
        elif kind == "BUTTONS":
            buttons = c.get("buttons")
            if not isinstance(buttons, list):
                raise MalformedError(f"{where}: components[{index}].buttons is not a list")
            at = f"{where}: components[{index}]"
            c["buttons"] = [button_from_meta(b, where=at) for b in buttons]
        elif kind == "CAROUSEL":
            c["cards"] = _cards_from_meta(c.get("cards"), f"{where}: components[{index}]")
        out.append(c)
    return canonical_components(out)


def _cards_from_meta(raw: Any, where: str) -> list[JsonDict]:
    """A carousel's ``cards``: each card's ``components`` (HEADER, BODY, BUTTONS) read as
    a template's are (a MARKETING template's: no authentication wording to drop)."""
    if not isinstance(raw, list):
        raise MalformedError(f"{where}: cards is not a list")
    cards: list[JsonDict] = []
    for i, card in enumerate(raw):
        if not _is_map(card):
            raise MalformedError(f"{where}: cards[{i}] is not an object")
        parts = components_from_meta(
            card.get("components"), "MARKETING", where=f"{where}: cards[{i}]"
        )
        cards.append({**card, "components": parts})
    return cards


def _header_from_meta(header: JsonDict) -> JsonDict:
    if isinstance(header.get("format"), str):
        header["format"] = header["format"].upper()
    example = header.get("example")
    if not _is_map(example):
        return header
    example = dict(example)
    if isinstance(example.get("header_text"), str):
        example["header_text"] = [example["header_text"]]
    example.pop("header_handle", None)  # the provider's own copy of the sample
    header["example"] = example
    return header


def _body_from_meta(body: JsonDict) -> JsonDict:
    example = body.get("example")
    if _is_map(example):
        values = example.get("body_text")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            body["example"] = {**example, "body_text": [values]}  # the flat form
    return body


def button_from_meta(raw: Any, *, where: str) -> JsonDict:
    """One button of a BUTTONS component in canonical form (``where`` names the component)."""
    if not _is_map(raw) or not isinstance(raw.get("type"), str):
        raise MalformedError(f"{where} has a button without a type")
    button = dict(raw)
    button["type"] = kind = button["type"].upper()
    if kind == "URL" and str(button.get("url", "")).startswith(OTP_URL_PREFIX):
        return _otp_from_url(button)
    if kind == "URL" and isinstance(button.get("example"), str):
        button["example"] = [button["example"]]
    if kind == "OTP":
        if isinstance(button.get("otp_type"), str):
            button["otp_type"] = button["otp_type"].upper()
        if "package_name" in button or "signature_hash" in button:  # the legacy form
            app = {
                "package_name": button.pop("package_name", None),
                "signature_hash": button.pop("signature_hash", None),
            }
            button["supported_apps"] = [app, *(button.get("supported_apps") or [])]
    if kind == "FLOW" and isinstance(button.get("flow_action"), str):
        button["flow_action"] = button["flow_action"].upper()
    return button


def _otp_from_url(button: JsonDict) -> JsonDict:
    """Meta's read-back form of an OTP button: the settings travel in the URL's query."""
    query = parse_qsl(urlsplit(button.pop("url")).query, keep_blank_values=True)
    button.pop("example", None)
    params: dict[str, list[str]] = {}
    for key, value in query:
        params.setdefault(key, []).append(value)
    out: JsonDict = {**button, "type": "OTP"}
    out["otp_type"] = (params.get("otp_type") or ["COPY_CODE"])[0].upper()
    if params.get("cta_display_name"):
        out["autofill_text"] = params["cta_display_name"][0]
    packages, hashes = params.get("package_name", []), params.get("signature_hash", [])
    if packages:
        out["supported_apps"] = [
            {"package_name": p, "signature_hash": h} for p, h in zip(packages, hashes, strict=False)
        ]
    return out

"""NXCloud wire shapes <-> wasync's canonical model (the only place that knows both).

NXCloud passes Meta's template shape through, so canonical components are close to the wire.
The differences handled here:

- media header samples: canonical ``example.header_url`` goes up as
  ``example.custom_header_handle_url``; Meta answers with its own CDN copy (``header_handle``),
  which is dropped (``header_url`` is write-only, see the traits);
- ``example.header_text`` comes back as a list or, in some examples, a plain string;
  ``example.body_text`` as ``[[...]]`` or flat;
- OTP buttons: one supported app goes up in NXCloud's documented form (``package_name`` and
  ``signature_hash`` on the button); Meta returns authentication OTP buttons as ``type: URL``
  buttons pointing at ``https://www.whatsapp.com/otp/code/?otp_type=...``, mapped back to OTP;
- AUTHENTICATION bodies and footers come back with the wording Meta supplies, which no spec
  can set: that text is dropped;
- FLOW ``flow_action`` is lower case on the wire, upper case in the canonical model;
- statuses are upper-cased; categories are kept as they come (legacy ``OTP`` included).

Unknown keys pass through both ways, so a field NXCloud adds shows up as drift, not as loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wasync.errors import WasyncError
from wasync.model import JsonDict, RemoteTemplate, Template, canonical_components

OTP_URL_PREFIX = "https://www.whatsapp.com/otp/code/"
COMPONENT_TYPES = frozenset({"HEADER", "BODY", "FOOTER", "BUTTONS"})


class MalformedTemplateError(ValueError):
    """A template in a reply does not have the documented shape."""


# --- canonical -> wire ---------------------------------------------------------------------


def components_to_wire(template: Template) -> list[JsonDict]:
    """The ``components`` of a createTemplate / updateTemplate body."""
    out: list[JsonDict] = []
    for index, component in enumerate(canonical_components(template.components)):
        kind = component["type"]
        if kind not in COMPONENT_TYPES:
            raise WasyncError(
                f"{template.address}: components[{index}]: NXCloud documents no {kind} "
                "component (only HEADER, BODY, FOOTER and BUTTONS); put this template on a "
                "CAMS account or drop the component"
            )
        if kind == "HEADER":
            out.append(_header_to_wire(component))
        elif kind == "BUTTONS":
            out.append({**component, "buttons": [_button_to_wire(b) for b in component["buttons"]]})
        else:
            out.append(component)
    return out


def _header_to_wire(header: JsonDict) -> JsonDict:
    example = dict(header.get("example") or {})
    if "header_url" in example:
        example["custom_header_handle_url"] = example.pop("header_url")
    return {**header, "example": example} if example else header


def _button_to_wire(button: JsonDict) -> JsonDict:
    out = dict(button)
    if out["type"] == "OTP":
        apps = out.get("supported_apps") or []
        if len(apps) == 1:  # NXCloud documents the single app as fields of the button
            del out["supported_apps"]
            out["package_name"] = apps[0]["package_name"]
            out["signature_hash"] = apps[0]["signature_hash"]
    elif out["type"] == "FLOW" and "flow_action" in out:
        out["flow_action"] = out["flow_action"].lower()
    return out


# --- wire -> canonical ---------------------------------------------------------------------


def template_from_wire(info: Any, *, account: str, phone: str) -> RemoteTemplate:
    """One ``templateInfo`` of a getTemplate page as a remote template of ``phone``."""
    if not isinstance(info, Mapping):
        raise MalformedTemplateError(f"a template is {type(info).__name__}, not an object")
    fields = {}
    for key in ("id", "name", "language", "category", "status"):
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key == "id":
            value = str(value)  # Meta ids are numeric strings; tolerate a bare number
        if not isinstance(value, str) or not value:
            raise MalformedTemplateError(f"a template has no {key}")
        fields[key] = value
    where = f"template {fields['name']} ({fields['language']})"
    reason = info.get("rejected_reason")
    ttl = info.get("message_send_ttl_seconds")
    quality = info.get("quality_score")
    extra: JsonDict = {}
    if isinstance(quality, Mapping) and isinstance(quality.get("score"), str):
        extra["quality_score"] = quality["score"]
    return RemoteTemplate(
        account=account,
        phone=phone,
        id=fields["id"],
        name=fields["name"],
        language=fields["language"],
        category=fields["category"],
        status=fields["status"].upper(),
        components=tuple(
            components_from_wire(
                [] if info.get("components") is None else info["components"],
                fields["category"],
                where=where,
            )
        ),
        message_send_ttl_seconds=ttl
        if isinstance(ttl, int) and not isinstance(ttl, bool)
        else None,
        reason=reason if isinstance(reason, str) and reason and reason != "NONE" else None,
        extra=extra,
    )


def components_from_wire(raw: Any, category: str, *, where: str = "template") -> list[JsonDict]:
    """Wire components (as sent or as returned) in canonical form."""
    if not isinstance(raw, list):
        raise MalformedTemplateError(f"{where}: components is not a list")
    authentication = category.upper() == "AUTHENTICATION"
    out: list[JsonDict] = []
    for index, component in enumerate(raw):
        if not isinstance(component, Mapping) or not isinstance(component.get("type"), str):
            raise MalformedTemplateError(f"{where}: components[{index}] has no type")
        c = dict(component)
        c["type"] = kind = c["type"].upper()
        if kind == "HEADER":
            c = _header_from_wire(c)
        elif kind == "BODY":
            if authentication:  # Meta's wording: "<code> is your verification code."
                c.pop("text", None)
                c.pop("example", None)
            else:
                c = _body_from_wire(c)
        elif kind == "FOOTER" and authentication:
            c.pop("text", None)  # Meta's wording: "This code expires in N minutes."
        elif kind == "BUTTONS":
            buttons = c.get("buttons")
            if not isinstance(buttons, list):
                raise MalformedTemplateError(f"{where}: components[{index}].buttons is not a list")
            c["buttons"] = [_button_from_wire(b, where, index) for b in buttons]
        out.append(c)
    return canonical_components(out)


def _header_from_wire(header: JsonDict) -> JsonDict:
    if isinstance(header.get("format"), str):
        header["format"] = header["format"].upper()
    example = header.get("example")
    if not isinstance(example, Mapping):
        return header
    example = dict(example)
    if isinstance(example.get("header_text"), str):
        example["header_text"] = [example["header_text"]]
    url = example.pop("custom_header_handle_url", None)
    example.pop("header_handle", None)  # the provider's own copy of the sample
    if url:
        example["header_url"] = url
    header["example"] = example
    return header


def _body_from_wire(body: JsonDict) -> JsonDict:
    example = body.get("example")
    if isinstance(example, Mapping):
        values = example.get("body_text")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            body["example"] = {**example, "body_text": [values]}  # the flat form
    return body


def _button_from_wire(raw: Any, where: str, index: int) -> JsonDict:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        raise MalformedTemplateError(f"{where}: components[{index}] has a button without a type")
    button = dict(raw)
    button["type"] = kind = button["type"].upper()
    if kind == "URL" and str(button.get("url", "")).startswith(OTP_URL_PREFIX):
        return _otp_from_url(button)
    if kind == "URL" and isinstance(button.get("example"), str):
        button["example"] = [button["example"]]
    if kind == "OTP":
        if isinstance(button.get("otp_type"), str):
            button["otp_type"] = button["otp_type"].upper()
        if "package_name" in button or "signature_hash" in button:
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

"""CAMS wire shapes <-> wasync's canonical model. The only place that knows both.

Components (reference/cams.md §3.2) are PascalCase objects; the canonical ones are Meta's
snake_case vocabulary (``wasync/model.py``). Where a canonical field has no CAMS field:

- Variable examples travel in the template-level ``Example`` map (string -> string), which
  GetChatappTemplateDetail returns as it was given. Body variables use CAMS's documented keys,
  the variable numbers: ``{"1": "Bob", "2": "42"}``. The other examples share that map under
  keys of wasync's own, so that nothing collides with the body's ``{{1}}``:
  ``header.<n>`` for a text header, ``button.<b>.<n>`` for the b-th button (1-based) of the
  BUTTONS component (a dynamic URL's full example), and ``card.<c>.body.<n>``,
  ``card.<c>.header.<n>``, ``card.<c>.button.<b>.<n>`` inside the c-th carousel card.
  Only the first BODY, HEADER and BUTTONS of a level can carry examples (WhatsApp allows one).
- A media header's sample (``example.header_url``) is the component's ``Url``. CAMS may hand
  back its own copy, so ``header_url`` is write-only (``CAMS_TRAITS``).
- ``zero_tap_terms_accepted`` has no CAMS field; it is not sent, and is write-only.
- A COPY_CODE button is a coupon (canonical ``COPY_CODE``) when it has a ``CouponCode``, and
  an authentication code button (canonical ``OTP`` with ``otp_type: COPY_CODE``) otherwise.
- ``flow_name`` and ``flow_json`` have no CAMS field: a FLOW button needs ``flow_id``.

Remote components are always built through ``wasync.model.canonical_components`` so that
they compare equal to desired ones. Component kinds wasync does not model come back in a
generic snake_case form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wasync.model import (
    Body,
    Buttons,
    Carousel,
    CopyCodeButton,
    FlowButton,
    Footer,
    Header,
    JsonDict,
    OtpButton,
    PhoneNumberButton,
    QrCode,
    QuickReplyButton,
    RemoteQrCode,
    RemoteTemplate,
    Template,
    UrlButton,
    canonical_components,
)
from wasync.providers.whatsapp.components import OTP_TYPES

TEMPLATE_TYPE = "WHATSAPP"

AUDIT_STATUS = {"pass": "APPROVED", "fail": "REJECTED", "auditing": "PENDING", "unaudit": "DRAFT"}


class CamsUnsupportedError(ValueError):
    """A desired template uses something CAMS has no field for."""


# --- small helpers -------------------------------------------------------------------------


def compact_json(value: Any) -> str:
    """JSON as the SDK sends it: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _generic(value: Any) -> Any:
    """A wire value in snake_case, for shapes wasync does not model."""
    if isinstance(value, Mapping):
        return {_snake(k): _generic(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_generic(v) for v in value]
    return value


def status_from_wire(audit_status: str) -> str:
    return AUDIT_STATUS.get(audit_status, audit_status.upper())


# --- examples ------------------------------------------------------------------------------


class _Examples:
    """The Example map under construction; a key written twice is a template CAMS cannot
    carry (two components claiming the same example slot)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def put(self, prefix: str, values: Sequence[str]) -> None:
        for n, value in enumerate(values, start=1):
            key = f"{prefix}{n}"
            if key in self.values:
                raise CamsUnsupportedError(f"two components carry the example {key!r}")
            self.values[key] = value


def _read_examples(example: Mapping[str, str], prefix: str) -> list[str]:
    """The values of ``<prefix><n>`` keys, in order of n."""
    found: list[tuple[int, str]] = []
    for key, value in example.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            found.append((int(key[len(prefix) :]), value))
    return [value for _, value in sorted(found)]


def _slots(kinds: Iterable[str]) -> list[bool]:
    """Which components own their level's example slot: the first of each kind."""
    seen: set[str] = set()
    owners = []
    for kind in kinds:
        owners.append(kind not in seen)
        seen.add(kind)
    return owners


# --- canonical -> wire -----------------------------------------------------------------------


def _button_to_wire(button: Any, examples: _Examples | None, prefix: str) -> dict[str, Any]:
    if isinstance(button, QuickReplyButton):
        return {"Type": "QUICK_REPLY", "Text": button.text}
    if isinstance(button, UrlButton):
        if button.example:
            if examples is None:
                raise CamsUnsupportedError(
                    "only the first BUTTONS component can carry URL examples"
                )
            examples.put(prefix, button.example)
        dynamic = "{{" in button.url
        return {
            "Type": "URL",
            "Text": button.text,
            "Url": button.url,
            "UrlType": "dynamic" if dynamic else "static",
        }
    if isinstance(button, PhoneNumberButton):
        return {"Type": "PHONE_NUMBER", "Text": button.text, "PhoneNumber": button.phone_number}
    if isinstance(button, CopyCodeButton):
        return {"Type": "COPY_CODE", "CouponCode": button.example}
    if isinstance(button, OtpButton):
        apps = [
            {"PackageName": a.package_name, "SignatureHash": a.signature_hash}
            for a in button.supported_apps or ()
        ]
        return _drop_none(
            {
                "Type": button.otp_type,
                "Text": button.text,
                "AutofillText": button.autofill_text,
                "SupportedApps": apps or None,
            }
        )
    if isinstance(button, FlowButton):
        if button.flow_name or button.flow_json:
            raise CamsUnsupportedError(
                "CAMS FLOW buttons take flow_id; flow_name and flow_json are not supported"
            )
        return _drop_none(
            {
                "Type": "FLOW",
                "Text": button.text,
                "FlowId": button.flow_id,
                "FlowAction": button.flow_action,
                "NavigateScreen": button.navigate_screen,
            }
        )
    raise CamsUnsupportedError(f"CAMS has no button like {button!r}")  # pragma: no cover


def _header_to_wire(header: Header, examples: _Examples | None, prefix: str) -> dict[str, Any]:
    sample = header.example
    if sample and sample.header_text:
        if examples is None:
            raise CamsUnsupportedError("only the first HEADER can carry an example")
        examples.put(prefix, sample.header_text)
    return _drop_none(
        {
            "Type": "HEADER",
            "Format": header.format,
            "Text": header.text,
            "Url": sample.header_url if sample else None,
        }
    )


def _body_to_wire(body: Body, examples: _Examples | None, prefix: str) -> dict[str, Any]:
    if body.example and body.example.body_text:
        if examples is None:
            raise CamsUnsupportedError("only the first BODY can carry an example")
        if len(body.example.body_text) > 1:
            raise CamsUnsupportedError("CAMS takes one set of body examples: body_text: [[...]]")
        examples.put(prefix, body.example.body_text[0])
    return _drop_none(
        {
            "Type": "BODY",
            "Text": body.text,
            "AddSecretRecommendation": body.add_security_recommendation,
        }
    )


def _card_to_wire(card: Any, examples: _Examples, c: int) -> dict[str, Any]:
    parts = []
    owners = _slots(p.type for p in card.components)
    for part, owner in zip(card.components, owners, strict=True):
        slot = examples if owner else None
        if isinstance(part, Header):
            parts.append(_header_to_wire(part, slot, f"card.{c}.header."))
        elif isinstance(part, Body):
            parts.append(_body_to_wire(part, slot, f"card.{c}.body."))
        else:
            buttons = []
            for b, button in enumerate(part.buttons, start=1):
                if not isinstance(button, (QuickReplyButton, UrlButton, PhoneNumberButton)):
                    raise CamsUnsupportedError(
                        "carousel cards take QUICK_REPLY, URL and PHONE_NUMBER buttons only"
                    )
                buttons.append(_button_to_wire(button, slot, f"card.{c}.button.{b}."))
            parts.append({"Type": "BUTTONS", "Buttons": buttons})
    return {"CardComponents": parts}


def components_to_wire(components: Sequence[Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Canonical components -> (CAMS ``Components``, CAMS ``Example``)."""
    examples = _Examples()
    out: list[dict[str, Any]] = []
    owners = _slots(c.type for c in components)
    for component, owner in zip(components, owners, strict=True):
        slot = examples if owner else None
        if isinstance(component, Header):
            out.append(_header_to_wire(component, slot, "header."))
        elif isinstance(component, Body):
            out.append(_body_to_wire(component, slot, ""))
        elif isinstance(component, Footer):
            out.append(
                _drop_none(
                    {
                        "Type": "FOOTER",
                        "Text": component.text,
                        "CodeExpirationMinutes": component.code_expiration_minutes,
                    }
                )
            )
        elif isinstance(component, Buttons):
            out.append(
                {
                    "Type": "BUTTONS",
                    "Buttons": [
                        _button_to_wire(b, slot, f"button.{i}.")
                        for i, b in enumerate(component.buttons, start=1)
                    ],
                }
            )
        elif isinstance(component, Carousel):
            out.append(
                {
                    "Type": "CAROUSEL",
                    "Cards": [
                        _card_to_wire(card, examples, c)
                        for c, card in enumerate(component.cards, start=1)
                    ],
                }
            )
        else:  # pragma: no cover - the model's union is closed
            raise CamsUnsupportedError(f"CAMS has no component like {component!r}")
    return out, examples.values


def template_params(template: Template) -> dict[str, str]:
    """CreateChatappTemplate / ModifyChatappTemplate parameters for ``template`` (without
    CustSpaceId and the identity, which the client adds)."""
    components, example = components_to_wire(template.components)
    params = {
        "Name": template.name,
        "Language": template.language,
        "Category": template.category,
        "TemplateType": TEMPLATE_TYPE,
        "Components": compact_json(components),
    }
    if example:
        params["Example"] = compact_json(example)
    if template.message_send_ttl_seconds is not None:
        params["MessageSendTtlSeconds"] = str(template.message_send_ttl_seconds)
    return params


def qr_params(qr: QrCode) -> dict[str, str]:
    return {
        "PhoneNumber": qr.phone,
        "GenerateQrImage": qr.image,
        "PrefilledMessage": qr.prefilled_message,
    }


# --- wire -> canonical -----------------------------------------------------------------------


def _button_from_wire(
    raw: Mapping[str, Any], example: Mapping[str, str], prefix: str | None
) -> dict[str, Any]:
    kind = raw.get("Type")
    if kind == "QUICK_REPLY":
        out: dict[str, Any] = {"type": "QUICK_REPLY", "text": raw.get("Text")}
        if raw.get("IsOptOut"):
            out["is_opt_out"] = True  # no canonical field: shown so the drift is visible
        return out
    if kind == "URL":
        samples = _read_examples(example, prefix) if prefix is not None else []
        return {"type": "URL", "text": raw.get("Text"), "url": raw.get("Url"), "example": samples}
    if kind == "PHONE_NUMBER":
        return {
            "type": "PHONE_NUMBER",
            "text": raw.get("Text"),
            "phone_number": raw.get("PhoneNumber"),
        }
    if kind == "COPY_CODE" and raw.get("CouponCode"):
        return {"type": "COPY_CODE", "example": raw["CouponCode"]}
    if kind in OTP_TYPES:  # CAMS names an authentication button by Meta's otp_type
        apps = [
            {"package_name": a.get("PackageName"), "signature_hash": a.get("SignatureHash")}
            for a in raw.get("SupportedApps") or ()
            if isinstance(a, Mapping)
        ]
        if not apps and raw.get("PackageName"):  # the deprecated button-level form
            apps = [
                {"package_name": raw["PackageName"], "signature_hash": raw.get("SignatureHash")}
            ]
        return {
            "type": "OTP",
            "otp_type": kind,
            "text": raw.get("Text"),
            "autofill_text": raw.get("AutofillText"),
            "supported_apps": apps,
        }
    if kind == "FLOW":
        return {
            "type": "FLOW",
            "text": raw.get("Text"),
            "flow_id": raw.get("FlowId"),
            "flow_action": raw.get("FlowAction"),
            "navigate_screen": raw.get("NavigateScreen"),
        }
    return dict(_generic({k: v for k, v in raw.items() if k != "ExtendAttrs"}))


def _header_from_wire(
    raw: Mapping[str, Any], example: Mapping[str, str], prefix: str | None
) -> dict[str, Any]:
    texts = _read_examples(example, prefix) if prefix is not None else []
    return {
        "type": "HEADER",
        "format": raw.get("Format") or "TEXT",
        "text": raw.get("Text"),
        "example": {"header_text": texts, "header_url": raw.get("Url")},
    }


def _body_from_wire(
    raw: Mapping[str, Any], example: Mapping[str, str], prefix: str | None
) -> dict[str, Any]:
    values = _read_examples(example, prefix) if prefix is not None else []
    return {
        "type": "BODY",
        "text": raw.get("Text"),
        "example": {"body_text": [values]} if values else None,
        "add_security_recommendation": raw.get("AddSecretRecommendation"),
    }


def _buttons_from_wire(
    raw: Mapping[str, Any], example: Mapping[str, str], prefix: str | None
) -> dict[str, Any]:
    buttons = [
        _button_from_wire(b, example, None if prefix is None else f"{prefix}{i}.")
        for i, b in enumerate(_objects(raw.get("Buttons")), start=1)
    ]
    return {"type": "BUTTONS", "buttons": buttons}


def _card_from_wire(raw: Mapping[str, Any], example: Mapping[str, str], c: int) -> dict[str, Any]:
    parts = _objects(raw.get("CardComponents"))
    out = []
    for part, owner in zip(parts, _slots(p.get("Type", "") for p in parts), strict=True):
        kind = part.get("Type")
        if kind == "HEADER":
            out.append(_header_from_wire(part, example, f"card.{c}.header." if owner else None))
        elif kind == "BODY":
            out.append(_body_from_wire(part, example, f"card.{c}.body." if owner else None))
        elif kind == "BUTTONS":
            out.append(_buttons_from_wire(part, example, f"card.{c}.button." if owner else None))
        else:
            out.append(_generic(part))
    return {"components": out}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def components_from_wire(
    components: Sequence[Mapping[str, Any]], example: Mapping[str, str] | None
) -> list[JsonDict]:
    """CAMS ``Components`` (as GetChatappTemplateDetail returns them) and ``Example`` ->
    canonical component dicts."""
    example = {str(k): str(v) for k, v in (example or {}).items()}
    out: list[dict[str, Any]] = []
    owners = _slots(c.get("Type", "") for c in components)
    for raw, owner in zip(components, owners, strict=True):
        kind = raw.get("Type")
        if kind == "HEADER":
            out.append(_header_from_wire(raw, example, "header." if owner else None))
        elif kind == "BODY":
            out.append(_body_from_wire(raw, example, "" if owner else None))
        elif kind == "FOOTER":
            out.append(
                {
                    "type": "FOOTER",
                    "text": raw.get("Text"),
                    "code_expiration_minutes": raw.get("CodeExpirationMinutes"),
                }
            )
        elif kind == "BUTTONS":
            out.append(_buttons_from_wire(raw, example, "button." if owner else None))
        elif kind == "CAROUSEL":
            cards = [
                _card_from_wire(card, example, c)
                for c, card in enumerate(_objects(raw.get("Cards")), start=1)
            ]
            out.append({"type": "CAROUSEL", "cards": cards})
        else:
            # e.g. LIMITED_TIME_OFFER; the reply's hasExpiration becomes has_expiration too
            out.append(_generic(raw))
    return canonical_components(out)


def qr_from_wire(account: str, phone: str, data: Mapping[str, Any]) -> RemoteQrCode:
    return RemoteQrCode(
        account=account,
        phone=str(data.get("PhoneNumber") or phone),
        # The documented UpdatePhoneMessageQrdl reply ends the code with a newline.
        code=str(data["QrdlCode"]).strip(),
        prefilled_message=str(data.get("PrefilledMessage") or ""),
        image=str(data.get("GenerateQrImage") or ""),
        deep_link_url=str(data.get("DeepLinkUrl") or ""),
        qr_image_url=str(data.get("QrImageUrl") or ""),
    )


def template_from_list(account: str, item: Mapping[str, Any]) -> RemoteTemplate:
    """A ListChatappTemplate entry: no components (``detailed=False``)."""
    return RemoteTemplate(
        account=account,
        phone=None,
        id=str(item["TemplateCode"]),
        name=str(item["TemplateName"]),
        language=str(item["Language"]),
        category=str(item.get("Category") or ""),
        status=status_from_wire(str(item.get("AuditStatus") or "")),
        reason=item.get("Reason") or None,
        detailed=False,
        updated_at=updated_at(item),
        extra=_drop_none({"template_type": item.get("TemplateType")}),
    )


def updated_at(item: Mapping[str, Any]) -> datetime | None:
    """A ListChatappTemplate entry's ``LastUpdateTime`` (epoch milliseconds; it moves on an
    edit and on a review decision), or None when it is absent or not a time.
    GetChatappTemplateDetail has no such field: a detailed template takes its listing's."""
    value = item.get("LastUpdateTime")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        millis = float(value)
        return datetime.fromtimestamp(millis / 1000, UTC) if millis > 0 else None
    except (ValueError, OverflowError, OSError):
        return None


def template_from_detail(
    account: str, data: Mapping[str, Any], listed: RemoteTemplate | None = None
) -> RemoteTemplate:
    """A GetChatappTemplateDetail ``Data`` (which spells the name ``Name``); ``listed``, its
    ListChatappTemplate entry, gives what the detail lacks (``updated_at``)."""
    components = data.get("Components") or []
    ttl = data.get("MessageSendTtlSeconds")
    return RemoteTemplate(
        account=account,
        phone=None,
        id=str(data["TemplateCode"]),
        name=str(data["Name"]),
        language=str(data["Language"]),
        category=str(data.get("Category") or ""),
        status=status_from_wire(str(data.get("AuditStatus") or "")),
        components=tuple(components_from_wire(_objects(components), data.get("Example"))),
        message_send_ttl_seconds=int(ttl) if ttl not in (None, "") else None,
        reason=data.get("Reason") or None,
        detailed=True,
        updated_at=listed.updated_at if listed is not None else None,
        extra=_drop_none(
            {
                "template_type": data.get("TemplateType"),
                "quality_score": data.get("QualityScore"),
                "allow_send": data.get("AllowSend"),
                "category_change_paused": data.get("CategoryChangePaused"),
            }
        ),
    )

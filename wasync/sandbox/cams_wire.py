"""The CAMS emulator's reading of request values: refusals with CAMS's codes, parameter
coercion (booleans as any SDK spells them, ``Page``), and validation and normalisation of
the ``Components`` JSON (reference/cams.md §3.2).

Written from the reference alone; nothing here is shared with the client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10

_VARIABLE = re.compile(r"\{\{\s*[^{}]+\s*\}\}")

_COMPONENT_TYPES = {"BODY", "HEADER", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"}
_HEADER_FORMATS = {"TEXT", "IMAGE", "DOCUMENT", "VIDEO", "LOCATION"}
_BUTTON_TYPES = {
    "PHONE_NUMBER",
    "URL",
    "QUICK_REPLY",
    "COPY_CODE",
    "ONE_TAP",
    "ZERO_TAP",
    "MPM",
    "CATALOG",
    "FLOW",
}
_CARD_BUTTON_TYPES = {"PHONE_NUMBER", "URL", "QUICK_REPLY"}
_COMPONENT_FIELDS = {
    "Type": str,
    "Text": str,
    "Format": str,
    "Url": str,
    "Caption": str,
    "FileName": str,
    "FileType": str,
    "ThumbUrl": str,
    "Duration": int,
    "CodeExpirationMinutes": int,
    "AddSecretRecommendation": bool,
    "HasExpiration": bool,
}
_BUTTON_FIELDS = {
    "Type": str,
    "Text": str,
    "PhoneNumber": str,
    "Url": str,
    "UrlType": str,
    "AutofillText": str,
    "CouponCode": str,
    "IsOptOut": bool,
    "FlowId": str,
    "FlowAction": str,
    "NavigateScreen": str,
    "PackageName": str,
    "SignatureHash": str,
}
_CARD_COMPONENT_FIELDS = {"Type": str, "Format": str, "Text": str, "Url": str}
_CARD_BUTTON_FIELDS = {"Type": str, "Text": str, "PhoneNumber": str, "Url": str, "UrlType": str}


# Every error code the reference documents for CAMS (cams.md §6, and the error table of the
# UpdatePhoneMessageQrdl page), with the HTTP status and message the emulator answers it
# with: the four codes of the API pages and the gateway's codes as documented; the business
# codes, whose status no page states, on HTTP 200 with Code set (as this emulator's own
# refusals). The messages of the four API codes, Throttling.User and ServiceUnavailable are
# documented; the others are the emulator's wording.
DOCUMENTED_ERRORS: dict[str, tuple[int, str]] = {
    # the error table of the API pages (HTTP 400)
    "Product.Unsubscript": (400, "You have not subscribed to the specified product."),
    "Ram.PermissionDeny": (400, "You are not authorized to perform the operation."),
    "System.LimitControl": (400, "The system is under flow control."),
    "Unknown.ResourceOwnerId": (400, "The resource does not belong to the current user."),
    # business codes (api-error-codes)
    "Authentication.NoAuth": (200, "You are not authorized to use this space."),
    "InvalidParameter.MessageInvalid": (200, "The message content is invalid."),
    "InvalidParameter.FooterHaveVariable": (200, "The footer has a variable."),
    "InvalidParameter.HeaderMoreVarable": (200, "The header has more than one variable."),
    "InvalidParameter.HeaderMoreVariable": (200, "The header has more than one variable."),
    "InvalidParameter.HeaderTypeNotSupport": (200, "The header format is not supported."),
    "InvalidParameter.ButtonTextHaveVariable": (200, "A button text has a variable."),
    "InvalidParameter.UrlMoreVarable": (200, "A URL has more than one variable."),
    "InvalidParameter.PhoneNumberError": (200, "The phone number is invalid."),
    "InvalidParameter.TemplateNameExist": (200, "The template name exists."),
    "InvalidParameter.CreateError": (200, "The template could not be created."),
    "InvalidParameter.PageInvalid": (200, "The Page parameter is invalid."),
    "InvalidParameter.LanguageNotSupport": (200, "The language is not supported."),
    "InvalidParameter.AuditStatusNotSupport": (200, "The audit status is not supported."),
    "InvalidParameter.TemplateTypeNotSupport": (200, "The template type is not supported."),
    "DelError.TemplateNotExist": (200, "The template does not exist."),
    "TemplateListError.QueryError": (200, "The template list could not be queried."),
    "DetailError.TemplateNotExist": (200, "The template does not exist."),
    # the API gateway's common codes
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "Throttling": (400, "Request was denied due to flow control."),
    "SignatureDoesNotMatch": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureNonceUsed": (400, "The request signature nonce has been used."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "IncompleteSignature": (400, "The request signature is incomplete."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "MissingParameter": (400, "A required parameter is missing."),
    "InvalidParameter": (400, "A parameter is invalid."),
    "UnsupportedHTTPMethod": (400, "The HTTP method is not supported."),
    "InvalidApi.NotFound": (404, "Specified api is not found."),
    "InvalidAction": (403, "Specified action is not valid."),
    "Forbidden.RAM": (403, "User not authorized to operate on the specified resource."),
    "InternalError": (500, "The request processing has failed due to some unknown error."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure."),
}


class ApiError(Exception):
    """A refusal with the provider's code. ``status`` 200 for business refusals."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def missing(name: str) -> ApiError:
    return ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def invalid(code: str, message: str) -> ApiError:
    return ApiError(200, code, message)


def required_str(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise missing(name)
    if not isinstance(value, str):
        raise ApiError(400, "InvalidParameter", f"{name} must be a string.")
    return value


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "false"):
        return text == "true"
    raise ApiError(400, "InvalidParameter", f"{value!r} is not a boolean (true or false).")


def parse_page(raw: Any) -> tuple[int, int]:
    if raw is None or raw == "":
        return 1, DEFAULT_PAGE_SIZE
    if not isinstance(raw, dict):
        raise invalid("InvalidParameter.PageInvalid", "Page must be a JSON object.")
    lowered = {str(k).lower(): v for k, v in raw.items()}
    try:
        index = int(lowered.get("index", 1))
        size = int(lowered.get("size", DEFAULT_PAGE_SIZE))
    except (TypeError, ValueError):
        raise invalid(
            "InvalidParameter.PageInvalid", "Page Index and Size must be integers."
        ) from None
    if index < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid(
            "InvalidParameter.PageInvalid",
            f"Page Index starts at 1 and Size is 1..{MAX_PAGE_SIZE}.",
        )
    return index, size


def _pick(raw: dict[str, Any], allowed: Mapping[str, type], where: str) -> dict[str, Any]:
    """Known fields of one component or button, type-checked; unknown ones are dropped (the
    service ignores them) and the SDK's always-present empty lists are accepted."""
    out: dict[str, Any] = {}
    for key, kind in allowed.items():
        value = raw.get(key)
        if value is None:
            continue
        if kind is bool:
            value = boolean(value)
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise invalid("InvalidParameter.MessageInvalid", f"{where}.{key} must be a number.")
            try:
                value = int(value)
            except ValueError:
                raise invalid(
                    "InvalidParameter.MessageInvalid", f"{where}.{key} must be a number."
                ) from None
        elif not isinstance(value, str):
            raise invalid("InvalidParameter.MessageInvalid", f"{where}.{key} must be a string.")
        out[key] = value
    return out


def _list_of_objects(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise invalid("InvalidParameter.MessageInvalid", f"{where} must be a list of objects.")
    return value


def _button(raw: dict[str, Any], where: str, *, in_card: bool) -> dict[str, Any]:
    button = _pick(raw, _CARD_BUTTON_FIELDS if in_card else _BUTTON_FIELDS, where)
    kinds = _CARD_BUTTON_TYPES if in_card else _BUTTON_TYPES
    if button.get("Type") not in kinds:
        raise invalid(
            "InvalidParameter.MessageInvalid",
            f"{where}.Type must be one of {', '.join(sorted(kinds))}.",
        )
    if _VARIABLE.search(button.get("Text", "")):
        raise invalid("InvalidParameter.ButtonTextHaveVariable", f"{where}.Text has a variable.")
    if len(_VARIABLE.findall(button.get("Url", ""))) > 1:
        raise invalid("InvalidParameter.UrlMoreVarable", f"{where}.Url has more than one variable.")
    if not in_card:
        apps = []
        for j, app in enumerate(
            _list_of_objects(raw.get("SupportedApps"), f"{where}.SupportedApps")
        ):
            picked = _pick(
                app, {"PackageName": str, "SignatureHash": str}, f"{where}.SupportedApps[{j}]"
            )
            if picked:
                apps.append(picked)
        if apps:
            button["SupportedApps"] = apps
    return button


def _check_texts(component: dict[str, Any], where: str) -> None:
    kind, text = component["Type"], component.get("Text", "")
    if kind == "BODY" and len(text) > 1024:
        raise invalid("InvalidParameter.MessageInvalid", f"{where}: BODY is over 1024 characters.")
    if kind in ("HEADER", "FOOTER") and len(text) > 60:
        raise invalid("InvalidParameter.MessageInvalid", f"{where}: {kind} is over 60 characters.")
    if kind == "FOOTER" and _VARIABLE.search(text):
        raise invalid("InvalidParameter.FooterHaveVariable", f"{where}: FOOTER has a variable.")
    if kind == "HEADER":
        if len(_VARIABLE.findall(text)) > 1:
            raise invalid(
                "InvalidParameter.HeaderMoreVarable", f"{where}: HEADER has more than one variable."
            )
        if component.get("Format", "TEXT") not in _HEADER_FORMATS:
            raise invalid(
                "InvalidParameter.HeaderTypeNotSupport",
                f"{where}: HEADER Format must be one of {', '.join(sorted(_HEADER_FORMATS))}.",
            )


def parse_components(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise invalid("InvalidParameter.MessageInvalid", "Components must be a non-empty list.")
    out = []
    for i, item in enumerate(_list_of_objects(raw, "Components")):
        where = f"Components[{i}]"
        component = _pick(item, _COMPONENT_FIELDS, where)
        if component.get("Type") not in _COMPONENT_TYPES:
            raise invalid(
                "InvalidParameter.MessageInvalid",
                f"{where}.Type must be one of {', '.join(sorted(_COMPONENT_TYPES))}.",
            )
        _check_texts(component, where)
        buttons = [
            _button(b, f"{where}.Buttons[{j}]", in_card=False)
            for j, b in enumerate(_list_of_objects(item.get("Buttons"), f"{where}.Buttons"))
        ]
        if buttons:
            component["Buttons"] = buttons
        cards = []
        for j, card in enumerate(_list_of_objects(item.get("Cards"), f"{where}.Cards")):
            parts = []
            for k, part in enumerate(
                _list_of_objects(card.get("CardComponents"), f"{where}.Cards[{j}].CardComponents")
            ):
                cwhere = f"{where}.Cards[{j}].CardComponents[{k}]"
                picked = _pick(part, _CARD_COMPONENT_FIELDS, cwhere)
                if picked.get("Type") not in ("BODY", "HEADER", "BUTTONS"):
                    raise invalid(
                        "InvalidParameter.MessageInvalid",
                        f"{cwhere}.Type must be BODY, HEADER or BUTTONS.",
                    )
                card_buttons = [
                    _button(b, f"{cwhere}.Buttons[{m}]", in_card=True)
                    for m, b in enumerate(
                        _list_of_objects(part.get("Buttons"), f"{cwhere}.Buttons")
                    )
                ]
                if card_buttons:
                    picked["Buttons"] = card_buttons
                parts.append(picked)
            cards.append({"CardComponents": parts})
        if cards:
            component["Cards"] = cards
        out.append(component)
    return out


def component_out(component: dict[str, Any]) -> dict[str, Any]:
    """A stored component as GetChatappTemplateDetail shows it: the request spells
    ``HasExpiration``, the reply ``hasExpiration``."""
    out = dict(component)
    if "HasExpiration" in out:
        out["hasExpiration"] = out.pop("HasExpiration")
    return out

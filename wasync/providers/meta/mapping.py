"""Meta's Graph shapes <-> wasync's canonical model (the only place that knows both).

wasync's canonical components are Meta's own vocabulary (``wasync.providers.whatsapp``
maps what differs: OTP buttons read back as URL buttons, authentication wording, example
forms), so what is Meta's own here is small:

- a media header's sample: the spec names a file (``example.header_file``); the client
  uploads it and sends Meta's handle (``example.header_handle: [handle]``); Meta reads it
  back as its CDN copy, which the shared mapping drops, so ``header_file`` is write-only;
- a template's ``parameter_format`` (NAMED, POSITIONAL) travels beside the components and
  comes back in ``RemoteTemplate.extra``;
- a QR code: ``code``, ``prefilled_message``, ``deep_link_url``, ``qr_image_url``; Meta keeps
  no image format per code (the format is chosen when an image is asked for), so a remote
  code's ``image`` is empty and never compared;
- business numbers: Graph's ``display_phone_number`` (``+1 631-555-5555``) is matched to a
  spec's phone by its digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from wasync.model import JsonDict, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.providers.whatsapp import MalformedError
from wasync.providers.whatsapp.components import component_to_meta
from wasync.providers.whatsapp.templates import template_from_meta

MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})
# What the Resumable Upload API takes (file_type), by file suffix.
MIME_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
}


# --- templates: canonical -> wire ------------------------------------------------------------


def components_to_wire(template: Template) -> list[JsonDict]:
    """The ``components`` of a create or edit, with each media sample still named by its
    file (``header_file``): ``with_handles`` puts the uploaded handles in."""
    return [component_to_meta(c) for c in template.canonical_components()]


def sample_files(components: list[JsonDict]) -> Iterator[str]:
    """The sample files the components name (top level and in carousel cards), in order."""
    for component in components:
        if component.get("type") == "CAROUSEL":
            for card in component.get("cards", []):
                yield from sample_files(card.get("components", []))
        elif component.get("type") == "HEADER":
            file = (component.get("example") or {}).get("header_file")
            if isinstance(file, str):
                yield file


def with_handles(components: list[JsonDict], handle: Callable[[str], str]) -> list[JsonDict]:
    """``components`` with every ``header_file`` replaced by Meta's ``header_handle``."""
    out: list[JsonDict] = []
    for component in components:
        if component.get("type") == "CAROUSEL":
            cards = [
                {**card, "components": with_handles(card.get("components", []), handle)}
                for card in component.get("cards", [])
            ]
            out.append({**component, "cards": cards})
            continue
        example = component.get("example")
        if component.get("type") == "HEADER" and isinstance(example, Mapping):
            rest = {k: v for k, v in example.items() if k != "header_file"}
            if "header_file" in example:
                rest["header_handle"] = [handle(example["header_file"])]
            out.append({**component, "example": rest})
        else:
            out.append(component)
    return out


def template_body(template: Template, components: list[JsonDict]) -> JsonDict:
    """The JSON of ``POST /{WABA_ID}/message_templates``."""
    body: JsonDict = {
        "name": template.name,
        "language": template.language,
        "category": template.category,
    }
    if template.parameter_format is not None:
        body["parameter_format"] = template.parameter_format
    if template.message_send_ttl_seconds is not None:
        body["message_send_ttl_seconds"] = template.message_send_ttl_seconds
    body["components"] = components
    return body


# --- templates: wire -> canonical ------------------------------------------------------------


def template_from_wire(info: Any, *, account: str) -> RemoteTemplate:
    """One template object of a listing (the fields ``client.TEMPLATE_FIELDS`` asks for)."""
    remote = template_from_meta(info, account=account, phone=None)
    extra = dict(remote.extra)
    fmt = info.get("parameter_format")
    if isinstance(fmt, str) and fmt:
        extra["parameter_format"] = fmt.upper()
    return RemoteTemplate(
        account=remote.account,
        phone=None,
        id=remote.id,
        name=remote.name,
        language=remote.language,
        category=remote.category,
        status=remote.status,
        components=remote.components,
        message_send_ttl_seconds=remote.message_send_ttl_seconds,
        reason=remote.reason,
        updated_at=_updated_at(info.get("last_updated_time")),
        extra=extra,
    )


def _updated_at(raw: Any) -> datetime | None:
    """A last-edit time, where a reply carries one (Meta documents none for templates:
    wasync does not ask for it, and reads it only if it comes): an ISO 8601 time or
    seconds since the epoch."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return datetime.fromtimestamp(raw, UTC)
    if isinstance(raw, str) and raw:
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


# --- QR codes -------------------------------------------------------------------------------


def qr_body(qr: QrCode) -> JsonDict:
    """The JSON of a create: the message and the image format to generate."""
    return {"prefilled_message": qr.prefilled_message, "generate_qr_image": qr.image}


def qr_from_wire(account: str, phone: str, raw: Any) -> RemoteQrCode:
    """A QR code object (``code``, ``prefilled_message``, ``deep_link_url``[,
    ``qr_image_url``]) of ``phone``."""
    if not isinstance(raw, Mapping):
        raise MalformedError(f"a QR code is {type(raw).__name__}, not an object")
    code = raw.get("code")
    message = raw.get("prefilled_message")
    if not isinstance(code, str) or not code.strip():
        raise MalformedError("a QR code has no code")
    if not isinstance(message, str):
        raise MalformedError(f"QR code {code} has no prefilled_message")
    link, image = raw.get("deep_link_url"), raw.get("qr_image_url")
    return RemoteQrCode(
        account=account,
        phone=phone,
        code=code.strip(),
        prefilled_message=message,
        image="",  # Meta keeps no image format per code
        deep_link_url=link if isinstance(link, str) else "",
        qr_image_url=image if isinstance(image, str) else "",
    )


# --- business numbers -----------------------------------------------------------------------


def digits(display: str) -> str:
    """``+1 631-555-5555`` -> ``16315555555``: a display number as specs write it."""
    return "".join(ch for ch in display if ch.isdigit())


def phone_ids(listed: list[Any]) -> dict[str, str]:
    """Display numbers (as digits) -> phone-number ids, from ``GET /{WABA}/phone_numbers``."""
    out: dict[str, str] = {}
    for item in listed:
        if not isinstance(item, Mapping):
            raise MalformedError("a phone number is not an object")
        number, id_ = item.get("display_phone_number"), item.get("id")
        if isinstance(id_, int) and not isinstance(id_, bool):
            id_ = str(id_)
        if not isinstance(number, str) or not isinstance(id_, str) or not id_:
            raise MalformedError("a phone number lacks display_phone_number or id")
        out[digits(number)] = id_
    return out

"""Meta's template object (a listing's entry) as a remote template."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wasync.model import JsonDict, RemoteTemplate
from wasync.providers.whatsapp import MalformedError
from wasync.providers.whatsapp.components import components_from_meta

ComponentsReader = Callable[..., list[JsonDict]]  # (raw, category, *, where) -> canonical


def template_from_meta(
    info: Any,
    *,
    account: str,
    phone: str | None,
    read_components: ComponentsReader = components_from_meta,
) -> RemoteTemplate:
    """One template object (``id``, ``name``, ``language``, ``category``, ``status``,
    ``components``, ``rejected_reason``, ``quality_score``, ``message_send_ttl_seconds``);
    ``phone`` for providers that keep templates per business number. A provider whose
    components depart from Meta's passes its own ``read_components`` (built on
    ``components_from_meta``)."""
    if not isinstance(info, Mapping):
        raise MalformedError(f"a template is {type(info).__name__}, not an object")
    fields = {}
    for key in ("id", "name", "language", "category", "status"):
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key == "id":
            value = str(value)  # Meta ids are numeric strings; tolerate a bare number
        if not isinstance(value, str) or not value:
            raise MalformedError(f"a template has no {key}")
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
            read_components(
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

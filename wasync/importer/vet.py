"""Whether an entry import made may be written: it loads, passes wasync's rules, and plans
as no change against the remote resource it was made from. An entry that does not is
skipped (or left as it is, for ``--overwrite``), with the reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from wasync.importer.account import Target
from wasync.model import Desired, JsonDict, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.model import address_of as _address_of
from wasync.output import one_line
from wasync.plan import plan
from wasync.spec.explain import explain, format_path
from wasync.spec.rules import Ctx, check
from wasync.spec.yaml import Positions


def vet(
    remote: RemoteQrCode | RemoteTemplate, entry: JsonDict, target: Target
) -> tuple[JsonDict | None, str | None]:
    """``entry`` as it will be written (components with their keys in the models' order),
    or ``None`` and why it cannot be."""
    held = _control_character(entry)
    if held is not None:
        return None, held
    address = address_of(entry)
    model: type[QrCode] | type[Template] = QrCode if isinstance(remote, RemoteQrCode) else Template
    try:
        resource = model.model_validate(entry, strict=True)
    except ValidationError as exc:
        found = explain(exc, model, entry)
        return None, "; ".join(
            f"{format_path(f.path)}: {_unmodelled(f.message)}" if f.path else f.message
            for f in found[:3]
        )
    ctx = Ctx(address, Positions(address, None))
    traits = target.settings.traits
    problems = check(resource, ctx, traits)
    if problems:
        return None, "wasync's checks refuse it: " + "; ".join(
            f"{p.field}: {p.message}" if p.field else p.message for p in problems[:3]
        )
    reason = _difference(resource, remote, target)
    if reason is not None:
        return None, reason
    if isinstance(resource, Template):
        entry = {**entry, "components": resource.canonical_components()}
    return entry, None


# What a spec file may not hold (wasync.spec.yaml refuses it): C0 and C1 controls other
# than tab and newline, DEL, and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
SHOWN_CHARS = 200  # of a value quoted in a reason


def _control_character(entry: Any, path: str = "") -> str | None:
    """Why ``entry`` cannot be written, when one of its texts holds a character no spec
    file may hold (the provider accepted it; wasync's loader would refuse the file)."""
    if isinstance(entry, str):
        found = _CONTROL.search(entry)
        if found is None:
            return None
        text = one_line(entry)
        if len(text) > SHOWN_CHARS:
            text = f"{text[:SHOWN_CHARS]}... ({len(entry):,} characters)"
        where = path or "a value"
        return (
            f"{where} holds control character U+{ord(found.group()):04X}, which a spec file "
            f"cannot hold (only newline and tab): {text}"
        )
    if isinstance(entry, Mapping):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in entry.items()]
    elif isinstance(entry, list | tuple):
        items = [(str(i), v) for i, v in enumerate(entry)]
    else:
        return None
    for key, value in items:
        held = _control_character(key, path) or _control_character(
            value, f"{path}.{key}" if path else key
        )
        if held is not None:
            return held
    return None


def address_of(entry: Mapping[str, Any]) -> str:
    """The address of an entry import made (QR entries have a label, templates do not)."""
    address = _address_of("qr_codes" if "label" in entry else "templates", entry)
    assert address is not None
    return address


def _unmodelled(message: str) -> str:
    """The loader's words are for someone writing a spec; here the value came from the
    provider, so 'unknown key' means wasync cannot model it."""
    return message.replace("unknown key", "not modelled by wasync")


def _difference(
    resource: QrCode | Template, remote: RemoteQrCode | RemoteTemplate, target: Target
) -> str | None:
    """What the next plan would still change if ``resource`` were written for ``remote``."""
    if isinstance(resource, QrCode):
        assert isinstance(remote, RemoteQrCode)
        desired, present = Desired(qr_codes=(resource,)), Remote(qr_codes=(remote,))
    else:
        assert isinstance(remote, RemoteTemplate)
        desired, present = Desired(templates=(resource,)), Remote(templates=(remote,))
    changes = plan(desired, present, accounts={target.name: target.settings}).changes
    if not changes:
        return None
    fields = ", ".join(dict.fromkeys(f.path for c in changes for f in c.fields))
    return f"wasync cannot reproduce it exactly (it would plan a change to {fields})"

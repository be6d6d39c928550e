"""Whether an entry import made may be written: it loads, passes wasync's rules, and plans
as no change against the remote resource it was made from. An entry that does not is
skipped (or left as it is, for ``--overwrite``), with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from wasync.importer.account import Target
from wasync.model import Desired, JsonDict, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.model import address_of as _address_of
from wasync.plan import plan
from wasync.spec.explain import explain, format_path
from wasync.spec.rules import Ctx, check
from wasync.spec.yaml import Positions


def vet(
    remote: RemoteQrCode | RemoteTemplate, entry: JsonDict, target: Target
) -> tuple[JsonDict | None, str | None]:
    """``entry`` as it will be written (components with their keys in the models' order),
    or ``None`` and why it cannot be."""
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

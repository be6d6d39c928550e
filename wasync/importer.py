"""Import: write spec entries for what an account holds today, so adopting wasync needs no
retyping and the first plan after it has nothing to do.

How it decides (the planner does the matching, so import and plan never disagree):

- The account is read in full: every template with its components, and the QR codes of
  every phone number known (CAMS lists QR codes per number only: the numbers come from the
  account's specs and from ``--phone``). NXCloud templates also live per number.
- The specs of the account are planned against that remote state, with pruning off:
  - remote resources no spec names (the plan's *unmanaged*) are **added**, to
    ``<DIR>/imported/<account>-qr-codes.yaml`` and ``<account>-templates.yaml`` (appended, in
    address order, when those files exist);
  - spec entries that differ from the remote (the plan's *updates*) are **reported and left
    as they are**: they may be edits waiting for an apply. With ``overwrite`` they are
    rewritten in place to match the remote instead, keeping the entry's comments, its
    ``protect``, its label, and what the provider never returns (a media header's sample URL,
    a TTL NXCloud does not read back);
  - spec entries the provider lacks (the plan's *creates*) are reported; import never
    removes a spec entry.
- A remote resource wasync cannot represent exactly (a legacy category such as ``OTP``, a
  component kind it does not model, a shape its rules refuse) is skipped with a warning
  naming it, and stays unmanaged. Import writes only entries that pass ``wasync validate``
  and plan as "no change" against what was read.
- A QR code has no name at the provider: its label is made from its code (``qr-<code>``,
  lowercased) and the entry pins ``code:``, so its identity survives any later edit.
- A media header's sample file is not returned by NXCloud: the entry gets a placeholder URL
  with a comment saying to replace it (the URL is only sent when the template is changed).

After writing, the folder is loaded and planned again; if that does not give "valid, no
change" for everything written, every file is restored and the run fails as a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from wasync.config import AccountBase, Config
from wasync.errors import ConfigError, Problem, SpecError, WasyncError
from wasync.loading import load_desired, read_config
from wasync.model import (
    Desired,
    JsonDict,
    QrCode,
    Remote,
    RemoteQrCode,
    RemoteTemplate,
    Template,
    address_of,
)
from wasync.pacing.retry import RETRY_READS, RetryPolicy
from wasync.plan import AccountSettings, Change, Plan, plan
from wasync.providers import registry
from wasync.session import Session
from wasync.spec.explain import explain, format_path
from wasync.spec.load import LoadedSpecs
from wasync.spec.rules import Ctx, check_qr, check_template
from wasync.spec.rules.resources import LABEL, PHONE
from wasync.spec.write import SpecFile
from wasync.spec.yaml import Positions
from wasync.traits import ProviderTraits

T = TypeVar("T")

IMPORTED_DIR = "imported"
# Stands in for a media sample the provider does not return; .invalid never resolves.
SAMPLE_PLACEHOLDER = "https://sample.invalid/replace-me"
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")


@dataclass(frozen=True)
class Skipped:
    """A remote resource left unmanaged, and why."""

    address: str
    reason: str


@dataclass(frozen=True)
class Differing:
    """A spec entry that differs from the remote: left as it is, or overwritten."""

    address: str
    file: str
    fields: tuple[str, ...]
    overwritten: bool = False
    reason: str | None = None  # why it could not be overwritten, when asked to


@dataclass(frozen=True)
class Note:
    """Something the user must do about an entry import wrote."""

    address: str
    message: str


@dataclass
class ImportResult:
    account: str
    provider: str
    qr_phones: tuple[str, ...]  # numbers whose QR codes were read
    template_phones: tuple[str, ...]  # numbers whose templates were read (phone scope)
    remote_qr_codes: int = 0
    remote_templates: int = 0
    added: dict[str, list[str]] = field(default_factory=dict)  # file -> addresses
    in_sync: int = 0
    differing: list[Differing] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the specs, not at the provider
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # planner warnings, unread phones
    # Spec QR entries matched by their message only: (address, file, the code to pin).
    unpinned: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(len(v) for v in self.added.values()) + sum(
            1 for d in self.differing if d.overwritten
        )


def import_account(
    directory: Path,
    account_name: str,
    *,
    phones: Sequence[str] = (),
    overwrite: bool = False,
    policy: RetryPolicy | None = None,
) -> ImportResult:
    """Read ``account_name`` in full and write spec entries under ``directory`` (see the
    module docstring for the rules). Raises ``WasyncError`` for what the user can fix."""
    for phone in phones:
        if not PHONE.fullmatch(phone):
            raise WasyncError(
                f"--phone {phone!r}: write the business number as country code then number, "
                "digits only, no + (6 to 15 digits)"
            )
    _, specs = load_desired(directory, resolve_env=False, freeze=False)
    config, account = _account(directory, account_name)
    traits = registry.plugin_for(account).traits
    desired = _of_account(specs.desired, account_name)
    result = _phones_to_read(account_name, traits, desired, phones)
    remote = asyncio.run(_read(config, account_name, result, policy or RetryPolicy()))
    result.remote_qr_codes, result.remote_templates = len(remote.qr_codes), len(remote.templates)

    settings = {account_name: AccountSettings(traits=traits, thresholds=account.thresholds)}
    the_plan = plan(desired, remote, accounts=settings)
    result.warnings += [f"{w.address}: {w.message}" for w in the_plan.warnings]
    writer = _Writer(directory, account_name, traits, specs, desired)
    _decide(the_plan, remote, desired, settings, writer, result, overwrite=overwrite)
    if account.prune and result.skipped:
        result.warnings.append(
            f"account {account_name} has prune: true, so the next apply would delete the "
            f"{len(result.skipped)} skipped resource(s) listed below; write them into the "
            "specs by hand, or turn prune off, before you apply"
        )
    writer.commit(result, remote, settings)
    return result


# --- what to read ----------------------------------------------------------------------------


def _account(directory: Path, name: str) -> tuple[Config, AccountBase]:
    """The account with its credentials read from the environment (only this one's are
    needed: another account's missing variable does not stop an import)."""
    loaded = read_config(directory)
    account = loaded.config.accounts.get(name)
    if account is None:
        if name not in loaded.declared:
            known = ", ".join(sorted(loaded.declared)) or "none"
            raise ConfigError(f"no account {name!r} in {loaded.path}; accounts there: {known}")
        mine = [p for p in loaded.problems if _about_account(p, name)]
        raise SpecError(mine or loaded.problems)
    config = Config(root=loaded.config.root, accounts={name: account})
    return config, account


def _about_account(problem: Problem, name: str) -> bool:
    prefix = f"accounts.{name}"
    return problem.field is not None and (
        problem.field == prefix or problem.field.startswith(prefix + ".")
    )


def _of_account(desired: Desired, account: str) -> Desired:
    return Desired(
        qr_codes=tuple(q for q in desired.qr_codes if q.account == account),
        templates=tuple(t for t in desired.templates if t.account == account),
    )


def _phones_to_read(
    account: str, traits: ProviderTraits, desired: Desired, extra: Sequence[str]
) -> ImportResult:
    """The numbers to read, and a warning (or an error) when a kind has none."""
    name = traits.display_name
    qr_phones: tuple[str, ...] = ()
    template_phones: tuple[str, ...] = ()
    warnings: list[str] = []
    if "qr" in traits.kinds:
        qr_phones = tuple(sorted({q.phone for q in desired.qr_codes} | set(extra)))
        if not qr_phones:
            warnings.append(
                f"QR codes of {account} were not read: {name} lists QR codes per business "
                f"number, and no spec of {account} names one; re-run with --phone NUMBER "
                "(country code then number, digits only; repeatable)"
            )
    if "template" in traits.kinds and traits.template_scope == "phone":
        template_phones = tuple(
            sorted({t.phone for t in desired.templates if t.phone} | set(extra))
        )
        if not template_phones:
            raise WasyncError(
                f"{name} keeps templates per business number, and no spec of {account} names "
                "one; give the numbers to read with --phone NUMBER (country code then number, "
                "digits only; repeatable)"
            )
    return ImportResult(
        account=account,
        provider=traits.name,
        qr_phones=qr_phones,
        template_phones=template_phones,
        warnings=warnings,
    )


async def _read(config: Config, name: str, wanted: ImportResult, policy: RetryPolicy) -> Remote:
    """Everything the account holds on the numbers in ``wanted``, templates in full detail.
    Calls go through the session's rate gate and are retried like a refresh's."""
    async with Session(config) as session:
        conn = session.connection(name)
        provider = conn.provider

        async def qr_codes(phone: str) -> list[RemoteQrCode]:
            return await policy.call(lambda: provider.list_qr_codes(phone), retry_on=RETRY_READS)

        lists = await asyncio.gather(*(qr_codes(p) for p in wanted.qr_phones))
        templates: list[RemoteTemplate] = []
        if "template" in conn.traits.kinds:
            templates = await policy.call(
                lambda: provider.list_templates(wanted.template_phones, None),
                retry_on=RETRY_READS,
            )
    return Remote(
        qr_codes=tuple(q for lst in lists for q in lst),
        templates=tuple(templates),
    )


# --- deciding --------------------------------------------------------------------------------


def _decide(
    the_plan: Plan,
    remote: Remote,
    desired: Desired,
    settings: Mapping[str, AccountSettings],
    writer: _Writer,
    result: ImportResult,
    *,
    overwrite: bool,
) -> None:
    by_id: dict[tuple[str, str], RemoteQrCode | RemoteTemplate] = {}
    for q in remote.qr_codes:
        by_id[(q.address, q.code)] = q
    for t in remote.templates:
        by_id[(t.address, t.id)] = t
    changed = {c.address for c in the_plan.changes}
    addresses = [q.address for q in desired.qr_codes] + [t.address for t in desired.templates]
    result.in_sync = sum(1 for a in addresses if a not in changed)
    labels = _labels_in_use(desired)

    for u in the_plan.unmanaged:
        found = by_id[(u.address, u.remote_id)]
        if isinstance(found, RemoteQrCode):
            label = _label_for(found, labels)
            writer.add(found, _qr_entry(found, label, None), result)
        else:
            entry, notes = _template_entry(found, None, writer.traits)
            writer.add(found, entry, result, notes)

    for change in the_plan.changes:
        if change.action == "create":
            result.missing.append(change.address)
        elif change.action == "update":
            _differs(change, writer, result, overwrite=overwrite)
    result.unpinned = _unpinned(desired, remote, the_plan, writer)


def _unpinned(
    desired: Desired, remote: Remote, the_plan: Plan, writer: _Writer
) -> list[tuple[str, str, str]]:
    """Spec QR entries without ``code:`` that match exactly one code by message, and the
    code. Without a pin, editing the message plans a new code instead of updating this one
    (and ``protect`` cannot guard a code the entry no longer matches)."""
    unmanaged = {u.remote_id for u in the_plan.unmanaged if u.kind == "qr"}
    pinned = {q.code for q in desired.qr_codes if q.code}
    out = []
    for q in desired.qr_codes:
        if q.code:
            continue
        codes = [
            r.code
            for r in remote.qr_codes
            if r.phone == q.phone
            and r.prefilled_message == q.prefilled_message
            and r.code not in unmanaged
            and r.code not in pinned
        ]
        if len(codes) == 1:
            out.append((q.address, writer.file_of(q.address), codes[0]))
    return sorted(out)


def _differs(change: Change, writer: _Writer, result: ImportResult, *, overwrite: bool) -> None:
    where = writer.file_of(change.address)
    fields = tuple(dict.fromkeys(f.path for f in change.fields))
    if not overwrite:
        result.differing.append(Differing(change.address, where, fields))
        return
    r, d = change.remote, change.desired
    if isinstance(r, RemoteQrCode) and isinstance(d, QrCode):
        entry: JsonDict = _qr_entry(r, d.label, d)
        notes: dict[str, str] = {}
    else:
        assert isinstance(r, RemoteTemplate) and isinstance(d, Template)
        entry, notes = _template_entry(r, d, writer.traits)
    ready, reason = writer.prepare(r, entry)
    if ready is None:
        result.differing.append(Differing(change.address, where, fields, reason=reason))
        return
    writer.replace(change.address, ready)
    result.differing.append(Differing(change.address, where, fields, overwritten=True))
    result.notes += [Note(change.address, n) for n in notes.values()]


# --- remote -> spec entries ------------------------------------------------------------------


def _labels_in_use(desired: Desired) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = defaultdict(set)
    for q in desired.qr_codes:
        labels[q.phone].add(q.label)
    return labels


_NOT_LABEL = re.compile(r"[^a-z0-9_-]+")


def _label_for(qr: RemoteQrCode, labels: dict[str, set[str]]) -> str:
    """``qr-<code>``, lowercased, made unique on its number (codes that differ only in case
    get ``-2``, ``-3``...). The planner lists codes in code order, so this is stable."""
    base = "qr-" + (_NOT_LABEL.sub("-", qr.code.lower()).strip("-") or "code")
    label, n = base, 1
    while label in labels[qr.phone]:
        n += 1
        label = f"{base}-{n}"
    labels[qr.phone].add(label)
    assert LABEL.fullmatch(label)
    return label


def _qr_entry(r: RemoteQrCode, label: str, previous: QrCode | None) -> JsonDict:
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


def _template_entry(
    r: RemoteTemplate, previous: Template | None, traits: ProviderTraits
) -> tuple[JsonDict, dict[str, str]]:
    """The spec entry for ``r``, and comments for the values the provider did not return
    (by dotted path in the entry). ``previous`` is the spec entry it replaces, whose
    write-only values and settings are kept."""
    components = [dict(c) for c in r.components]
    if previous is not None:
        components = _carry(
            components, previous.canonical_components(), traits.write_only_component_keys
        )
    notes: dict[str, str] = {}
    _fill_unreturned(components, "components", traits, notes)
    entry: JsonDict = {"account": r.account}
    if traits.template_scope == "phone" and r.phone:
        entry["phone"] = r.phone
    entry |= {
        "name": r.name,
        "language": r.language,
        "category": r.category,
        "components": components,
    }
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
    where both have the same shape at the same place."""
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
                kept = _only_keys(v, keys)
                if kept:
                    out[k] = kept
        return out
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_carry(n, o, keys) for n, o in zip(new, old, strict=True)]
    return new


def _only_keys(value: Any, keys: frozenset[str]) -> Any:
    if not isinstance(value, Mapping):
        return None
    out = {}
    for k, v in value.items():
        if k in keys:
            out[k] = v
        else:
            kept = _only_keys(v, keys)
            if kept:
                out[k] = kept
    return out


def _fill_unreturned(
    components: list[JsonDict], at: str, traits: ProviderTraits, notes: dict[str, str]
) -> None:
    """Values a spec needs that the provider does not read back: a media header's sample
    URL (a placeholder to replace) and a ZERO_TAP button's terms (accepted, or the template
    would not exist)."""
    name = traits.display_name
    for i, c in enumerate(components):
        here = f"{at}.{i}"
        kind = c.get("type")
        if kind == "HEADER" and c.get("format") in MEDIA_FORMATS:
            example = dict(c.get("example") or {})
            if not example.get("header_url"):
                example["header_url"] = SAMPLE_PLACEHOLDER
                c["example"] = example
                notes[f"{here}.example.header_url"] = (
                    f"{name} does not return the sample: put its public URL here"
                )
        elif kind == "BUTTONS":
            for b in c.get("buttons") or ():
                if b.get("otp_type") == "ZERO_TAP" and "zero_tap_terms_accepted" not in b:
                    b["zero_tap_terms_accepted"] = True
        elif kind == "CAROUSEL":
            for j, card in enumerate(c.get("cards") or ()):
                inner = [dict(x) for x in card.get("components") or ()]
                _fill_unreturned(inner, f"{here}.cards.{j}.components", traits, notes)
                card["components"] = inner


# --- writing ---------------------------------------------------------------------------------


class _Writer:
    """Checks entries, collects them per file, writes, and proves the result."""

    def __init__(
        self,
        directory: Path,
        account: str,
        traits: ProviderTraits,
        specs: LoadedSpecs,
        desired: Desired,
    ) -> None:
        self.directory = directory
        self.account = account
        self.traits = traits
        self.specs = specs
        self.desired = desired
        self.files: dict[Path, SpecFile] = {}
        self.written: dict[str, JsonDict] = {}  # address -> entry, for the final proof
        self._added: dict[Path, list[tuple[str, str, JsonDict, dict[str, str]]]] = defaultdict(list)

    def file_of(self, address: str) -> str:
        where = self.specs.source_map.locate(address)
        return where.file if where else "?"

    def _open(self, path: Path, header: str | None = None) -> SpecFile:
        if path not in self.files:
            self.files[path] = SpecFile(path, header=header)
        return self.files[path]

    def prepare(
        self, remote: RemoteQrCode | RemoteTemplate, entry: JsonDict
    ) -> tuple[JsonDict | None, str | None]:
        """``entry`` as it will be written (components with their keys in the models'
        order), or ``None`` and why it cannot be: it must load, pass the rules, and plan as
        no change against ``remote``."""
        address = _address(entry)
        model: type[QrCode] | type[Template] = (
            QrCode if isinstance(remote, RemoteQrCode) else Template
        )
        try:
            resource = model.model_validate(entry, strict=True)
        except ValidationError as exc:
            found = explain(exc, model, entry)
            return None, "; ".join(
                f"{_path(f.path)}: {_unmodelled(f.message)}" if f.path else f.message
                for f in found[:3]
            )
        ctx = Ctx(address, Positions(address, None))
        if isinstance(resource, QrCode):
            problems = check_qr(resource, ctx, self.traits)
        else:
            problems = check_template(resource, ctx, self.traits)
        if problems:
            return None, "wasync's checks refuse it: " + "; ".join(
                f"{p.field}: {p.message}" if p.field else p.message for p in problems[:3]
            )
        reason = _difference(resource, remote, self.traits)
        if reason is not None:
            return None, reason
        if isinstance(resource, Template):
            entry = {**entry, "components": resource.canonical_components()}
        return entry, None

    def add(
        self,
        remote: RemoteQrCode | RemoteTemplate,
        entry: JsonDict,
        result: ImportResult,
        notes: dict[str, str] | None = None,
    ) -> None:
        ready, reason = self.prepare(remote, entry)
        if ready is None:
            result.skipped.append(Skipped(remote.address, reason or "not valid"))
            return
        entry = ready
        kind = "qr_codes" if isinstance(remote, RemoteQrCode) else "templates"
        stem = "qr-codes" if kind == "qr_codes" else "templates"
        path = self.directory / IMPORTED_DIR / f"{self.account}-{stem}.yaml"
        address = _address(entry)
        self._added[path].append((address, kind, entry, notes or {}))
        result.notes += [Note(address, n) for n in (notes or {}).values()]

    def replace(self, address: str, entry: JsonDict) -> None:
        where = self.specs.source_map.locate(address)
        assert where is not None, address
        kind = "qr_codes" if address.startswith("qr.") else "templates"
        spec = self._open(Path(where.file))
        index = spec.index_of(kind, address)
        assert index is not None, address
        spec.replace(kind, index, entry)
        self.written[address] = entry

    def commit(
        self, result: ImportResult, remote: Remote, settings: Mapping[str, AccountSettings]
    ) -> None:
        for path, items in sorted(self._added.items()):
            spec = self._open(path, header=_header(self.account))
            for address, kind, entry, notes in sorted(items, key=lambda x: x[0]):
                spec.append(kind, entry, notes=notes)
                self.written[address] = entry
            result.added[str(path)] = sorted(a for a, *_ in items)
        changed = {path: spec for path, spec in self.files.items() if spec.changed}
        if not changed:
            return
        made_dir = not (self.directory / IMPORTED_DIR).exists()
        try:
            for path, spec in changed.items():
                _write_atomically(path, spec.render())
            self._prove(remote, settings)
        except BaseException:
            for path, spec in changed.items():
                if spec.existed:
                    _write_atomically(path, spec.original)
                else:
                    path.unlink(missing_ok=True)
            if made_dir:
                with contextlib.suppress(OSError):
                    (self.directory / IMPORTED_DIR).rmdir()
            raise

    def _prove(self, remote: Remote, settings: Mapping[str, AccountSettings]) -> None:
        """The folder as written loads, and plans as no change for every entry written."""
        try:
            _, specs = load_desired(self.directory, resolve_env=False, freeze=False)
        except SpecError as exc:
            raise ImportBugError(f"the specs written do not validate:\n{exc}") from None
        desired = _of_account(specs.desired, self.account)
        after = plan(desired, remote, accounts=settings)
        left = sorted({c.address for c in after.changes} & set(self.written))
        if left:
            raise ImportBugError(f"entries written would still change: {', '.join(left)}")


class ImportBugError(RuntimeError):
    """What import wrote does not load or plan clean: a bug (files are restored)."""


def _header(account: str) -> str:
    return (
        f"Written by `wasync import --account {account}`: what the account held then.\n"
        "Edit freely. A later import adds only what is new; entries here that differ from\n"
        "the account are reported and left as they are (--overwrite takes the remote's)."
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.wasync-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _address(entry: Mapping[str, Any]) -> str:
    kind = "qr_codes" if "label" in entry else "templates"
    address = address_of(kind, entry)
    assert address is not None
    return address


def _path(parts: Iterable[Any]) -> str:
    return format_path(tuple(parts))


def _unmodelled(message: str) -> str:
    """The loader's words are for someone writing a spec; here the value came from the
    provider, so 'unknown key' means wasync cannot model it."""
    return message.replace("unknown key", "not modelled by wasync")


def _difference(
    resource: QrCode | Template,
    remote: RemoteQrCode | RemoteTemplate | None,
    traits: ProviderTraits,
) -> str | None:
    """What the next plan would still change if ``resource`` were written for ``remote``."""
    if isinstance(resource, QrCode):
        assert isinstance(remote, RemoteQrCode)
        desired, present = Desired(qr_codes=(resource,)), Remote(qr_codes=(remote,))
    else:
        assert isinstance(remote, RemoteTemplate)
        desired, present = Desired(templates=(resource,)), Remote(templates=(remote,))
    settings = {resource.account: AccountSettings(traits=traits)}
    changes = plan(desired, present, accounts=settings).changes
    if not changes:
        return None
    fields = ", ".join(dict.fromkeys(f.path for c in changes for f in c.fields))
    return f"wasync cannot reproduce it exactly (it would plan a change to {fields})"

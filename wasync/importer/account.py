"""The account to import: its settings, its specs, and the numbers to read.

This is the one module of the importer that reads wasync.yaml and the spec folder, and that
uses the spec rules on numbers and provider names; the others get what they need from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wasync.config import Config
from wasync.errors import ConfigError, Problem, SpecError, WasyncError
from wasync.importer.result import ImportResult
from wasync.loading import load_desired, read_config
from wasync.model import Desired
from wasync.plan import AccountSettings
from wasync.spec.load import LoadedSpecs
from wasync.spec.rules.resources import PHONE


@dataclass(frozen=True)
class Target:
    """The account an import reads and writes specs for."""

    name: str
    config: Config  # wasync.yaml with this account only, its credentials read
    settings: AccountSettings  # as planned by import: pruning off
    prunes: bool  # the account's own ``prune: true``, which import warns about
    provider: str  # the provider's name, as messages show it


def check_phones(phones: Sequence[str]) -> None:
    for phone in phones:
        if not PHONE.fullmatch(phone):
            raise WasyncError(
                f"--phone {phone!r}: write the business number as country code then number, "
                "digits only, no + (6 to 15 digits)"
            )


def read_specs(
    directory: Path, account: str, *, check_files: bool = True
) -> tuple[LoadedSpecs, Desired]:
    """Every spec of ``directory``, checked (credentials need not be set), and the part of
    them that is ``account``'s."""
    _, specs = load_desired(directory, resolve_env=False, freeze=False, check_files=check_files)
    return specs, Desired(
        qr_codes=tuple(q for q in specs.desired.qr_codes if q.account == account),
        templates=tuple(t for t in specs.desired.templates if t.account == account),
    )


def open_target(directory: Path, name: str) -> Target:
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
    settings = dataclasses.replace(AccountSettings.from_account(account), prune=False)
    return Target(
        name=name,
        config=Config(root=loaded.config.root, accounts={name: account}),
        settings=settings,
        prunes=account.prune,
        provider=settings.traits.display_name,
    )


def _about_account(problem: Problem, name: str) -> bool:
    prefix = f"accounts.{name}"
    return problem.field is not None and (
        problem.field == prefix or problem.field.startswith(prefix + ".")
    )


def phones_to_read(target: Target, desired: Desired, extra: Sequence[str]) -> ImportResult:
    """The numbers to read, and a warning (or an error) when a kind has none."""
    traits, account, name = target.settings.traits, target.name, target.provider
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

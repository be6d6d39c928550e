"""Reading a spec folder: wasync.yaml and the spec files together, with the registry's
providers. What ``validate``, ``plan``, ``apply`` and ``import`` start from.

Config and spec sit below the providers and know none of them; this module hands config the
registry's account kinds and the spec rules each account's provider traits.
"""

from __future__ import annotations

import gc
from pathlib import Path

from wasync.config import Config, ConfigLoad
from wasync.config import read_config as _read_config
from wasync.errors import Problem, SpecError
from wasync.gcpause import gc_paused
from wasync.model import Desired
from wasync.providers import registry
from wasync.spec.load import LoadedSpecs, read_specs
from wasync.spec.yaml import DEFAULT_LIMITS, Limits
from wasync.traits import ProviderTraits


def read_config(
    directory: Path, limits: Limits = DEFAULT_LIMITS, *, resolve_env: bool = True
) -> ConfigLoad:
    """``wasync.config.read_config`` with every registered provider."""
    return _read_config(directory, registry.plugins(), limits, resolve_env=resolve_env)


def _all_traits() -> list[ProviderTraits]:
    return [plugin.traits for plugin in registry.plugins()]


def account_traits(config: Config) -> dict[str, ProviderTraits]:
    """Each account's provider traits, by account name."""
    return {name: registry.plugin_for(a).traits for name, a in config.accounts.items()}


def account_use_problems(config: Config, loaded: LoadedSpecs) -> list[Problem]:
    """What each account lacks for what the specs ask of it, as its provider's account
    model says (``AccountBase.check_use``): at the account in wasync.yaml, naming the first
    resource that needs it."""
    found: list[Problem] = []
    for name, account in config.accounts.items():
        mine = Desired(
            qr_codes=tuple(q for q in loaded.desired.qr_codes if q.account == name),
            templates=tuple(t for t in loaded.desired.templates if t.account == name),
        )
        for problem in account.check_use(mine):
            addresses = [t.address for t in mine.templates] + [q.address for q in mine.qr_codes]
            where = ""
            if addresses:
                at = loaded.source_map.locate(addresses[0])
                where = f" (e.g. {addresses[0]}" + (f" at {at})" if at else ")")
            found.append(
                Problem(
                    problem.message + where,
                    config.locations.get(name),
                    field=f"accounts.{name}.{problem.field}",
                )
            )
    return found


def _unknown_account(problem: Problem) -> bool:
    return problem.field == "account" and problem.message.startswith("no account ")


def load_desired(
    directory: Path,
    limits: Limits | None = None,
    *,
    freeze: bool = True,
    resolve_env: bool = True,
    check_files: bool = True,
) -> tuple[Config, LoadedSpecs]:
    """wasync.yaml and every spec of ``directory``, checked: what ``validate``, ``plan`` and
    ``apply`` start from. Raises ``ConfigError`` when there is no wasync.yaml, and
    ``SpecError`` with every problem of the config and the specs together; when the config
    declares no account it could read, its problems come first, without the unknown
    accounts of the spec entries that follow from them.

    With ``freeze`` (the default), the loaded objects are moved out of the garbage
    collector's sight (``gc.freeze()``): they live until the command ends, and a large spec
    folder is millions of objects that the collector would otherwise rescan several times
    (about 3 s of CPU for 20,000 templates), including once more at interpreter exit.

    Without ``resolve_env``, credentials written as ``${VAR}`` need not be set (validation);
    without ``check_files``, files the specs name (media samples) need not be there yet.
    """
    limits = limits or DEFAULT_LIMITS
    with gc_paused():
        config = read_config(directory, limits, resolve_env=resolve_env)
        loaded, problems = read_specs(
            directory,
            account_traits(config.config),
            declared=config.declared,
            limits=limits,
            providers=_all_traits(),
            check_files=check_files,
            groups=config.config.groups,
        )
        problems += account_use_problems(config.config, loaded)
        if config.problems and not config.declared:
            # wasync.yaml declares no account it could read (empty, a list, not UTF-8...):
            # it is the cause, said first, and the "no account ... in wasync.yaml" of every
            # spec entry only follows from it.
            rest = [p for p in problems if not _unknown_account(p)]
            raise SpecError(rest, causes=config.problems)
        everything = [*config.problems, *problems]
        if everything:
            raise SpecError(everything)
        if freeze:
            gc.freeze()
    return config.config, loaded

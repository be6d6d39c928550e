"""The workflow shared by ``plan`` and ``apply``: load the specs, refresh, plan.

Like octoDNS's manager: it wires the pieces (spec loader, session, refresh, pure planner)
and holds no rules of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wasync.config import Config
from wasync.errors import ProviderError, WasyncError
from wasync.loading import load_desired
from wasync.model import Desired, Remote
from wasync.plan import AccountSettings, Plan, filter_targets, from_config, plan
from wasync.refresh import refresh
from wasync.session import Session
from wasync.spec.load import LoadedSpecs


@dataclass(frozen=True)
class Planned:
    """A plan and everything it was made from."""

    config: Config
    specs: LoadedSpecs
    settings: dict[str, AccountSettings]
    remote: Remote
    plan: Plan


def load(directory: Path) -> tuple[Config, LoadedSpecs]:
    """wasync.yaml and the specs, checked (raises ``SpecError`` with every problem)."""
    return load_desired(directory)


def accounts_to_read(config: Config, targets: Sequence[str]) -> list[str]:
    """Every account, or only those a ``--target`` names (``qr.<account>...``)."""
    if not targets:
        return sorted(config.accounts)
    named = {t.split(".")[1] for t in targets if t.count(".") >= 1}
    if any(t.count(".") == 0 for t in targets) or not named <= set(config.accounts):
        return sorted(config.accounts)  # a bare kind, or an unknown name the filter reports
    return sorted(named)


async def make_plan(
    session: Session,
    config: Config,
    specs: LoadedSpecs,
    *,
    prune: bool = False,
    targets: Sequence[str] = (),
    release_sandboxes: bool = False,
) -> Planned:
    """``release_sandboxes``: the session's embedded sandboxes let go of their state once
    the remote is read (a plan, which calls them no more; ``Session.release_sandboxes``)."""
    settings = from_config(config)
    accounts = accounts_to_read(config, targets)
    desired = _only(specs.desired, accounts)
    try:
        remote = await refresh(session, desired, accounts)
    except ProviderError as exc:
        if exc.subject is None:
            raise
        raise located(exc, specs) from None
    if release_sandboxes:
        session.release_sandboxes()
    # The time the remote was read at: edit budgets are judged against it.
    result = plan(desired, remote, accounts=settings, prune=prune, now=datetime.now(UTC))
    if targets:
        result = filter_targets(result, targets)
    return Planned(config, specs, settings, remote, result)


def located(error: ProviderError, specs: LoadedSpecs) -> WasyncError:
    """``error`` (about ``error.subject``) prefixed with where the specs declare its
    subject: ``specs/qr.yaml:12:5: qr.shop.1555...: <error>`` (and how many more there are)."""
    found = specs.source_map.declared_under(error.subject or "")
    if not found:
        return error
    where, address = found[0]
    more = f" (and {len(found) - 1} more entries)" if len(found) > 1 else ""
    return WasyncError(f"{where}: {address}{more}: {error}")


def _only(desired: Desired, accounts: Sequence[str]) -> Desired:
    keep = set(accounts)
    return Desired(
        qr_codes=tuple(q for q in desired.qr_codes if q.account in keep),
        templates=tuple(t for t in desired.templates if t.account in keep),
    )

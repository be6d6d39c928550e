"""What the planner needs to know about each account: provider facts, prune and thresholds.

The caller builds these from wasync.yaml (``from_config``); the planner itself reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wasync.config import AccountBase, Config, Thresholds
from wasync.providers import registry
from wasync.traits import ProviderTraits


@dataclass(frozen=True)
class AccountSettings:
    """Planning settings of one account."""

    traits: ProviderTraits
    prune: bool = False  # delete unmanaged remote resources
    thresholds: Thresholds = field(default_factory=Thresholds)

    @classmethod
    def from_account(cls, account: AccountBase) -> AccountSettings:
        return cls(
            traits=registry.plugin_for(account).traits,
            prune=account.prune,
            thresholds=account.thresholds,
        )


def from_config(config: Config) -> dict[str, AccountSettings]:
    """Settings of every account in wasync.yaml, by account name."""
    return {name: AccountSettings.from_account(acc) for name, acc in config.accounts.items()}

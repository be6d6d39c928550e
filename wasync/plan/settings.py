"""What the planner needs to know about each account: provider facts, prune and thresholds.

The caller builds these from wasync.yaml (``from_config``); the planner itself reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wasync.config import AccountBase, Config, Thresholds
from wasync.providers import registry
from wasync.traits import CallBudget, ProviderTraits


@dataclass(frozen=True)
class AccountSettings:
    """Planning settings of one account."""

    traits: ProviderTraits
    prune: bool = False  # delete unmanaged remote resources
    thresholds: Thresholds = field(default_factory=Thresholds)
    # the provider's budgets of calls per window, as they hold for this account (None:
    # the traits' own)
    budgets: tuple[CallBudget, ...] | None = None

    @property
    def call_budgets(self) -> tuple[CallBudget, ...]:
        return self.traits.call_budgets if self.budgets is None else self.budgets

    @classmethod
    def from_account(cls, account: AccountBase) -> AccountSettings:
        plugin = registry.plugin_for(account)
        return cls(
            traits=plugin.traits,
            prune=account.prune,
            thresholds=account.thresholds,
            budgets=plugin.call_budgets(account),
        )


def from_config(config: Config) -> dict[str, AccountSettings]:
    """Settings of every account in wasync.yaml, by account name."""
    return {name: AccountSettings.from_account(acc) for name, acc in config.accounts.items()}

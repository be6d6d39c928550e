"""octoDNS-style brakes: stop an apply that would update or delete too much of an account.

The share is (updates + replacements + deletes) / managed, where *managed* counts the
resources wasync manages on the account that exist now: the spec entries the remote holds,
plus the remote resources a prune would delete. Planned creates are not there yet and do
not count, so they cannot dilute a mass deletion (40 deletes of 120 codes are 33%, even
when the specs add 40 new ones). An empty spec file with ``prune: true`` is 100% and stops,
instead of slipping under ``min_resources``. Blocked changes are not attempted and do not
count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wasync.config import Thresholds
from wasync.errors import WasyncError
from wasync.model import JsonDict


@dataclass(frozen=True)
class ThresholdViolation:
    account: str
    changing: int  # updates (replacements too) + deletes
    managed: int  # the managed resources that exist now
    max_change_share: float

    @property
    def share(self) -> float:
        return self.changing / self.managed if self.managed else 1.0

    def __str__(self) -> str:
        return (
            f"{self.account}: {self.changing} of {self.managed} managed resources would be "
            f"updated or deleted ({self.share:.1%} > {self.max_change_share:.1%})"
        )

    def data(self) -> JsonDict:
        return {
            "account": self.account,
            "changing": self.changing,
            "managed": self.managed,
            "share": round(self.share, 6),
            "max_change_share": self.max_change_share,
            "message": str(self),
        }


class ThresholdError(WasyncError):
    """An apply would change more of an account than its thresholds allow."""

    def __init__(self, violations: Sequence[ThresholdViolation]) -> None:
        self.violations = tuple(violations)
        lines = [f"{v}; review the plan and use --force" for v in self.violations]
        super().__init__("\n".join(lines))


def check_share(
    account: str, changing: int, managed: int, thresholds: Thresholds
) -> ThresholdViolation | None:
    if managed < thresholds.min_resources or changing == 0:
        return None
    if changing / managed <= thresholds.max_change_share:
        return None
    return ThresholdViolation(account, changing, managed, thresholds.max_change_share)

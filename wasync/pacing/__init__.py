"""Pacing and retries: the rate gates every HTTP call passes through, the retry policy, and
the documented limits each provider declares.

Below the session (which builds an account's gate and read retries) and the executor (which
retries changes), so that neither has to import the other to share them.
"""

from wasync.pacing.gate import GateClosed, Pacer, RateGate
from wasync.pacing.limits import RateLimits
from wasync.pacing.retry import (
    RETRY_READS,
    RETRY_WRITES,
    RetryingReads,
    RetryPolicy,
    interruptible_sleep,
)

__all__ = [
    "RETRY_READS",
    "RETRY_WRITES",
    "GateClosed",
    "Pacer",
    "RateGate",
    "RateLimits",
    "RetryPolicy",
    "RetryingReads",
    "interruptible_sleep",
]

"""Planning: compare the specs with the remote state and decide every change, purely.

The ``plan`` command wires it like this::

    settings = from_config(config)
    result = filter_targets(plan(desired, remote, accounts=settings, prune=prune), targets)
    render.write(result.data(), fmt, sys.stdout)
    if out: write_plan(result, out)

and ``apply`` calls ``result.check_thresholds(force=force)`` before running anything.
"""

from wasync.plan.model import Blocked, Change, FieldDiff, Hazard, Plan, PlanWarning, Unmanaged
from wasync.plan.planner import plan
from wasync.plan.settings import AccountSettings, from_config
from wasync.plan.targets import filter_targets
from wasync.plan.thresholds import ThresholdError, ThresholdViolation

__all__ = [
    "AccountSettings",
    "Blocked",
    "Change",
    "FieldDiff",
    "Hazard",
    "Plan",
    "PlanWarning",
    "ThresholdError",
    "ThresholdViolation",
    "Unmanaged",
    "filter_targets",
    "from_config",
    "plan",
]

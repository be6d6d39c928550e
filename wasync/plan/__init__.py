"""Planning: compare the specs with the remote state and decide every change, purely.

``wasync plan`` wires it like this::

    result = plan(desired, remote, accounts=from_config(config), prune=prune)
    result = filter_targets(result, targets)
    render.write(result.data(), fmt, sys.stdout)       # wasync.plan.render
    if out:
        write_plan(result, out)                          # wasync.plan.saved
    return 2 if detailed_exitcode and result.has_changes else 0

and ``wasync apply --plan PLAN.json`` like this::

    saved = read_plan(plan_file)
    result = plan(desired, remote, accounts=from_config(config), prune=saved.prune)
    result = filter_targets(result, saved.targets)
    ensure_fresh(saved, result)                          # StalePlanError names what moved
    result.check_thresholds(force=force)                 # ThresholdError carries the numbers
    ... run result.actionable ..."""

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

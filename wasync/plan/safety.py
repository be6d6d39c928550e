"""The safety rules: which changes break something (hazards) and which are not attempted
(blocked), with reasons written for a person who has to decide what to do next.

Every code here is part of the plan format (docs/plan-format.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import get_args

from wasync.model import Category, RemoteQrCode, RemoteTemplate
from wasync.plan.model import Blocked, Hazard
from wasync.traits import CallBudget, ProviderTraits

CATEGORIES = frozenset(get_args(Category))

# --- hazards -------------------------------------------------------------------------------


def qr_code_replaced(current: RemoteQrCode) -> Hazard:
    return Hazard(
        "qr-code-replaced",
        f"the printed code stops working; a new code is issued (replaces {current.code})",
    )


def qr_pin_gone(pinned: str) -> Hazard:
    return Hazard(
        "qr-pin-not-found",
        f"pinned code {pinned} not found: a new code will be created; anything printed with "
        f"{pinned} already stopped working",
    )


def qr_pin_stale(traits: ProviderTraits, pinned: str, found: str) -> str:
    """The warning for a pinned entry that found its code by its message instead."""
    why = (
        f" (a {traits.display_name} update issues a new code)"
        if traits.qr_update_replaces_code
        else ""
    )
    return (
        f"pinned code {pinned} no longer exists{why}; matched code {found} by its prefilled "
        f"message; pin code: {found} in the spec"
    )


def qr_new_beside_leftovers(traits: ProviderTraits, leftovers: Mapping[str, RemoteQrCode]) -> str:
    """The warning for a new code on a phone that keeps codes no spec claims."""
    codes = ", ".join(sorted(leftovers))
    edit = (
        "on this provider that issues a new code and printed copies of the old one stop working"
        if traits.qr_update_replaces_code
        else "printed copies keep working"
    )
    return (
        f"no code on this phone has this prefilled message, so a new code will be created; "
        f"the unmanaged codes {codes} keep working as they are. To change the message of one "
        f"of them instead, pin it in the spec (code: ...); {edit}"
    )


def qr_delete(current: RemoteQrCode) -> Hazard:
    return Hazard(
        "delete",
        f"deletes code {current.code}: anything printed with it stops working",
    )


def template_delete(current: RemoteTemplate) -> Hazard:
    reason = "deletes the template: messages can no longer be sent with it"
    if current.status == "APPROVED":
        reason += "; WhatsApp blocks reusing an approved name for 30 days"
    return Hazard("delete", reason)


def renamed(current: RemoteTemplate, new_names: Sequence[str]) -> Hazard:
    """A delete of an approved name in a plan that creates another in the same language:
    most likely a rename, which WhatsApp's 30-day name lock makes hard to undo."""
    return Hazard(
        "name-lock",
        f"looks like a rename of {current.name} to {_join(new_names)}: once deleted, "
        f"{current.name} cannot be created again for 30 days (WhatsApp's lock on the name of "
        "a deleted approved template); to go back within that time, use yet another name",
    )


def collateral_delete(
    current: RemoteTemplate, others: Sequence[str], traits: ProviderTraits
) -> Hazard:
    return Hazard(
        "deletes-all-languages",
        f"{_all_languages(current, traits)}: this also deletes {_join(others)}",
    )


def rereview(traits: ProviderTraits, status: str) -> Hazard:
    budget = traits.template_edit_budget
    if budget is not None and status in budget.statuses:
        return Hazard(
            "rereview",
            f"the {status.lower()} template goes back to review; {budget.owner} allows "
            f"{budget.describe()} on an {status.lower()} template",
        )
    return Hazard("rereview", f"the template ({status}) goes back to review")


def category_change(before: str, after: str) -> Hazard:
    return Hazard(
        "category-change",
        f"the category changes from {before} to {after}: pricing and review follow the new "
        "category",
    )


# --- blocked -------------------------------------------------------------------------------


# A new name is the way out of every edit a provider refuses for good: the plan creates the
# new name for review, and a prune (the account's prune: true, or --prune) deletes the old.
def _renamed(current: RemoteTemplate, category: str | None = None) -> str:
    as_ = f" as {category}" if category else ""
    return (
        f"give the template a new name in the spec{as_} (e.g. {current.name}_v2): the plan "
        f"creates it, and deletes {current.name} where the account prunes (prune: true, "
        "or --prune)"
    )


_STATUS_REASON = {
    "PENDING": ("under review", "plan again when review completes"),
    "IN_APPEAL": ("under appeal", "plan again when the appeal is decided"),
    "PENDING_DELETION": ("being deleted", None),
    "DELETED": ("deleted", None),
    "DISABLED": ("disabled by WhatsApp, and cannot be edited", None),
    "LIMIT_EXCEEDED": ("over WhatsApp's template limit", "plan again when that is resolved"),
}


def not_editable(traits: ProviderTraits, current: RemoteTemplate) -> Blocked:
    status = current.status
    provider = traits.display_name
    if status == "APPROVED":
        reason = f"{provider} cannot modify an approved template"
        way_out: str | None = None
    elif status in _STATUS_REASON:
        reason, way_out = _STATUS_REASON[status]
    else:
        allowed = ", ".join(sorted(traits.template_editable_statuses)) or "no status"
        reason = f"{provider} edits templates only in status {allowed}"
        way_out = None
    return Blocked("not-editable", f"{status}: {reason}", way_out or _renamed(current))


def edit_budget(
    traits: ProviderTraits, current: RemoteTemplate, window: int, now: datetime
) -> Blocked:
    """An edit the budget refuses now: the template last changed within ``window``."""
    budget = traits.template_edit_budget
    assert budget is not None and current.updated_at is not None
    since = now - current.updated_at
    hours = max(since.total_seconds(), 0) / 3600
    after = current.updated_at + timedelta(seconds=window)
    return Blocked(
        "edit-budget",
        f"{budget.owner} allows {budget.describe()} on an {current.status.lower()} template, "
        f"and {traits.display_name} last changed this one {hours:.1f} h ago "
        f"({_utc(current.updated_at)})",
        f"plan again after {_utc(after)}, or {_renamed(current)}",
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def category_locked(traits: ProviderTraits, current: RemoteTemplate, wanted: str) -> Blocked:
    provider = traits.display_name
    allowed = sorted(traits.template_category_editable_statuses)
    if allowed:
        rule = f"{provider} can change a template's category only while {' or '.join(allowed)}"
    else:
        rule = f"{provider} cannot change the category of a WhatsApp template"
    if current.category in CATEGORIES:
        way_out = (
            f"set category: {current.category} in the spec to accept it, or "
            f"{_renamed(current, wanted)}"
        )
    else:  # a pre-2023 category (OTP, TRANSACTIONAL...): specs cannot name it
        way_out = f"{current.category} is a retired category; {_renamed(current, wanted)}"
    return Blocked(
        "category-locked", f"{rule}; it is {current.status} as {current.category}", way_out
    )


def qr_limit(traits: ProviderTraits, phone: str, holding: int, creates: int) -> Blocked:
    """A QR code create past the provider's limit of codes per number."""
    limit = traits.qr_codes_per_phone
    return Blocked(
        "qr-limit",
        f"{traits.display_name} allows {limit:,} QR codes per number, and {phone} would "
        f"hold {holding + creates:,} ({holding:,} there now, {creates:,} to create)",
        "delete codes this number no longer needs first (apply deletes after it creates: "
        "prune them, apply, then plan again), or put this code on another number",
    )


def over_budget(traits: ProviderTraits, budget: CallBudget, needed: int) -> str:
    """The warning for a plan that needs more calls than one window of a budget allows."""
    windows = (needed - 1) // budget.calls
    span = budget.window * windows
    return (
        f"this plan makes {needed:,} {budget.name}; {traits.display_name} allows "
        f"{budget.describe()}, so apply will take at least {_hours(span)}: it pauses when "
        "a window's budget is spent and goes on by itself (the reads before it count too)"
    )


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def ttl_not_updatable(traits: ProviderTraits) -> Blocked:
    return Blocked("ttl-not-updatable", ttl_advice(traits))


def ttl_advice(traits: ProviderTraits) -> str:
    """Why a TTL change is not made by an update, and what to do instead."""
    return (
        f"{traits.display_name} updates a template without message_send_ttl_seconds (only a "
        "create sets it), so the TTL stays as the template was created; to change it, delete "
        "the template and create it again, or create it under a new name"
    )


def protected() -> Blocked:
    return Blocked(
        "protected",
        "protected (protect: true), and this change breaks something (see its hazards)",
        "remove protect: true from the spec to allow it",
    )


def maybe_protected(current: RemoteQrCode, guards: Sequence[str]) -> Blocked:
    """A leftover code on a phone with protected entries that pin no code."""
    return Blocked(
        "maybe-protected",
        f"{', '.join(guards)} on this phone {'has' if len(guards) == 1 else 'have'} "
        f"protect: true but no pinned code, so code {current.code} may be a printed code "
        "they protect",
        "pin their codes (code: ...) to let prune delete the others",
    )


def takes_kept_language(
    current: RemoteTemplate, kept: Sequence[str], traits: ProviderTraits
) -> Blocked:
    return Blocked(
        "deletes-kept-language",
        f"{_all_languages(current, traits)}, which would also delete {_join(kept)} that the "
        "specs keep",
        f"add this language to the specs to keep it, or remove {current.name} in every language",
    )


def _all_languages(current: RemoteTemplate, traits: ProviderTraits) -> str:
    return f"{traits.display_name} deletes every language of {current.name} at once"


def _join(items: Sequence[str]) -> str:
    return ", ".join(items)

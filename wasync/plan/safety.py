"""The safety rules: which changes break something (hazards) and which are not attempted
(blocked), with reasons written for a person who has to decide what to do next.

Every code here is part of the plan format (docs/plan-format.md).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import get_args

from wasync.model import Category, QrCode, RemoteQrCode, RemoteTemplate
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


# Lists in warnings and reasons name this many items, then a count: one warning per phone
# or per rule, never one line per pair, and never a line that fills a screen.
SHOWN = 3


def listing(items: Sequence[str], shown: int = SHOWN) -> str:
    """``a, b, c and 57 more`` (``a and b`` for two)."""
    items = list(items)
    if len(items) <= shown:
        return (
            " and ".join(items) if len(items) <= 2 else f"{', '.join(items[:-1])} and {items[-1]}"
        )
    return f"{', '.join(items[:shown])} and {len(items) - shown} more"


def _label(address: str) -> str:
    return address.rsplit(".", 1)[-1]


def qr_pin_stale(traits: ProviderTraits, pinned: str, found: str) -> str:
    """The warning for a pinned entry that found its code by its message instead."""
    return (
        f"pinned code {pinned} no longer exists{_reissued(traits)}; matched code {found} by its "
        f"prefilled message; pin code: {found} in the spec"
    )


def qr_pins_stale(traits: ProviderTraits, stale: Sequence[tuple[str, str, str]]) -> str:
    """One warning for the pinned entries of a phone that found their code by message:
    (address, pinned, found) each."""
    each = [f"{_label(a)} (pinned {pinned}, now {found})" for a, pinned, found in stale]
    return (
        f"{len(stale)} entries pin codes this phone no longer has{_reissued(traits)}; each "
        f"matched a code by its prefilled message: {listing(each)}; pin the codes they "
        "matched in the specs (wasync import --account ... writes them; the plan's JSON "
        "lists every entry)"
    )


def _reissued(traits: ProviderTraits) -> str:
    if traits.qr_update_replaces_code:
        return f" (a {traits.display_name} update issues a new code)"
    return ""


def qr_new_beside_leftovers(
    traits: ProviderTraits, fresh: Sequence[str], leftovers: Mapping[str, RemoteQrCode]
) -> str:
    """The warning for new codes (of the entries at addresses ``fresh``) on a phone that
    keeps codes no spec claims: one per phone, whatever the number of either."""
    edit = (
        "on this provider that issues a new code and printed copies of the old one stop working"
        if traits.qr_update_replaces_code
        else "printed copies keep working"
    )
    codes = sorted(leftovers)
    if len(codes) == 1:
        them = f"code {codes[0]} keeps working as it is. To change its message instead"
        pin = f"code: {codes[0]}"
    else:
        them = f"codes {listing(codes)} keep working as they are. To change the message of one"
        them += " of them instead"
        pin = "code: ..."
    if len(fresh) == 1:
        new = "no code on this phone has this prefilled message, so a new code will be created"
    else:
        new = (
            f"{len(fresh)} entries ({listing([_label(a) for a in fresh])}) match no code on "
            f"this phone by prefilled message, so {len(fresh)} new codes will be created"
        )
    return f"{new}; the unmanaged {them}, pin it in the spec ({pin}); {edit}"


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
        f"{listing(guards)} on this phone {'has' if len(guards) == 1 else 'have'} "
        f"protect: true but no pinned code, so code {current.code} may be a printed code "
        f"{'it protects' if len(guards) == 1 else 'they protect'}",
        f"pin {'its code' if len(guards) == 1 else 'their codes'} (code: ...) to let prune "
        "delete the others",
    )


# How many leftover codes are compared with an entry's message to name the likeliest one.
_RANKED = 100


def qr_protected_unpinned(entry: QrCode, leftovers: Mapping[str, RemoteQrCode]) -> Blocked:
    """A protected entry without ``code:`` that matches no code, on a phone whose other
    codes are not all claimed: it is known only by its message, so if that message changed,
    the printed code it protects is one of the leftovers, and a new code would leave that
    one live and unmanaged, unnoticed. Names the likeliest code, and on what evidence."""
    codes = sorted(leftovers)
    if len(codes) == 1:
        code = codes[0]
        evidence = "the only code on this phone that no entry claims"
    else:
        others = listing(codes)
        if len(codes) <= _RANKED:
            code = max(codes, key=lambda c: (_likeness(entry, leftovers[c]), c))
            evidence = (
                f"of the codes no entry claims on this phone ({others}), the one whose "
                "message is closest to this entry's"
            )
        else:
            code = codes[0]
            evidence = f"one of the {len(codes)} codes no entry claims on this phone ({others})"
    message = json.dumps(leftovers[code].prefilled_message, ensure_ascii=False)
    return Blocked(
        "protected-unpinned",
        f"protect: true but no pinned code, and no code on this phone has this prefilled "
        f"message: this entry probably matched code {code} before its message changed "
        f"({evidence}; its message: {message}); a new code would leave that printed code "
        "live and unmanaged",
        f"if it is code {code}, pin it (code: {code}) and the plan shows the change to it "
        f"(or put its message back); if this entry is a new code, remove protect: true for "
        "the apply that creates it (apply pins the new code), then set it again",
    )


def _likeness(entry: QrCode, code: RemoteQrCode) -> float:
    return difflib.SequenceMatcher(None, entry.prefilled_message, code.prefilled_message).ratio()


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

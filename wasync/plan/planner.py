"""The planner: ``plan(desired, remote) -> Plan``. Pure: no I/O, no clock, no randomness
(the caller passes the time, ``now``, for the edit budgets).

Identity (DESIGN.md, "Resources and identity"):
- QR codes: per account and phone, by pin, then message and image, then message
  (``wasync.plan.identity``, the one place that rule lives).
- Templates: (account, phone for phone-scoped providers, name, language).

Remote resources nothing claims are unmanaged: listed, or deleted when the account prunes.
The same inputs in any order give the same plan, and a plan applied leaves nothing to do on
the next one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from wasync.gcpause import gc_paused
from wasync.model import (
    Desired,
    JsonDict,
    QrCode,
    Remote,
    RemoteQrCode,
    RemoteTemplate,
    Template,
    qr_phone_address,
)
from wasync.plan import safety
from wasync.plan.diff import created, deleted, diff, strip_keys
from wasync.plan.digest import SpecsDigest, desired_view
from wasync.plan.identity import QrMatches, match_qr_codes
from wasync.plan.model import (
    AccountFacts,
    Blocked,
    Change,
    FieldDiff,
    Hazard,
    Plan,
    PlanWarning,
    Preview,
    Unmanaged,
)
from wasync.plan.settings import AccountSettings
from wasync.traits import ProviderTraits

TemplateKey = tuple[str, str | None, str, str]  # account, phone (phone scope only), name, lang


def plan(
    desired: Desired,
    remote: Remote,
    *,
    accounts: Mapping[str, AccountSettings],
    prune: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Compare the specs with the remote state and decide every change.

    ``accounts`` gives each account's settings (``settings.from_config``); ``prune`` is the
    ``--prune`` override, on top of each account's own ``prune``. ``now`` (timezone-aware)
    is the time the plan is for: an edit the provider's edit budget refuses at that time
    (``ProviderTraits.template_edit_budget``) is blocked; without it, budgets are not
    checked. ``desired`` is what the
    spec loader accepted: the planner checks only what it relies on (known accounts, unique
    addresses and pins) and raises ``ValueError`` if a caller breaks that.
    """
    _check_inputs(desired, remote, accounts)
    with gc_paused():
        return _Planner(accounts, prune, now).run(desired, remote)


class _Planner:
    def __init__(
        self, accounts: Mapping[str, AccountSettings], prune: bool, now: datetime | None
    ) -> None:
        self.accounts = accounts
        self.prune = prune
        self.now = now
        self.changes: list[Change] = []
        self.unmanaged: list[Unmanaged] = []
        self.warnings: list[PlanWarning] = []
        # Views come in address order (QR codes, then templates, each sorted): hashed as
        # they come, the components they hold are not all kept until the end.
        self.views = SpecsDigest()
        self.known: set[str] = set()
        self.managed: dict[str, int] = dict.fromkeys(accounts, 0)
        # Names created, by (account, phone, language): a delete beside one is a rename.
        self.created_names: dict[tuple[str, str | None, str], list[str]] = defaultdict(list)

    def run(self, desired: Desired, remote: Remote) -> Plan:
        self._qr_codes(desired.qr_codes, remote.qr_codes)
        self._templates(desired.templates, remote.templates)
        self._budgets()
        existing = dict(self.managed)
        for c in self.changes:
            if c.action == "delete" and c.actionable:
                self.managed[c.account] += 1  # a pruned resource is managed: by deletion
                existing[c.account] += 1
            elif c.action == "create":
                existing[c.account] -= 1  # not there yet: no part of the threshold's base
        return Plan(
            changes=tuple(self.changes),
            unmanaged=tuple(self.unmanaged),
            warnings=tuple(self.warnings),
            accounts={
                name: AccountFacts(
                    provider=s.traits.name,
                    managed=self.managed[name],
                    existing=existing[name],
                    thresholds=s.thresholds,
                )
                for name, s in self.accounts.items()
            },
            specs_digest=self.views.result(),
            prune=self.prune,
            known_addresses=frozenset(self.known),
        )

    def _prunes(self, account: str) -> bool:
        return self.prune or self.accounts[account].prune

    # --- QR codes ----------------------------------------------------------------------------

    def _qr_codes(self, desired: Sequence[QrCode], remote: Sequence[RemoteQrCode]) -> None:
        for d in sorted(desired, key=lambda d: d.address):
            self.managed[d.account] += 1
            self.known.add(d.address)
            self.views.add(d.address, desired_view(d))
        self.known.update(r.address for r in remote)
        for found in match_qr_codes(desired, remote).values():
            self._qr_phone(found)

    def _qr_phone(self, found: QrMatches) -> None:
        """Turn one phone's matching (``identity.match_qr_codes``) into changes. Warnings
        are one per phone and rule, naming the entries: never one per pair of codes."""
        stale = []
        for d, r in found.matched:
            if d.code and d.code != r.code:  # matched by content: the pin is stale
                stale.append((d.address, d.code, r.code))
            self._qr_match(d, r)
        fresh = []
        # Creates past the provider's limit of codes per number are blocked (in address
        # order): apply creates before it deletes, so the number holds them all at once.
        limit = self._traits(found.entries[0]).qr_codes_per_phone if found.entries else None
        holding = len(found.matched) + len(found.unclaimed)
        unmatched = sorted(found.unmatched, key=lambda d: d.address)
        for i, d in enumerate(unmatched):
            over = None
            if limit is not None and holding + i >= limit:
                over = safety.qr_limit(self._traits(d), d.phone, holding, len(unmatched))
            if d.code:
                self._qr_create(d, (safety.qr_pin_gone(d.code),), over)
            elif d.protect and found.unclaimed:
                # Known by its message only, and that message matches no code: it may be the
                # printed code of a leftover whose message was edited. Refuse to guess.
                self._qr_create(d, (), safety.qr_protected_unpinned(d, found.unclaimed))
            else:
                self._qr_create(d, (), over)
                fresh.append(d.address)
        if found.entries:
            traits = self._traits(found.entries[0])
            phone = found.entries[0]
            here = qr_phone_address(phone.account, phone.phone)
            if len(stale) == 1:
                address, pinned, now = stale[0]
                self.warnings.append(PlanWarning(address, safety.qr_pin_stale(traits, pinned, now)))
            elif stale:
                addresses = tuple(a for a, _, _ in stale)
                self.warnings.append(
                    PlanWarning(here, safety.qr_pins_stale(traits, stale), addresses)
                )
            if fresh and found.unclaimed:
                # Identity without a pin is the message: an edited message reads as a new
                # code. Say so, in case the user meant to edit one of the codes left over.
                message = safety.qr_new_beside_leftovers(traits, fresh, found.unclaimed)
                where = fresh[0] if len(fresh) == 1 else here
                self.warnings.append(PlanWarning(where, message, tuple(fresh)))
        # Without a pin, a protected entry's code is known only by its message: after an edit
        # of that message, the printed code it protects is one of the leftovers. So no code
        # on a phone with such an entry is pruned, whatever this plan matched.
        guards = tuple(sorted(d.address for d in found.entries if d.protect and not d.code))
        for r in found.unclaimed.values():
            self._qr_unclaimed(r, guards)

    def _traits(self, d: QrCode) -> ProviderTraits:
        return self.accounts[d.account].traits

    def _qr_create(
        self, d: QrCode, hazards: tuple[Hazard, ...], blocked: Blocked | None = None
    ) -> None:
        fields = created(
            {"phone": d.phone, "prefilled_message": d.prefilled_message, "image": d.image}
        )
        self.changes.append(Change.create(d, fields, hazards, blocked=blocked))

    def _qr_match(self, d: QrCode, r: RemoteQrCode) -> None:
        fields = []
        if d.prefilled_message != r.prefilled_message:
            fields.append(FieldDiff("prefilled_message", r.prefilled_message, d.prefilled_message))
        if r.image and d.image != r.image:  # an empty remote image: not read back
            fields.append(FieldDiff("image", r.image, d.image))
        if not fields:
            return
        if self.accounts[d.account].traits.qr_update_replaces_code:
            # The provider retires the code and issues a new one: what is printed stops
            # working. A replacement, shown as one, and refused under protect: true.
            hazards = (safety.qr_code_replaced(r),)
            blocked = safety.protected() if d.protect else None
            self.changes.append(Change.replace(d, r, fields, hazards, blocked=blocked))
        else:
            self.changes.append(Change.update(d, r, fields))

    def _qr_unclaimed(self, r: RemoteQrCode, guards: tuple[str, ...] = ()) -> None:
        if not self._prunes(r.account):
            self.unmanaged.append(Unmanaged("qr", r.account, r.address, r.code, qr=r))
            return
        fields = deleted(
            {
                "phone": r.phone,
                "code": r.code,
                "prefilled_message": r.prefilled_message,
                "image": r.image,
            }
        )
        blocked = safety.maybe_protected(r, guards) if guards else None
        self.changes.append(Change.delete(r, fields, (safety.qr_delete(r),), blocked=blocked))

    # --- templates ---------------------------------------------------------------------------

    def _key(self, account: str, phone: str | None, name: str, language: str) -> TemplateKey:
        scoped = self.accounts[account].traits.template_scope == "phone"
        return (account, phone if scoped else None, name, language)

    def _templates(self, desired: Sequence[Template], remote: Sequence[RemoteTemplate]) -> None:
        present: dict[TemplateKey, RemoteTemplate] = {}
        for r in sorted(remote, key=lambda r: (r.address, r.id)):
            self.known.add(r.address)
            key = self._key(r.account, r.phone, r.name, r.language)
            if key in present:
                self.warnings.append(
                    PlanWarning(
                        r.address,
                        f"listed twice (ids {present[key].id} and {r.id}); wasync compares "
                        f"the specs with {present[key].id} only; delete the other in the "
                        "provider's console",
                    )
                )
                continue
            present[key] = r
        # Names the specs keep, by (account, phone, name): for delete-by-name providers.
        kept: dict[tuple[str, str | None, str], list[str]] = defaultdict(list)
        for d in sorted(desired, key=lambda d: d.address):
            self.managed[d.account] += 1
            self.known.add(d.address)
            want = d.canonical_components()
            self.views.add(d.address, desired_view(d, want))
            key = self._key(d.account, d.phone, d.name, d.language)
            kept[key[:3]].append(d.address)
            if key in present:
                self._template_match(d, want, present.pop(key))
            else:
                self._template_create(d, want)
                self.created_names[(key[0], key[1], key[3])].append(d.name)
        self._template_leftovers(present.values(), kept)

    def _template_create(self, d: Template, want: list[JsonDict]) -> None:
        shown: dict[str, Any] = {"category": d.category, "components": want}
        if d.message_send_ttl_seconds is not None:
            shown["message_send_ttl_seconds"] = d.message_send_ttl_seconds
        preview = Preview(None, tuple(want))
        self.changes.append(Change.create(d, created(shown), preview=preview))

    def _template_match(self, d: Template, want: list[JsonDict], r: RemoteTemplate) -> None:
        traits = self.accounts[d.account].traits
        full_want = want  # the comparison below may strip write-only keys
        fields: list[FieldDiff] = []
        category_changes = d.category != r.category
        if category_changes:
            fields.append(FieldDiff("category", r.category, d.category))
        if not r.detailed:
            self.warnings.append(
                PlanWarning(
                    d.address,
                    "the provider listing had no components for this template, so they were "
                    "not compared; this is a wasync bug, please report it",
                )
            )
        else:
            have: list[JsonDict] = list(r.components)
            if want != have:  # quick checks first; deepdiff only where they fail
                keys = traits.write_only_component_keys
                if len(want) == len(have):  # strip only the components that differ
                    pairs = [
                        (h, w) if h == w else (strip_keys(h, keys), strip_keys(w, keys))
                        for h, w in zip(have, want, strict=True)
                    ]
                    have, want = [h for h, _ in pairs], [w for _, w in pairs]
                else:
                    have, want = strip_keys(have, keys), strip_keys(want, keys)
                if have != want:
                    fields += diff(have, want, "components")
        ttl = d.message_send_ttl_seconds
        ttl_changes = (
            ttl is not None and traits.template_ttl_read_back and ttl != r.message_send_ttl_seconds
        )
        if ttl_changes:
            fields.append(FieldDiff("message_send_ttl_seconds", r.message_send_ttl_seconds, ttl))
        if not fields:
            return
        if ttl is not None and not traits.template_ttl_updatable:
            if ttl_changes and len(fields) == 1:  # nothing an update could do
                self.changes.append(
                    Change.update(d, r, fields, (), blocked=safety.ttl_not_updatable(traits))
                )
                return
            # The update goes ahead for the rest; the TTL stays as it was created.
            self.warnings.append(PlanWarning(d.address, safety.ttl_advice(traits)))

        hazards: list[Hazard] = []
        blocked: Blocked | None = None
        if r.status not in traits.template_editable_statuses:
            blocked = safety.not_editable(traits, r)
        elif category_changes and r.status not in traits.template_category_editable_statuses:
            blocked = safety.category_locked(traits, r, d.category)
        elif (window := self._spent_window(traits, r)) is not None:
            assert self.now is not None
            blocked = safety.edit_budget(traits, r, window, self.now)
        else:
            if category_changes:
                hazards.append(safety.category_change(r.category, d.category))
            if r.status in traits.template_edit_rereviews:
                hazards.append(safety.rereview(traits, r.status))
            if d.protect and hazards:
                blocked = safety.protected()
        preview = Preview(tuple(r.components) if r.detailed else None, tuple(full_want))
        self.changes.append(Change.update(d, r, fields, hazards, blocked=blocked, preview=preview))

    def _spent_window(self, traits: ProviderTraits, r: RemoteTemplate) -> int | None:
        """The budget window (seconds) an edit of ``r`` now would exceed, if any: the
        template changed within a window that allows one edit only."""
        budget = traits.template_edit_budget
        if budget is None or r.status not in budget.statuses:
            return None
        window = budget.single_edit_window()
        if window is None or r.updated_at is None or self.now is None:
            return None
        return window if self.now - r.updated_at < timedelta(seconds=window) else None

    def _template_leftovers(
        self,
        leftovers: Iterable[RemoteTemplate],
        kept: Mapping[tuple[str, str | None, str], list[str]],
    ) -> None:
        doomed: dict[tuple[str, str | None, str], list[RemoteTemplate]] = defaultdict(list)
        for r in leftovers:
            if not self._prunes(r.account):
                self.unmanaged.append(
                    Unmanaged("template", r.account, r.address, r.id, status=r.status)
                )
                continue
            doomed[self._key(r.account, r.phone, r.name, r.language)[:3]].append(r)
        for group_key, group in doomed.items():
            traits = self.accounts[group_key[0]].traits
            by_name = traits.template_delete_takes_all_languages
            for r in group:
                hazards = [safety.template_delete(r)]
                new_names = self.created_names.get((group_key[0], group_key[1], r.language))
                if new_names and r.status == "APPROVED":
                    hazards.append(safety.renamed(r, new_names))
                blocked = None
                others: tuple[str, ...] = ()
                if by_name and group_key in kept:
                    blocked = safety.takes_kept_language(r, kept[group_key], traits)
                elif by_name and len(group) > 1:
                    others = tuple(sorted(o.address for o in group if o is not r))
                    hazards.append(safety.collateral_delete(r, others, traits))
                shown = deleted(_template_shown(r))
                self.changes.append(
                    Change.delete(r, shown, hazards, blocked=blocked, collateral=others)
                )

    # --- budgets of calls per window ------------------------------------------------------

    def _budgets(self) -> None:
        """Say when an account's changes need more calls than one window of a budget
        allows (Meta: template creations per WABA per hour): apply takes longer."""
        for account, settings in self.accounts.items():
            for budget in settings.call_budgets:
                if not budget.changes:
                    continue
                needed = sum(
                    1
                    for c in self.changes
                    if c.account == account
                    and c.actionable
                    and (c.kind, c.action) in budget.changes
                )
                if needed > budget.calls:
                    kind = sorted(k for k, _ in budget.changes)[0]
                    self.warnings.append(
                        PlanWarning(
                            f"{kind}.{account}", safety.over_budget(settings.traits, budget, needed)
                        )
                    )


def _template_shown(r: RemoteTemplate) -> JsonDict:
    shown: JsonDict = {"category": r.category}
    if r.detailed:
        shown["components"] = list(r.components)
    if r.message_send_ttl_seconds is not None:
        shown["message_send_ttl_seconds"] = r.message_send_ttl_seconds
    return shown


# --- input checks ----------------------------------------------------------------------------


def _check_inputs(
    desired: Desired, remote: Remote, accounts: Mapping[str, AccountSettings]
) -> None:
    """What the planner relies on and the spec loader guarantees (where users learn of it,
    with file and line): every account has settings, addresses and pins are unique. A
    breach is a caller bug, not a user error."""
    resources: list[QrCode | Template | RemoteQrCode | RemoteTemplate] = [
        *desired.qr_codes,
        *desired.templates,
        *remote.qr_codes,
        *remote.templates,
    ]
    stray = {r.account for r in resources} - accounts.keys()
    if stray:
        raise ValueError(f"resources of accounts without settings: {sorted(stray)}")
    addresses = [q.address for q in desired.qr_codes] + [t.address for t in desired.templates]
    pins = [(q.account, q.phone, q.code) for q in desired.qr_codes if q.code]
    if len(set(addresses)) != len(addresses) or len(set(pins)) != len(pins):
        twice = sorted({a for a in addresses if addresses.count(a) > 1})
        pinned = sorted({p[2] for p in pins if pins.count(p) > 1})
        raise ValueError(f"spec entries not unique: addresses {twice}, pins {pinned}")

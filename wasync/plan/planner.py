"""The planner: ``plan(desired, remote) -> Plan``. Pure: no I/O, no clock, no randomness.

Identity (DESIGN.md, "Resources and identity"):
- QR codes, per account and phone: a pinned ``code`` claims that remote code. The other
  entries claim unclaimed codes by content: first exact matches (prefilled message and
  image), then the prefilled message alone. An entry whose pin no longer exists (a CAMS
  update issues a new code) is matched this way too, with a warning to update the pin, and
  before unpinned entries; protected entries go last. Codes are taken in code order and
  entries in address order, so the same inputs in any order give the same plan, and a plan
  applied leaves nothing to do on the next one.
- Templates: (account, phone for phone-scoped providers, name, language).

Remote resources nothing claims are unmanaged: listed, or deleted when the account prunes."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wasync.errors import Problem, SpecError
from wasync.gcpause import gc_paused
from wasync.model import (
    Desired,
    JsonDict,
    QrCode,
    Remote,
    RemoteQrCode,
    RemoteTemplate,
    Template,
)
from wasync.plan import safety
from wasync.plan.diff import created, deleted, diff, strip_keys
from wasync.plan.digest import desired_view, remote_fingerprint, specs_digest
from wasync.plan.model import (
    AccountFacts,
    Blocked,
    Change,
    FieldDiff,
    Hazard,
    Plan,
    PlanWarning,
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
) -> Plan:
    """Compare the specs with the remote state and decide every change.

    ``accounts`` gives each account's settings (``settings.from_config``); ``prune`` is the
    ``--prune`` override, on top of each account's own ``prune``. Raises ``SpecError`` for
    spec entries the planner cannot place (unknown account, duplicate address or pin, a QR
    code on a provider without QR codes, a template phone that does not fit the provider).
    """
    _check_desired(desired, accounts)
    _check_remote(remote, accounts)
    with gc_paused():
        return _Planner(accounts, prune).run(desired, remote)


class _Planner:
    def __init__(self, accounts: Mapping[str, AccountSettings], prune: bool) -> None:
        self.accounts = accounts
        self.prune = prune
        self.changes: list[Change] = []
        self.unmanaged: list[Unmanaged] = []
        self.warnings: list[PlanWarning] = []
        self.views: list[tuple[str, JsonDict]] = []
        self.known: set[str] = set()
        self.managed: dict[str, int] = dict.fromkeys(accounts, 0)

    def run(self, desired: Desired, remote: Remote) -> Plan:
        self._qr_codes(desired.qr_codes, remote.qr_codes)
        self._templates(desired.templates, remote.templates)
        for c in self.changes:
            if c.action == "delete" and c.actionable:
                self.managed[c.account] += 1  # a pruned resource is managed: by deletion
        return Plan(
            changes=tuple(self.changes),
            unmanaged=tuple(self.unmanaged),
            warnings=tuple(self.warnings),
            accounts={
                name: AccountFacts(
                    provider=s.traits.name, managed=self.managed[name], thresholds=s.thresholds
                )
                for name, s in self.accounts.items()
            },
            specs_digest=specs_digest(self.views),
            prune=self.prune,
            known_addresses=frozenset(self.known),
        )

    def _prunes(self, account: str) -> bool:
        return self.prune or self.accounts[account].prune

    # --- QR codes ----------------------------------------------------------------------------

    def _qr_codes(self, desired: Sequence[QrCode], remote: Sequence[RemoteQrCode]) -> None:
        wanted: dict[tuple[str, str], list[QrCode]] = defaultdict(list)
        for d in sorted(desired, key=lambda d: d.address):
            wanted[(d.account, d.phone)].append(d)
            self.managed[d.account] += 1
            self.known.add(d.address)
            self.views.append((d.address, desired_view(d)))
        present: dict[tuple[str, str], dict[str, RemoteQrCode]] = defaultdict(dict)
        for r in sorted(remote, key=lambda r: (r.account, r.phone, r.code)):
            present[(r.account, r.phone)].setdefault(r.code, r)  # a code listed twice: once
            self.known.add(r.address)
        for key in sorted(wanted.keys() | present.keys()):
            self._qr_phone(wanted.get(key, []), present.get(key, {}))

    def _qr_phone(self, wanted: list[QrCode], present: dict[str, RemoteQrCode]) -> None:
        """Match one phone's entries to its codes. Pins first; then exact matches (message
        and image) before message-only ones, so two entries that share a message but not an
        image never swap codes (on CAMS a swap would re-issue both)."""
        unclaimed = dict(present)  # in code order
        exact: dict[tuple[str, str], deque[str]] = defaultdict(deque)
        loose: dict[str, deque[str]] = defaultdict(deque)
        for code, r in unclaimed.items():
            exact[(r.prefilled_message, r.image)].append(code)
            loose[r.prefilled_message].append(code)

        def take(queue: deque[str] | None) -> RemoteQrCode | None:
            while queue:  # codes claimed through the other index are skipped here
                code = queue.popleft()
                if code in unclaimed:
                    return unclaimed.pop(code)
            return None

        def take_exact(d: QrCode) -> RemoteQrCode | None:
            # An empty remote image was not read back: it matches any image.
            return take(exact.get((d.prefilled_message, d.image))) or take(
                exact.get((d.prefilled_message, ""))
            )

        rest = []
        for d in wanted:
            if d.code and d.code in unclaimed:
                self._qr_match(d, unclaimed.pop(d.code))
            else:
                rest.append(d)
        # Protected entries go last: their updates may be blocked, and a code they took in
        # one plan and kept unchanged could go to another entry in the next, so a plan would
        # never settle. A stale pin goes before unpinned entries: it owns its re-issued code.
        rest.sort(key=lambda d: (d.protect, not d.code, d.address))
        left = []
        for d in rest:
            found = take_exact(d)
            if found is None:
                left.append(d)
            else:
                self._qr_found(d, found)
        fresh = []
        for d in left:
            found = take(loose.get(d.prefilled_message))
            if found is not None:
                self._qr_found(d, found)
            elif d.code:
                self._qr_create(d, (safety.qr_pin_gone(d.code),))
            else:
                self._qr_create(d, ())
                fresh.append(d)
        if fresh and unclaimed:
            # Identity without a pin is the message: an edited message reads as a new code.
            # Say so, in case the user meant to edit one of the codes left over.
            for d in fresh:
                self.warnings.append(
                    PlanWarning(
                        d.address, safety.qr_new_beside_leftovers(self._traits(d), unclaimed)
                    )
                )
        # Without a pin, a protected entry's code is known only by its message: after an edit
        # of that message, the printed code it protects is one of the leftovers. So no code
        # on a phone with such an entry is pruned, whatever this plan matched.
        guards = tuple(sorted(d.address for d in wanted if d.protect and not d.code))
        for r in unclaimed.values():
            self._qr_unclaimed(r, guards)

    def _traits(self, d: QrCode) -> ProviderTraits:
        return self.accounts[d.account].traits

    def _qr_found(self, d: QrCode, found: RemoteQrCode) -> None:
        """``d`` matched ``found`` by its content; a pin that led elsewhere is stale."""
        if d.code:
            self.warnings.append(
                PlanWarning(
                    d.address,
                    f"pinned code {d.code} no longer exists (a CAMS update issues a new "
                    f"code); matched code {found.code} by its prefilled message; pin "
                    f"code: {found.code} in the spec",
                )
            )
        self._qr_match(d, found)

    def _qr_create(self, d: QrCode, hazards: tuple[Hazard, ...]) -> None:
        fields = created(
            {"phone": d.phone, "prefilled_message": d.prefilled_message, "image": d.image}
        )
        self.changes.append(
            Change("create", "qr", d.address, d.account, d, None, tuple(fields), hazards)
        )

    def _qr_match(self, d: QrCode, r: RemoteQrCode) -> None:
        fields = []
        if d.prefilled_message != r.prefilled_message:
            fields.append(FieldDiff("prefilled_message", r.prefilled_message, d.prefilled_message))
        if r.image and d.image != r.image:  # an empty remote image: not read back
            fields.append(FieldDiff("image", r.image, d.image))
        if not fields:
            return
        traits = self.accounts[d.account].traits
        hazards = (safety.qr_code_replaced(r),) if traits.qr_update_replaces_code else ()
        blocked = safety.protected() if d.protect and hazards else None
        self.changes.append(
            Change(
                "update",
                "qr",
                d.address,
                d.account,
                d,
                r,
                tuple(fields),
                hazards,
                blocked,
                remote_fingerprint(r),
            )
        )

    def _qr_unclaimed(self, r: RemoteQrCode, guards: tuple[str, ...] = ()) -> None:
        if not self._prunes(r.account):
            self.unmanaged.append(Unmanaged("qr", r.account, r.address, r.code))
            return
        fields = deleted(
            {
                "phone": r.phone,
                "code": r.code,
                "prefilled_message": r.prefilled_message,
                "image": r.image,
            }
        )
        self.changes.append(
            Change(
                "delete",
                "qr",
                r.address,
                r.account,
                None,
                r,
                tuple(fields),
                (safety.qr_delete(r),),
                safety.maybe_protected(r, guards) if guards else None,
                remote_fingerprint(r),
            )
        )

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
            self.views.append((d.address, desired_view(d, want)))
            key = self._key(d.account, d.phone, d.name, d.language)
            kept[key[:3]].append(d.address)
            if key in present:
                self._template_match(d, want, present.pop(key))
            else:
                self._template_create(d, want)
        self._template_leftovers(present.values(), kept)

    def _template_create(self, d: Template, want: list[JsonDict]) -> None:
        shown: dict[str, Any] = {"category": d.category, "components": want}
        if d.message_send_ttl_seconds is not None:
            shown["message_send_ttl_seconds"] = d.message_send_ttl_seconds
        self.changes.append(
            Change("create", "template", d.address, d.account, d, None, tuple(created(shown)))
        )

    def _template_match(self, d: Template, want: list[JsonDict], r: RemoteTemplate) -> None:
        traits = self.accounts[d.account].traits
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
                have, want = strip_keys(have, keys), strip_keys(want, keys)
                if have != want:
                    fields += diff(have, want, "components")
        ttl = d.message_send_ttl_seconds
        if ttl is not None and traits.template_ttl_read_back and ttl != r.message_send_ttl_seconds:
            fields.append(FieldDiff("message_send_ttl_seconds", r.message_send_ttl_seconds, ttl))
        if not fields:
            return

        hazards: list[Hazard] = []
        blocked: Blocked | None = None
        if r.status not in traits.template_editable_statuses:
            blocked = safety.not_editable(traits, r)
        elif category_changes and r.status not in traits.template_category_editable_statuses:
            blocked = safety.category_locked(traits, r, d.category)
        else:
            if category_changes:
                hazards.append(safety.category_change(r.category, d.category))
            if r.status in traits.template_edit_rereviews:
                hazards.append(safety.rereview(r.status))
            if d.protect and hazards:
                blocked = safety.protected()
        self.changes.append(
            Change(
                "update",
                "template",
                d.address,
                d.account,
                d,
                r,
                tuple(fields),
                tuple(hazards),
                blocked,
                remote_fingerprint(r),
            )
        )

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
                blocked = None
                others: tuple[str, ...] = ()
                if by_name and group_key in kept:
                    blocked = safety.takes_kept_language(r, kept[group_key], traits)
                elif by_name and len(group) > 1:
                    others = tuple(sorted(o.address for o in group if o is not r))
                    hazards.append(safety.collateral_delete(r, others, traits))
                self.changes.append(
                    Change(
                        "delete",
                        "template",
                        r.address,
                        r.account,
                        None,
                        r,
                        tuple(deleted(_template_shown(r))),
                        tuple(hazards),
                        blocked,
                        remote_fingerprint(r),
                        others,
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


def _check_desired(desired: Desired, accounts: Mapping[str, AccountSettings]) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    pins: dict[tuple[str, str, str], str] = {}
    resources: list[QrCode | Template] = [*desired.qr_codes, *desired.templates]
    for d in resources:
        if d.address in seen:
            problems.append(
                Problem("defined twice; give each entry its own address", None, d.address)
            )
        seen.add(d.address)
        settings = accounts.get(d.account)
        if settings is None:
            known = ", ".join(sorted(accounts)) or "none"
            problems.append(
                Problem(
                    f"account {d.account!r} is not in wasync.yaml (accounts: {known})",
                    None,
                    d.address,
                    "account",
                )
            )
            continue
        traits = settings.traits
        if isinstance(d, QrCode):
            if "qr" not in traits.kinds:
                problems.append(
                    Problem(
                        f"{traits.name} has no QR code API; put QR codes on a CAMS account",
                        None,
                        d.address,
                        "account",
                    )
                )
            if d.code:
                pin = (d.account, d.phone, d.code)
                if pin in pins:
                    problems.append(
                        Problem(
                            f"code {d.code} is already pinned by {pins[pin]}",
                            None,
                            d.address,
                            "code",
                        )
                    )
                pins.setdefault(pin, d.address)
        elif traits.template_scope == "phone" and not d.phone:
            problems.append(
                Problem(
                    f"{traits.name} templates live on a business number: set phone",
                    None,
                    d.address,
                    "phone",
                )
            )
        elif traits.template_scope != "phone" and d.phone:
            problems.append(
                Problem(
                    f"{traits.name} templates belong to the account, not a number: remove phone",
                    None,
                    d.address,
                    "phone",
                )
            )
    if problems:
        raise SpecError(problems)


def _check_remote(remote: Remote, accounts: Mapping[str, AccountSettings]) -> None:
    # Refresh lists only configured accounts; anything else is a caller bug, not a user error.
    resources: list[RemoteQrCode | RemoteTemplate] = [*remote.qr_codes, *remote.templates]
    stray = {r.account for r in resources} - accounts.keys()
    if stray:
        raise ValueError(f"remote resources of accounts without settings: {sorted(stray)}")

"""Plan and Change: small frozen values with one order and one data form.

``Plan.data()`` is the only view renderers, saved plans and the checksum read, so text,
Markdown and JSON can never disagree. Changes are sorted once, in the plan's constructor.
The data form is documented in docs/plan-format.md and plan.schema.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wasync.config import Thresholds
from wasync.model import JsonDict, Kind, QrCode, RemoteQrCode, RemoteTemplate, Template
from wasync.plan.digest import remote_fingerprint, sha256_of
from wasync.plan.thresholds import ThresholdError, ThresholdViolation, check_share

FORMAT_VERSION = 1

Action = Literal["create", "update", "replace", "delete"]
# In plan order. A new action is a name here and a constructor on Change. ``replace``: the
# provider retires the resource's identity on update and issues a new one (a CAMS QR code:
# the printed code stops working).
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")
# Actions that change something that exists now: what the change thresholds count.
CHANGING: tuple[Action, ...] = ("update", "replace", "delete")


@dataclass(frozen=True)
class FieldDiff:
    """One leaf value: ``before`` is None for a create, ``after`` None for a delete."""

    path: str  # readable: components[1].buttons[0].text
    before: Any
    after: Any

    def data(self) -> JsonDict:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ChangeNote:
    """A stable code (for machines) and a sentence (for people) about a change."""

    code: str
    reason: str

    def data(self) -> JsonDict:
        return {"code": self.code, "reason": self.reason}


class Hazard(ChangeNote):
    """Something in the world this change breaks or puts at risk; needs consent."""


@dataclass(frozen=True)
class Blocked(ChangeNote):
    """Why a change will not be attempted (``reason``), and the way out (``way_out``):
    what to change, or when to plan again, so that the specs and the remote can agree."""

    way_out: str = ""

    def data(self) -> JsonDict:
        return {"code": self.code, "reason": self.reason, "way_out": self.way_out}


@dataclass(frozen=True)
class Change:
    """One thing apply would do to one resource. Build it with a named constructor
    (``create``, ``update``, ``replace``, ``delete``): each derives the kind, address,
    account and remote fingerprint from the resources it is given. Any of them may pass
    ``blocked=``: a blocked change is shown in the plan and never attempted."""

    action: Action
    kind: Kind
    address: str
    account: str
    desired: QrCode | Template | None
    remote: RemoteQrCode | RemoteTemplate | None
    fields: tuple[FieldDiff, ...]
    hazards: tuple[Hazard, ...] = ()
    blocked: Blocked | None = None
    remote_fingerprint: str | None = None  # None for creates
    # Addresses this change takes with it (NXCloud deletes every language of a name).
    collateral: tuple[str, ...] = ()
    # A template create or update: its components before and after, whole (None where
    # there are none to show), so that renderers can show the message as customers see it.
    preview: Preview | None = None

    @classmethod
    def create(
        cls,
        desired: QrCode | Template,
        fields: Iterable[FieldDiff],
        hazards: Iterable[Hazard] = (),
        *,
        blocked: Blocked | None = None,
        preview: Preview | None = None,
    ) -> Change:
        """A resource the specs name and the provider lacks."""
        return cls._of("create", desired, None, fields, hazards, blocked, preview=preview)

    @classmethod
    def update(
        cls,
        desired: QrCode | Template,
        remote: RemoteQrCode | RemoteTemplate,
        fields: Iterable[FieldDiff],
        hazards: Iterable[Hazard] = (),
        *,
        blocked: Blocked | None = None,
        preview: Preview | None = None,
    ) -> Change:
        """``remote`` edited in place to match ``desired`` (at ``desired``'s address)."""
        return cls._of("update", desired, remote, fields, hazards, blocked, preview=preview)

    @classmethod
    def replace(
        cls,
        desired: QrCode,
        remote: RemoteQrCode,
        fields: Iterable[FieldDiff],
        hazards: Iterable[Hazard] = (),
        *,
        blocked: Blocked | None = None,
    ) -> Change:
        """``remote`` changed to match ``desired`` by a call that retires it and issues a
        new one (the provider's traits say where: ``qr_update_replaces_code``)."""
        return cls._of("replace", desired, remote, fields, hazards, blocked)

    @classmethod
    def delete(
        cls,
        remote: RemoteQrCode | RemoteTemplate,
        fields: Iterable[FieldDiff],
        hazards: Iterable[Hazard] = (),
        *,
        blocked: Blocked | None = None,
        collateral: Iterable[str] = (),
    ) -> Change:
        """A remote resource pruned; ``collateral`` names what the same call deletes too."""
        return cls._of("delete", None, remote, fields, hazards, blocked, collateral)

    @classmethod
    def _of(
        cls,
        action: Action,
        desired: QrCode | Template | None,
        remote: RemoteQrCode | RemoteTemplate | None,
        fields: Iterable[FieldDiff],
        hazards: Iterable[Hazard],
        blocked: Blocked | None,
        collateral: Iterable[str] = (),
        preview: Preview | None = None,
    ) -> Change:
        subject = desired or remote
        assert subject is not None
        kind: Kind = "qr" if isinstance(subject, QrCode | RemoteQrCode) else "template"
        return cls(
            action=action,
            kind=kind,
            address=subject.address,
            account=subject.account,
            desired=desired,
            remote=remote,
            fields=tuple(fields),
            hazards=tuple(hazards),
            blocked=blocked,
            remote_fingerprint=remote_fingerprint(remote) if remote is not None else None,
            collateral=tuple(collateral),
            preview=preview,
        )

    @property
    def actionable(self) -> bool:
        return self.blocked is None

    @property
    def remote_id(self) -> str | None:
        if isinstance(self.remote, RemoteQrCode):
            return self.remote.code
        return self.remote.id if self.remote is not None else None

    def sort_key(self) -> tuple[str, str, str, int]:
        return (self.account, self.kind, self.address, ACTIONS.index(self.action))

    def data(self) -> JsonDict:
        qr = self.remote if isinstance(self.remote, RemoteQrCode) else None
        return {
            "address": self.address,
            "action": self.action,
            "kind": self.kind,
            "account": self.account,
            "remote_id": self.remote_id,
            "remote_status": self.remote.status
            if isinstance(self.remote, RemoteTemplate)
            else None,
            **qr_links(qr),
            "fields": [f.data() for f in self.fields],
            "hazards": [h.data() for h in self.hazards],
            "blocked": self.blocked.data() if self.blocked else None,
            "collateral": list(self.collateral),
            "remote_fingerprint": self.remote_fingerprint,
            "preview": self.preview.data() if self.preview is not None else None,
        }


def qr_links(qr: RemoteQrCode | None) -> JsonDict:
    """The links of an existing QR code as the provider gave them (``null`` where it gave
    none, or for anything but an existing QR code): what scanning it opens, and its image."""
    return {
        "deep_link_url": (qr.deep_link_url or None) if qr is not None else None,
        "qr_image_url": (qr.qr_image_url or None) if qr is not None else None,
    }


@dataclass(frozen=True)
class Preview:
    """A template's components before and after a change, whole (canonical form): what the
    message looks like to a customer now, and once the change is made. ``None`` on a side
    means nothing to show there (a create has no before; a listing without components)."""

    before: tuple[JsonDict, ...] | None
    after: tuple[JsonDict, ...] | None

    def data(self) -> JsonDict:
        return {
            "before": list(self.before) if self.before is not None else None,
            "after": list(self.after) if self.after is not None else None,
        }


@dataclass(frozen=True)
class Unmanaged:
    """A remote resource no spec names; listed, not touched."""

    kind: Kind
    account: str
    address: str
    remote_id: str
    status: str | None = None  # templates only
    qr: RemoteQrCode | None = None  # QR codes only: the code, for its links

    def data(self) -> JsonDict:
        return {
            "address": self.address,
            "kind": self.kind,
            "account": self.account,
            "remote_id": self.remote_id,
            "status": self.status,
            **qr_links(self.qr),
        }


@dataclass(frozen=True)
class PlanWarning:
    """Something the user should fix or know, that changes nothing by itself.

    One warning per resource, or one per group of them (a phone's QR codes: ``address`` is
    ``qr.<account>.<phone>``), never one per pair: ``addresses`` names every resource it
    concerns, and the message may cut a long list short."""

    address: str
    message: str
    addresses: tuple[str, ...] = ()  # default: (address,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "addresses", tuple(sorted(set(self.addresses or (self.address,)))))

    def data(self) -> JsonDict:
        return {"address": self.address, "message": self.message, "addresses": list(self.addresses)}


@dataclass(frozen=True)
class AccountFacts:
    """What the planner knew of an account: its provider, how many resources wasync manages
    there (spec entries plus pruned deletions), how many of those exist now (the managed
    ones less the planned creates: the denominator of its thresholds), and its thresholds."""

    provider: str
    managed: int
    existing: int
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True)
class AccountSummary:
    account: str
    provider: str
    managed: int
    existing: int
    create: int
    update: int
    replace: int
    delete: int
    blocked: int
    unmanaged: int
    thresholds: Thresholds

    @property
    def changing(self) -> int:
        """Changes to what exists now (updates, replacements, deletes): what thresholds count."""
        return self.update + self.replace + self.delete

    def data(self) -> JsonDict:
        return {
            "account": self.account,
            "provider": self.provider,
            "managed": self.managed,
            "existing": self.existing,
            "create": self.create,
            "update": self.update,
            "replace": self.replace,
            "delete": self.delete,
            "blocked": self.blocked,
            "unmanaged": self.unmanaged,
            "thresholds": {
                "max_change_share": self.thresholds.max_change_share,
                "min_resources": self.thresholds.min_resources,
            },
        }


@dataclass(frozen=True)
class Plan:
    """What apply would do. Built by ``wasync.plan.planner.plan``; immutable."""

    changes: tuple[Change, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    accounts: Mapping[str, AccountFacts] = field(default_factory=dict)
    specs_digest: str = ""
    prune: bool = False  # the --prune override the plan was made with
    targets: tuple[str, ...] = ()  # the --target filter applied, if any
    # Every desired and remote address, for --target checks; not part of data().
    known_addresses: frozenset[str] = field(default_factory=frozenset, repr=False)

    def __post_init__(self) -> None:
        # The one place order is decided: account, kind, address (then action).
        set_ = object.__setattr__
        set_(self, "changes", tuple(sorted(self.changes, key=Change.sort_key)))
        set_(self, "unmanaged", tuple(sorted(self.unmanaged, key=_unmanaged_key)))
        set_(self, "warnings", tuple(sorted(self.warnings, key=lambda w: (w.address, w.message))))
        set_(self, "accounts", dict(sorted(self.accounts.items())))
        set_(self, "targets", tuple(sorted(set(self.targets))))

    # --- counts ----------------------------------------------------------------------------

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.actionable)

    @property
    def has_changes(self) -> bool:
        """True when apply would change something (blocked changes are not attempted)."""
        return any(c.actionable for c in self.changes)

    def counts(self) -> dict[Action, int]:
        """Actionable changes by action."""
        out: dict[Action, int] = dict.fromkeys(ACTIONS, 0)
        for c in self.changes:
            if c.actionable:
                out[c.action] += 1
        return out

    @property
    def blocked_count(self) -> int:
        return sum(1 for c in self.changes if not c.actionable)

    def summaries(self) -> list[AccountSummary]:
        """One row per account: every configured one, and any a change or listing names."""
        rows: dict[str, Counter[str]] = {a: Counter() for a in self.accounts}
        for c in self.changes:
            rows.setdefault(c.account, Counter())[c.action if c.actionable else "blocked"] += 1
        for u in self.unmanaged:
            rows.setdefault(u.account, Counter())["unmanaged"] += 1
        out = []
        for account, row in sorted(rows.items()):
            facts = self.accounts.get(account, AccountFacts(provider="", managed=0, existing=0))
            out.append(
                AccountSummary(
                    account=account,
                    provider=facts.provider,
                    managed=facts.managed,
                    existing=facts.existing,
                    thresholds=facts.thresholds,
                    create=row["create"],
                    update=row["update"],
                    replace=row["replace"],
                    delete=row["delete"],
                    blocked=row["blocked"],
                    unmanaged=row["unmanaged"],
                )
            )
        return out

    # --- safety ----------------------------------------------------------------------------

    def threshold_violations(self) -> list[ThresholdViolation]:
        """Accounts where updates, replacements and deletes exceed their share of the managed
        resources that exist now: a planned create is not there yet, so it cannot dilute the share
        (40 deletes of 120 codes are 33%, whatever the specs add)."""
        out = []
        for s in self.summaries():
            v = check_share(s.account, s.changing, s.existing, s.thresholds)
            if v is not None:
                out.append(v)
        return out

    def check_thresholds(self, *, force: bool = False) -> None:
        """Raise ``ThresholdError`` naming every account over its threshold, unless forced."""
        violations = self.threshold_violations()
        if violations and not force:
            raise ThresholdError(violations)

    # --- the one data form -----------------------------------------------------------------

    def data(self) -> JsonDict:
        counts = self.counts()
        return {
            "format_version": FORMAT_VERSION,
            "options": {"prune": self.prune, "targets": list(self.targets)},
            "specs_digest": self.specs_digest,
            "summary": {
                **counts,
                "blocked": self.blocked_count,
                "unmanaged": len(self.unmanaged),
                "warnings": len(self.warnings),
                "has_changes": self.has_changes,
            },
            "accounts": [s.data() for s in self.summaries()],
            "threshold_violations": [v.data() for v in self.threshold_violations()],
            "changes": [c.data() for c in self.changes],
            "unmanaged": [u.data() for u in self.unmanaged],
            "warnings": [w.data() for w in self.warnings],
        }

    def checksum(self) -> str:
        return sha256_of(self.data())


def _unmanaged_key(u: Unmanaged) -> tuple[str, str, str]:
    return (u.account, u.kind, u.address)

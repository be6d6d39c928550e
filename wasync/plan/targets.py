"""``--target``: narrow a plan to some addresses, without ever hiding a deletion.

A target selects an address equal to it or below it at a dot boundary: ``qr.shop-cams``
selects that account's QR codes, ``template.shop-nx.8618500009999.order_shipped`` every
language of that template. A delete that takes other resources with it (NXCloud deletes
every language of a name) keeps those deletions in the plan too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import replace

from wasync.errors import WasyncError
from wasync.plan.model import Plan


class UnknownTargetError(WasyncError):
    """A --target names nothing in the specs or the remote state."""


def selects(target: str, address: str) -> bool:
    return address == target or address.startswith(target + ".")


def filter_targets(plan: Plan, targets: Sequence[str]) -> Plan:
    """The plan restricted to ``targets``; the plan itself when there are none.

    Raises ``UnknownTargetError`` for a target that matches no desired or remote address.
    """
    targets = [t.strip().rstrip(".") for t in targets if t.strip()]
    if not targets:
        return plan
    _check_known(targets, plan.known_addresses)

    def chosen(address: str) -> bool:
        return any(selects(t, address) for t in targets)

    keep = {c.address for c in plan.changes if chosen(c.address)}
    # Deletions that go together stay together, even if only one was targeted.
    for c in plan.changes:
        if c.address in keep:
            keep.update(c.collateral)
    return replace(
        plan,
        changes=tuple(c for c in plan.changes if c.address in keep),
        unmanaged=tuple(u for u in plan.unmanaged if chosen(u.address)),
        warnings=tuple(w for w in plan.warnings if any(map(chosen, w.addresses))),
        targets=(*plan.targets, *targets),
    )


def _check_known(targets: Iterable[str], known: frozenset[str]) -> None:
    unknown = [t for t in targets if not any(selects(t, a) for a in known)]
    if not unknown:
        return
    lines = []
    for t in unknown:
        close = difflib.get_close_matches(t, _candidates(t, known), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        lines.append(f"--target {t} matches nothing in the specs or the remote state{hint}")
    raise UnknownTargetError("\n".join(lines))


def _candidates(target: str, known: frozenset[str]) -> list[str]:
    """Addresses cut to the target's depth, so a mistyped account (``qr.shop-cam``) is
    offered ``qr.shop-cams`` rather than full addresses; of the target's kind if it has one."""
    depth = target.count(".") + 1
    kind = target.split(".", 1)[0]
    same_kind = [a for a in known if a.startswith(kind + ".")]
    return sorted({".".join(a.split(".")[:depth]) for a in same_kind or known})

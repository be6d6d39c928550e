"""Identical changes on several targets, said once: ``order_shipped.en_US: update on 40
accounts``.

A spec entry that fans out to many accounts (or numbers) usually changes the same way on
each of them; the text and Markdown renderers show such a run once, with the targets it
applies to. Changes are identical when they do the same thing (kind, action, what the
remote's status is, hazards, blocked) to the same resource of different targets (the
address without its account or number) with the same field values before and after. JSON
keeps one change per resource: this is presentation only, and reads the plan's data view.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wasync.plan.render.common import Data

WILDCARD = "*"


def split_address(change: Data) -> tuple[str, str]:
    """(target, resource) of a change's address: ``shop-a`` or ``shop-nx.8618500009999``,
    and ``order_shipped.en_US`` or ``poster``."""
    parts = str(change["address"]).split(".")
    if change["kind"] == "template" and len(parts) >= 4:
        return ".".join(parts[1:-2]), ".".join(parts[-2:])
    if len(parts) >= 4:  # qr.<account>.<phone>.<label>
        return ".".join(parts[1:3]), ".".join(parts[3:])
    return ".".join(parts[1:]), ""


# Fields that say where a resource is (they differ between targets by design).
WHERE = frozenset({"phone"})


def _key(change: Data) -> str:
    _, resource = split_address(change)
    same = {
        "kind": change["kind"],
        "action": change["action"],
        "resource": resource,
        "status": change.get("remote_status"),
        "fields": [f for f in change["fields"] if f["path"] not in WHERE],
        "hazards": change["hazards"],
        "blocked": change["blocked"],
        "preview": change.get("preview"),
        # a replacement shows the identity that goes, which is each target's own
        "replaces": change.get("remote_id") if change["action"] == "replace" else None,
    }
    return json.dumps(same, sort_keys=True, default=str)


@dataclass(frozen=True)
class Group:
    """Changes that are the same on several targets (one change: a group of one)."""

    changes: tuple[Data, ...]

    @property
    def first(self) -> Data:
        return self.changes[0]

    @property
    def targets(self) -> list[str]:
        return [split_address(c)[0] for c in self.changes]

    @property
    def resource(self) -> str:
        return split_address(self.first)[1]

    @property
    def noun(self) -> str:
        """``accounts``, ``numbers`` (of one account), or ``targets``."""
        targets = self.targets
        if all("." not in t for t in targets):
            return "accounts"
        if len({t.split(".", 1)[0] for t in targets}) == 1:
            return "numbers"
        return "targets"

    def headline(self) -> str:
        """``order_shipped.en_US: update on 3 accounts (shop-a, shop-b, shop-c)``."""
        targets = self.targets
        return (
            f"{self.resource}: {self.first['action']} on {len(targets)} {self.noun} "
            f"({', '.join(targets)})"
        )

    def standing_for_all(self) -> Data:
        """The first change, its address with a wildcard for the target
        (``template.*.order_shipped.en_US``): what each of them does."""
        first = self.first
        kind = str(first["address"]).split(".", 1)[0]
        fields = first["fields"]
        if len(self.changes) > 1:  # where each is differs: the headline says it
            fields = [f for f in fields if f["path"] not in WHERE]
        return {**first, "address": f"{kind}.{WILDCARD}.{self.resource}", "fields": fields}

    @property
    def addresses(self) -> list[str]:
        return [str(c["address"]) for c in self.changes]


def _noted(change: Data) -> str:
    """What a list of blocked or hazardous changes shows of one: not its fields."""
    _, resource = split_address(change)
    same = [change["kind"], change["action"], resource, change["hazards"], change["blocked"]]
    return json.dumps(same, sort_keys=True, default=str)


def once(changes: Sequence[Data]) -> list[Data]:
    """``changes`` for a list that shows each one's address, action and notes (what cannot
    be applied, what needs attention): those alike on several targets as one, its address
    ``order_shipped.en_US on 40 accounts (shop-a, ...)``."""
    out: list[Data] = []
    for group in group_changes(changes, key=_noted):
        if len(group.changes) == 1:
            out.append(group.first)
        else:
            targets = group.targets
            where = f"{group.resource} on {len(targets)} {group.noun} ({', '.join(targets)})"
            out.append({**group.first, "address": where})
    return out


def group_changes(
    changes: Sequence[Data], *, least: int = 2, key: Callable[[Data], str] = _key
) -> list[Group]:
    """``changes`` (in plan order) as groups of identical ones (by ``key``), each where its
    first member is; runs of fewer than ``least`` stay one change per group.

    Every ``key`` holds the change's kind, action and resource, so changes are first told
    apart by those: ``key`` (a JSON text of every field) is only made for changes that
    share them, not for each of 20,000 creates of different resources."""
    by_resource: dict[tuple[object, object, str], list[Data]] = {}
    for change in changes:
        coarse = (change["kind"], change["action"], split_address(change)[1])
        by_resource.setdefault(coarse, []).append(change)
    groups: list[Group] = []
    for alike in by_resource.values():
        if len(alike) == 1:
            groups.append(Group((alike[0],)))
            continue
        by_key: dict[str, list[Data]] = {}
        for change in alike:
            by_key.setdefault(key(change), []).append(change)
        for members in by_key.values():
            if len(members) >= least and len(members) > 1:
                groups.append(Group(tuple(members)))
            else:
                groups.extend(Group((m,)) for m in members)
    position = {id(c): i for i, c in enumerate(changes)}
    groups.sort(key=lambda g: position[id(g.first)])
    return groups

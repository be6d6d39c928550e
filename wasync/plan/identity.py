"""Which remote QR code each spec entry is: the one matching rule of wasync.

A QR code has no name at the provider, only its code, so an entry finds its code like this,
per account and phone number (DESIGN.md, "Resources and identity"):

1. **Pin**: an entry with ``code:`` claims that code, if the phone still has it.
2. **Message and image**: the other entries claim unclaimed codes with the same prefilled
   message and image (a code whose image was not read back, ``""``, matches any image).
3. **Message**: the entries still without a code claim unclaimed codes with the same
   prefilled message, whatever the image.

Entries left over are created; codes left over are unmanaged (or pruned). In steps 2 and 3
an entry whose pin is gone (where an update replaces the code, it gets a new one) goes before
unpinned entries: it owns its re-issued code; protected entries go last (see
``_match_phone``). In step 3 protected entries take codes in the reverse of their step-2
order, so that a code created for one of them can never be taken from it by another one
in the next plan (see ``_match_phone``).

This is also the adoption rule: an entry without ``code:`` adopts an unclaimed code of its
phone with the same prefilled message. It is the only way an unpinned entry is tied to a
code, so the planner refuses to create a new code for a protected, unpinned entry while its
phone has codes no entry claims: one of them may be the printed code it stood for before its
message changed (``wasync.plan.safety.qr_protected_unpinned``).

``duplicate_codes`` names the codes an entry has beyond its own by the same rule (what two
applies of the same specs at once leave behind); the check after apply reports them.

Invariants, which the planner, the executor's read-back and import rely on:

- **Deterministic**: codes are taken in code order and entries in address order, so the same
  entries and codes, in any order, give the same matching.
- **Settles**: once a plan is applied, every entry finds the code the plan made or changed
  for it (by pin, or by the content it now has), so the next plan has nothing to do.
- One entry claims at most one code and one code at most one entry.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wasync.model import QrCode, RemoteQrCode

PhoneKey = tuple[str, str]  # account, phone


@dataclass(frozen=True)
class QrMatches:
    """The matching on one account's phone number."""

    entries: tuple[QrCode, ...]  # every entry of the phone, in address order
    matched: tuple[tuple[QrCode, RemoteQrCode], ...]  # each entry that found its code
    unmatched: tuple[QrCode, ...]  # entries with no code: to create
    unclaimed: Mapping[str, RemoteQrCode]  # codes no entry claims, by code, in code order

    def code_of(self, entry: QrCode) -> RemoteQrCode | None:
        """The code ``entry`` matched, or None."""
        return next((r for d, r in self.matched if d.address == entry.address), None)


def match_qr_codes(
    entries: Iterable[QrCode], codes: Iterable[RemoteQrCode]
) -> dict[PhoneKey, QrMatches]:
    """Match spec entries to remote codes by the rule above, per (account, phone), for every
    phone either side names, in key order. A code listed twice counts once. Entries are
    expected to have unique addresses and unique pins (the spec loader refuses others)."""
    wanted: dict[PhoneKey, list[QrCode]] = defaultdict(list)
    for d in sorted(entries, key=lambda d: d.address):
        wanted[(d.account, d.phone)].append(d)
    present: dict[PhoneKey, dict[str, RemoteQrCode]] = defaultdict(dict)
    for r in sorted(codes, key=lambda r: (r.account, r.phone, r.code)):
        present[(r.account, r.phone)].setdefault(r.code, r)
    return {
        key: _match_phone(wanted.get(key, []), present.get(key, {}))
        for key in sorted(wanted.keys() | present.keys())
    }


def _match_phone(wanted: list[QrCode], present: dict[str, RemoteQrCode]) -> QrMatches:
    """One phone: ``wanted`` in address order, ``present`` in code order. Exact matches go
    before message-only ones, so two entries that share a message but not an image never
    swap codes (where an update replaces the code, a swap would re-issue both)."""
    unclaimed = dict(present)
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

    matched: list[tuple[QrCode, RemoteQrCode]] = []
    rest = []
    for d in wanted:
        if d.code and d.code in unclaimed:
            matched.append((d, unclaimed.pop(d.code)))
        else:
            rest.append(d)
    # Protected entries go last: their updates may be blocked, and a code they took in one
    # plan and kept unchanged could go to another entry in the next, so a plan would never
    # settle. A stale pin goes before unpinned entries: it owns its re-issued code.
    rest.sort(key=lambda d: (d.protect, not d.code, d.address))
    left: list[QrCode] = []
    for d in rest:
        # An empty remote image was not read back: it matches any image.
        found = take(exact.get((d.prefilled_message, d.image))) or take(
            exact.get((d.prefilled_message, ""))
        )
        if found is None:
            left.append(d)
        else:
            matched.append((d, found))
    # Message-only matches: unprotected entries first, in the order above (their updates go
    # ahead, so the code they take ends up an exact match for them). Protected entries come
    # after, in REVERSE order: a protected entry's update may be blocked, so the code it
    # takes keeps its other image, and the entries that find nothing are created. In the
    # next plan the created codes are exact matches, handed out in the forward order; had a
    # protected entry earlier in that order taken the message-only code, it would now take
    # a created code instead, and the blocked change would move to another entry in every
    # plan (found by the convergence property: two protected entries, one message, one code
    # of the other image).
    loose_order = [d for d in left if not d.protect]
    loose_order += reversed([d for d in left if d.protect])
    unmatched = []
    for d in loose_order:
        found = take(loose.get(d.prefilled_message))
        if found is None:
            unmatched.append(d)
        else:
            matched.append((d, found))
    unmatched.sort(key=lambda d: d.address)
    return QrMatches(tuple(wanted), tuple(matched), tuple(unmatched), unclaimed)


@dataclass(frozen=True)
class Duplicates:
    """Codes an entry has at the provider beyond its own: each is what the entry would claim
    by message and image (rule 2) if it had no code yet. Two applies of the same specs at
    once (from two checkouts) leave them: each created the entry's code."""

    entry: QrCode
    code: RemoteQrCode  # the code the entry matched (its pin, after an apply)
    copies: tuple[RemoteQrCode, ...]  # unclaimed, in code order


def duplicate_codes(entries: Iterable[QrCode], codes: Iterable[RemoteQrCode]) -> list[Duplicates]:
    """Every entry with unclaimed codes of its own message and image (an unclaimed image
    of ``""`` matches any, as in rule 2), in address order. Each copy is counted once, for
    the first entry in address order that it is a copy of."""
    found: list[Duplicates] = []
    for matches in match_qr_codes(entries, codes).values():
        left = dict(matches.unclaimed)
        for d, r in sorted(matches.matched, key=lambda m: m[0].address):
            copies = tuple(
                u
                for u in left.values()
                if u.prefilled_message == d.prefilled_message and u.image in (d.image, "")
            )
            for u in copies:
                del left[u.code]
            if copies:
                found.append(Duplicates(d, r, copies))
    return sorted(found, key=lambda f: f.entry.address)

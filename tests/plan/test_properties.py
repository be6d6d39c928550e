"""Properties of the planner, over generated specs and remote states:

(a) a remote that already matches the specs plans to nothing;
(b) applying a plan to a model of the remote, then planning again, leaves nothing to do;
(c) the plan does not depend on the order of its inputs.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from plan.builders import CAMS_PHONE, NX_PHONE
from wasync.model import Desired, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.plan import AccountSettings, Change, Plan, plan
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS
from wasync.traits import ProviderTraits

PROPERTY = settings(max_examples=60, deadline=None)

# A third provider whose QR updates keep their code, so both update behaviours are covered.
KEEPER = ProviderTraits(
    name="keeper",
    kinds=frozenset({"qr", "template"}),
    template_editable_statuses=frozenset({"APPROVED", "REJECTED", "PAUSED", "DRAFT"}),
    template_category_editable_statuses=frozenset({"REJECTED", "DRAFT"}),
    write_only_component_keys=frozenset({"header_url"}),
)
TRAITS = {"shop-cams": CAMS_TRAITS, "shop-nx": NXCLOUD_TRAITS, "keeper": KEEPER}
QR_ACCOUNTS = ("shop-cams", "keeper")
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DRAFT", "DISABLED")

messages = st.sampled_from(["Hi", "Hello there", "Menu", "Book a table"])
images = st.sampled_from(["SVG", "PNG"])
phones = st.sampled_from([CAMS_PHONE, "8615800002222"])


@st.composite
def qr_codes(draw: st.DrawFn) -> QrCode:
    return QrCode(
        account=draw(st.sampled_from(QR_ACCOUNTS)),
        phone=draw(phones),
        label=draw(st.sampled_from(["poster", "menu", "door", "flyer", "card", "table"])),
        prefilled_message=draw(messages),
        image=draw(images),
        code=draw(st.none() | st.sampled_from(["P1", "P2", "P3"])),
        protect=draw(st.booleans()),
    )


@st.composite
def components(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if draw(st.booleans()):
        out.append(
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {
                    "header_url": draw(st.sampled_from(["https://a/1.png", "https://b/2.png"]))
                },
            }
        )
    text = draw(st.sampled_from(["Order {{1}} shipped.", "Order {{1}} is on its way.", "Hi"]))
    out.append(
        {
            "type": "BODY",
            "text": text,
            **({"example": {"body_text": [["7"]]}} if "{{1}}" in text else {}),
        }
    )
    if draw(st.booleans()):
        out.append({"type": "FOOTER", "text": draw(st.sampled_from(["Thanks", "Bye"]))})
    if draw(st.booleans()):
        labels = draw(st.lists(st.sampled_from(["Stop", "Track", "Help"]), min_size=1, max_size=3))
        out.append(
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": t} for t in labels]}
        )
    return out


@st.composite
def templates(draw: st.DrawFn) -> Template:
    account = draw(st.sampled_from(tuple(TRAITS)))
    return Template.model_validate(
        {
            "account": account,
            "phone": NX_PHONE if account == "shop-nx" else None,
            "name": draw(st.sampled_from(["order_shipped", "welcome", "otp"])),
            "language": draw(st.sampled_from(["en_US", "es", "pt_BR"])),
            "category": draw(st.sampled_from(["UTILITY", "MARKETING"])),
            "components": draw(components()),
            "message_send_ttl_seconds": draw(st.none() | st.sampled_from([300, 600])),
            "protect": draw(st.booleans()),
        }
    )


def unique_pins(qrs: Sequence[QrCode]) -> list[QrCode]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for q in qrs:
        key = (q.account, q.phone, q.code or "")
        out.append(q.model_copy(update={"code": None}) if q.code and key in seen else q)
        seen.add(key)
    return out


desired_states = st.builds(
    lambda qrs, tpls: Desired(qr_codes=tuple(unique_pins(qrs)), templates=tuple(tpls)),
    st.lists(qr_codes(), max_size=8, unique_by=lambda q: q.address),
    st.lists(templates(), max_size=8, unique_by=lambda t: t.address),
)


def remote_twin(desired: Desired, statuses: Sequence[str], cdn: bool) -> Remote:
    """What the providers would list if they held exactly the specs. Media samples come
    back as the provider's own link (or not at all), as they do for real."""
    qrs = tuple(
        RemoteQrCode(q.account, q.phone, q.code or f"R{i:03}", q.prefilled_message, q.image)
        for i, q in enumerate(desired.qr_codes)
    )
    tpls = []
    for i, t in enumerate(desired.templates):
        comps = t.canonical_components()
        if comps and comps[0].get("format") == "IMAGE":
            comps[0] = (
                {**comps[0], "example": {"header_url": "https://cdn/x"}}
                if cdn
                else {k: v for k, v in comps[0].items() if k != "example"}
            )
        tpls.append(
            RemoteTemplate(
                account=t.account,
                phone=t.phone,
                id=f"T{i:03}",
                name=t.name,
                language=t.language,
                category=t.category,
                status=statuses[i % len(statuses)],
                components=tuple(comps),
                message_send_ttl_seconds=t.message_send_ttl_seconds,
            )
        )
    return Remote(qr_codes=qrs, templates=tuple(tpls))


def accounts(prune: bool) -> dict[str, AccountSettings]:
    return {name: AccountSettings(traits, prune=prune) for name, traits in TRAITS.items()}


# --- (a) ------------------------------------------------------------------------------------------


@PROPERTY
@given(
    desired_states,
    st.lists(st.sampled_from(STATUSES), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_a_remote_that_matches_the_specs_plans_to_nothing(
    desired: Desired, statuses: list[str], cdn: bool, prune: bool
) -> None:
    p = plan(desired, remote_twin(desired, statuses, cdn), accounts=accounts(prune))
    assert p.changes == () and p.unmanaged == () and p.warnings == ()
    assert not p.has_changes


# --- (b) ------------------------------------------------------------------------------------------


class Simulator:
    """A pure model of the providers: create adds, update rewrites in place, replace
    rewrites with a new code (QR codes where the provider re-issues them), delete removes
    (every language where the provider deletes by name). Blocked changes are skipped, as
    apply skips them."""

    def __init__(self, remote: Remote) -> None:
        self.qrs = {(q.account, q.phone, q.code): q for q in remote.qr_codes}
        self.tpls = {(t.account, t.phone, t.name, t.language): t for t in remote.templates}
        self.codes = (f"N{i:04}" for i in itertools.count())
        self.ids = (f"I{i:04}" for i in itertools.count())

    def apply(self, p: Plan) -> Remote:
        for c in p.changes:
            if c.actionable:
                getattr(self, f"{c.action}_{c.kind}")(c)
        return Remote(qr_codes=tuple(self.qrs.values()), templates=tuple(self.tpls.values()))

    def create_qr(self, c: Change) -> None:
        d = c.desired
        assert isinstance(d, QrCode)
        code = next(self.codes)
        self.qrs[(d.account, d.phone, code)] = RemoteQrCode(
            d.account, d.phone, code, d.prefilled_message, d.image
        )

    def update_qr(self, c: Change) -> None:
        # In place: only where the provider keeps the code (else the plan says replace).
        assert not TRAITS[c.account].qr_update_replaces_code
        self._rewrite_qr(c, new_code=False)

    def replace_qr(self, c: Change) -> None:
        assert TRAITS[c.account].qr_update_replaces_code
        self._rewrite_qr(c, new_code=True)

    def _rewrite_qr(self, c: Change, *, new_code: bool) -> None:
        d, r = c.desired, c.remote
        assert isinstance(d, QrCode) and isinstance(r, RemoteQrCode)
        del self.qrs[(r.account, r.phone, r.code)]
        code = next(self.codes) if new_code else r.code
        self.qrs[(r.account, r.phone, code)] = RemoteQrCode(
            r.account, r.phone, code, d.prefilled_message, d.image
        )

    def delete_qr(self, c: Change) -> None:
        r = c.remote
        assert isinstance(r, RemoteQrCode)
        del self.qrs[(r.account, r.phone, r.code)]

    def create_template(self, c: Change) -> None:
        d = c.desired
        assert isinstance(d, Template)
        self.tpls[(d.account, d.phone, d.name, d.language)] = RemoteTemplate(
            d.account,
            d.phone,
            next(self.ids),
            d.name,
            d.language,
            d.category,
            "PENDING",
            tuple(d.canonical_components()),
            d.message_send_ttl_seconds,
        )

    def update_template(self, c: Change) -> None:
        d, r = c.desired, c.remote
        assert isinstance(d, Template) and isinstance(r, RemoteTemplate)
        ttl = (
            r.message_send_ttl_seconds
            if d.message_send_ttl_seconds is None
            else d.message_send_ttl_seconds
        )
        self.tpls[(r.account, r.phone, r.name, r.language)] = dataclasses.replace(
            r,
            category=d.category,
            components=tuple(d.canonical_components()),
            message_send_ttl_seconds=ttl,
            status="PENDING",
        )

    def delete_template(self, c: Change) -> None:
        r = c.remote
        assert isinstance(r, RemoteTemplate)
        if TRAITS[r.account].template_delete_takes_all_languages:
            for key in [k for k in self.tpls if k[:3] == (r.account, r.phone, r.name)]:
                del self.tpls[key]
        else:
            self.tpls.pop((r.account, r.phone, r.name, r.language), None)


@st.composite
def drifted(draw: st.DrawFn, desired: Desired) -> Remote:
    """A remote state near the specs: some resources as specified, some edited, some
    missing, plus strays (unmanaged ones) that share names and messages with the specs."""
    twin = remote_twin(
        desired, draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=4)), True
    )
    qrs = []
    for q in twin.qr_codes:
        fate = draw(st.sampled_from(["keep", "edit", "drop", "repin"]))
        if fate == "edit":
            qrs.append(dataclasses.replace(q, prefilled_message=draw(messages), image=draw(images)))
        elif fate == "repin":  # the pin went stale
            qrs.append(dataclasses.replace(q, code=f"X{len(qrs):03}"))
        elif fate == "keep":
            qrs.append(q)
    strays = draw(st.lists(qr_codes(), max_size=4))
    qrs += [
        RemoteQrCode(s.account, s.phone, f"S{i:03}", s.prefilled_message, s.image)
        for i, s in enumerate(strays)
    ]
    tpls = []
    for t in twin.templates:
        fate = draw(st.sampled_from(["keep", "edit", "drop"]))
        if fate == "edit":
            category = draw(st.sampled_from(["UTILITY", "MARKETING"]))
            edited = tuple(draw(components()))
            tpls.append(dataclasses.replace(t, category=category, components=edited))
        elif fate == "keep":
            tpls.append(t)
    seen = {(t.account, t.phone, t.name, t.language) for t in tpls}
    for i, s in enumerate(draw(st.lists(templates(), max_size=4))):
        if (s.account, s.phone, s.name, s.language) not in seen:
            seen.add((s.account, s.phone, s.name, s.language))
            tpls.append(
                RemoteTemplate(
                    s.account,
                    s.phone,
                    f"U{i:03}",
                    s.name,
                    s.language,
                    s.category,
                    draw(st.sampled_from(STATUSES)),
                    tuple(s.canonical_components()),
                )
            )
    return Remote(qr_codes=tuple(qrs), templates=tuple(tpls))


@st.composite
def drifted_scenarios(draw: st.DrawFn) -> tuple[Desired, Remote]:
    desired = draw(desired_states)
    return desired, draw(drifted(desired))


# Found by this property: two protected entries of one phone with the same message, and one
# code of that message with the other image. The first plan gave the code to one entry (its
# replacement blocked) and created the other; the next plan handed the created code to the
# first entry and the old code to the second, so the blocked change moved with every plan.
TWO_PROTECTED_ONE_MESSAGE = (
    Desired(
        qr_codes=tuple(
            QrCode(
                account="shop-cams",
                phone=CAMS_PHONE,
                label=label,
                prefilled_message="Hi",
                image="SVG",
                protect=True,
            )
            for label in ("card", "door")
        )
    ),
    Remote(qr_codes=(RemoteQrCode("shop-cams", CAMS_PHONE, "S000", "Hi", "PNG"),)),
)


@PROPERTY
@given(drifted_scenarios(), st.booleans())
@example(TWO_PROTECTED_ONE_MESSAGE, False)
def test_applying_a_plan_then_planning_again_leaves_nothing_to_do(
    scenario: tuple[Desired, Remote], prune: bool
) -> None:
    desired, remote = scenario
    first = plan(desired, remote, accounts=accounts(prune))
    after = Simulator(remote).apply(first)
    second = plan(desired, after, accounts=accounts(prune))
    assert not second.has_changes, [c.address for c in second.actionable]
    # What stays is what was blocked the first time, for the same reasons.
    assert {(c.address, c.blocked) for c in second.changes} <= {
        (c.address, c.blocked) for c in first.changes
    }


# --- (c) ------------------------------------------------------------------------------------------


@PROPERTY
@given(st.data(), desired_states, st.booleans())
def test_the_plan_does_not_depend_on_input_order(
    data: st.DataObject, desired: Desired, prune: bool
) -> None:
    remote = data.draw(drifted(desired))
    shuffled_desired = Desired(
        qr_codes=tuple(data.draw(st.permutations(desired.qr_codes))),
        templates=tuple(data.draw(st.permutations(desired.templates))),
    )
    shuffled_remote = Remote(
        qr_codes=tuple(data.draw(st.permutations(remote.qr_codes))),
        templates=tuple(data.draw(st.permutations(remote.templates))),
    )
    a = plan(desired, remote, accounts=accounts(prune))
    b = plan(shuffled_desired, shuffled_remote, accounts=accounts(prune))
    assert a.data() == b.data() and a.checksum() == b.checksum()


json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@PROPERTY
@given(json_trees, st.sampled_from(["", "components", "a[1]"]))
def test_flatten_names_every_leaf_as_the_deep_diff_does(value: Any, prefix: str) -> None:
    # flatten writes each path as it goes down; the deep diff's leaves join theirs after.
    # Both must name the same leaves the same way, or a create and an update of the same
    # field would show different paths.
    from wasync.plan.diff import _leaves, _path, flatten

    expected = [(_path(prefix, parts), leaf) for parts, leaf in _leaves(value, ())]
    assert flatten(value, prefix) == expected

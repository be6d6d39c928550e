"""Properties of the expansion: an entry with N targets (some overridden) and L translations
is N x (1 + L) resources, each the entry merged with its target's override (and its
language's texts), at unique addresses; and the loader agrees."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wasync.model import address_of
from wasync.spec.fanout import expand

NAMES = st.builds("shop-{}".format, st.integers(0, 99))
PHONES = st.builds("86{:09d}".format, st.integers(0, 10**9 - 1))
LANGUAGES = st.sampled_from(["pt_BR", "es", "fr", "de", "it", "ja", "zh_CN"])
TEXT = st.text(st.characters(categories=["L", "Zs"]), min_size=1, max_size=20)


@st.composite
def qr_entries(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    by_phone = draw(st.booleans())
    targets = draw(st.lists(PHONES if by_phone else NAMES, min_size=1, max_size=8, unique=True))
    entry: dict[str, Any] = {
        "account": "shop" if by_phone else targets,
        "phone": targets if by_phone else "8615800001111",
        "label": "poster",
        "prefilled_message": draw(TEXT),
    }
    fields = st.fixed_dictionaries(
        {},
        optional={
            "prefilled_message": TEXT,
            "image": st.sampled_from(["SVG", "PNG"]),
            "protect": st.booleans(),
            "code": st.builds("C{:07d}".format, st.integers(0, 10**7 - 1)),
        },
    )
    overrides = draw(st.dictionaries(st.sampled_from(targets), fields, max_size=len(targets)))
    if overrides:
        entry["overrides"] = overrides
    return entry, targets, overrides


@settings(max_examples=60, deadline=None)
@given(qr_entries())
def test_each_target_is_the_entry_merged_with_its_override(
    case: tuple[dict[str, Any], list[str], dict[str, Any]],
) -> None:
    entry, targets, overrides = case
    resources, problems = expand("qr_codes", entry, {})
    assert problems == []
    assert len(resources) == len(targets)
    fan = "phone" if isinstance(entry["phone"], list) else "account"
    base = {k: v for k, v in entry.items() if k != "overrides"}
    for target, resource in zip(targets, resources, strict=True):
        assert resource.data == {**base, fan: target, **overrides.get(target, {})}
        assert resource.target == target
    addresses = [address_of("qr_codes", r.data) for r in resources]
    assert None not in addresses and len(set(addresses)) == len(addresses)
    assert entry.get("overrides", {}) == overrides  # the entry itself is left as it was


@st.composite
def translated(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    accounts = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    languages = draw(st.lists(LANGUAGES, min_size=1, max_size=4, unique=True))
    texts = {lang: draw(TEXT) + " {{1}}." for lang in languages}
    entry = {
        "account": accounts,
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": "Order {{1}}.", "example": {"body_text": [["1"]]}},
            {"type": "FOOTER", "text": "Thanks"},
        ],
        "translations": {
            lang: {"components": [{"text": text}, {}]} for lang, text in texts.items()
        },
    }
    return entry, accounts, texts


@settings(max_examples=40, deadline=None)
@given(translated())
def test_every_language_of_every_target_is_one_resource(
    case: tuple[dict[str, Any], list[str], dict[str, str]],
) -> None:
    entry, accounts, texts = case
    resources, problems = expand("templates", entry, {})
    assert problems == []
    assert len(resources) == len(accounts) * (1 + len(texts))
    addresses = {address_of("templates", r.data) for r in resources}
    assert len(addresses) == len(resources)
    for r in resources:
        language = r.data["language"]
        body, footer = r.data["components"]
        assert body["text"] == texts.get(language, "Order {{1}}.")
        assert body["example"] == {"body_text": [["1"]]}  # shared unless the language gives one
        assert footer == {"type": "FOOTER", "text": "Thanks"}
        assert r.data["category"] == "UTILITY" and "translations" not in r.data
        assert r.language == (None if language == "en_US" else language)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["shop-a", "x", "{{1}}", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["group", "text", "components", "type", "buttons", "shop-a", "es"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries(
        {"account": JSONISH, "name": st.just("n"), "language": st.just("en")},
        optional={
            "phone": JSONISH,
            "overrides": JSONISH,
            "translations": JSONISH,
            "components": JSONISH,
            "code": JSONISH,
        },
    ),
    st.sampled_from(["templates", "qr_codes"]),
)
def test_any_entry_expands_or_says_what_is_wrong(raw: dict[str, Any], kind: str) -> None:
    """Whatever an entry holds, expansion gives resources or problems, never an exception;
    and a problem's place is inside the entry."""
    resources, problems = expand(kind, raw, {"g": ("shop-a", "shop-b")})
    assert not (resources and problems)
    for p in problems:
        assert p.at and p.message

"""CAROUSEL (media card) templates: MARKETING only, a top-level BODY, and 2 to 10 cards of
the same shape, each with an IMAGE or VIDEO header, an optional short body and up to two
buttons."""

from __future__ import annotations

from collections import Counter

from wasync.model import Body, Buttons, Card, Carousel, Footer, Header, Template
from wasync.spec.rules.base import Ctx, ordinal, plural
from wasync.spec.rules.buttons import check_buttons
from wasync.spec.rules.template import check_body_text, check_header
from wasync.spec.yaml import DataPath

CARDS_MIN = 2
CARDS_MAX = 10
CARD_BODY_MAX = 160


def check_carousel(t: Template, ctx: Ctx) -> None:
    at = next((i for i, c in enumerate(t.components) if isinstance(c, Carousel)), None)
    if at is None:
        return
    carousel = t.components[at]
    assert isinstance(carousel, Carousel)
    path: DataPath = ("components", at)
    if t.category != "MARKETING":
        ctx.error(
            (*path, "type"), f"CAROUSEL templates are MARKETING templates; this one is {t.category}"
        )
    for i, component in enumerate(t.components):
        if isinstance(component, Header):
            ctx.error(
                ("components", i),
                "a carousel template has no top-level HEADER; each card has its own",
            )
        elif isinstance(component, Footer):
            ctx.error(("components", i), "a carousel template has no FOOTER; remove it")
        elif isinstance(component, Buttons):
            ctx.error(
                ("components", i),
                "a carousel template has no top-level BUTTONS; put buttons in the cards",
            )
    cards = carousel.cards
    if not CARDS_MIN <= len(cards) <= CARDS_MAX:
        ctx.error(
            (*path, "cards"),
            f"{plural(len(cards), 'card')}; a carousel has {CARDS_MIN} to {CARDS_MAX}",
        )
    shapes = [_check_card(ctx, (*path, "cards", c), card, t.named) for c, card in enumerate(cards)]
    if not shapes:
        return
    first = shapes[0]
    for c, shape in enumerate(shapes[1:], start=1):
        cpath = (*path, "cards", c)
        if ("BODY" in first) != ("BODY" in shape):
            has, lacks = (1, c + 1) if "BODY" in first else (c + 1, 1)
            ctx.error(
                cpath,
                f"card {lacks} has no BODY but card {has} has one; "
                "either every card has a body or none does",
            )
        elif shape != first:
            ctx.error(
                cpath,
                f"card {c + 1} is {_show(shape)} but card 1 is {_show(first)}; "
                "all cards have the same components and buttons",
            )


def _check_card(ctx: Ctx, path: DataPath, card: Card, named: bool) -> tuple[str, ...]:
    """Check one card; returns its shape (component kinds, header format, button kinds)."""
    seen: Counter[str] = Counter()
    shape: list[str] = []
    for k, component in enumerate(card.components):
        kpath = (*path, "components", k)
        seen[component.type] += 1
        if seen[component.type] > 1:
            ctx.error(
                kpath,
                f"{ordinal(seen[component.type])} {component.type} in this card; "
                "a card has at most one",
            )
            continue
        if isinstance(component, Header):
            check_header(ctx, kpath, component, in_card=True, named=named)
            shape.append(f"HEADER {component.format}")
        elif isinstance(component, Body):
            check_body_text(ctx, kpath, component, CARD_BODY_MAX, named=named)
            if component.add_security_recommendation is not None:
                ctx.error(
                    (*kpath, "add_security_recommendation"),
                    "only AUTHENTICATION templates have a security recommendation",
                )
            shape.append("BODY")
        elif isinstance(component, Buttons):
            check_buttons(ctx, kpath, component, in_card=True)
            shape.append(f"BUTTONS [{', '.join(b.type for b in component.buttons)}]")
    if not seen["HEADER"]:
        ctx.error(
            (*path, "components"),
            "no HEADER; each carousel card needs an IMAGE or VIDEO header",
        )
    return tuple(shape)


def _show(shape: tuple[str, ...]) -> str:
    return "(" + ", ".join(shape) + ")" if shape else "(empty)"

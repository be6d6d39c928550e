"""Warnings, not errors: a spec that relies on a wire form its provider does not document.

A provider's traits list the examples it has no documented field for
(``ProviderTraits.guessed_examples``), which its client sends in a form of wasync's own
guessing. The spec is valid, and the provider may take it; if it refuses, the warning says
where to look.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasync.model import Body, Buttons, Carousel, Header, Template, UrlButton
from wasync.spec.rules.base import Ctx
from wasync.spec.yaml import PathPart
from wasync.traits import CARD_EXAMPLES, HEADER_EXAMPLE, URL_BUTTON_EXAMPLE, ProviderTraits

LEDGER = "docs/provider-fidelity.md"


def check_guesses(t: Template, ctx: Ctx, traits: ProviderTraits) -> None:
    name = traits.display_name
    guessed = dict(traits.guessed_examples)

    def warn(path: Sequence[PathPart], kind: str, what: str) -> None:
        ctx.warn(
            path,
            f"{name} documents no field for {what}; wasync sends it as {guessed[kind]}, a "
            f"guess ({LEDGER}): if {name} refuses this template, remove the example's "
            "variable, and please report it",
        )

    for i, component in enumerate(t.components):
        at: tuple[PathPart, ...] = ("components", i)
        if HEADER_EXAMPLE in guessed and isinstance(component, Header):
            if component.example and component.example.header_text:
                warn((*at, "example", "header_text"), HEADER_EXAMPLE, "a header's example")
        elif URL_BUTTON_EXAMPLE in guessed and isinstance(component, Buttons):
            for b, button in enumerate(component.buttons):
                if isinstance(button, UrlButton) and button.example:
                    warn(
                        (*at, "buttons", b, "example"),
                        URL_BUTTON_EXAMPLE,
                        "a URL button's example",
                    )
        elif CARD_EXAMPLES in guessed and isinstance(component, Carousel):
            cards = [
                c + 1
                for c, card in enumerate(component.cards)
                if any(_has_example(part) for part in card.components)
            ]
            if cards:
                shown = ", ".join(map(str, cards))
                warn(
                    (*at, "cards"),
                    CARD_EXAMPLES,
                    f"examples inside carousel cards (card{'s' * (len(cards) > 1)} {shown})",
                )


def _has_example(component: Header | Body | Buttons) -> bool:
    if isinstance(component, Header):
        return bool(component.example and component.example.header_text)
    if isinstance(component, Body):
        return bool(component.example and component.example.body_text)
    return any(isinstance(b, UrlButton) and b.example for b in component.buttons)

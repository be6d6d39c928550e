"""WhatsApp's rules for templates and QR codes, checked offline.

Each module holds one family of rules; every rule reports through a ``Ctx`` that knows the
resource's address and positions, so each problem reads
``file:line:col: address: field: what is wrong; what is allowed``. Warnings (``Ctx.warn``:
what the provider may not take, ``guesses``) read the same and fail nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from wasync.errors import Problem
from wasync.model import Buttons, QrCode, Template
from wasync.spec.rules.authentication import check_authentication
from wasync.spec.rules.base import Ctx
from wasync.spec.rules.buttons import check_buttons
from wasync.spec.rules.carousel import check_carousel
from wasync.spec.rules.guesses import check_guesses
from wasync.spec.rules.resources import (
    check_phone,
    check_qr_code,
    check_qr_provider,
    check_template_provider,
)
from wasync.spec.rules.template import (
    check_components,
    check_language,
    check_multiplicity,
    check_name,
    check_ttl,
)
from wasync.traits import ProviderTraits

__all__ = ["Ctx", "check"]


def check(
    resource: QrCode | Template,
    ctx: Ctx,
    traits: ProviderTraits | None = None,
    providers: Sequence[ProviderTraits] = (),
) -> list[Problem]:
    """Every rule for ``resource``; with ``traits``, also what its provider allows (and,
    given every provider's ``providers``, which of them would take what this one refuses)."""
    if isinstance(resource, QrCode):
        check_qr_code(resource, ctx)
        if traits is not None:
            check_qr_provider(resource, ctx, traits, providers)
    else:
        _check_template(resource, ctx)
        if traits is not None:
            check_template_provider(resource, ctx, traits, providers)
            check_guesses(resource, ctx, traits)
    return ctx.problems


def _check_template(t: Template, ctx: Ctx) -> None:
    check_name(t, ctx)
    check_language(t, ctx)
    if t.phone is not None:
        check_phone(ctx, t.phone)
    check_ttl(t, ctx)
    check_multiplicity(t, ctx)
    check_components(t, ctx)
    if t.category != "AUTHENTICATION":
        for i, component in enumerate(t.components):
            if isinstance(component, Buttons):
                check_buttons(ctx, ("components", i), component)
    check_authentication(t, ctx)
    check_carousel(t, ctx)

"""Rules on what identifies a resource (phones, QR labels), on QR codes, and on what the
account's provider can hold (QR codes, template scope, carousels)."""

from __future__ import annotations

import re

from wasync.model import Carousel, QrCode, Template
from wasync.providers.base import ProviderTraits
from wasync.spec.rules.base import Ctx

PHONE = re.compile(r"[0-9]{6,15}")
LABEL = re.compile(r"[a-z0-9][a-z0-9_-]*")
PREFILLED_MAX = 140

PROVIDER_NAMES = {"cams": "CAMS", "nxcloud": "NXCloud"}
# Providers whose API takes a CAROUSEL component. CAMS documents `Cards`; NXCloud documents
# only HEADER, BODY, FOOTER and BUTTONS.
CAROUSEL_PROVIDERS = frozenset({"cams"})


def provider_name(traits: ProviderTraits) -> str:
    return PROVIDER_NAMES.get(traits.name, traits.name)


def check_phone(ctx: Ctx, phone: str) -> None:
    if PHONE.fullmatch(phone):
        return
    digits = sum(ch.isdigit() for ch in phone)
    if phone.startswith("+") or not phone.isdigit():
        what = "has a +" if phone.startswith("+") else "has characters other than digits"
    else:
        what = f"has {digits} digits"
    ctx.error(
        ("phone",),
        f"{phone!r} {what}; write the business number as country code then number, "
        "no +: 6 to 15 digits",
    )


def check_qr_code(q: QrCode, ctx: Ctx) -> None:
    check_phone(ctx, q.phone)
    if not LABEL.fullmatch(q.label):
        ctx.error(
            ("label",),
            f"{q.label!r} is not a valid label; use lowercase letters, digits, - and _, "
            "starting with a letter or digit (the label is part of the address)",
        )
    ctx.length(("prefilled_message",), q.prefilled_message, PREFILLED_MAX, what="message")
    if q.code is not None:
        if not q.code.strip():
            ctx.error(("code",), "empty; give the remote code to pin, or remove `code`")
        else:
            ctx.one_line(("code",), q.code)


def check_qr_provider(q: QrCode, ctx: Ctx, traits: ProviderTraits) -> None:
    if "qr" not in traits.kinds:
        ctx.error(
            ("account",),
            f"account {q.account!r} is on {provider_name(traits)}, which has no QR code API; "
            "put QR codes on a CAMS account",
        )


def check_template_provider(t: Template, ctx: Ctx, traits: ProviderTraits) -> None:
    name = provider_name(traits)
    if "template" not in traits.kinds:
        ctx.error(("account",), f"account {t.account!r} is on {name}, which has no templates")
        return
    if traits.template_scope == "phone" and t.phone is None:
        ctx.error(
            ("phone",),
            f"missing; {name} templates belong to a business number: add `phone` "
            "(country code then number, digits only)",
        )
    elif traits.template_scope == "account" and t.phone is not None:
        ctx.error(
            ("phone",),
            f"{name} templates belong to the account's space (CustSpaceId), not to a number; "
            "remove `phone`",
        )
    if traits.name not in CAROUSEL_PROVIDERS:
        for i, component in enumerate(t.components):
            if isinstance(component, Carousel):
                ctx.error(
                    ("components", i, "type"),
                    f"{name} documents no CAROUSEL component; put carousel templates on a "
                    f"{', '.join(PROVIDER_NAMES[p] for p in sorted(CAROUSEL_PROVIDERS))} account",
                )

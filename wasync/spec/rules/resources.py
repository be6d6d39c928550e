"""Rules on what identifies a resource (phones, QR labels), on QR codes, and on what the
account's provider can hold (QR codes, template scope, carousels), read from its traits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from wasync.model import Carousel, Header, QrCode, Template
from wasync.spec.rules.base import Ctx
from wasync.spec.yaml import DataPath
from wasync.traits import (
    CAROUSEL,
    NAMED_PARAMETERS,
    SAMPLE_FILE,
    SAMPLE_URL,
    ProviderTraits,
    display_names,
)

PHONE = re.compile(r"[0-9]{6,15}")
LABEL = re.compile(r"[a-z0-9][a-z0-9_-]*")
PREFILLED_MAX = 140


def _put_on(
    what: str, providers: Sequence[ProviderTraits], able: Callable[[ProviderTraits], bool]
) -> str:
    """``; put QR codes on a CAMS or Meta account``: where ``what`` can go, if any provider
    takes it."""
    names = display_names(t for t in providers if able(t)).split(", ")
    either = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f"; put {what} on a {either} account" if either else ""


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


def check_qr_provider(
    q: QrCode, ctx: Ctx, traits: ProviderTraits, providers: Sequence[ProviderTraits] = ()
) -> None:
    if "qr" not in traits.kinds:
        where = _put_on("QR codes", providers, lambda p: "qr" in p.kinds)
        ctx.error(
            ("account",),
            f"account {q.account!r} is on {traits.display_name}, which has no QR code API" + where,
        )


def check_template_provider(
    t: Template, ctx: Ctx, traits: ProviderTraits, providers: Sequence[ProviderTraits] = ()
) -> None:
    name = traits.display_name
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
            f"{name} templates belong to the account, not to a number; remove `phone`",
        )
    if CAROUSEL not in traits.template_features:
        for i, component in enumerate(t.components):
            if isinstance(component, Carousel):
                where = _put_on(
                    "carousel templates", providers, lambda p: CAROUSEL in p.template_features
                )
                ctx.error(
                    ("components", i, "type"), f"{name} documents no CAROUSEL component{where}"
                )
    if t.named and NAMED_PARAMETERS not in traits.template_features:
        where = _put_on(
            "templates with named variables",
            providers,
            lambda p: NAMED_PARAMETERS in p.template_features,
        )
        ctx.error(
            ("parameter_format",),
            f"{name} documents no named variables; write them {{{{1}}}}, {{{{2}}}}, ... "
            f"(parameter_format: POSITIONAL or left out){where}",
        )
    _check_samples(t, ctx, traits)


def _media_headers(t: Template) -> Iterator[tuple[DataPath, Header]]:
    """Every media header of ``t`` (the template's and its carousel cards'), with its path."""
    for i, component in enumerate(t.components):
        if isinstance(component, Header):
            yield ("components", i), component
        elif isinstance(component, Carousel):
            for c, card in enumerate(component.cards):
                for k, part in enumerate(card.components):
                    if isinstance(part, Header):
                        yield ("components", i, "cards", c, "components", k), part


def _check_samples(t: Template, ctx: Ctx, traits: ProviderTraits) -> None:
    """A media header's sample in the form the provider takes: a URL or a file."""
    name = traits.display_name
    takes = traits.template_media_samples
    for path, header in _media_headers(t):
        example = header.example
        if example is None:
            continue
        if example.header_url is not None and SAMPLE_URL not in takes:
            ctx.error(
                (*path, "example", "header_url"),
                f"{name} takes a media sample as an uploaded file, not a URL: replace it "
                "with header_file: media/<file> (a file in the spec folder)",
            )
        if example.header_file is not None and SAMPLE_FILE not in takes:
            ctx.error(
                (*path, "example", "header_file"),
                f"{name} takes a media sample as a public URL, not a file: replace it "
                "with header_url: https://...",
            )

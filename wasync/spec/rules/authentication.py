"""AUTHENTICATION templates: a fixed shape around one OTP button.

WhatsApp writes the text itself ("<code> is your verification code."), so the body has no
text, the footer only an expiry, there is no header, and the one button is an OTP button:
COPY_CODE, ONE_TAP (Android autofill) or ZERO_TAP (autofill without a tap).
"""

from __future__ import annotations

import re

from wasync.model import Body, Buttons, Footer, Header, OtpButton, Template
from wasync.spec.rules.base import Ctx, article, plural
from wasync.spec.yaml import DataPath

TEXT_MAX = 25
APPS_MAX = 5
PACKAGE_MAX = 224
PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
SIGNATURE_HASH = re.compile(r"[A-Za-z0-9+/=]{11}")
EXPIRY_RANGE = (1, 90)


def check_authentication(t: Template, ctx: Ctx) -> None:
    if t.category != "AUTHENTICATION":
        return
    buttons_at: int | None = None
    for i, component in enumerate(t.components):
        path: DataPath = ("components", i)
        if isinstance(component, Header):
            if component.format == "LOCATION":
                ctx.error(
                    path,
                    "a LOCATION header is only for UTILITY and MARKETING templates; "
                    "AUTHENTICATION templates have no header",
                )
            else:
                ctx.error(path, "AUTHENTICATION templates have no header; remove it")
        elif isinstance(component, Body):
            _check_body(ctx, path, component)
        elif isinstance(component, Footer):
            _check_footer(ctx, path, component)
        elif isinstance(component, Buttons):
            buttons_at = i if buttons_at is None else buttons_at
    if buttons_at is None:
        ctx.error(
            ("components",),
            "an AUTHENTICATION template needs a BUTTONS component with one OTP button",
        )
        return
    _check_buttons(ctx, ("components", buttons_at), t.components[buttons_at])  # type: ignore[arg-type]


def _check_body(ctx: Ctx, path: DataPath, body: Body) -> None:
    if body.text is not None:
        ctx.error(
            (*path, "text"),
            "an AUTHENTICATION body has no text (WhatsApp writes "
            "'<code> is your verification code.'); remove `text`",
        )
    if body.example is not None:
        ctx.error((*path, "example"), "an AUTHENTICATION body has no variables; remove `example`")


def _check_footer(ctx: Ctx, path: DataPath, footer: Footer) -> None:
    low, high = EXPIRY_RANGE
    if footer.text is not None:
        ctx.error(
            (*path, "text"),
            "an AUTHENTICATION footer has no text; "
            f"use code_expiration_minutes ({low} to {high}) instead",
        )
    minutes = footer.code_expiration_minutes
    if minutes is None:
        if footer.text is None:
            ctx.error(path, f"empty footer; set code_expiration_minutes ({low} to {high})")
    elif not low <= minutes <= high:
        ctx.error(
            (*path, "code_expiration_minutes"), f"{minutes} minutes; allowed: {low} to {high}"
        )


def _check_buttons(ctx: Ctx, path: DataPath, component: Buttons) -> None:
    bpath = (*path, "buttons")
    buttons = component.buttons
    otp = [j for j, b in enumerate(buttons) if isinstance(b, OtpButton)]
    for j, button in enumerate(buttons):
        if not isinstance(button, OtpButton):
            ctx.error(
                (*bpath, j, "type"),
                f"{button.type} buttons are not allowed in AUTHENTICATION templates; "
                "use one OTP button",
            )
    if len(otp) != 1:
        ctx.error(
            bpath,
            f"{plural(len(otp), 'OTP button')}; an AUTHENTICATION template has exactly one",
        )
    for j in otp:
        button = buttons[j]
        assert isinstance(button, OtpButton)
        _check_otp(ctx, (*bpath, j), button)


def _check_otp(ctx: Ctx, path: DataPath, button: OtpButton) -> None:
    if button.text is not None:
        ctx.short_text((*path, "text"), button.text, TEXT_MAX)
    autofill = button.otp_type in ("ONE_TAP", "ZERO_TAP")
    if not autofill:
        for name in ("autofill_text", "supported_apps", "zero_tap_terms_accepted"):
            if getattr(button, name) is not None:
                ctx.error((*path, name), "only for ONE_TAP and ZERO_TAP buttons; remove it")
        return
    if button.autofill_text is None:
        ctx.error(
            path,
            f"{article(button.otp_type)} button needs autofill_text "
            f"(at most {TEXT_MAX} characters)",
        )
    else:
        ctx.short_text((*path, "autofill_text"), button.autofill_text, TEXT_MAX)
    apps = button.supported_apps
    if not apps:
        ctx.error(
            path,
            f"{article(button.otp_type)} button needs supported_apps: 1 to {APPS_MAX} Android apps "
            "({package_name, signature_hash})",
        )
    else:
        if len(apps) > APPS_MAX:
            ctx.error((*path, "supported_apps"), f"{len(apps)} apps; at most {APPS_MAX} allowed")
        for k, app in enumerate(apps):
            apath = (*path, "supported_apps", k)
            if len(app.package_name) > PACKAGE_MAX:
                ctx.error(
                    (*apath, "package_name"),
                    f"{len(app.package_name)} characters; at most {PACKAGE_MAX} allowed",
                )
            elif not PACKAGE.fullmatch(app.package_name):
                ctx.error(
                    (*apath, "package_name"),
                    f"{app.package_name!r} is not an Android package name; "
                    "use dot-separated parts that start with a letter, e.g. com.example.shop",
                )
            if not SIGNATURE_HASH.fullmatch(app.signature_hash):
                ctx.error(
                    (*apath, "signature_hash"),
                    "not an app signature hash; it is exactly 11 characters of "
                    "A-Z, a-z, 0-9, +, / and =",
                )
    if button.otp_type == "ZERO_TAP":
        if button.zero_tap_terms_accepted is not True:
            ctx.error(
                path,
                "a ZERO_TAP button needs zero_tap_terms_accepted: true "
                "(you accept WhatsApp's zero-tap terms)",
            )
    elif button.zero_tap_terms_accepted is not None:
        ctx.error((*path, "zero_tap_terms_accepted"), "only for ZERO_TAP buttons; remove it")

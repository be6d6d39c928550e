"""BUTTONS: totals, per-type limits, grouping, and each button's fields (in a template's
BUTTONS component and in carousel cards). AUTHENTICATION buttons are authentication.py's."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from wasync.model import (
    Buttons,
    CopyCodeButton,
    FlowButton,
    OtpButton,
    PhoneNumberButton,
    QuickReplyButton,
    UrlButton,
)
from wasync.spec.rules.base import Ctx, ordinal
from wasync.spec.rules.variables import scan
from wasync.spec.yaml import DataPath

TOTAL_MAX = 10
PER_TYPE_MAX = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
TEXT_MAX = 25
URL_MAX = 2000
PHONE_MAX = 20
COPY_CODE_MAX = 15
CARD_MAX = 2
CARD_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER")


def check_buttons(ctx: Ctx, path: DataPath, component: Buttons, *, in_card: bool = False) -> None:
    """A BUTTONS component at ``path`` of a MARKETING or UTILITY template (or a card)."""
    bpath = (*path, "buttons")
    buttons = component.buttons
    if not buttons:
        ctx.error(bpath, "no buttons; add one, or remove the BUTTONS component")
        return
    maximum = CARD_MAX if in_card else TOTAL_MAX
    if len(buttons) > maximum:
        where = "a carousel card has" if in_card else "a template has"
        ctx.error(bpath, f"{len(buttons)} buttons; {where} at most {maximum}")
    counts: Counter[str] = Counter()
    for j, button in enumerate(buttons):
        bp = (*bpath, j)
        kind = button.type
        if in_card and kind not in CARD_TYPES:
            ctx.error(
                (*bp, "type"),
                f"{kind} buttons are not allowed in carousel cards; "
                f"use {', '.join(CARD_TYPES[:-1])} or {CARD_TYPES[-1]}",
            )
            continue
        counts[kind] += 1
        limit = PER_TYPE_MAX.get(kind)
        if limit is not None and counts[kind] == limit + 1:
            ctx.error(bp, f"{ordinal(counts[kind])} {kind} button; at most {limit} allowed")
        check_button(ctx, bp, button)
    check_grouping(ctx, bpath, [b.type for b in buttons])


def check_grouping(ctx: Ctx, path: DataPath, kinds: Sequence[str]) -> None:
    """Quick replies and the other buttons must form two groups, in either order."""
    groups = [kinds[0] == "QUICK_REPLY"]
    for kind in kinds[1:]:
        is_quick = kind == "QUICK_REPLY"
        if is_quick != groups[-1]:
            groups.append(is_quick)
    if len(groups) > 2:
        ctx.error(
            path,
            "quick replies must be together, before or after all other buttons; "
            f"found {', '.join(kinds)}",
        )


def _label(ctx: Ctx, path: DataPath, text: str) -> None:
    ctx.short_text(path, text, TEXT_MAX)
    if "{{" in text:
        ctx.error(path, "button text cannot have variables; write it as fixed text")


def check_button(ctx: Ctx, path: DataPath, button: object) -> None:
    if isinstance(button, QuickReplyButton):
        _label(ctx, (*path, "text"), button.text)
    elif isinstance(button, UrlButton):
        _label(ctx, (*path, "text"), button.text)
        check_url_button(ctx, path, button)
    elif isinstance(button, PhoneNumberButton):
        _label(ctx, (*path, "text"), button.text)
        ctx.short_text((*path, "phone_number"), button.phone_number, PHONE_MAX)
    elif isinstance(button, CopyCodeButton):
        ctx.short_text((*path, "example"), button.example, COPY_CODE_MAX)
    elif isinstance(button, OtpButton):
        ctx.error(
            (*path, "type"),
            "OTP buttons are only for AUTHENTICATION templates; use COPY_CODE for an offer code",
        )
    elif isinstance(button, FlowButton):
        _label(ctx, (*path, "text"), button.text)
        check_flow_button(ctx, path, button)


def check_url_button(ctx: Ctx, path: DataPath, button: UrlButton) -> None:
    url_path = (*path, "url")
    url = button.url
    if not ctx.length(url_path, url, URL_MAX, what="URL"):
        return
    if not ctx.one_line(url_path, url):
        return
    if not url.startswith(("https://", "http://")):
        ctx.error(url_path, "not a web address; start it with https://")
        return
    found = scan(url)
    for message in found.errors:
        ctx.error(url_path, message)
    if found.errors:
        return
    if len(found.variables) > 1:
        ctx.error(
            url_path,
            f"{len(found.variables)} variables; a URL has at most one, {{{{1}}}}, at its end",
        )
        return
    dynamic = bool(found.variables)
    if dynamic:
        var = found.variables[0]
        if var.number != 1:
            ctx.error(url_path, f"variable {{{{{var.number}}}}}; a URL's one variable is {{{{1}}}}")
        if var.end != len(url):
            ctx.error(url_path, "the variable must be at the very end of the URL")
    example_path = (*path, "example")
    if dynamic and button.example is None:
        ctx.error(
            path,
            "a URL with {{1}} needs an example: the full URL with a sample value, "
            'e.g. example: ["https://example.com/order/12345"]',
        )
    elif not dynamic and button.example is not None:
        ctx.error(example_path, "an example is only for a URL with {{1}}; remove it")
    elif button.example is not None:
        if len(button.example) != 1:
            ctx.error(
                example_path,
                f"{len(button.example)} examples; give one: the full URL with a sample value",
            )
        elif not button.example[0].strip():
            ctx.error((*example_path, 0), "empty example; give the full URL with a sample value")


def check_flow_button(ctx: Ctx, path: DataPath, button: FlowButton) -> None:
    given = [
        name
        for name in ("flow_id", "flow_name", "flow_json")
        if getattr(button, name) not in (None, "")
    ]
    if not given:
        ctx.error(path, "a FLOW button needs one of flow_id, flow_name or flow_json")
    elif len(given) > 1:
        ctx.error(
            (*path, given[1]),
            f"give only one of flow_id, flow_name and flow_json; found {' and '.join(given)}",
        )
    if button.flow_json:
        try:
            json.loads(button.flow_json)
        except json.JSONDecodeError as exc:
            ctx.error((*path, "flow_json"), f"not valid JSON: {exc.msg} at character {exc.pos}")
        except RecursionError:
            ctx.error((*path, "flow_json"), "not valid JSON: nested too deeply")

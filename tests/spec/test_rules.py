"""WhatsApp's rules, one row per case: a valid base resource, one change, and the exact
``field: message`` of every problem that change causes ([] for a change that stays valid)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import NX_PHONE, case, changed, findings

Change = Callable[[dict[str, Any]], Any]

# --- valid bases ---------------------------------------------------------------------------

UTILITY: dict[str, Any] = {
    "account": "shop-nx",
    "phone": NX_PHONE,
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Order {{1}}",
            "example": {"header_text": ["#1"]},
        },
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} is ready.",
            "example": {"body_text": [["Ana", "#1"]]},
        },
        {"type": "FOOTER", "text": "Thanks for shopping"},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "URL",
                    "text": "Track",
                    "url": "https://shop.example.com/t/{{1}}",
                    "example": ["https://shop.example.com/t/1"],
                },
                {"type": "QUICK_REPLY", "text": "Stop"},
            ],
        },
    ],
}

MARKETING: dict[str, Any] = {
    "account": "shop-cams",
    "name": "autumn_sale",
    "language": "en",
    "category": "MARKETING",
    "components": [
        {
            "type": "HEADER",
            "format": "IMAGE",
            "example": {"header_url": "https://shop.example.com/sale.jpg"},
        },
        {"type": "BODY", "text": "Our sale starts today."},
    ],
}

AUTH: dict[str, Any] = {
    "account": "shop-nx",
    "phone": NX_PHONE,
    "name": "login_code",
    "language": "en_US",
    "category": "AUTHENTICATION",
    "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}]},
    ],
}

ONE_TAP: dict[str, Any] = {
    "type": "OTP",
    "otp_type": "ONE_TAP",
    "autofill_text": "Autofill",
    "supported_apps": [{"package_name": "com.example.shop", "signature_hash": "K8a/AINcGX7"}],
}


def card(n: int) -> dict[str, Any]:
    return {
        "components": [
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_url": f"https://shop.example.com/{n}.jpg"},
            },
            {
                "type": "BODY",
                "text": f"Item {n}, now {{{{1}}}}.",
                "example": {"body_text": [["$1"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "More"},
                    {"type": "URL", "text": "View", "url": f"https://shop.example.com/p/{n}"},
                ],
            },
        ]
    }


CAROUSEL: dict[str, Any] = {
    "account": "shop-cams",
    "name": "collection",
    "language": "en",
    "category": "MARKETING",
    "components": [
        {"type": "BODY", "text": "Swipe to see more."},
        {"type": "CAROUSEL", "cards": [card(1), card(2)]},
    ],
}

QR: dict[str, Any] = {
    "account": "shop-cams",
    "phone": "8615800001111",
    "label": "poster-1",
    "prefilled_message": "Hello",
}


# --- helpers to change a resource ----------------------------------------------------------


def comp(i: int, **fields: Any) -> Change:
    """Set fields of component ``i`` (None removes a field)."""

    def change(t: dict[str, Any]) -> None:
        for key, value in fields.items():
            if value is None:
                t["components"][i].pop(key, None)
            else:
                t["components"][i][key] = value

    return change


def button(i: int, j: int, **fields: Any) -> Change:
    def change(t: dict[str, Any]) -> None:
        for key, value in fields.items():
            target = t["components"][i]["buttons"][j]
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value

    return change


def buttons(i: int, *items: dict[str, Any]) -> Change:
    def change(t: dict[str, Any]) -> None:
        t["components"][i]["buttons"] = list(items)

    return change


def body(text: str, *values: str) -> Change:
    """UTILITY's body with ``text`` and these example values (none: no example)."""
    example = {"body_text": [list(values)]} if values else None
    return comp(1, text=text, example=example)


def both(*changes: Change) -> Change:
    def change(t: dict[str, Any]) -> None:
        for c in changes:
            c(t)

    return change


def setting(**fields: Any) -> Change:
    def change(t: dict[str, Any]) -> None:
        for key, value in fields.items():
            if value is None:
                t.pop(key, None)
            else:
                t[key] = value

    return change


def cards(*items: dict[str, Any]) -> Change:
    return comp(1, cards=list(items))


def qr(text: str = "QR") -> dict[str, Any]:
    return {"type": "QUICK_REPLY", "text": text}


def url(link: str = "https://shop.example.com", **extra: Any) -> dict[str, Any]:
    return {"type": "URL", "text": "Open", "url": link, **extra}


def phone(number: str = "+8615800002222") -> dict[str, Any]:
    return {"type": "PHONE_NUMBER", "text": "Call", "phone_number": number}


def copy_code(code: str = "SAVE10") -> dict[str, Any]:
    return {"type": "COPY_CODE", "example": code}


def run(tmp_path: Path, base: dict[str, Any], change: Change, kind: str = "templates") -> list[str]:
    return findings(tmp_path, changed(base, change), kind)


def test_the_bases_are_valid(tmp_path: Path) -> None:
    for i, base in enumerate((UTILITY, MARKETING, AUTH, CAROUSEL)):
        assert findings(tmp_path / str(i), base) == []
    assert findings(tmp_path / "qr", QR, "qr_codes") == []


# --- name, language, category, time-to-live ------------------------------------------------

NAME_LANGUAGE_TTL = [
    case(UTILITY, setting(name="order_2024_v2"), [], id="name: valid"),
    case(UTILITY, setting(name="a" * 512), [], id="name: 512 characters"),
    case(
        UTILITY,
        setting(name="Order-Shipped"),
        [
            "name: 'Order-Shipped' is not a valid template name; "
            "use lowercase letters, digits and underscores (a-z, 0-9, _)"
        ],
        id="name: pattern",
    ),
    case(
        UTILITY,
        setting(name=""),
        ["name: empty; a template name has 1 to 512 characters"],
        id="name: empty",
    ),
    case(
        UTILITY,
        setting(name="a" * 513),
        ["name: 513 characters; at most 512 allowed"],
        id="name: too long",
    ),
    case(UTILITY, setting(language="pt_BR"), [], id="language: valid"),
    case(
        UTILITY,
        setting(language="en-US"),
        ["language: 'en-US' is not a known language code; nearest known: en_US, en_UG, en_SG"],
        id="language: hyphen",
    ),
    case(
        UTILITY,
        setting(language="klingon"),
        ["language: 'klingon' is not a known language code"],
        id="language: unknown",
    ),
    case(
        UTILITY,
        setting(category="OTP"),
        ['category: "OTP" is not allowed (allowed: MARKETING, UTILITY, AUTHENTICATION)'],
        id="category: legacy",
    ),
    case(UTILITY, setting(message_send_ttl_seconds=43_200), [], id="ttl: utility maximum"),
    case(
        UTILITY,
        setting(message_send_ttl_seconds=20),
        ["message_send_ttl_seconds: 20 seconds; UTILITY templates allow 30 to 43200"],
        id="ttl: utility",
    ),
    case(
        MARKETING,
        setting(message_send_ttl_seconds=3600),
        ["message_send_ttl_seconds: 3600 seconds; MARKETING templates allow 43200 to 2592000"],
        id="ttl: marketing",
    ),
    case(
        AUTH,
        setting(message_send_ttl_seconds=901),
        ["message_send_ttl_seconds: 901 seconds; AUTHENTICATION templates allow 30 to 900"],
        id="ttl: authentication",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), NAME_LANGUAGE_TTL)
def test_name_language_category_ttl(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


# --- components: multiplicity, header, body, footer ----------------------------------------

COMPONENTS = [
    case(
        UTILITY,
        lambda t: t["components"].append({"type": "BODY", "text": "Again."}),
        ["components[4]: 2nd BODY component; a template has at most one"],
        id="multiplicity: two bodies",
    ),
    case(
        UTILITY,
        lambda t: t["components"].pop(1),
        ["components: no BODY component; every UTILITY template needs one"],
        id="multiplicity: no body",
    ),
    case(UTILITY, body("a" * 1024), [], id="body: 1024 characters"),
    case(UTILITY, body("Line one.\nLine two, {{1}}.", "x"), [], id="body: newline"),
    case(
        UTILITY,
        body("a" * 1025),
        ["components[1].text: 1025 characters; at most 1024 allowed"],
        id="body: too long",
    ),
    case(
        UTILITY,
        body(""),
        ["components[1].text: empty; write the body text (1 to 1024 characters)"],
        id="body: empty",
    ),
    case(
        UTILITY,
        comp(1, text=None, example=None),
        ["components[1]: a BODY needs `text` (at most 1024 characters)"],
        id="body: no text",
    ),
    case(
        UTILITY,
        comp(1, add_security_recommendation=True),
        [
            "components[1].add_security_recommendation: only AUTHENTICATION templates have a "
            "security recommendation"
        ],
        id="body: security recommendation",
    ),
    case(
        UTILITY,
        comp(0, text="a" * 61, example=None),
        ["components[0].text: 61 characters; at most 60 allowed"],
        id="header: too long",
    ),
    case(
        UTILITY,
        comp(0, text="Order\nupdate", example=None),
        ["components[0].text: has a line break; this field is one line of text"],
        id="header: line break",
    ),
    case(
        UTILITY,
        comp(0, text="Order {{1}} of {{2}}", example={"header_text": ["1", "2"]}),
        ["components[0].text: 2 variables; a header has at most one, {{1}}"],
        id="header: two variables",
    ),
    case(
        UTILITY,
        comp(0, example=None),
        [
            'components[0].text: 1 variable but no example; add example: {header_text: ["..."]} '
            "with 1 value"
        ],
        id="header: no example",
    ),
    case(
        UTILITY,
        comp(0, text="Order update"),
        [
            "components[0].example.header_text: example given, but the text has no variables; "
            "remove it"
        ],
        id="header: example without variable",
    ),
    case(
        UTILITY,
        comp(0, text=None, example=None),
        ["components[0]: a TEXT header needs `text` (at most 60 characters)"],
        id="header: no text",
    ),
    case(
        UTILITY,
        comp(0, example={"header_text": ["#1"], "header_url": "https://x.example.com/a.jpg"}),
        [
            "components[0].example.header_url: header_url is for IMAGE, VIDEO and DOCUMENT "
            "headers; remove it"
        ],
        id="header: url on text header",
    ),
    case(MARKETING, comp(0, format="VIDEO"), [], id="header: video"),
    case(
        MARKETING,
        comp(0, example=None),
        [
            "components[0]: an IMAGE header needs a sample: example: {header_url: https://...}, "
            "or {header_file: media/<file>} where the provider takes a file"
        ],
        id="header: media without sample",
    ),
    case(
        MARKETING,
        comp(0, example={"header_url": "sale.jpg"}),
        [
            "components[0].example.header_url: not a URL; give the public https:// address of "
            "a sample file"
        ],
        id="header: sample not a URL",
    ),
    case(
        MARKETING,
        comp(0, text="Sale"),
        ["components[0].text: an IMAGE header has no text; remove `text`"],
        id="header: media with text",
    ),
    case(UTILITY, comp(0, format="LOCATION", text=None, example=None), [], id="header: location"),
    case(
        UTILITY,
        comp(0, format="LOCATION", text=None, example={"header_url": "https://x.example.com/a"}),
        [
            "components[0].example.header_url: a LOCATION header has no sample media; "
            "remove header_url"
        ],
        id="header: location with sample",
    ),
    case(UTILITY, comp(2, text="a" * 60), [], id="footer: 60 characters"),
    case(
        UTILITY,
        comp(2, text="a" * 61),
        ["components[2].text: 61 characters; at most 60 allowed"],
        id="footer: too long",
    ),
    case(
        UTILITY,
        comp(2, text="Thanks {{1}}"),
        ["components[2].text: a footer cannot have variables; write it as fixed text"],
        id="footer: variable",
    ),
    case(
        UTILITY,
        comp(2, text=None),
        ["components[2]: a FOOTER needs `text` (at most 60 characters)"],
        id="footer: no text",
    ),
    case(
        UTILITY,
        comp(2, code_expiration_minutes=5),
        [
            "components[2].code_expiration_minutes: only AUTHENTICATION templates have a code "
            "expiry; remove it"
        ],
        id="footer: code expiry",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), COMPONENTS)
def test_components(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


# --- variables -----------------------------------------------------------------------------

TEXT = "components[1].text"

VARIABLES = [
    case(UTILITY, body("Hi {{1}}, {{1}} is your name.", "Ana"), [], id="repeated variable"),
    case(
        UTILITY,
        body("{{1}}, your order is ready.", "Ana"),
        [
            f"{TEXT}: starts with variable {{{{1}}}}; WhatsApp rejects text that starts with a "
            "variable: put words before it"
        ],
        id="starts with a variable",
    ),
    case(
        UTILITY,
        body("Your order is ready, {{1}}", "Ana"),
        [
            f"{TEXT}: ends with variable {{{{1}}}}; WhatsApp rejects text that ends with a "
            "variable: put words or a full stop after it"
        ],
        id="ends with a variable",
    ),
    case(UTILITY, body("Your order is ready, {{1}}.", "Ana"), [], id="full stop after variable"),
    case(
        UTILITY,
        body("Hi {{1}}{{2}} there.", "a", "b"),
        [
            f"{TEXT}: variables {{{{1}}}} and {{{{2}}}} have no text between them; WhatsApp "
            "rejects adjacent variables"
        ],
        id="adjacent",
    ),
    case(
        UTILITY,
        body("Hi {{1}} {{2}} there.", "a", "b"),
        [
            f"{TEXT}: variables {{{{1}}}} and {{{{2}}}} have no text between them; WhatsApp "
            "rejects adjacent variables"
        ],
        id="adjacent with a space",
    ),
    case(
        UTILITY,
        body("Hi {{2}} and {{1}}.", "a", "b"),
        [
            f"{TEXT}: variables must be {{{{1}}}} to {{{{2}}}} in order of first appearance; "
            "found {{2}}, {{1}}"
        ],
        id="out of order",
    ),
    case(
        UTILITY,
        body("Hi {{1}} and {{3}}.", "a", "b"),
        [
            f"{TEXT}: variables must be {{{{1}}}} to {{{{2}}}} in order of first appearance; "
            "found {{1}}, {{3}}"
        ],
        id="gap",
    ),
    case(
        UTILITY,
        body("Hi {{ 1 }}.", "a"),
        [f"{TEXT}: spaces inside '{{{{ 1 }}}}'; write '{{{{1}}}}'"],
        id="spaces inside",
    ),
    case(
        UTILITY,
        body("Hi {{}}.", "a"),
        [f"{TEXT}: empty variable {{{{}}}}; number variables {{{{1}}}}, {{{{2}}}}, ..."],
        id="empty",
    ),
    case(
        UTILITY,
        body("Hi {{first_name}}.", "a"),
        [
            f"{TEXT}: named variable '{{{{first_name}}}}' needs parameter_format: NAMED on "
            "the template (where the provider takes it); or use positional variables {{1}}, "
            "{{2}}, ... (with an example for each)"
        ],
        id="named",
    ),
    case(
        UTILITY,
        body("Hi {{1}.", "a"),
        [f"{TEXT}: unbalanced braces: '{{{{' without a closing '}}}}'"],
        id="unclosed",
    ),
    case(
        UTILITY,
        body("Hi 1}} there.", "a"),
        [f"{TEXT}: unbalanced braces: '}}}}' without an opening '{{{{'"],
        id="unopened",
    ),
    case(
        UTILITY,
        body("Hi {{{1}}} there.", "a"),
        [f"{TEXT}: unbalanced braces in '{{{{{{1}}}}'; write variables as {{{{1}}}}"],
        id="triple braces",
    ),
    case(
        UTILITY,
        body("Hi {{01}} there.", "a"),
        [f"{TEXT}: '{{{{01}}}}' has a leading zero; write {{{{1}}}}"],
        id="leading zero",
    ),
    case(
        UTILITY,
        body("Hi {{0}} there.", "a"),
        [f"{TEXT}: variable {{{{0}}}}; variables are numbered from {{{{1}}}}"],
        id="zero",
    ),
    case(
        UTILITY,
        body("Hi {{#x}} there.", "a"),
        [f"{TEXT}: '{{{{#x}}}}' is not a variable; variables are {{{{1}}}}, {{{{2}}}}, ..."],
        id="not a variable",
    ),
    case(
        UTILITY,
        body("Hi {{1}} and {{2}}.", "a", "b", "c"),
        [
            "components[1].example.body_text[0]: 3 example values for 2 variables; give one "
            "value per variable, in order"
        ],
        id="too many examples",
    ),
    case(
        UTILITY,
        body("Hi {{1}} and {{2}}."),
        [f"{TEXT}: 2 variables but no example; add example: {{body_text: [[...]]}} with 2 values"],
        id="no example",
    ),
    case(
        UTILITY,
        body("Hi there.", "a"),
        [
            "components[1].example.body_text[0]: example given, but the text has no variables; "
            "remove it"
        ],
        id="example without variables",
    ),
    case(
        UTILITY,
        body("Hi {{1}} and {{2}}.", "a", " "),
        ["components[1].example.body_text[0][1]: empty example value; give a realistic sample"],
        id="blank example value",
    ),
    case(
        UTILITY,
        comp(1, text="Hi {{1}}.", example={"body_text": [["a"], ["b"]]}),
        [
            "components[1].example.body_text: 2 lists; body_text holds one list of values: "
            "[[v1, v2]]"
        ],
        id="two example lists",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), VARIABLES)
def test_variables(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


# --- buttons -------------------------------------------------------------------------------

B = "components[3].buttons"

BUTTONS = [
    case(UTILITY, buttons(3, qr(), qr(), url(), phone()), [], id="quick replies first"),
    case(UTILITY, buttons(3, url(), phone(), qr(), qr()), [], id="quick replies last"),
    case(UTILITY, buttons(3, *[qr(str(n)) for n in range(10)]), [], id="ten quick replies"),
    case(
        UTILITY,
        buttons(3, *[qr(str(n)) for n in range(11)]),
        [
            f"{B}: 11 buttons; a template has at most 10",
            f"{B}[10]: 11th QUICK_REPLY button; at most 10 allowed",
        ],
        id="eleven buttons",
    ),
    case(
        UTILITY,
        buttons(3, url(), url(), url()),
        [f"{B}[2]: 3rd URL button; at most 2 allowed"],
        id="three URL buttons",
    ),
    case(
        UTILITY,
        buttons(3, phone(), phone()),
        [f"{B}[1]: 2nd PHONE_NUMBER button; at most 1 allowed"],
        id="two phone buttons",
    ),
    case(
        MARKETING,
        lambda t: t["components"].append(
            {"type": "BUTTONS", "buttons": [copy_code(), copy_code()]}
        ),
        ["components[2].buttons[1]: 2nd COPY_CODE button; at most 1 allowed"],
        id="two copy-code buttons",
    ),
    case(
        UTILITY,
        buttons(3, qr(), url(), qr()),
        [
            f"{B}: quick replies must be together, before or after all other buttons; found "
            "QUICK_REPLY, URL, QUICK_REPLY"
        ],
        id="grouping",
    ),
    case(
        UTILITY,
        buttons(3),
        [f"{B}: no buttons; add one, or remove the BUTTONS component"],
        id="no buttons",
    ),
    case(UTILITY, buttons(3, qr("a" * 25)), [], id="text: 25 characters"),
    case(
        UTILITY,
        buttons(3, qr("a" * 26)),
        [f"{B}[0].text: 26 characters; at most 25 allowed"],
        id="text: too long",
    ),
    case(
        UTILITY,
        buttons(3, qr(" ")),
        [f"{B}[0].text: empty; write the text (1 to 25 characters)"],
        id="text: blank",
    ),
    case(
        UTILITY,
        buttons(3, qr("Hi {{1}}")),
        [f"{B}[0].text: button text cannot have variables; write it as fixed text"],
        id="text: variable",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/" + "a" * 1979)),
        [f"{B}[0].url: 2001 characters; at most 2000 allowed"],
        id="url: too long",
    ),
    case(
        UTILITY,
        buttons(3, url("shop.example.com")),
        [f"{B}[0].url: not a web address; start it with https://"],
        id="url: not a web address",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/{{1}}/p", example=["https://x.example.com/1/p"])),
        [f"{B}[0].url: the variable must be at the very end of the URL"],
        id="url: variable in the middle",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/{{1}}/{{2}}", example=["x"])),
        [f"{B}[0].url: 2 variables; a URL has at most one, {{{{1}}}}, at its end"],
        id="url: two variables",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/{{2}}", example=["x"])),
        [f"{B}[0].url: variable {{{{2}}}}; a URL's one variable is {{{{1}}}}"],
        id="url: variable 2",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/{{1}}")),
        [
            f"{B}[0]: a URL with {{{{1}}}} needs an example: the full URL with a sample value, "
            'e.g. example: ["https://example.com/order/12345"]'
        ],
        id="url: no example",
    ),
    case(
        UTILITY,
        buttons(3, url(example=["https://shop.example.com"])),
        [f"{B}[0].example: an example is only for a URL with {{{{1}}}}; remove it"],
        id="url: example without variable",
    ),
    case(
        UTILITY,
        buttons(3, url("https://x.example.com/{{1}}", example=["a", "b"])),
        [f"{B}[0].example: 2 examples; give one: the full URL with a sample value"],
        id="url: two examples",
    ),
    case(
        UTILITY,
        buttons(3, phone("+" + "1" * 20)),
        [f"{B}[0].phone_number: 21 characters; at most 20 allowed"],
        id="phone: too long",
    ),
    case(
        MARKETING,
        lambda t: t["components"].append({"type": "BUTTONS", "buttons": [copy_code("A" * 16)]}),
        ["components[2].buttons[0].example: 16 characters; at most 15 allowed"],
        id="copy code: too long",
    ),
    case(
        UTILITY,
        buttons(3, {"type": "OTP", "otp_type": "COPY_CODE"}),
        [
            f"{B}[0].type: OTP buttons are only for AUTHENTICATION templates; use COPY_CODE for "
            "an offer code"
        ],
        id="otp outside authentication",
    ),
    case(
        UTILITY,
        buttons(3, {"type": "FLOW", "text": "Book", "flow_id": "123"}),
        [],
        id="flow: by id",
    ),
    case(
        UTILITY,
        buttons(3, {"type": "FLOW", "text": "Book"}),
        [f"{B}[0]: a FLOW button needs one of flow_id, flow_name or flow_json"],
        id="flow: none",
    ),
    case(
        UTILITY,
        buttons(3, {"type": "FLOW", "text": "Book", "flow_id": "1", "flow_name": "booking"}),
        [
            f"{B}[0].flow_name: give only one of flow_id, flow_name and flow_json; found flow_id "
            "and flow_name"
        ],
        id="flow: two",
    ),
    case(
        UTILITY,
        buttons(3, {"type": "FLOW", "text": "Book", "flow_json": "{nope"}),
        [
            f"{B}[0].flow_json: not valid JSON: Expecting property name enclosed in double "
            "quotes at character 1"
        ],
        id="flow: bad json",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), BUTTONS)
def test_buttons(tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]) -> None:
    assert run(tmp_path, base, change) == expected


# --- AUTHENTICATION ------------------------------------------------------------------------

OTP = "components[2].buttons[0]"

AUTHENTICATION = [
    case(AUTH, lambda t: t["components"].pop(1), [], id="no footer"),
    case(AUTH, buttons(2, ONE_TAP), [], id="one tap"),
    case(
        AUTH,
        buttons(2, {**ONE_TAP, "otp_type": "ZERO_TAP", "zero_tap_terms_accepted": True}),
        [],
        id="zero tap",
    ),
    case(
        AUTH,
        lambda t: t["components"].insert(0, {"type": "HEADER", "format": "TEXT", "text": "Code"}),
        ["components[0]: AUTHENTICATION templates have no header; remove it"],
        id="header",
    ),
    case(
        AUTH,
        lambda t: t["components"].insert(0, {"type": "HEADER", "format": "LOCATION"}),
        [
            "components[0]: a LOCATION header is only for UTILITY and MARKETING templates; "
            "AUTHENTICATION templates have no header"
        ],
        id="location header",
    ),
    case(
        AUTH,
        comp(0, text="Your code is {{1}}."),
        [
            "components[0].text: an AUTHENTICATION body has no text (WhatsApp writes '<code> is "
            "your verification code.'); remove `text`"
        ],
        id="body text",
    ),
    case(
        AUTH,
        comp(0, example={"body_text": [["123456"]]}),
        ["components[0].example: an AUTHENTICATION body has no variables; remove `example`"],
        id="body example",
    ),
    case(
        AUTH,
        comp(1, text="Expires soon"),
        [
            "components[1].text: an AUTHENTICATION footer has no text; use "
            "code_expiration_minutes (1 to 90) instead"
        ],
        id="footer text",
    ),
    case(
        AUTH,
        comp(1, code_expiration_minutes=91),
        ["components[1].code_expiration_minutes: 91 minutes; allowed: 1 to 90"],
        id="expiry too long",
    ),
    case(
        AUTH,
        comp(1, code_expiration_minutes=0),
        ["components[1].code_expiration_minutes: 0 minutes; allowed: 1 to 90"],
        id="expiry zero",
    ),
    case(
        AUTH,
        comp(1, code_expiration_minutes=None),
        ["components[1]: empty footer; set code_expiration_minutes (1 to 90)"],
        id="empty footer",
    ),
    case(
        AUTH,
        lambda t: t["components"].pop(2),
        ["components: an AUTHENTICATION template needs a BUTTONS component with one OTP button"],
        id="no buttons",
    ),
    case(
        AUTH,
        buttons(
            2, {"type": "OTP", "otp_type": "COPY_CODE"}, {"type": "OTP", "otp_type": "COPY_CODE"}
        ),
        ["components[2].buttons: 2 OTP buttons; an AUTHENTICATION template has exactly one"],
        id="two otp buttons",
    ),
    case(
        AUTH,
        buttons(2, qr()),
        [
            "components[2].buttons: 0 OTP buttons; an AUTHENTICATION template has exactly one",
            f"{OTP}.type: QUICK_REPLY buttons are not allowed in AUTHENTICATION templates; use "
            "one OTP button",
        ],
        id="quick reply instead",
    ),
    case(
        AUTH,
        button(2, 0, text="a" * 26),
        [f"{OTP}.text: 26 characters; at most 25 allowed"],
        id="otp text too long",
    ),
    case(
        AUTH,
        button(2, 0, autofill_text="Autofill"),
        [f"{OTP}.autofill_text: only for ONE_TAP and ZERO_TAP buttons; remove it"],
        id="copy code with autofill",
    ),
    case(
        AUTH,
        buttons(2, {"type": "OTP", "otp_type": "ONE_TAP"}),
        [
            f"{OTP}: a ONE_TAP button needs autofill_text (at most 25 characters)",
            f"{OTP}: a ONE_TAP button needs supported_apps: 1 to 5 Android apps "
            "({package_name, signature_hash})",
        ],
        id="one tap without app",
    ),
    case(
        AUTH,
        buttons(2, {**ONE_TAP, "supported_apps": ONE_TAP["supported_apps"] * 6}),
        [f"{OTP}.supported_apps: 6 apps; at most 5 allowed"],
        id="six apps",
    ),
    case(
        AUTH,
        buttons(
            2,
            {
                **ONE_TAP,
                "supported_apps": [{"package_name": "shop", "signature_hash": "K8a/AINcGX7"}],
            },
        ),
        [
            f"{OTP}.supported_apps[0].package_name: 'shop' is not an Android package name; use "
            "dot-separated parts that start with a letter, e.g. com.example.shop"
        ],
        id="package name",
    ),
    case(
        AUTH,
        buttons(
            2,
            {
                **ONE_TAP,
                "supported_apps": [
                    {"package_name": "com." + "a" * 221, "signature_hash": "K8a/AINcGX7"}
                ],
            },
        ),
        [f"{OTP}.supported_apps[0].package_name: 225 characters; at most 224 allowed"],
        id="package name too long",
    ),
    case(
        AUTH,
        buttons(
            2,
            {
                **ONE_TAP,
                "supported_apps": [
                    {"package_name": "com.example.shop", "signature_hash": "K8a/AINcGX"}
                ],
            },
        ),
        [
            f"{OTP}.supported_apps[0].signature_hash: not an app signature hash; it is exactly 11 "
            "characters of A-Z, a-z, 0-9, +, / and ="
        ],
        id="signature hash",
    ),
    case(
        AUTH,
        buttons(2, {**ONE_TAP, "otp_type": "ZERO_TAP"}),
        [
            f"{OTP}: a ZERO_TAP button needs zero_tap_terms_accepted: true (you accept WhatsApp's "
            "zero-tap terms)"
        ],
        id="zero tap terms",
    ),
    case(
        AUTH,
        buttons(2, {**ONE_TAP, "zero_tap_terms_accepted": True}),
        [f"{OTP}.zero_tap_terms_accepted: only for ZERO_TAP buttons; remove it"],
        id="terms on one tap",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), AUTHENTICATION)
def test_authentication(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


# --- CAROUSEL ------------------------------------------------------------------------------

C = "components[1].cards"


def card_comp(n: int, k: int, **fields: Any) -> Change:
    def change(t: dict[str, Any]) -> None:
        target = t["components"][1]["cards"][n]["components"][k]
        for key, value in fields.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value

    return change


def without_body(c: dict[str, Any]) -> dict[str, Any]:
    return {"components": [x for x in c["components"] if x["type"] != "BODY"]}


CAROUSELS = [
    case(CAROUSEL, cards(*[card(n) for n in range(10)]), [], id="ten cards"),
    case(CAROUSEL, cards(without_body(card(1)), without_body(card(2))), [], id="no card bodies"),
    case(
        CAROUSEL,
        setting(category="UTILITY"),
        ["components[1].type: CAROUSEL templates are MARKETING templates; this one is UTILITY"],
        id="not marketing",
    ),
    case(
        CAROUSEL,
        cards(card(1)),
        [f"{C}: 1 card; a carousel has 2 to 10"],
        id="one card",
    ),
    case(
        CAROUSEL,
        cards(*[card(n) for n in range(11)]),
        [f"{C}: 11 cards; a carousel has 2 to 10"],
        id="eleven cards",
    ),
    case(
        CAROUSEL,
        lambda t: t["components"].insert(0, {"type": "HEADER", "format": "TEXT", "text": "Hi"}),
        ["components[0]: a carousel template has no top-level HEADER; each card has its own"],
        id="top-level header",
    ),
    case(
        CAROUSEL,
        lambda t: t["components"].append({"type": "FOOTER", "text": "Bye"}),
        ["components[2]: a carousel template has no FOOTER; remove it"],
        id="footer",
    ),
    case(
        CAROUSEL,
        lambda t: t["components"].append({"type": "BUTTONS", "buttons": [qr()]}),
        ["components[2]: a carousel template has no top-level BUTTONS; put buttons in the cards"],
        id="top-level buttons",
    ),
    case(
        CAROUSEL,
        lambda t: t["components"][1]["cards"][1]["components"].pop(0),
        [
            f"{C}[1]: card 2 is (BODY, BUTTONS [QUICK_REPLY, URL]) but card 1 is (HEADER IMAGE, "
            "BODY, BUTTONS [QUICK_REPLY, URL]); all cards have the same components and buttons",
            f"{C}[1].components: no HEADER; each carousel card needs an IMAGE or VIDEO header",
        ],
        id="card without header",
    ),
    case(
        CAROUSEL,
        card_comp(0, 0, format="TEXT", text="Hi", example=None),
        [
            f"{C}[0].components[0].format: a carousel card header is IMAGE or VIDEO, not TEXT",
            f"{C}[1]: card 2 is (HEADER IMAGE, BODY, BUTTONS [QUICK_REPLY, URL]) but card 1 is "
            "(HEADER TEXT, BODY, BUTTONS [QUICK_REPLY, URL]); all cards have the same "
            "components and buttons",
        ],
        id="card text header",
    ),
    case(
        CAROUSEL,
        card_comp(0, 0, example=None),
        [
            f"{C}[0].components[0]: an IMAGE header needs a sample: example: "
            "{header_url: https://...}, or {header_file: media/<file>} where the provider "
            "takes a file"
        ],
        id="card header without sample",
    ),
    case(
        CAROUSEL,
        card_comp(0, 1, text="a" * 161, example=None),
        [f"{C}[0].components[1].text: 161 characters; at most 160 allowed"],
        id="card body too long",
    ),
    case(
        CAROUSEL,
        cards(card(1), without_body(card(2))),
        [
            f"{C}[1]: card 2 has no BODY but card 1 has one; either every card has a body or "
            "none does"
        ],
        id="card bodies: all or none",
    ),
    case(
        CAROUSEL,
        card_comp(0, 2, buttons=[qr(), qr(), qr()]),
        [
            f"{C}[0].components[2].buttons: 3 buttons; a carousel card has at most 2",
            f"{C}[1]: card 2 is (HEADER IMAGE, BODY, BUTTONS [QUICK_REPLY, URL]) but card 1 is "
            "(HEADER IMAGE, BODY, BUTTONS [QUICK_REPLY, QUICK_REPLY, QUICK_REPLY]); all cards "
            "have the same components and buttons",
        ],
        id="card with three buttons",
    ),
    case(
        CAROUSEL,
        both(card_comp(0, 2, buttons=[copy_code()]), card_comp(1, 2, buttons=[copy_code()])),
        [
            f"{C}[0].components[2].buttons[0].type: COPY_CODE buttons are not allowed in "
            "carousel cards; use QUICK_REPLY, URL or PHONE_NUMBER",
            f"{C}[1].components[2].buttons[0].type: COPY_CODE buttons are not allowed in "
            "carousel cards; use QUICK_REPLY, URL or PHONE_NUMBER",
        ],
        id="card copy-code button",
    ),
    case(
        CAROUSEL,
        card_comp(1, 2, buttons=[qr(), phone()]),
        [
            f"{C}[1]: card 2 is (HEADER IMAGE, BODY, BUTTONS [QUICK_REPLY, PHONE_NUMBER]) but "
            "card 1 is (HEADER IMAGE, BODY, BUTTONS [QUICK_REPLY, URL]); all cards have the "
            "same components and buttons",
        ],
        id="cards of different shapes",
    ),
    # The updateTemplate page's component table documents cards for type CAROUSEL.
    case(CAROUSEL, setting(account="shop-nx", phone=NX_PHONE), [], id="carousel on NXCloud"),
]


@pytest.mark.parametrize(("base", "change", "expected"), CAROUSELS)
def test_carousel(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


# --- providers and QR codes ----------------------------------------------------------------

RESOURCES = [
    case(
        UTILITY,
        setting(phone=None),
        [
            "phone: missing; NXCloud templates belong to a business number: add `phone` "
            "(country code then number, digits only)"
        ],
        id="NXCloud template without phone",
    ),
    case(
        MARKETING,
        setting(phone="8615800001111"),
        ["phone: CAMS templates belong to the account, not to a number; remove `phone`"],
        id="CAMS template with phone",
    ),
    case(
        UTILITY,
        setting(phone="+8618500009999"),
        [
            "phone: '+8618500009999' has a +; write the business number as country code then "
            "number, no +: 6 to 15 digits"
        ],
        id="template phone with +",
    ),
]


@pytest.mark.parametrize(("base", "change", "expected"), RESOURCES)
def test_provider_rules(
    tmp_path: Path, base: dict[str, Any], change: Change, expected: list[str]
) -> None:
    assert run(tmp_path, base, change) == expected


QR_CODES = [
    case(setting(prefilled_message="a" * 140), [], id="message: 140 characters"),
    case(setting(prefilled_message="Hello,\nI saw your poster."), [], id="message: two lines"),
    case(setting(image="PNG", code="abc123", protect=True), [], id="all fields"),
    case(
        setting(prefilled_message="a" * 141),
        ["prefilled_message: 141 characters; at most 140 allowed"],
        id="message: too long",
    ),
    case(
        setting(prefilled_message=" "),
        ["prefilled_message: empty; write the message (1 to 140 characters)"],
        id="message: blank",
    ),
    case(
        setting(label="Poster 1"),
        [
            "label: 'Poster 1' is not a valid label; use lowercase letters, digits, - and _, "
            "starting with a letter or digit (the label is part of the address)"
        ],
        id="label",
    ),
    case(
        setting(phone="158 0000 1111"),
        [
            "phone: '158 0000 1111' has characters other than digits; write the business "
            "number as country code then number, no +: 6 to 15 digits"
        ],
        id="phone: spaces",
    ),
    case(
        setting(phone="12345"),
        [
            "phone: '12345' has 5 digits; write the business number as country code then "
            "number, no +: 6 to 15 digits"
        ],
        id="phone: too short",
    ),
    case(
        setting(image="JPG"),
        ['image: "JPG" is not allowed; did you mean PNG? (allowed: SVG, PNG)'],
        id="image format",
    ),
    case(
        setting(code=" "),
        ["code: empty; give the remote code to pin, or remove `code`"],
        id="code: blank",
    ),
    case(
        setting(account="shop-nx"),
        [
            "account: account 'shop-nx' is on NXCloud, which has no QR code API; put QR codes "
            "on a CAMS or Meta account"
        ],
        id="QR code on NXCloud",
    ),
]


@pytest.mark.parametrize(("change", "expected"), QR_CODES)
def test_qr_codes(tmp_path: Path, change: Change, expected: list[str]) -> None:
    assert run(tmp_path, QR, change, "qr_codes") == expected

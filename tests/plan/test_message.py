"""The message as the customer sees it (plan/render/message.py): WhatsApp's formatting,
example values, authentication wording, carousels; and the Markdown it becomes in a plan
comment, checked with GitHub's own renderer (cmark-gfm), for any text a spec or a remote
may hold."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from plan.builders import body, make_plan, rtpl, tpl
from wasync.plan.render import markdown
from wasync.plan.render.message import Message, Span, message_of, to_html, to_markdown


def gfm(md: str) -> str:
    """What GitHub makes of ``md``: cmark-gfm with raw HTML passed through (GitHub then
    sanitises it; here every tag shows, so an injected one would be seen)."""
    return str(cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE))


def styled(text: str) -> list[tuple[str, set[str]]]:
    (line,) = message_of([body(text)]).body
    return [(s.text, set(s.styles)) for s in line]


# --- reading ------------------------------------------------------------------------------------


def test_whatsapp_formatting_becomes_styles() -> None:
    assert styled("a *bold* _it_ ~gone~ b") == [
        ("a ", set()),
        ("bold", {"bold"}),
        (" ", set()),
        ("it", {"italic"}),
        (" ", set()),
        ("gone", {"strike"}),
        (" b", set()),
    ]
    assert styled("*_both_*") == [("both", {"bold", "italic"})]


def test_markers_inside_words_or_without_a_partner_are_text() -> None:
    for text in ("snake_case_name", "2*3*4", "a * b * c", "*open", "price: 5 * 2", "x_ y_"):
        assert styled(text) == [(text, set())], text


def test_monospace_may_span_lines_and_is_not_formatted_inside() -> None:
    m = message_of([body("Type ```*HELP*\nnow``` please")])
    assert m.body == (
        (Span("Type "), Span("*HELP*", frozenset({"mono"}))),
        (Span("now", frozenset({"mono"})), Span(" please")),
    )


def test_example_values_fill_the_variables() -> None:
    m = message_of(
        [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Hi {{1}}",
                "example": {"header_text": ["Ana"]},
            },
            body("Order {{1}} ships on {{2}}; {{3}} stays", "A1", "Monday"),
        ]
    )
    assert m.header == (Span("Hi Ana"),)
    assert m.body == ((Span("Order A1 ships on Monday; {{3}} stays"),),)


def test_named_examples_fill_named_variables_and_a_sample_file_is_named() -> None:
    m = message_of(
        [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "media/menu.png"}},
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, order {{order_id}} is {{state}}.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "order_id", "example": "A-7"},
                        {"param_name": "first_name", "example": "Ana"},
                    ]
                },
            },
        ]
    )
    assert m.media is not None and m.media.sample == "media/menu.png"
    assert m.body == ((Span("Hi Ana, order A-7 is {{state}}."),),)


def test_authentication_templates_show_whatsapps_own_wording() -> None:
    m = message_of(
        [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}],
            },
        ]
    )
    assert m.body == (
        (
            Span("123456", frozenset({"bold"})),
            Span(" is your verification code. For your security, do not share this code."),
        ),
    )
    assert m.footer == "This code expires in 10 minutes."
    assert [b.label for b in m.buttons] == ["Copy"]


def test_buttons_carousels_and_unknown_kinds() -> None:
    card: dict[str, Any] = {
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "https://x/c.jpg"}},
            body("Coat {{1}}", "$89"),
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "More"}]},
        ]
    }
    m = message_of(
        [
            body("Hi"),
            {"type": "CAROUSEL", "cards": [card, card]},
            {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "x"}},
            "not a component",
        ]
    )
    assert len(m.cards) == 2 and m.cards[0].body == ((Span("Coat $89"),),)
    assert m.cards[0].media is not None and m.cards[0].media.sample == "https://x/c.jpg"
    assert m.hidden == ("LIMITED_TIME_OFFER",)
    html = gfm(to_markdown(m))
    assert html.count("<blockquote>") == 3  # the message, and each card inside it
    assert "not shown: LIMITED_TIME_OFFER" in html.replace("\\_", "_")


def test_nothing_to_show_is_said() -> None:
    assert message_of([]) == Message() and "(no text)" in to_markdown(Message())


# --- Markdown, as GitHub renders it ---------------------------------------------------------


def test_formatting_renders_as_github_shows_it() -> None:
    md = to_markdown(message_of([body("*Sale*: _today_ ~not~ ```CODE``` at 5 * 2")]))
    html = gfm(md)
    assert "<strong>Sale</strong>: <em>today</em> <del>not</del> <code>CODE</code> at 5 * 2" in html


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags_of(html: str) -> Tags:
    t = Tags()
    t.feed(html)
    return t


MESSAGE_TAGS = {"blockquote", "p", "strong", "em", "del", "code", "br", "sub"}
# Text built to break out: fences, details, comments, tables, lists, links, entities.
NASTY = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            [
                "```",
                "~~~",
                "`",
                "</details>",
                "<details>",
                "<!--",
                "-->",
                "</td>",
                "</table>",
                "<script>",
                "\n",
                "\n\n",
                "> ",
                "- ",
                "1. ",
                "# ",
                "===",
                "---",
                "    ",
                "[x](javascript:alert(1))",
                "&lt;",
                "&#60;",
                "*",
                "_",
                "~",
                "|",
                "\\",
                "<",
                ">",
                "http://x.example",
                "a",
                " ",
            ]
        ),
        max_size=25,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(header=NASTY, text=NASTY, footer=NASTY, label=NASTY, value=NASTY)
def test_no_text_escapes_its_block_quote(
    header: str, text: str, footer: str, label: str, value: str
) -> None:
    components = [
        {"type": "HEADER", "format": "TEXT", "text": header},
        body(text + " {{1}}", value),
        {"type": "FOOTER", "text": footer},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": label}]},
    ]
    html = gfm(to_markdown(message_of(components)))
    seen = tags_of(html)
    assert {t.lstrip("/") for t in seen.tags} <= MESSAGE_TAGS, html
    assert not seen.comments
    assert html.startswith("<blockquote>") and html.rstrip().endswith("</blockquote>")
    assert seen.tags.count("blockquote") == 1 == seen.tags.count("/blockquote")


@settings(max_examples=150, deadline=None)
@given(name=NASTY, text=NASTY)
def test_remote_text_cannot_break_the_plan_comment(name: str, text: str) -> None:
    # A remote template (untrusted: any name, any text) updated, and another unmanaged.
    desired = tpl("note", components=[body("New {{1}}", "x")])
    remote = [
        rtpl(desired, components=(body(text),)),
        rtpl(tpl("other"), name=name or "n", id="other-id"),
    ]
    md = markdown.render(make_plan([desired], remote).data())
    html = gfm(md)
    seen = tags_of(html)
    assert seen.comments == [" wasync-plan "]
    # the comment's own structure only: two <details> (the account, the unmanaged list),
    # one before/after table, and nothing else a text could open
    assert seen.tags.count("details") == 2 == seen.tags.count("/details")
    assert seen.tags.count("table") == 2  # the account table and the before/after one
    assert "script" not in seen.tags
    fences = re.findall(r"^(`{3,})diff$", md, re.MULTILINE)
    for fence in fences:
        assert md.count(f"\n{fence}\n") >= 1


def test_html_bubbles_escape_everything() -> None:
    m = message_of([body("<script>x</script> *<b>bold</b>*")])
    html = to_html(m)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>&lt;b&gt;bold&lt;/b&gt;</strong>" in html

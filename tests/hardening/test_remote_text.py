"""Text from the remote cannot change the shape of a plan as people read it.

Whatever a provider returns as a QR code, a prefilled message, a template's name, language,
category, status, rejection reason or texts, the pull-request comment has the same headings,
fences, ``<details>`` blocks and HTML (as GitHub's own renderer, cmark-gfm, reads it) as it
has with a plain word in the same place, and the terminal text has the same number of lines.
"""

from __future__ import annotations

import functools
import io
from html.parser import HTMLParser
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from plan.builders import body, make_plan, qr, rqr, rtpl, tpl
from plan.builders import settings as prune_settings

from wasync.plan import render
from wasync.plan.render import markdown, text

PLAIN = "plain"
# Words the planner reads (a status, a category, an image format): a remote field holding
# one of them plans differently, which is not what this test is about.
MEANINGFUL = {
    "",
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
    "UTILITY",
    "MARKETING",
    "AUTHENTICATION",
    "OTP",
    "SVG",
    "PNG",
    "JPG",
    "JPEG",
}
# Inline formatting a template's own text may produce (WhatsApp's *bold* is Markdown bold,
# a line break is <br>): the blocks around it must not change, these may.
INLINE = {"strong", "em", "del", "code", "br"}

# What Markdown, HTML and terminals give a meaning to, drawn more often than at random.
MARKUP = [*"\n\r\t`<>!-#|*_~[]()&\\:=+ ", "</details>", "<!--", "```", "\x1b[", "\u202e"]
HOSTILE = [
    "x\n```\n</details>\n<!--\n# Hidden",
    'x\r\n\r\n````diff\n+ forged = "line"\n````\n',
    "<details><summary>fake</summary>\n\n",
    "\x00\x1b[2J\x1b]0;title\x07\u202e\u2028\u0085",
    "a\n\n---\n\n## Heading\n\n| a | b |\n|---|---|\n",
    "</td></tr></table><!--",
    "`` ` ``<img src=x onerror=alert(1)>",
    "\t\t\t\tindented\n    code",
]


def hostile_plans(s: str) -> list[dict[str, Any]]:
    """Plans (without and with pruning) where ``s`` is in a remote field, one plan per
    field: the order of changes follows their addresses, so each plan holds one."""
    texts = [
        {"type": "HEADER", "format": "TEXT", "text": s},
        body(s),
        {"type": "FOOTER", "text": s},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": s}]},
    ]
    order = tpl("order")
    cases: list[tuple[list[Any], list[Any]]] = [
        ([qr("poster", "hello")], [rqr(s, "m1")]),  # a warning names the code too
        ([], [rqr("C2", s)]),
        ([], [rqr("C3", "m3", image=s)]),
        ([], [rtpl(tpl(s))]),
        ([], [rtpl(tpl("lang", language=s))]),
        ([], [rtpl(tpl("cat"), category=s)]),
        ([], [rtpl(tpl("state"), status=s)]),
        ([], [rtpl(tpl("ident"), id=s)]),
        ([], [rtpl(tpl("why"), status="REJECTED", reason=s)]),
        ([], [rtpl(tpl("texts", components=texts))]),
        ([order], [rtpl(order, components=tuple(texts))]),  # a preview of the remote text
        ([order], [rtpl(order, status=s, components=(body("old"),))]),
        ([order], [rtpl(order, status="REJECTED", reason=s, components=(body("old"),))]),
    ]
    accounts = prune_settings(shop_cams=True, shop_nx=True)
    return [
        make_plan(desired, remote, **options).data()
        for desired, remote in cases
        for options in ({}, {"accounts": accounts})
    ]


class _Shape(HTMLParser):
    """The block structure of rendered HTML: its tags (but inline formatting), comments,
    and the number of lines of each preformatted block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[str] = []
        self._pre: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre = []
        if tag not in INLINE:
            self.shape.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre is not None:
            self.shape.append(f"{''.join(self._pre).count(chr(10))} lines")
            self._pre = None
        if tag not in INLINE:
            self.shape.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self._pre.append(data)

    def handle_comment(self, data: str) -> None:
        self.shape.append("<!--comment-->")


def shape(md: str) -> list[str]:
    html = cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE)
    parser = _Shape()
    parser.feed(html)
    parser.close()
    # Diff blocks that follow each other count as one: where a long run is split depends on
    # the length of the text, not on its shape.
    out: list[str] = []
    for item in parser.shape:
        if item == "<pre>" and out[-2:] == ["</code>", "</pre>"] and out[-3].endswith(" lines"):
            del out[-2:]
            continue
        if item == "<code>" and out[-1:] != ["<pre>"] and out[-1].endswith(" lines"):
            continue
        if item.endswith(" lines") and out[-1].endswith(" lines"):
            out[-1] = f"{int(out[-1].split()[0]) + int(item.split()[0])} lines"
            continue
        out.append(item)
    return out


def rendered(data: dict[str, Any], fmt: str) -> str:
    out = io.StringIO()
    render.write(data, fmt, out)
    return out.getvalue()


@functools.cache
def plain_shapes() -> list[tuple[list[str], int]]:
    """The Markdown shape and the number of text lines of each plan, with a plain word."""
    return [
        (shape(rendered(p, "markdown")), len(rendered(p, "text").splitlines()))
        for p in hostile_plans(PLAIN)
    ]


def check(s: str) -> None:
    for hostile, (md_shape, line_count) in zip(hostile_plans(s), plain_shapes(), strict=True):
        md = rendered(hostile, "markdown")
        assert shape(md) == md_shape, md
        lines = rendered(hostile, "text").splitlines()
        assert len(lines) == line_count, "\n".join(lines)
        assert all(not any(c in line for c in "\r\x00\x1b\x85\u2028") for line in lines)


@pytest.mark.parametrize("s", HOSTILE)
def test_hostile_remote_text_keeps_the_plan_shape(s: str) -> None:
    check(s)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.characters() | st.sampled_from(MARKUP), min_size=1, max_size=20).map("".join))
@example("\n")
@example("\r")
def test_any_remote_text_keeps_the_plan_shape(s: str) -> None:
    assume(s.upper() not in MEANINGFUL and (not s.strip() or s.strip().upper() not in MEANINGFUL))
    check(s)


def test_a_forged_diff_line_is_shown_on_its_own_line() -> None:
    # The reproduced attack: a code whose "name" closes the fence and the <details> block
    # and opens a comment; every later change would be hidden on GitHub.
    data = make_plan([], [rqr(HOSTILE[0], "m")], prune=True).data()
    md = markdown.render(data)
    assert "# qr.shop-cams.8615800001111.x<U+000A>```<U+000A></details>" in md
    assert "\n</details>\n<!--" not in md
    plain = text.to_text(data)
    assert "x<U+000A>```<U+000A></details><U+000A><!--<U+000A># Hidden will be deleted" in plain


def test_a_rejection_reason_from_the_provider_stays_on_its_line() -> None:
    from wasync.apply.review import Verdict
    from wasync.commands.apply import _verdict

    said = _verdict(Verdict("template.shop.x.en", "REJECTED", "PROMOTIONAL\nshop: approved"))
    assert "\n" not in said
    assert said.startswith("rejected: PROMOTIONAL")


def test_a_lone_surrogate_in_a_reply_becomes_a_replacement_character() -> None:
    import httpx

    from wasync.providers.http import Reply

    content = b'{"code": "A\\ud800B", "emoji": "\\ud83d\\ude00", "n": [1, "\\uDFFF"]}'
    body = Reply(httpx.Response(200, content=content)).body
    assert "\ud800" not in body["code"] and body["code"].startswith("A")
    assert body["code"].endswith("B")
    assert body["emoji"] == "\U0001f600"  # a valid pair is kept
    body["code"].encode("utf-8")  # plans, digests and spec files can hold it now
    body["n"][1].encode("utf-8")

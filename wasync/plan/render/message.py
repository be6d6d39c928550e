"""A template as the customer sees it: the one place that turns components into a message.

``message_of(components)`` reads canonical components (the spec's, or a provider's reply,
which is untrusted and may hold kinds wasync does not model) into a ``Message``: header,
body lines, footer, buttons and carousel cards, with the example values filled in and
WhatsApp's formatting (``*bold*``, ``_italic_``, ``~strike~``, ```` ```mono``` ````) parsed
into styled spans. Two targets render it, and each escapes every piece of text for itself:

- ``to_markdown``: a block quote for a pull-request comment (the Markdown plan). Every
  ASCII punctuation character of the text is backslash-escaped and monospace text is a
  code span fenced longer than any backtick run in it, so no text can open or close a
  code fence, a ``<details>`` block, an HTML comment, a link or a list; WhatsApp's
  styles become Markdown's (``**``, ``_``, ``~~``, code spans).
- ``to_html``: a chat bubble (the ``wasync preview`` page), through jinja2 with
  autoescape on: the text reaches the page only as escaped data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# WhatsApp's own wording for AUTHENTICATION templates (the spec gives no text for them).
OTP_BODY = "*{code}* is your verification code."
OTP_SECURITY = " For your security, do not share this code."
OTP_FOOTER = "This code expires in {minutes} minutes."
OTP_SAMPLE = "123456"
STYLES = ("bold", "italic", "strike", "mono")
_MARKERS = {"*": "bold", "_": "italic", "~": "strike"}
_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAMED_VARIABLE = re.compile(r"\{\{([a-z_]+)\}\}")
_MONO = re.compile(r"```(.+?)```", re.DOTALL)
_BUTTON_ICON = {
    "QUICK_REPLY": "↩",
    "URL": "🔗",
    "PHONE_NUMBER": "📞",
    "COPY_CODE": "📋",
    "OTP": "📋",
    "FLOW": "📝",
}
_MEDIA_ICON = {"IMAGE": "🖼", "VIDEO": "🎬", "DOCUMENT": "📄", "LOCATION": "📍"}


@dataclass(frozen=True)
class Span:
    """A run of text in one style (a set of ``STYLES``)."""

    text: str
    styles: frozenset[str] = frozenset()

    def has(self, style: str) -> bool:
        return style in self.styles


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Button:
    kind: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, or another kind
    label: str
    detail: str = ""  # where it goes or what it copies: a URL, a phone number, a code

    @property
    def icon(self) -> str:
        return _BUTTON_ICON.get(self.kind, "▫")


@dataclass(frozen=True)
class Media:
    kind: str  # IMAGE, VIDEO, DOCUMENT, LOCATION
    sample: str = ""  # the sample file's URL or path in the spec folder, where there is one

    @property
    def icon(self) -> str:
        return _MEDIA_ICON.get(self.kind, "▫")


@dataclass(frozen=True)
class Card:
    media: Media | None = None
    body: tuple[Line, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Message:
    header: Line | None = None  # a text header
    media: Media | None = None  # or a media header
    body: tuple[Line, ...] = ()
    footer: str | None = None
    buttons: tuple[Button, ...] = ()
    cards: tuple[Card, ...] = ()
    # components wasync does not show (a kind it does not model), by type
    hidden: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return self == Message()


# --- reading components ----------------------------------------------------------------------


def message_of(components: Sequence[Any]) -> Message:
    """The message of canonical ``components`` (tolerant: a remote reply may hold anything)."""
    parts = [c for c in components if isinstance(c, Mapping)]
    kinds = [str(c.get("type", "")) for c in parts]
    auth = _is_authentication(parts)
    header: Line | None = None
    media: Media | None = None
    body: tuple[Line, ...] = ()
    footer: str | None = None
    buttons: tuple[Button, ...] = ()
    cards: tuple[Card, ...] = ()
    hidden: list[str] = []
    for kind, c in zip(kinds, parts, strict=True):
        if kind == "HEADER":
            media, text = _header(c)
            if text is not None:
                header = _plain_line(text)
        elif kind == "BODY":
            body = _lines(_otp_body(c) if auth else _filled(c, "body"))
        elif kind == "FOOTER":
            footer = _footer(c)
        elif kind == "BUTTONS":
            buttons = _buttons(c, auth)
        elif kind == "CAROUSEL":
            cards = tuple(
                _card(card) for card in _list(c.get("cards")) if isinstance(card, Mapping)
            )
        else:
            hidden.append(kind or "(no type)")
    return Message(header, media, body, footer, buttons, cards, tuple(hidden))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_authentication(parts: Sequence[Mapping[str, Any]]) -> bool:
    """An OTP template (a button of type OTP): WhatsApp writes its text."""
    return any(
        isinstance(b, Mapping) and b.get("type") == "OTP"
        for c in parts
        if c.get("type") == "BUTTONS"
        for b in _list(c.get("buttons"))
    )


def _examples(c: Mapping[str, Any], kind: str) -> list[str]:
    example = c.get("example")
    if not isinstance(example, Mapping):
        return []
    if kind == "header":
        return [_str(v) for v in _list(example.get("header_text"))]
    rows = _list(example.get("body_text"))
    return [_str(v) for v in _list(rows[0])] if rows else []


def fill(text: str, values: Sequence[str]) -> str:
    """``text`` with ``{{n}}`` replaced by the n-th example value; a variable without an
    example stays as it is, so a reviewer sees it."""

    def value(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return values[n - 1] if 0 < n <= len(values) and values[n - 1] else m.group(0)

    return _VARIABLE.sub(value, text)


def _filled(c: Mapping[str, Any], kind: str) -> str:
    text = fill(_str(c.get("text")), _examples(c, kind))
    example = c.get("example")
    named = example.get(f"{kind}_text_named_params") if isinstance(example, Mapping) else None
    if not isinstance(named, list):
        return text
    values = {
        _str(e.get("param_name")): _str(e.get("example")) for e in named if isinstance(e, Mapping)
    }
    return _NAMED_VARIABLE.sub(lambda m: values.get(m.group(1)) or m.group(0), text)


def _header(c: Mapping[str, Any]) -> tuple[Media | None, str | None]:
    fmt = _str(c.get("format")) or "TEXT"
    if fmt == "TEXT":
        return None, _filled(c, "header")
    example = c.get("example")
    sample = ""
    if isinstance(example, Mapping):
        sample = _str(example.get("header_url")) or _str(example.get("header_file"))
    return Media(fmt, sample), None


def _otp_body(c: Mapping[str, Any]) -> str:
    code = (_examples(c, "body") or [OTP_SAMPLE])[0] or OTP_SAMPLE
    text = OTP_BODY.format(code=code)
    if c.get("add_security_recommendation") is True:
        text += OTP_SECURITY
    return text


def _footer(c: Mapping[str, Any]) -> str | None:
    minutes = c.get("code_expiration_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool):
        return OTP_FOOTER.format(minutes=minutes)
    text = _str(c.get("text"))
    return text or None


def _buttons(c: Mapping[str, Any], auth: bool) -> tuple[Button, ...]:
    out = []
    for b in _list(c.get("buttons")):
        if not isinstance(b, Mapping):
            continue
        kind = _str(b.get("type"))
        label = _str(b.get("text"))
        detail = ""
        if kind == "URL":
            examples = [_str(v) for v in _list(b.get("example"))]
            detail = examples[0] if examples and examples[0] else _str(b.get("url"))
        elif kind == "PHONE_NUMBER":
            detail = _str(b.get("phone_number"))
        elif kind == "COPY_CODE":
            label, detail = "Copy offer code", _str(b.get("example"))
        elif kind == "OTP":
            otp = _str(b.get("otp_type"))
            if otp == "ONE_TAP":
                label = _str(b.get("autofill_text")) or "Autofill"
                detail = f"or {_str(b.get('text')) or 'Copy code'} where autofill is not available"
            elif otp == "ZERO_TAP":
                label, detail = label or "Copy code", "the code fills in by itself on Android"
            else:
                label = label or "Copy code"
        elif kind == "FLOW":
            detail = _str(b.get("flow_name")) or _str(b.get("flow_id"))
        out.append(Button(kind or "(no type)", label or kind or "(no text)", detail))
    return tuple(out)


def _card(card: Mapping[str, Any]) -> Card:
    media: Media | None = None
    body: tuple[Line, ...] = ()
    buttons: tuple[Button, ...] = ()
    for c in _list(card.get("components")):
        if not isinstance(c, Mapping):
            continue
        kind = c.get("type")
        if kind == "HEADER":
            media, text = _header(c)
            if text:  # a text header on a card: shown as the card's first line
                body = (_plain_line(text), *body)
        elif kind == "BODY":
            body = (*body, *_lines(_filled(c, "body")))
        elif kind == "BUTTONS":
            buttons = _buttons(c, auth=False)
    return Card(media, body, buttons)


# --- WhatsApp's formatting ------------------------------------------------------------------


def _lines(text: str) -> tuple[Line, ...]:
    """Body text as styled lines. ```mono``` may span lines; the other styles stay within
    one line, as WhatsApp shows them."""
    if not text:
        return ()
    lines: list[list[Span]] = [[]]
    pos = 0
    for m in _MONO.finditer(text):
        _add_text(lines, text[pos : m.start()], mono=False)
        _add_text(lines, m.group(1), mono=True)
        pos = m.end()
    _add_text(lines, text[pos:], mono=False)
    return tuple(tuple(line) for line in lines)


def _add_text(lines: list[list[Span]], text: str, *, mono: bool) -> None:
    for i, part in enumerate(text.split("\n")):
        if i:
            lines.append([])
        if not part:
            continue
        if mono:
            lines[-1].append(Span(part, frozenset({"mono"})))
        else:
            lines[-1].extend(_styled(part, frozenset()))


def _plain_line(text: str) -> Line:
    """A header: one line, shown in bold by WhatsApp, without formatting of its own."""
    text = " ".join(text.split("\n"))
    return (Span(text),) if text else ()


def _styled(text: str, styles: frozenset[str]) -> list[Span]:
    """Spans of one line: ``*x*`` bold, ``_x_`` italic, ``~x~`` strike, nested as WhatsApp
    nests them. A marker opens at the start or after a character that is not a letter or
    digit, before a non-space; it closes before a non-letter-or-digit, after a non-space."""
    out: list[Span] = []
    plain_from = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _MARKERS and _opens(text, i):
            end = _closing(text, i)
            if end is not None:
                if i > plain_from:
                    out.append(Span(text[plain_from:i], styles))
                out.extend(_styled(text[i + 1 : end], styles | {_MARKERS[ch]}))
                i = plain_from = end + 1
                continue
        i += 1
    if plain_from < len(text):
        out.append(Span(text[plain_from:], styles))
    return _merged(out)


def _opens(text: str, i: int) -> bool:
    before_ok = i == 0 or not text[i - 1].isalnum()
    return before_ok and i + 1 < len(text) and not text[i + 1].isspace()


def _closing(text: str, i: int) -> int | None:
    marker = text[i]
    j = text.find(marker, i + 2)
    while j != -1:
        if not text[j - 1].isspace() and (j + 1 == len(text) or not text[j + 1].isalnum()):
            return j
        j = text.find(marker, j + 1)
    return None


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if out and out[-1].styles == s.styles:
            out[-1] = Span(out[-1].text + s.text, s.styles)
        elif s.text:
            out.append(s)
    return out


# --- Markdown --------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_NBSP = "\u00a0"


def md_text(text: str) -> str:
    """Plain text that Markdown shows as it is, on one line: each ASCII punctuation
    character escaped, line breaks made spaces (a caller breaks lines itself)."""
    text = text.replace("\t", "    ").replace("\r", " ").replace("\n", " ")
    return _PUNCTUATION.sub(r"\\\1", text)


def md_code(text: str) -> str:
    """A code span: fenced with more backticks than any run inside, padded where the text
    starts or ends with one (or is all spaces), so that the text is shown verbatim."""
    text = text.replace("\r", " ").replace("\n", " ")
    ticks = "`" * (1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _md_span(span: Span) -> str:
    if span.has("mono"):
        return md_code(span.text)
    text = md_text(span.text)
    # Markdown's emphasis may not start or end on a space: keep those outside the markers.
    core = text.strip(" ")
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip(" "))]
    trail = text[len(text.rstrip(" ")) :]
    for style, mark in (("strike", "~~"), ("italic", "_"), ("bold", "**")):
        if span.has(style):
            core = f"{mark}{core}{mark}"
    return lead + core + trail


def md_line(line: Line) -> str:
    """One line of a message; its leading spaces kept as no-break spaces (four plain ones
    would make a code block)."""
    text = "".join(_md_span(s) for s in line)
    stripped = text.lstrip(" ")
    return _NBSP * (len(text) - len(stripped)) + stripped


def _md_button(b: Button) -> str:
    label = f"{b.icon} **{md_text(b.label)}**"
    return f"{label} · {md_text(b.detail)}" if b.detail else label


def _md_media(m: Media) -> str:
    what = f"{m.icon} _{m.kind.lower()}_"
    return f"{what} · {md_text(m.sample)}" if m.sample else what


def _md_body(lines: Sequence[Line]) -> list[str]:
    return [md_line(line) or _NBSP for line in lines]


def to_markdown(message: Message) -> str:
    """The message as a Markdown block quote: one line per line of the message, hard
    breaks between them; cards follow as nested quotes."""
    rows: list[str] = []
    if message.media is not None:
        rows.append(_md_media(message.media))
    if message.header:
        rows.append(f"**{md_text(''.join(s.text for s in message.header).strip())}**")
    rows += _md_body(message.body)
    if message.footer:
        rows.append(f"<sub>{md_text(message.footer)}</sub>")
    blocks = [_quote(rows)] if rows else []
    if message.buttons:
        blocks.append(_quote([_md_button(b) for b in message.buttons]))
    for n, card in enumerate(message.cards, start=1):
        card_rows = [f"**card {n}**"]
        if card.media is not None:
            card_rows.append(_md_media(card.media))
        card_rows += _md_body(card.body)
        card_rows += [_md_button(b) for b in card.buttons]
        blocks.append(_quote(card_rows, depth=2))
    if message.hidden:
        kinds = ", ".join(md_text(k) for k in message.hidden)
        blocks.append(_quote([f"_not shown: {kinds}_"]))
    if not blocks:
        return _quote(["_(no text)_"])
    return "\n>\n".join(blocks)


def _quote(rows: Sequence[str], depth: int = 1) -> str:
    prefix = "> " * depth
    return "<br>\n".join(f"{prefix}{row}" for row in rows)


# --- HTML --------------------------------------------------------------------------------------

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Any:
    """The jinja2 environment of every HTML wasync writes: autoescape on for everything,
    and ``v``, which shows hidden and control characters (``wasync.output.visible``)."""
    import jinja2

    from wasync.output import visible

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
    )
    env.filters["v"] = visible
    return env


def to_html(message: Message) -> str:
    """The message as an HTML chat bubble; every text escaped by jinja2's autoescape."""
    return str(environment().get_template("bubble.html.j2").render(m=message))


@dataclass(frozen=True)
class PageEntry:
    """One template on the preview page."""

    address: str
    account: str
    name: str
    language: str
    category: str
    message: Message


def page_html(title: str, entries: Sequence[PageEntry]) -> str:
    """The static preview page: every entry as a chat bubble, grouped by account, in
    address order. Nothing in it runs or loads anything."""
    ordered = sorted(entries, key=lambda e: e.address)
    accounts: dict[str, list[PageEntry]] = {}
    for e in ordered:
        accounts.setdefault(e.account, []).append(e)
    template = environment().get_template("page.html.j2")
    return str(template.render(title=title, count=len(ordered), accounts=list(accounts.items())))

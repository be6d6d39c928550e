"""wasync.output in process: what ``visible`` shows, and the guarded streams."""

from __future__ import annotations

import io
import os

import pytest

from wasync import output
from wasync.log import register_secret
from wasync.output import GuardedStream, has_hidden, visible


def test_visible_shows_exactly_the_hidden_characters() -> None:
    hidden = set(output._HIDDEN)
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue  # surrogates cannot be in a str read from UTF-8
        assert has_hidden(chr(cp)) is (cp in hidden), hex(cp)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, ünïcödé, 中文, 🎉", "plain text, ünïcödé, 中文, 🎉"),
        ("lines\nand\ttabs stay", "lines\nand\ttabs stay"),
        (
            "family 👨\u200d👩\u200d👧 and ZWNJ \u200c stay",
            "family 👨\u200d👩\u200d👧 and ZWNJ \u200c stay",
        ),
        ("\x1b[31mred\x1b[0m", "<U+001B>[31mred<U+001B>[0m"),
        ("csi \x9b2J", "csi <U+009B>2J"),
        ("Pay \u202e1 USD", "Pay <U+202E>1 USD"),
        ("\u2066isolate\u2069", "<U+2066>isolate<U+2069>"),
        ("zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"),
        ("tag \U000e0041", "tag <U+E0041>"),
        ("line\u2028separator", "line<U+2028>separator"),
    ],
)
def test_visible(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_a_guarded_stream_redacts_and_escapes_what_it_cannot_encode() -> None:
    register_secret("guarded-secret-0a1b")
    raw = io.BytesIO()
    inner = io.TextIOWrapper(raw, encoding="latin-1", write_through=True)
    stream = GuardedStream(inner)  # type: ignore[arg-type]
    stream.write("key guarded-secret-0a1b, café, 中文\n")
    stream.flush()
    assert raw.getvalue().decode("latin-1") == "key ***, café, \\u4e2d\\u6587\n"
    with pytest.raises(AttributeError):
        stream.buffer  # noqa: B018 - bytes written underneath would skip the redaction


def test_a_closed_pipe_ends_the_output_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_broken", False)
    read_end, write_end = os.pipe()
    os.close(read_end)
    inner = os.fdopen(write_end, "w", encoding="utf-8")
    try:
        stream = GuardedStream(inner)
        stream.write("x" * 100_000)
        stream.flush()
        stream.write("more")  # nothing is raised, nothing more is tried
        assert output.broken_pipe()
    finally:
        inner.close()

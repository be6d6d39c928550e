"""stdout and stderr as the ``wasync`` command writes them.

``guard_streams`` (called once by ``wasync.cli.main``) wraps both so that:

- every registered secret is redacted from everything written, whatever wrote it: a
  renderer, click, a provider's message inside an error, a progress line;
- a character the stream's encoding cannot hold (an emoji on a latin-1 terminal,
  ``PYTHONIOENCODING=ascii``) is written as a backslash escape instead of crashing;
- a reader that went away (``wasync plan | head -1``) ends the output quietly: the rest goes
  to the null device, the command finishes its work, and ``broken_pipe()`` tells ``main``
  to exit with 141 (128 + SIGPIPE, what a shell reports for a writer cut off by its pipe)
  instead of printing a traceback. As for any writer, that is known only when a write
  fails: output that fits in the pipe's buffer (64 KiB on Linux) may be written in full
  before the reader leaves, and the exit code is then the command's own.

``visible`` is for text that came from outside (a provider's reply, a spec): it shows the
characters that could rewrite or disguise what a terminal or a pull-request page displays;
``one_line`` also shows newlines and tabs, for text printed where one line is expected.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Any, TextIO

from wasync.log import redact

_broken = False
# Text longer than this is written in pieces of this size, each flushed (``GuardedStream``).
CHUNK = 16384

# Characters that move the cursor, start terminal escape sequences, reorder text (bidi
# overrides and isolates: "Trojan Source") or take no room at all. Newline and tab stay;
# the zero-width joiners stay too, as emoji and several scripts need them.
_HIDDEN = [
    *range(0x00, 0x09),
    *range(0x0B, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0xAD,
    0x061C,
    0x180E,
    0x200B,
    0x200E,
    0x200F,
    *range(0x2028, 0x202F),
    *range(0x2060, 0x2070),
    *range(0xD800, 0xE000),  # lone surrogates: JSON can spell them, UTF-8 cannot hold them
    0xFEFF,
    *range(0xFFF9, 0xFFFC),
    *range(0xE0000, 0xE0080),
]
_SHOWN = {cp: f"<U+{cp:04X}>" for cp in _HIDDEN}


def _character_class(codepoints: list[int]) -> str:
    """``[a-b...]`` from sorted code points: ranges keep the search about 100x faster
    than a class listing each character."""
    parts, start, prev = [], codepoints[0], codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        first, last = re.escape(chr(start)), re.escape(chr(prev))
        parts.append(first if start == prev else f"{first}-{last}")
        start = prev = cp
    return "[" + "".join(parts) + "]"


_HIDDEN_RE = re.compile(_character_class(sorted(_HIDDEN)))


def has_hidden(text: str) -> bool:
    # Most text is printable ASCII, which holds none: two C-speed tests, no regex search.
    if text.isascii() and text.isprintable():
        return False
    return _HIDDEN_RE.search(text) is not None


def visible(text: str) -> str:
    """``text`` with each hidden or control character written as ``<U+XXXX>``."""
    return text.translate(_SHOWN) if has_hidden(text) else text


_BREAKS = {0x0A: "<U+000A>", 0x09: "<U+0009>"}


def one_line(text: str) -> str:
    """``text`` for a place that holds one line (a name, an address, a reason): as
    ``visible``, and newlines and tabs shown too, so that text from outside cannot start
    a line of its own (and pass for a line wasync wrote)."""
    text = visible(text)
    return text.translate(_BREAKS) if "\n" in text or "\t" in text else text


class GuardedStream:
    """A text stream that redacts, never fails to encode, and survives a closed pipe.

    It has no ``buffer``: writing bytes underneath it would bypass the redaction (click
    looks for one to fix a misconfigured encoding; without it, click writes here).
    """

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self._dead = False

    def write(self, text: str) -> int:
        if self._dead:
            return len(text)
        clean = redact(text)
        try:
            if len(clean) <= CHUNK:
                self._write(clean)
            else:
                # A pipe takes one large write in part when its reader leaves (`| head -1`),
                # and Python then reports no error: the rest is lost without a trace. Each
                # chunk is flushed on its own, so a reader that left is noticed.
                for start in range(0, len(clean), CHUNK):
                    self._write(clean[start : start + CHUNK])
                    self._inner.flush()
        except OSError as exc:
            self._closed_pipe(exc)
        return len(text)

    def _write(self, text: str) -> None:
        try:
            self._inner.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._inner, "encoding", None) or "ascii"
            self._inner.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._dead:
            return
        try:
            self._inner.flush()
        except OSError as exc:
            self._closed_pipe(exc)

    def _closed_pipe(self, exc: OSError) -> None:
        if exc.errno != errno.EPIPE:
            raise exc
        global _broken
        _broken = True
        self._dead = True
        # Point the file descriptor at the null device, so that the interpreter's own
        # flush at exit finds nothing to complain about.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._inner.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._inner, name)


def guard_streams() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` (once); a closed one becomes the null device."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, GuardedStream):
            continue
        if stream is None:  # started with the descriptor closed (`wasync plan >&-`)
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        setattr(sys, name, GuardedStream(stream))


def broken_pipe() -> bool:
    """Whether a reader closed stdout or stderr before wasync finished writing."""
    return _broken

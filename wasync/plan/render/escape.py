"""Text from the specs or the remote, made safe where a renderer puts it.

Every renderer passes outside text through these where it enters a line, so that a remote
name, code, language, status or reason holding a newline, a control character or Markdown
cannot forge a line of the plan, close a fence or a ``<details>`` block, or open an HTML
comment that hides what follows. Field values need none of this: they are JSON, whose
strings escape every control character.
"""

from __future__ import annotations

from wasync.output import one_line


def line(text: str) -> str:
    """``text`` on one line, every control, hidden or line-breaking character shown as
    ``<U+XXXX>`` (``wasync.output.one_line``)."""
    return one_line(text)

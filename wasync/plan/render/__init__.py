"""Renderers of a plan's data view: ``text`` (terminal), ``markdown`` (PR comment), ``json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from wasync.output import has_hidden
from wasync.plan.render import common, text
from wasync.plan.render.common import Data

FORMATS = ("text", "markdown", "json")


def write(data: Data, fmt: str, file: TextIO) -> None:
    """Write the plan in format ``fmt`` to ``file`` (colour only for text on a terminal).

    Text and Markdown are read by people: hidden characters are shown (``common.shown``).
    JSON is for programs and keeps every string as it is."""
    if fmt == "text":
        console = text.console_for(file)
        if console.color_system is None:
            file.write(_for_people(text.to_text, data))
        else:
            text.render(common.shown(data), console)
    elif fmt == "markdown":
        # Each format's module loads only when it is asked for (the Markdown one draws
        # every template as a message: most of what a terminal plan would import for nothing).
        from wasync.plan.render import markdown

        file.write(_for_people(markdown.render, data))
    elif fmt == "json":
        from wasync.plan.render import json

        file.write(json.render(data))
    else:
        raise ValueError(f"unknown plan format {fmt!r}; use one of {', '.join(FORMATS)}")


def _for_people(render: Callable[[Data], str], data: Data) -> str:
    """``render(data)``, redone on ``common.shown(data)`` only when it holds a hidden
    character: showing them walks every string, and plans can be large."""
    out = render(data)
    return render(common.shown(data)) if has_hidden(out) else out

"""Renderers of a plan's data view: ``text`` (terminal), ``markdown`` (PR comment), ``json``."""

from __future__ import annotations

from typing import TextIO

from wasync.plan.render import json, markdown, text
from wasync.plan.render.common import Data

FORMATS = ("text", "markdown", "json")


def write(data: Data, fmt: str, file: TextIO) -> None:
    """Write the plan in format ``fmt`` to ``file`` (colour only for text on a terminal)."""
    if fmt == "text":
        text.render(data, text.console_for(file))
    elif fmt == "markdown":
        file.write(markdown.render(data))
    elif fmt == "json":
        file.write(json.render(data))
    else:
        raise ValueError(f"unknown plan format {fmt!r}; use one of {', '.join(FORMATS)}")

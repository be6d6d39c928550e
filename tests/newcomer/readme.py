"""The README's commands, as tests read them: tagged blocks and every `wasync` line."""

from __future__ import annotations

import re
import shlex

from .support import REPO

README = REPO / "README.md"
_TAGGED = re.compile(r"<!-- readme-test: ([\w-]+) -->\n```\w*\n(.*?)```", re.DOTALL)
_FENCED = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)


def tagged(name: str) -> str:
    """The body of the code block right after ``<!-- readme-test: name -->``."""
    blocks = {m.group(1): m.group(2) for m in _TAGGED.finditer(README.read_text("utf-8"))}
    assert name in blocks, f"README.md has no block tagged readme-test: {name}"
    return blocks[name]


def command_lines() -> list[list[str]]:
    """Every `wasync ...` command in the README's shell blocks, as argument lists (the
    program first), including those chained with && and those run from .venv/bin."""
    out = []
    for lang, body in _FENCED.findall(README.read_text("utf-8")):
        if lang != "sh":
            continue
        for line in body.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0].endswith("wasync"):
                    out.append(["wasync", *words[1:]])
    return out

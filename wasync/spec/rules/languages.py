"""Template language codes (``wasync/data/languages.txt``)."""

from __future__ import annotations

import difflib
import functools
from importlib import resources


@functools.cache
def known_languages() -> frozenset[str]:
    text = resources.files("wasync").joinpath("data/languages.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def nearest_languages(code: str, n: int = 3) -> list[str]:
    """Known codes that ``code`` was probably meant to be, best first."""
    known = known_languages()
    out: list[str] = []
    lang, _, region = code.replace("-", "_").partition("_")
    fixed = f"{lang.lower()}_{region.upper()}" if region else lang.lower()
    if fixed in known:
        out.append(fixed)
    ordered = sorted(known)
    for guess in difflib.get_close_matches(code, ordered, n=n, cutoff=0.5):
        if guess not in out:
            out.append(guess)
    if len(out) < n and lang:
        out += [k for k in ordered if k.split("_")[0] == lang.lower() and k not in out]
    return out[:n]

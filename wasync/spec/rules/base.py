"""What every rule module shares: where a resource is, and helpers for common checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wasync.errors import Location, Problem
from wasync.spec.explain import format_path
from wasync.spec.yaml import DataPath, PathPart, Positions


@dataclass
class Ctx:
    """One resource under check: its address and positions. Rules report through it:
    ``error`` for what the provider would refuse, ``warn`` for what it may not take.

    ``base`` is the resource's path in its file (``("templates", 3)``); rules give paths
    relative to the resource, which are also the breadcrumbs users see.
    """

    address: str
    positions: Positions
    base: DataPath = ()
    # The spec folder, where files a spec names (media samples) are found; None: files
    # are not looked at (their paths and names are still checked).
    files: Path | None = None
    looked_at_files: bool = False  # a rule read ``files``: the verdict may change with them
    problems: list[Problem] = field(default_factory=list)
    # Things to know that are no error: the spec is valid, but relies on something the
    # provider does not document (``wasync validate`` prints them and still passes).
    warnings: list[Problem] = field(default_factory=list)

    def locate(self, path: Sequence[PathPart] = (), *, key: bool = False) -> Location:
        return self.positions.locate((*self.base, *path), key=key)

    def error(self, path: Sequence[PathPart], message: str, *, key: bool = False) -> None:
        self.problems.append(
            Problem(
                message,
                location=self.locate(path, key=key),
                address=self.address,
                field=format_path(path) or None,
            )
        )

    def warn(self, path: Sequence[PathPart], message: str) -> None:
        self.warnings.append(
            Problem(
                message,
                location=self.locate(path),
                address=self.address,
                field=format_path(path) or None,
            )
        )

    # --- common checks ---------------------------------------------------------------------

    def length(
        self, path: Sequence[PathPart], text: str, maximum: int, *, what: str = "text"
    ) -> bool:
        """Non-blank and at most ``maximum`` characters; False (and reported) if not."""
        if not text.strip():
            self.error(path, f"empty; write the {what} (1 to {maximum} characters)")
            return False
        if len(text) > maximum:
            self.error(path, f"{len(text)} characters; at most {maximum} allowed")
            return False
        return True

    def one_line(self, path: Sequence[PathPart], text: str) -> bool:
        """No line breaks or tabs (only body text and QR messages may have them)."""
        if "\n" in text or "\t" in text:
            what = "a line break" if "\n" in text else "a tab"
            self.error(path, f"has {what}; this field is one line of text")
            return False
        return True

    def short_text(self, path: Sequence[PathPart], text: str, maximum: int) -> None:
        """A one-line label: non-blank, at most ``maximum`` characters, one line."""
        if self.length(path, text, maximum):
            self.one_line(path, text)


def article(word: str) -> str:
    """``an IMAGE``, ``a VIDEO``: the word with its indefinite article."""
    vowel = word[:1].upper() in "AEIOU" and not word.upper().startswith(("ONE", "U"))
    return f"{'an' if vowel else 'a'} {word}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"

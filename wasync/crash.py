"""Crash reports for internal errors: version, command, traceback; secrets redacted.

As pre-commit does it: a bug is not the user's to debug, so the terminal gets two lines and
the details go to a file, ready to attach to a bug report. The file is created new (never
through an existing name or link) and readable by its owner only, because CI runners share
their temporary folder. Every registered secret is redacted, and so is the value of any
command-line option that takes a key (``sandbox serve --access-key-secret``).
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
import tempfile
import traceback
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from wasync import __version__
from wasync.log import REDACTED, redact

SECRET_OPTIONS = frozenset({"--access-key-id", "--access-key-secret"})
LIBRARIES = ("click", "httpx", "pydantic", "ruamel.yaml", "starlette", "uvicorn")


def command_line(argv: Sequence[str]) -> str:
    """``argv`` as a shell line, with the values of key-taking options hidden."""
    words: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            words.append(REDACTED)
            hide_next = False
            continue
        name, eq, _ = word.partition("=")
        if name in SECRET_OPTIONS:
            words.append(f"{name}={REDACTED}" if eq else word)
            hide_next = not eq
            continue
        words.append(word)
    return shlex.join(words)


def _versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the folder was deleted under us
        return "(a folder that no longer exists)"


def render(exc: BaseException, argv: Sequence[str] | None = None) -> str:
    """The report's text, redacted."""
    argv = sys.argv if argv is None else argv
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    body = "\n".join(
        [
            "### version",
            f"wasync {__version__}, Python {platform.python_version()}, {platform.platform()}",
            _versions(),
            "### command",
            "wasync " + command_line(argv[1:]),
            f"at {stamp} in {_cwd()}",
            "### traceback",
            "".join(traceback.format_exception(exc)),
        ]
    )
    return redact(body)


def report_crash(exc: BaseException, argv: Sequence[str] | None = None) -> Path | None:
    """Write a crash report and return its path; None if no file could be written."""
    text = render(exc, argv)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    try:
        # mkstemp: O_CREAT | O_EXCL, mode 0600, a fresh random name.
        fd, name = tempfile.mkstemp(prefix=f"wasync-crash-{stamp}-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError:
        return None
    return Path(name)

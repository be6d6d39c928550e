"""Crash reports for internal errors: version, command, traceback; secrets redacted."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path

from wasync import __version__
from wasync.log import redact


def report_crash(exc: BaseException) -> Path:
    """Write a crash report and return its path."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"wasync-crash-{stamp}-{os.getpid()}.log"
    body = "\n".join(
        [
            "### version",
            f"wasync {__version__}, Python {platform.python_version()}, {platform.platform()}",
            "### command",
            " ".join(sys.argv),
            "### traceback",
            "".join(traceback.format_exception(exc)),
        ]
    )
    path.write_text(redact(body), encoding="utf-8")
    return path

"""One apply at a time per spec folder: an exclusive lock on ``.wasync/apply.lock``.

The lock is an ``flock`` held for the life of the process, so a crashed or killed apply can
never leave a stale lock behind. The file records who holds it, for the refusal message.
"""

from __future__ import annotations

import datetime
import fcntl
import getpass
import json
import os
import socket
from pathlib import Path
from types import TracebackType

from wasync.errors import WasyncError

LOCK_FILE = Path(".wasync") / "apply.lock"


class ApplyLocked(WasyncError):  # noqa: N818 - reads as the state it reports
    """Another apply holds the lock."""


class ApplyLock:
    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> ApplyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.read(fd, 4096))
            os.close(fd)
            raise ApplyLocked(
                f"another wasync apply is running on this spec folder ({holder}); wait for it "
                f"to finish. The lock ({self.path}) is released when that process ends."
            ) from None
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": _user(),
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _describe(raw: bytes) -> str:
    try:
        r = json.loads(raw)
        return f"pid {r['pid']} of {r['user']} on {r['host']}, since {r['started']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"

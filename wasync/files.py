"""Files written whole or not at all."""

from __future__ import annotations

import shutil
from pathlib import Path


def write_atomically(path: Path, data: str | bytes, *, parents: bool = True) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file beside it, so a
    reader (or a crash) never sees half a file; a file that existed keeps its permissions,
    and a symbolic link keeps pointing where it did; missing folders are made unless not
    ``parents``. Callers that may write one path at
    once hold their own lock (the apply lock, an emulator's write lock); a cache written by
    two commands at once may be torn, and its readers check it."""
    target = path.resolve() if path.is_symlink() else path
    if parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.wasync-tmp")
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if target.exists():
            shutil.copymode(target, tmp)
        tmp.replace(target)
    except BaseException:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
        raise

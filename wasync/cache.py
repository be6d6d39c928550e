"""A small cache of provider replies under ``.wasync/cache/``: an optimisation, never the
truth.

A provider that reads through a cache (``UsesCache``) is given the session's
``CacheStore`` and keeps one ``CacheFile`` per account, named by a digest of what
identifies the account (never a credential). Each entry's key says which version of the
remote object it holds (e.g. a template's code, language and last update time), so a
changed object is never answered from the cache: its new key misses. A file that cannot
be read, or holds another format or kind, is ignored and rebuilt; ``fresh`` (``wasync
plan --refresh-cache``) ignores every file. Entries not used by a command are dropped
when the file is written, so the file holds what the remote holds now. Write failures
are ignored: the next command reads the remote again.

``BlobCache`` keeps values computed from local files (parsed spec files) under a key made
from their content: it never answers for a file that changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from wasync.files import write_atomically

CACHE_DIR = Path(".wasync") / "cache"
FORMAT = 1


class CacheFile:
    """One account's entries of one kind: ``get`` and ``put`` by key, ``save`` once."""

    def __init__(self, path: Path, kind: str, *, fresh: bool = False) -> None:
        self.path = path
        self.kind = kind
        self._entries: dict[str, Any] = {} if fresh else self._read()
        self._used: set[str] = set()
        self._changed = fresh and path.exists()  # rewritten, even if nothing is put
        self.hits = 0
        self.misses = 0

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # absent, unreadable or not JSON: rebuilt
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("kind") != self.kind
            or not isinstance(data.get("entries"), dict)
        ):
            return {}  # another format, or another kind: rebuilt
        entries: dict[str, Any] = data["entries"]
        return entries

    def get(self, key: str) -> Any | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._used.add(key)
        return found

    def put(self, key: str, value: Any) -> None:
        self._entries[key] = value
        self._used.add(key)
        self._changed = True

    def discard(self, key: str) -> None:
        """An entry that turned out unusable: not kept."""
        if self._entries.pop(key, None) is not None:
            self._changed = True
        self._used.discard(key)

    def save(self) -> None:
        """Write the entries used since the file was read (when anything changed)."""
        stale = len(self._used) < len(self._entries)
        if not (self._changed or stale) or (not self._used and not self.path.exists()):
            return
        kept = {key: self._entries[key] for key in sorted(self._used) if key in self._entries}
        text = json.dumps(
            {"format": FORMAT, "kind": self.kind, "entries": kept},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        with contextlib.suppress(OSError):  # a cache that cannot be written is no error
            write_atomically(self.path, text)
        self._entries, self._changed = kept, False


class CacheStore:
    """The cache files of one command, in ``folder`` (``<spec folder>/.wasync/cache``)."""

    def __init__(self, folder: Path | None, *, fresh: bool = False) -> None:
        self.folder = folder
        self.fresh = fresh
        self._files: dict[str, CacheFile] = {}

    def file(self, name: str, kind: str) -> CacheFile | None:
        """The file ``<name>.json`` (None when the store has no folder: no cache)."""
        if self.folder is None:
            return None
        if name not in self._files:
            self._files[name] = CacheFile(self.folder / f"{name}.json", kind, fresh=self.fresh)
        return self._files[name]

    def save(self) -> None:
        for cache in self._files.values():
            cache.save()


@runtime_checkable
class UsesCache(Protocol):
    """A provider that keeps replies in the session's cache (``CacheStore``)."""

    def use_cache(self, store: CacheStore) -> None: ...


class BlobCache:
    """Values computed from a file's content, one file each in ``folder``, named by a key
    that the caller derives from everything the value depends on (a digest of the content
    and of how it was read): a changed input has a new key, so it never meets a stale
    value. Values are JSON data (tuples come back as lists), kept behind a digest of their
    text: a truncated, corrupt or foreign file is ignored, and overwritten when the value
    is put again.
    """

    MAGIC = b"wasync-blob-1:"

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._used: set[str] = set()
        self._put = False

    def _path(self, key: str) -> Path | None:
        return self.folder / f"{key}.bin" if self.folder is not None else None

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head = len(self.MAGIC)
        digest, payload = blob[head : head + 32], blob[head + 32 :]
        if not blob.startswith(self.MAGIC) or hashlib.sha256(payload).digest() != digest:
            return None
        try:
            value = json.loads(payload)
        except ValueError:  # pragma: no cover - the digest matched
            return None
        self._used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        if path is None:
            return
        self._used.add(key)
        self._put = True
        try:
            payload = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError):  # not JSON data (or text UTF-8 cannot hold)
            return
        blob = self.MAGIC + hashlib.sha256(payload).digest() + payload
        with contextlib.suppress(OSError):  # a cache that cannot be written is no error
            write_atomically(path, blob)

    def prune(self) -> None:
        """Remove the entries neither got nor put since this cache was made (the values of
        files that changed or went away), once something new was put."""
        if self.folder is None or not self._put:
            return
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.bin"):
                if path.stem not in self._used:
                    path.unlink(missing_ok=True)

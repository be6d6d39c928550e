"""Which spec files passed every rule, and under what: a file whose text, wasync.yaml's
accounts and wasync itself are as they were when it last passed without a problem or a
warning is not checked again (at 20,000 resources, a tenth of a plan's CPU).

A verdict is kept in the parse cache (``BlobCache``) under a key made of everything the
rules read: the file's parse key (its text), each account's provider traits, the accounts
declared, the groups, whether sample files are looked at, and wasync's own code (its
version and the size and time of every file of the package, so an edited rule is never
answered by an old verdict). A file whose check looked at other files (media samples)
gets no verdict: those files may change on their own.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import wasync
from wasync.traits import ProviderTraits


def checking_inputs(
    accounts: Mapping[str, ProviderTraits],
    declared: Collection[str],
    providers: Sequence[ProviderTraits],
    groups: Mapping[str, Sequence[str]],
    check_files: bool,
) -> str:
    """A digest of everything but the file itself that the rules depend on."""
    inputs = {
        "code": _code_digest(),
        "accounts": _plain(accounts),
        "declared": sorted(declared),
        "providers": sorted((_plain(p) for p in providers), key=repr),
        "groups": _plain(groups),
        "check_files": check_files,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def verdict_key(inputs: str, parse_key: str) -> str:
    """The cache key of "this text passed under these inputs"."""
    return "checked-" + hashlib.sha256(f"{inputs}:{parse_key}".encode()).hexdigest()


@functools.cache
def _code_digest() -> str:
    """wasync's version and the size and modification time of each of its files."""
    package = Path(wasync.__file__).parent
    seen: list[str] = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]  # byte code follows the source
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            seen.append(f"{os.path.relpath(path, package)}:{info.st_size}:{info.st_mtime_ns}")
    text = ";".join([wasync.__version__, *sorted(seen)])
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as JSON data that is the same in every process (sets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return [type(value).__name__, fields]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)

"""Writing what import decided: new entries appended per file, entries replaced in place,
every file written atomically; then the proof that the folder as written loads and plans as
no change for every entry written, or every file is restored."""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from pathlib import Path

from wasync.errors import SpecError
from wasync.importer.account import Target, read_specs
from wasync.importer.result import ImportResult
from wasync.model import JsonDict, Remote
from wasync.plan import plan
from wasync.spec.load import LoadedSpecs
from wasync.spec.write import SpecFile

IMPORTED_DIR = "imported"


class ImportBugError(RuntimeError):
    """What import wrote does not load or plan clean: a bug (files are restored)."""


class Writer:
    """Collects entries per file, writes them, and proves the result."""

    def __init__(self, directory: Path, target: Target, specs: LoadedSpecs) -> None:
        self.directory = directory
        self.target = target
        self.specs = specs
        self.files: dict[Path, SpecFile] = {}
        self.written: dict[str, JsonDict] = {}  # address -> entry, for the final proof
        self._added: dict[Path, list[tuple[str, str, JsonDict, dict[str, str]]]] = defaultdict(list)

    def file_of(self, address: str) -> str:
        """The spec file that declares ``address`` (``?`` for none)."""
        where = self.specs.source_map.locate(address)
        return where.file if where else "?"

    def _open(self, path: Path, header: str | None = None) -> SpecFile:
        if path not in self.files:
            self.files[path] = SpecFile(path, header=header)
        return self.files[path]

    def add(self, address: str, entry: JsonDict, notes: dict[str, str]) -> None:
        """A new entry, for ``<DIR>/imported/<account>-<kind>.yaml``."""
        kind = "qr_codes" if address.startswith("qr.") else "templates"
        stem = "qr-codes" if kind == "qr_codes" else "templates"
        path = self.directory / IMPORTED_DIR / f"{self.target.name}-{stem}.yaml"
        self._added[path].append((address, kind, entry, notes))

    def replace(self, address: str, entry: JsonDict) -> None:
        """``entry`` in place of the spec entry at ``address``, in its own file."""
        where = self.specs.source_map.locate(address)
        assert where is not None, address
        kind = "qr_codes" if address.startswith("qr.") else "templates"
        spec = self._open(Path(where.file))
        index = spec.index_of(kind, address)
        assert index is not None, address
        spec.replace(kind, index, entry)
        self.written[address] = entry

    def commit(self, result: ImportResult, remote: Remote) -> None:
        """Write every file changed, then prove; on any failure put every file back."""
        for path, items in sorted(self._added.items()):
            spec = self._open(path, header=_header(self.target.name))
            for address, kind, entry, notes in sorted(items, key=lambda x: x[0]):
                spec.append(kind, entry, notes=notes)
                self.written[address] = entry
            result.added[str(path)] = sorted(a for a, *_ in items)
        changed = {path: spec for path, spec in self.files.items() if spec.changed}
        if not changed:
            return
        made_dir = not (self.directory / IMPORTED_DIR).exists()
        try:
            for path, spec in changed.items():
                _write_atomically(path, spec.render())
            self._prove(remote)
        except BaseException:
            for path, spec in changed.items():
                if spec.existed:
                    _write_atomically(path, spec.original)
                else:
                    path.unlink(missing_ok=True)
            if made_dir:
                with contextlib.suppress(OSError):
                    (self.directory / IMPORTED_DIR).rmdir()
            raise

    def _prove(self, remote: Remote) -> None:
        """The folder as written loads, and plans as no change for every entry written."""
        try:
            # A sample file the provider does not return is the user's to put in place
            # (the entry's note says where): the proof does not look for it.
            _, desired = read_specs(self.directory, self.target.name, check_files=False)
        except SpecError as exc:
            raise ImportBugError(f"the specs written do not validate:\n{exc}") from None
        after = plan(desired, remote, accounts={self.target.name: self.target.settings})
        left = sorted({c.address for c in after.changes} & set(self.written))
        if left:
            raise ImportBugError(f"entries written would still change: {', '.join(left)}")


def _header(account: str) -> str:
    return (
        f"Written by `wasync import --account {account}`: what the account held then.\n"
        "Edit freely. A later import adds only what is new; entries here that differ from\n"
        "the account are reported and left as they are (--overwrite takes the remote's)."
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.wasync-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

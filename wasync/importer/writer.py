"""Writing what import decided: new entries appended per file, entries replaced in place,
pins set on entries that found their code by message, every file written atomically; then
the proof that the folder as written loads and plans as no change for every entry written,
or every file is restored. A file that gets pins only changes on the pinned lines, as when
apply writes pins (``wasync.spec.write``), or it is left alone and the pins reported."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from pathlib import Path

from wasync.errors import SpecError
from wasync.files import write_atomically
from wasync.importer.account import Target, read_specs
from wasync.importer.result import ImportResult
from wasync.model import JsonDict, Remote
from wasync.plan import plan
from wasync.spec.load import LoadedSpecs
from wasync.spec.write import (
    PinWriteError,
    SpecFile,
    check_only_pins_changed,
    plain,
)

IMPORTED_DIR = "imported"
# Templates that several accounts hold alike, as one entry for all of them (fan-out).
SHARED_TEMPLATES = "shared-templates.yaml"


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
        self.pins: dict[Path, dict[str, str]] = defaultdict(dict)  # file -> address -> code
        self._edited: set[Path] = set()  # files with edits other than pins
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

    def can_replace(self, address: str) -> bool:
        """Whether ``address`` has an entry of its own to rewrite (not one entry for several
        targets, whose rewrite would change the others too)."""
        where = self.specs.source_map.locate(address)
        if where is None:
            return False
        kind = "qr_codes" if address.startswith("qr.") else "templates"
        return self._open(Path(where.file)).index_of(kind, address) is not None

    def replace(self, address: str, entry: JsonDict) -> None:
        """``entry`` in place of the spec entry at ``address``, in its own file."""
        where = self.specs.source_map.locate(address)
        assert where is not None, address
        kind = "qr_codes" if address.startswith("qr.") else "templates"
        spec = self._open(Path(where.file))
        index = spec.index_of(kind, address)
        assert index is not None, address
        spec.replace(kind, index, entry)
        self._edited.add(Path(where.file))
        self.written[address] = entry

    def pin(self, address: str, code: str) -> None:
        """``code:`` on the QR entry at ``address``, in its own file."""
        where = self.specs.source_map.locate(address)
        assert where is not None, address
        self.pins[Path(where.file)][address] = code

    def _set_pins(self, result: ImportResult) -> None:
        """Put the pins into their files: a file with no other edit must change on its
        pinned lines only, or it gets none (and they are reported)."""
        for path, pins in sorted(self.pins.items()):
            spec = self._open(path)
            for address, code in sorted(pins.items()):
                found = spec.pin(address, code)
                assert found, address
            done = [(address, str(path), code) for address, code in sorted(pins.items())]
            if path not in self._edited and path not in self._added:
                try:
                    # an entry for several targets takes its pins under overrides
                    targets = {part for a in pins for part in a.split(".")[1:3]}
                    keys = ["overrides", *sorted(targets)]
                    check_only_pins_changed(spec.original, spec.render(), pins.values(), keys=keys)
                except PinWriteError as exc:
                    del self.files[path], self.pins[path]  # not written: left as it is
                    result.unpinned += [(*d, str(exc)) for d in done]
                    continue
            result.pinned += done

    def commit(self, result: ImportResult, remote: Remote) -> None:
        """Write every file changed, then prove; on any failure put every file back."""
        self._set_pins(result)
        for path, items in sorted(self._added.items()):
            spec = self._open(path, header=_header(self.target.name))
            added = []
            for address, kind, entry, notes in sorted(items, key=lambda x: x[0]):
                self.written[address] = entry
                folded = self._fold(entry) if kind == "templates" and not notes else None
                if folded is not None:
                    result.added.setdefault(str(folded), []).append(address)
                    continue
                spec.append(kind, entry, notes=notes)
                added.append(address)
            if added:
                result.added[str(path)] = added
        changed = {path: spec for path, spec in self.files.items() if spec.changed}
        if not changed:
            return
        made_dir = not (self.directory / IMPORTED_DIR).exists()
        try:
            for path, spec in changed.items():
                write_atomically(path, spec.render())
            self._prove(remote)
        except BaseException:
            for path, spec in changed.items():
                if spec.existed:
                    write_atomically(path, spec.original)
                else:
                    path.unlink(missing_ok=True)
            if made_dir:
                with contextlib.suppress(OSError):
                    (self.directory / IMPORTED_DIR).rmdir()
            raise

    def _fold(self, entry: JsonDict) -> Path | None:
        """Fold a new template ``entry`` into an imported entry of other accounts that is the
        same but for ``account``: one entry with the list of accounts, in
        ``imported/shared-templates.yaml`` (moved there from an account's own file). The
        folder of the spec file it went to; None where no entry is the same."""
        me = self.target.name
        same = _but_account(entry)
        folder = self.directory / IMPORTED_DIR
        shared_path = folder / SHARED_TEMPLATES
        paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if shared_path in self.files and shared_path not in paths:
            paths.insert(0, shared_path)  # made earlier in this run
        for path in paths:
            spec = self._open(path)
            for index, raw in enumerate(spec.data.get("templates") or ()):
                names = _accounts_of(raw)
                if names is None or me in names or _but_account(plain(raw)) != same:
                    continue
                shared = self._open(shared_path, header=SHARED_HEADER)
                if path == shared_path:
                    spec.replace("templates", index, {**plain(raw), "account": [*names, me]})
                else:
                    spec.remove("templates", index)
                    shared.append("templates", {**plain(raw), "account": [*names, me]})
                self._edited.update({path, shared_path})
                return shared_path
        return None

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
        # A pinned entry keeps the code it matched: no create, no stale pin.
        pinned = {address for pins in self.pins.values() for address in pins}
        lost = sorted(
            {c.address for c in after.changes if c.action == "create"}
            | {a for w in after.warnings for a in w.addresses}
        )
        lost = [a for a in lost if a in pinned]
        if lost:
            raise ImportBugError(f"entries pinned lost their code: {', '.join(lost)}")


def _but_account(entry: JsonDict) -> str:
    return json.dumps({k: v for k, v in entry.items() if k != "account"}, sort_keys=True)


def _accounts_of(raw: object) -> list[str] | None:
    """The accounts of an entry that may take one more: ``account:`` one name or a list
    of names, and nothing per target (no groups, overrides or translations)."""
    if not isinstance(raw, dict) or "overrides" in raw or "translations" in raw:
        return None
    account = raw.get("account")
    if isinstance(account, str):
        return [account]
    if isinstance(account, list) and all(isinstance(a, str) for a in account):
        return [str(a) for a in account]
    return None


SHARED_HEADER = (
    "Written by `wasync import`: templates that several accounts hold alike, one entry for\n"
    "all of them (account: [...]). Edit freely; give one account other values with\n"
    "overrides: {<account>: {...}}."
)


def _header(account: str) -> str:
    return (
        f"Written by `wasync import --account {account}`: what the account held then.\n"
        "Edit freely. A later import adds only what is new; entries here that differ from\n"
        "the account are reported and left as they are (--overwrite takes the remote's)."
    )

"""Load a spec folder: every ``*.yaml`` / ``*.yml`` under it (except ``wasync.yaml`` and
hidden folders), in sorted order, into the canonical ``Desired`` state.

An entry may stand for several resources (``wasync.spec.fanout``: several accounts or
numbers, per-target overrides, translations); each is a resource of its own, with the
address and checks a one-target entry has, and its problems point at where the entry
writes the field at fault.

Each resource is validated on its own, so every problem names the resource's address; then
come the checks across resources (duplicate addresses, accounts) and WhatsApp's rules. All
problems of a run are collected and returned together (``wasync.loading`` raises them as one
``SpecError`` with wasync.yaml's).

What an account's provider allows comes in as its traits (``read_specs``'s ``accounts``):
this module knows no provider and does not read wasync.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from wasync.cache import CACHE_DIR, BlobCache
from wasync.errors import Location, Problem
from wasync.model import Desired, QrCode, Template, address_of
from wasync.spec import CONFIG_FILE
from wasync.spec.checked import checking_inputs, verdict_key
from wasync.spec.explain import describe, did_you_mean, explain, format_path
from wasync.spec.fanout import FannedPositions, expand, is_fanned
from wasync.spec.rules import Ctx, check
from wasync.spec.yaml import (
    DEFAULT_LIMITS,
    DataPath,
    Limits,
    PathPart,
    Positions,
    YamlProblems,
    read_yaml,
)
from wasync.traits import ProviderTraits

SPEC_SUFFIXES = (".yaml", ".yml")
PARSE_CACHE = CACHE_DIR / "specs"
KINDS: dict[str, type[QrCode] | type[Template]] = {"qr_codes": QrCode, "templates": Template}


class SourceMap:
    """Where each resource (and each of its fields) is declared, by address."""

    def __init__(self) -> None:
        self._where: dict[str, tuple[Positions, DataPath]] = {}

    def add(self, address: str, positions: Positions, base: DataPath) -> None:
        self._where[address] = (positions, base)

    def __contains__(self, address: object) -> bool:
        return address in self._where

    def __len__(self) -> int:
        return len(self._where)

    def declared_under(self, prefix: str) -> list[tuple[Location, str]]:
        """Where each resource whose address is ``prefix`` or starts with ``prefix.`` is
        declared, in file order."""
        found = []
        for address in self._where:
            if address == prefix or address.startswith(prefix + "."):
                where = self.locate(address)
                if where is not None:
                    found.append((where, address))
        return sorted(found)

    def locate(
        self, address: str, field: Sequence[PathPart] = (), *, key: bool = False
    ) -> Location | None:
        """The position of ``field`` (a path like ``("components", 0, "text")``) of the
        resource at ``address``; of the resource itself when ``field`` is empty. ``None``
        for an address no spec declares."""
        found = self._where.get(address)
        if found is None:
            return None
        positions, base = found
        return positions.locate((*base, *field), key=key)


@dataclass(frozen=True)
class LoadedSpecs:
    desired: Desired
    source_map: SourceMap
    files: tuple[str, ...]  # as shown in messages, in load order
    # what is valid but relies on a guess about the provider (``wasync validate`` shows it)
    warnings: tuple[Problem, ...] = ()

    def summary(self) -> str:
        """``12 templates, 5 QR codes in 3 files``."""
        t, q, f = len(self.desired.templates), len(self.desired.qr_codes), len(self.files)
        return (
            f"{t} template{'s' * (t != 1)}, {q} QR code{'s' * (q != 1)} in {f} file{'s' * (f != 1)}"
        )


def spec_files(directory: Path) -> tuple[list[PurePosixPath], list[Problem]]:
    """Relative paths of the spec files under ``directory``, sorted; and any folder that
    could not be read. Symbolic links are followed, each real folder and file once (a file
    reached twice counts where it sorts first). Anything named like a spec that is not a
    folder is listed, so that reading it reports what it is (a FIFO, a device, a broken
    link) instead of skipping it silently."""
    found: list[PurePosixPath] = []
    problems: list[Problem] = []
    seen_dirs: set[str] = set()
    pending: list[tuple[Path, PurePosixPath]] = [(directory, PurePosixPath())]
    while pending:
        folder, rel = pending.pop()
        real = os.path.realpath(folder)
        if real in seen_dirs:
            continue  # a link back to a folder already walked (or a loop)
        seen_dirs.add(real)
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                Problem(f"cannot read folder: {exc.strerror or exc}", Location(str(folder), 1, 1))
            )
            continue
        for entry in listing:
            name = entry.name
            if name.startswith("."):
                continue  # .wasync/, .git/, .github/, editor files
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False  # a link loop the OS refuses to follow
            if is_dir:
                pending.append((Path(entry.path), rel / name))
            elif name.endswith(SPEC_SUFFIXES) and name != CONFIG_FILE:
                found.append(rel / name)
    found.sort(key=lambda p: p.parts)
    unique: list[PurePosixPath] = []
    seen_files: set[str] = set()
    for rel in found:
        real = os.path.realpath(directory / rel)
        if real not in seen_files:
            seen_files.add(real)
            unique.append(rel)
    return unique, problems


class _Loader:
    def __init__(
        self,
        accounts: Mapping[str, ProviderTraits],
        declared: Collection[str],
        limits: Limits,
        providers: Sequence[ProviderTraits],
        check_files: bool = True,
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.check_files = check_files
        self.groups = groups or {}
        self.accounts = accounts
        self.declared = declared
        self.limits = limits
        self.providers = providers
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.source_map = SourceMap()
        self.pinned: dict[tuple[str, str, str], Location] = {}
        self.qr_codes: list[QrCode] = []
        self.templates: list[Template] = []
        self.directory: Path | None = None  # the spec folder: files specs name are in it
        # The file being read passed every rule before, under the same inputs (``checked``).
        self.passed_before = False
        self.looked_at_files = False  # a check of the file being read looked at other files

    def load(self, directory: Path) -> LoadedSpecs:
        self.directory = directory if self.check_files else None
        files, problems = spec_files(directory)
        self.problems += problems
        shown: list[str] = []
        # Parsed files by content (``read_yaml``): a large folder parses in a second, and
        # most files are the same from one plan to the next.
        cache = BlobCache(directory / PARSE_CACHE)
        inputs = checking_inputs(
            self.accounts, self.declared, self.providers, self.groups, self.check_files
        )
        for rel in files:
            name = str(directory / rel)
            shown.append(name)
            try:
                doc = read_yaml(directory / rel, name, self.limits, cache)
            except YamlProblems as exc:
                self.problems += exc.problems
                continue
            verdict = verdict_key(inputs, doc.key) if doc.key is not None else None
            self.passed_before = verdict is not None and cache.get(verdict) is True
            self.looked_at_files = False
            found = len(self.problems), len(self.warnings)
            self._file(doc.data, doc.positions)
            del doc  # the file's data: only the resources built from it are kept
            clean = found == (len(self.problems), len(self.warnings))
            if verdict is not None and clean and not (self.passed_before or self.looked_at_files):
                cache.put(verdict, True)
        cache.prune()
        desired = Desired(qr_codes=tuple(self.qr_codes), templates=tuple(self.templates))
        warnings = tuple(sorted(self.warnings, key=Problem.sort_key))
        return LoadedSpecs(desired, self.source_map, tuple(shown), warnings)

    def _error(
        self, positions: Positions, path: DataPath, message: str, *, key: bool = False
    ) -> None:
        self.problems.append(Problem(message, positions.locate(path, key=key)))

    def _file(self, data: Any, positions: Positions) -> None:
        if data is None:
            return  # an empty file declares nothing
        if not isinstance(data, dict):
            self._error(
                positions,
                (),
                f"expected a mapping with `qr_codes:` and/or `templates:`, got {describe(data)}",
            )
            return
        for key in data:
            if key not in KINDS:
                guess = did_you_mean(key, list(KINDS))
                if key == "accounts":
                    hint = f"accounts belong in {CONFIG_FILE}"
                elif guess:
                    hint = f"did you mean `{guess}`?"
                else:
                    hint = "allowed: qr_codes, templates"
                self._error(positions, (key,), f"unknown top-level key; {hint}", key=True)
        for kind, model in KINDS.items():
            items = data.get(kind)
            if items is None:
                continue
            if not isinstance(items, list):
                self.problems.append(
                    Problem(
                        f"expected a list of resources (- ...), got {describe(items)}",
                        positions.locate((kind,)),
                        field=kind,
                    )
                )
                continue
            for i, raw in enumerate(items):
                self._resource(kind, model, raw, positions, (kind, i))

    def _resource(
        self,
        kind: str,
        model: type[QrCode] | type[Template],
        raw: Any,
        positions: Positions,
        base: DataPath,
    ) -> None:
        if is_fanned(raw):
            self._fanned(kind, model, raw, positions, base)
        else:
            self._one(kind, model, raw, positions, base)

    def _fanned(
        self,
        kind: str,
        model: type[QrCode] | type[Template],
        raw: dict[str, Any],
        positions: Positions,
        base: DataPath,
    ) -> None:
        """An entry with several targets or languages: each resource checked on its own
        (a problem names its address), the same problem of every target said once."""
        resources, problems = expand(kind, raw, self.groups)
        entry = format_path(base)
        for p in problems:
            self.problems.append(
                Problem(
                    p.message,
                    positions.locate((*base, *p.at), key=p.key),
                    entry,
                    format_path(p.field if p.field is not None else p.at),
                )
            )
        before, warned = len(self.problems), len(self.warnings)
        for resource in resources:
            self._one(kind, model, resource.data, FannedPositions(positions, base, resource), base)
        self.problems[before:] = _said_once(self.problems[before:])
        self.warnings[warned:] = _said_once(self.warnings[warned:])

    def _one(
        self,
        kind: str,
        model: type[QrCode] | type[Template],
        raw: Any,
        positions: Positions,
        base: DataPath,
    ) -> None:
        ctx = Ctx(address_of(kind, raw) or format_path(base), positions, base, files=self.directory)
        try:
            resource = model.model_validate(raw, strict=True)
        except ValidationError as exc:
            for f in explain(exc, model, raw):
                self.problems.append(
                    Problem(
                        f.message,
                        positions.locate((*base, *f.at), key=f.key),
                        ctx.address,
                        format_path(f.path) or None,
                    )
                )
            return
        ctx.address = resource.address
        first = self.source_map.locate(ctx.address)  # None: the first declaration
        if first is not None:
            ctx.error((), f"declared twice: first at {first}; each address must be unique")
            self.problems += ctx.problems
            return
        self.source_map.add(ctx.address, positions, base)

        traits = self.accounts.get(resource.account)
        if traits is None and resource.account not in self.declared:
            names = sorted(self.declared)
            guess = did_you_mean(resource.account, names)
            hint = f"did you mean {guess!r}? " if guess else ""
            have = ", ".join(names) if names else "none"
            ctx.error(
                ("account",),
                f"no account {resource.account!r} in {CONFIG_FILE}; {hint}accounts there: {have}",
            )
        if isinstance(resource, QrCode):
            self._pin(resource, ctx)
            self.qr_codes.append(resource)
        else:
            self.templates.append(resource)
        if not self.passed_before:
            check(resource, ctx, traits, self.providers)
            self.looked_at_files |= ctx.looked_at_files
        self.problems += ctx.problems
        self.warnings += ctx.warnings

    def _pin(self, qr: QrCode, ctx: Ctx) -> None:
        if qr.code is None:
            return
        here = ctx.locate()
        key = (qr.account, qr.phone, qr.code)
        first = self.pinned.get(key)
        if first is not None:
            ctx.error(("code",), f"code {qr.code!r} is already pinned at {first}")
        else:
            self.pinned[key] = here


def _said_once(problems: list[Problem]) -> list[Problem]:
    """The problems of one entry's resources, each said once: the same message at the same
    place for several targets names the first, and how many more share it."""
    groups: dict[tuple[str, Location | None, str | None], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.message, p.location, p.field), []).append(p)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1:
            others = [p.address for p in same[1:] if p.address]
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            first = Problem(
                f"{first.message} (also {len(others)} more of this entry: {shown})",
                first.location,
                first.address,
                first.field,
            )
        out.append(first)
    return out


def read_specs(
    directory: Path,
    accounts: Mapping[str, ProviderTraits],
    *,
    declared: Collection[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    providers: Sequence[ProviderTraits] = (),
    check_files: bool = True,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> tuple[LoadedSpecs, list[Problem]]:
    """Load and check every spec file under ``directory``: what they declare, and every
    problem found (none raised).

    ``accounts`` maps each usable account of wasync.yaml to its provider's traits; accounts
    in ``declared`` (default: those of ``accounts``) that failed to load are not usable, but
    specs that name them are not also reported as naming unknown accounts. ``providers``
    are the traits of every provider there is, for advice on where a resource can go.
    Without ``check_files``, files the specs name (media samples) are not looked for.
    ``groups`` are wasync.yaml's named lists of accounts or numbers, for entries that fan
    out to a group (``account: {group: NAME}``)."""
    if declared is None:
        declared = frozenset(accounts)
    loader = _Loader(accounts, declared, limits, providers, check_files, groups)
    loaded = loader.load(directory)
    return loaded, loader.problems

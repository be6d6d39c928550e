"""Saved plans: ``wasync plan --out PLAN.json`` and ``wasync apply --plan PLAN.json``.

The file holds the plan's data view (addresses, field values, fingerprints of the remote
resources it was planned against) and a digest of the specs: resources only, never a
credential. ``apply --plan`` plans again with the saved options (``prune``, ``targets``)
and refuses to run when ``check_stale`` finds anything: the remote or the specs moved, or
the fresh plan differs from the saved one in any change, field value, hazard or threshold
(``reviewed``): the plan that runs is the plan that was reviewed, whatever the file says.
The checksum only catches accidents (a truncated or hand-edited file): anyone who can edit
the file can recompute it, and the comparison with a fresh plan is what refuses an edit.

A file is read only when it is a regular file of at most ``MAX_BYTES`` whose JSON nests at
most ``MAX_DEPTH`` levels: a device, a FIFO, a huge or a pathological file is refused
before it is parsed.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasync import __version__
from wasync.errors import WasyncError
from wasync.files import write_atomically
from wasync.model import JsonDict
from wasync.plan.digest import sha256_of
from wasync.plan.model import ACTIONS, FORMAT_VERSION, Plan

FILE_FORMAT = "wasync-plan"
FILE_FORMAT_VERSION = 1
STALE_SHOWN = 20  # stale resources named in the error before "and N more"
# A saved plan is at most this large: 20,000 changes (10,000 QR creates and as many
# deletes) take 21 MB, so this leaves room for the largest accounts while refusing a file
# no plan could be before it is parsed (parsing JSON takes several times its size).
MAX_BYTES = 64 * 1024 * 1024
# ... and nests at most this deep (a plan nests about a dozen levels: components, buttons,
# examples): deeper JSON would exhaust the parser's recursion before anything is checked.
MAX_DEPTH = 64
DIFFERENCES_SHOWN = 3  # paths named per change that differs from the fresh plan


class PlanFileError(WasyncError):
    """A file given as a saved plan cannot be used as one."""


class StalePlanError(WasyncError):
    """The remote state or the specs changed since the saved plan was made."""

    def __init__(self, path: str, stale: list[Staleness]) -> None:
        self.stale = tuple(stale)
        lines = [f"{path} is stale: what it would do is no longer what apply would do:"]
        lines += [f"  {s}" for s in stale[:STALE_SHOWN]]
        if len(stale) > STALE_SHOWN:
            lines.append(f"  ... and {len(stale) - STALE_SHOWN} more")
        lines.append("Run wasync plan again, review it, and apply the new plan.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class SavedChange:
    address: str
    action: str
    remote_fingerprint: str | None
    blocked: bool


@dataclass(frozen=True)
class SavedPlan:
    path: str
    wasync_version: str
    specs_digest: str
    prune: bool
    targets: tuple[str, ...]
    changes: tuple[SavedChange, ...]
    data: JsonDict  # the plan's data view, as the renderers take it
    checksum: str


@dataclass(frozen=True)
class Staleness:
    address: str | None  # None: the plan as a whole (specs, version, options)
    reason: str

    def __str__(self) -> str:
        return f"{self.address}: {self.reason}" if self.address else self.reason


# --- writing -------------------------------------------------------------------------------


def document(plan: Plan) -> JsonDict:
    """The saved-plan document of ``plan``."""
    data = plan.data()
    return {
        "format": FILE_FORMAT,
        "format_version": FILE_FORMAT_VERSION,
        "wasync_version": __version__,
        "specs_digest": plan.specs_digest,
        "options": {"prune": plan.prune, "targets": list(plan.targets)},
        "checksum": sha256_of(data),
        "plan": data,
    }


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` to ``path`` atomically (a reader never sees half a plan)."""
    text = json.dumps(document(plan), indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomically(path, text, parents=False)  # a mistyped folder is said, not made
    except OSError as exc:
        raise PlanFileError(f"cannot write the plan to {path}: {exc.strerror or exc}") from exc


# --- reading -------------------------------------------------------------------------------


def read_plan(path: Path) -> SavedPlan:
    """Read and check a saved plan; ``PlanFileError`` says what is wrong with the file."""
    name = str(path)
    text = _read_text(path, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{name} is not a wasync plan: not JSON (line {exc.lineno}, column {exc.colno}); "
            "write one with wasync plan --out"
        ) from exc
    except RecursionError:
        doc = None  # nested too deep for the parser: refused just below
    if doc is None or _too_deep(doc):
        raise PlanFileError(
            f"{name} is not a wasync plan: its JSON nests more than {MAX_DEPTH} levels deep; "
            "write one with wasync plan --out"
        )
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise PlanFileError(
            f'{name} is not a wasync plan (it has no "format": "{FILE_FORMAT}"); '
            "write one with wasync plan --out"
        )
    version = doc.get("format_version")
    if version != FILE_FORMAT_VERSION:
        raise PlanFileError(
            f"{name} is in plan format {version!r}, written by wasync "
            f"{doc.get('wasync_version', '(unknown)')}; this wasync ({__version__}) reads "
            f"format {FILE_FORMAT_VERSION}; run wasync plan again"
        )
    try:
        return _parse(name, doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(
            f"{name} is a damaged wasync plan ({exc}); run wasync plan again"
        ) from exc


def _read_text(path: Path, name: str) -> str:
    """The file's text, if it is a regular file of at most ``MAX_BYTES`` in UTF-8. Opened
    without blocking, so that a FIFO with no writer is refused rather than waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {name}: {exc.strerror or exc}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise PlanFileError(
            f"cannot read plan file {name}: it is {what}, not a file; give the file "
            "wasync plan --out wrote"
        )
    with os.fdopen(fd, "rb") as file:
        try:
            data = file.read(MAX_BYTES + 1)
        except OSError as exc:
            raise PlanFileError(f"cannot read plan file {name}: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise PlanFileError(
            f"{name} is not a wasync plan: it is larger than {MAX_BYTES // (1024 * 1024)} MiB, "
            "the most a saved plan may be; plan fewer resources at once (--target)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanFileError(
            f"{name} is not a wasync plan: not UTF-8 (byte offset {exc.start}); "
            "write one with wasync plan --out"
        ) from exc


def _too_deep(doc: Any) -> bool:
    """Whether ``doc`` nests deeper than ``MAX_DEPTH`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _parse(name: str, doc: JsonDict) -> SavedPlan:
    data = _typed(doc["plan"], dict, "plan")
    checksum = _typed(doc["checksum"], str, "checksum")
    if sha256_of(data) != checksum:  # an accident; an edit is caught by check_stale
        raise PlanFileError(
            f"{name} was modified after wasync wrote it (its checksum does not match); "
            "run wasync plan again"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"plan data format {data.get('format_version')!r}")
    options = _typed(doc["options"], dict, "options")
    changes = []
    for c in _typed(data["changes"], list, "plan.changes"):
        action = _typed(c["action"], str, "action")
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        fp = c["remote_fingerprint"]
        changes.append(
            SavedChange(
                address=_typed(c["address"], str, "address"),
                action=action,
                remote_fingerprint=None if fp is None else _typed(fp, str, "remote_fingerprint"),
                blocked=c["blocked"] is not None,
            )
        )
    return SavedPlan(
        path=name,
        wasync_version=_typed(doc["wasync_version"], str, "wasync_version"),
        specs_digest=_typed(doc["specs_digest"], str, "specs_digest"),
        prune=_typed(options["prune"], bool, "options.prune"),
        targets=tuple(
            _typed(t, str, "target") for t in _typed(options["targets"], list, "targets")
        ),
        changes=tuple(changes),
        data=data,
        checksum=checksum,
    )


def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"{what} is not a {kind.__name__}")
    return value


# --- staleness -----------------------------------------------------------------------------


def check_stale(saved: SavedPlan, fresh: Plan) -> list[Staleness]:
    """Everything that makes ``saved`` differ from ``fresh``, a plan made now with the saved
    options: [] means the saved plan is still exactly what apply would do."""
    out: list[Staleness] = []
    if saved.wasync_version != __version__:
        out.append(
            Staleness(None, f"written by wasync {saved.wasync_version}; this is {__version__}")
        )
    if saved.specs_digest != fresh.specs_digest:
        out.append(Staleness(None, "the specs changed since the plan was made"))
    if (saved.prune, saved.targets) != (fresh.prune, fresh.targets):
        out.append(Staleness(None, "made with other --prune or --target options"))
    before: dict[tuple[str, str], SavedChange] = {(c.address, c.action): c for c in saved.changes}
    now: dict[tuple[str, str], SavedChange] = {
        (c.address, c.action): SavedChange(
            c.address, c.action, c.remote_fingerprint, c.blocked is not None
        )
        for c in fresh.changes
    }
    for key in sorted(before.keys() | now.keys()):
        address, action = key
        b, n = before.get(key), now.get(key)
        if n is None:
            out.append(Staleness(address, f"the planned {action} is no longer needed"))
        elif b is None:
            out.append(Staleness(address, f"now needs {_a(action)} the plan does not have"))
        elif b.remote_fingerprint != n.remote_fingerprint:
            out.append(Staleness(address, "changed remotely since the plan was made"))
        elif b.blocked != n.blocked:
            state = "blocked" if n.blocked else "no longer blocked"
            out.append(Staleness(address, f"the {action} is now {state}"))
    if not out:
        out += reviewed(saved.data, fresh.data())
    return out


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


# What a saved plan must agree on with a fresh one, beyond its changes' identity: every
# member of each change but those a provider varies between two listings of an unchanged
# resource (a signed image link; a blocked change's reason, which may count hours), and
# the plan's counts and threshold violations (what --force consents to).
_VOLATILE = frozenset({"qr_image_url", "remote_fingerprint"})
_PLAN_MEMBERS = ("summary", "accounts", "threshold_violations")
_NOT_REVIEWED = frozenset({"unmanaged", "warnings"})  # counts of what apply never touches


def reviewed(saved: JsonDict, fresh: JsonDict) -> list[Staleness]:
    """Where the saved plan's data differs from ``fresh``'s (addresses and paths): [] when
    apply would do exactly what the saved plan shows, with the same hazards."""
    out: list[Staleness] = []
    fresh_changes = {(c["address"], c["action"]): c for c in fresh["changes"]}
    for change in saved.get("changes") or ():
        now = fresh_changes.get((change.get("address"), change.get("action")))
        if now is None:
            continue  # named by check_stale already
        paths = list(_differences(_comparable(change), _comparable(now)))
        if paths:
            out.append(Staleness(str(change["address"]), _differ(paths)))
    for member in _PLAN_MEMBERS:
        paths = list(_differences(_strip(saved.get(member)), _strip(fresh[member]), member))
        if paths:
            out.append(Staleness(None, _differ(paths)))
    return out


def _differ(paths: list[str]) -> str:
    shown = ", ".join(paths[:DIFFERENCES_SHOWN])
    more = f" and {len(paths) - DIFFERENCES_SHOWN} more" if len(paths) > DIFFERENCES_SHOWN else ""
    return (
        f"{shown}{more} differ from what a fresh plan says: the file was edited, or wasync "
        "now plans this change differently"
    )


def _comparable(change: Any) -> Any:
    if not isinstance(change, dict):
        return change
    out = {k: v for k, v in change.items() if k not in _VOLATILE}
    blocked = out.get("blocked")
    if isinstance(blocked, dict):
        out["blocked"] = blocked.get("code")
    return out


def _strip(value: Any) -> Any:
    """Plan-wide members without the counts of what apply never touches."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _NOT_REVIEWED}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _differences(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """The paths (``fields[2].after``) where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys(), key=str):
            here = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                yield here
            else:
                yield from _differences(a[key], b[key], here)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path or "the whole"


def ensure_fresh(saved: SavedPlan, fresh: Plan) -> None:
    """Raise ``StalePlanError`` naming every difference, if there is any."""
    stale = check_stale(saved, fresh)
    if stale:
        raise StalePlanError(saved.path, stale)

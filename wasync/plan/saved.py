"""Saved plans: ``wasync plan --out PLAN.json`` and ``wasync apply --plan PLAN.json``.

The file holds the plan's data view (addresses, field values, fingerprints of the remote
resources it was planned against) and a digest of the specs: resources only, never a
credential. ``apply --plan`` plans again with the saved options (``prune``, ``targets``)
and refuses to run when ``check_stale`` finds anything: the remote or the specs moved, so
the reviewed plan is no longer what would happen.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasync import __version__
from wasync.errors import WasyncError
from wasync.model import JsonDict
from wasync.plan.digest import sha256_of
from wasync.plan.model import ACTIONS, FORMAT_VERSION, Plan

FILE_FORMAT = "wasync-plan"
FILE_FORMAT_VERSION = 1
STALE_SHOWN = 20  # stale resources named in the error before "and N more"


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
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlanFileError(f"cannot write the plan to {path}: {exc.strerror or exc}") from exc


# --- reading -------------------------------------------------------------------------------


def read_plan(path: Path) -> SavedPlan:
    """Read and check a saved plan; ``PlanFileError`` says what is wrong with the file."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read plan file {name}: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{name} is not a wasync plan: not JSON (line {exc.lineno}, column {exc.colno}); "
            "write one with wasync plan --out"
        ) from exc
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


def _parse(name: str, doc: JsonDict) -> SavedPlan:
    data = _typed(doc["plan"], dict, "plan")
    checksum = _typed(doc["checksum"], str, "checksum")
    if sha256_of(data) != checksum:
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
            out.append(Staleness(address, f"now needs a {action} the plan does not have"))
        elif b.remote_fingerprint != n.remote_fingerprint:
            out.append(Staleness(address, "changed remotely since the plan was made"))
        elif b.blocked != n.blocked:
            state = "blocked" if n.blocked else "no longer blocked"
            out.append(Staleness(address, f"the {action} is now {state}"))
    return out


def ensure_fresh(saved: SavedPlan, fresh: Plan) -> None:
    """Raise ``StalePlanError`` naming every difference, if there is any."""
    stale = check_stale(saved, fresh)
    if stale:
        raise StalePlanError(saved.path, stale)

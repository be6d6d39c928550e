"""Starting wasync costs what the command needs and no more: a module only some commands use
is imported when they run, not by every ``validate`` and ``plan``.

Each command runs as a user starts it (its own process, through the real entry point) and
reports the modules it loaded; nothing here measures time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_runner import wasync_process

REPO = Path(__file__).resolve().parents[2]

# At exit, the child writes the names of every module it imported to the file {out!r}
# (a None entry is an import refused on purpose, not a module).
REPORT = """
import atexit, json, sys
atexit.register(lambda: open({out!r}, "w").write(
    json.dumps(sorted(name for name, module in sys.modules.items() if module is not None))
))
"""

# Loaded only by the commands that use them.
NEVER_AT_START = {
    "jinja2": "wasync preview",
    "segno": "wasync qr export",
    "uvicorn": "wasync sandbox serve",
    "deepdiff": "a diff of a list whose length changed",
    "wasync.plan.render.markdown": "plan --format markdown",
    "wasync.plan.render.json": "plan --format json",
    "wasync.plan.saved": "plan --out, apply --plan",
    "wasync.apply": "wasync apply",
    "wasync.importer": "wasync import",
    "httpx._main": "nothing: httpx's own command line, which httpx loads when click is there",
    "pygments": "nothing: highlighting for httpx's command line",
}
# validate works offline: no HTTP stack, no event loop, no emulator.
NOT_FOR_VALIDATE = {"httpx", "asyncio", "starlette", "tenacity", "rich", "wasync.sandbox"}


def modules_of(command: str, root: Path, tmp_path: Path) -> set[str]:
    out = tmp_path / f"{command}-modules.json"
    result = wasync_process(command, root, setup=REPORT.format(out=str(out)))
    assert result.exit_code == 0, result
    return set(json.loads(out.read_text()))


def loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_validate_and_plan_load_only_what_they_use(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    shutil.copytree(REPO / "specs", root, ignore=shutil.ignore_patterns(".wasync"))

    validate = modules_of("validate", root, tmp_path)
    assert "wasync.config" in validate  # the report works: the specs were checked
    assert sorted(n for n in NOT_FOR_VALIDATE | set(NEVER_AT_START) if loaded(validate, n)) == []

    # A plan against the three embedded emulators (every resource to create).
    plan = modules_of("plan", root, tmp_path)
    assert {"wasync.sandbox.cams", "wasync.sandbox.nxcloud", "wasync.sandbox.meta"} <= plan
    assert sorted(n for n in NEVER_AT_START if loaded(plan, n)) == []

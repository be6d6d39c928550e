"""`wasync show PLAN.json`: render a saved plan, as `wasync plan` printed it.

The file is read and checked as `apply --plan` reads it (format, version, checksum), so
what a reviewer sees here is what apply would be held to. Nothing is read from the
providers and no credential is needed: a CI job can show the reviewed plan anywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wasync.plan.render import write
from wasync.plan.saved import PlanFileError, read_plan


def run(plan_file: Path, *, fmt: str = "text") -> int:
    saved = read_plan(plan_file)
    try:
        write(saved.data, fmt, sys.stdout)
    except (KeyError, TypeError, AttributeError) as exc:
        # The checksum held, so the file was written this way on purpose, not by wasync.
        raise PlanFileError(
            f"{plan_file} is not a plan this wasync can show (missing or mistyped {exc}); "
            "write it again with wasync plan --out"
        ) from exc
    return 0

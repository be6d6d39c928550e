"""The machine rendering: the plan's data view as JSON (docs/plan-format.md,
wasync/plan/plan.schema.json)."""

from __future__ import annotations

import json

from wasync.plan.render.common import Data


def render(data: Data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

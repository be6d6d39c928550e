"""The machine rendering: the plan's data view as JSON, described by ``SCHEMA``
(wasync/plan/plan.schema.json) and docs/plan-format.md."""

from __future__ import annotations

import json
from pathlib import Path

from wasync.plan.render.common import Data

SCHEMA = Path(__file__).resolve().parents[1] / "plan.schema.json"


def render(data: Data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

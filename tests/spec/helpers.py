"""Small spec folders for tests: a wasync.yaml with one account per provider, plus specs."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from wasync.errors import SpecError
from wasync.loading import load_desired

CONFIG = """\
accounts:
  shop-cams:
    provider: cams
    endpoint: sandbox
    cust_space_id: cams-test-space
  shop-nx:
    provider: nxcloud
    endpoint: sandbox
    appkey: test-appkey
"""

NX_PHONE = "8618500009999"


def folder(root: Path, files: dict[str, str | bytes], config: str | None = CONFIG) -> Path:
    """Write ``files`` (relative path -> text) and a wasync.yaml under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (root / "wasync.yaml").write_text(config, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    """Every problem of the folder, as printed; [] when it loads."""
    try:
        load_desired(root, freeze=False)
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    return []


def spec_problems(root: Path, text: str, name: str = "spec.yaml") -> list[str]:
    return problems(folder(root, {name: text}))


def dump(data: Any) -> str:
    """Block-style YAML for ``data``."""
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.representer.ignore_aliases = lambda _data: True  # no &id001 for repeated values
    yaml.dump(data, out)
    return out.getvalue()


def findings(root: Path, resource: dict[str, Any], kind: str = "templates") -> list[str]:
    """``field: message`` of each problem of one resource (location and address dropped)."""
    found = problems(folder(root, {"spec.yaml": dump({kind: [resource]})}))
    out = []
    for line in found:
        # file:line:col: address: field: message
        parts = line.split(": ", 2)
        out.append(parts[2] if len(parts) == 3 else line)
    return out


def changed(base: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    resource = copy.deepcopy(base)
    change(resource)
    return resource


def case(*values: Any, id: str) -> Any:
    return pytest.param(*values, id=id)

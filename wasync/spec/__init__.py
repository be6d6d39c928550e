"""Spec files: loading with positions (``yaml``), models (``wasync.model``), WhatsApp's
rules (``rules``), and the JSON Schema for editors (``schema``).

``load_desired(directory)`` is what ``validate``, ``plan`` and ``apply`` call: it reads
wasync.yaml and every spec file and raises ``SpecError`` with every problem, so all commands
refuse invalid specs the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wasync.config import Config
    from wasync.spec.load import LoadedSpecs
    from wasync.spec.yaml import Limits

__all__ = ["load_desired"]


def load_desired(
    directory: Path,
    limits: Limits | None = None,
    *,
    freeze: bool = True,
    resolve_env: bool = True,
) -> tuple[Config, LoadedSpecs]:
    """The config and checked specs of ``directory``; raises ``ConfigError`` (no
    wasync.yaml) or ``SpecError`` (every problem found). See ``wasync.spec.load`` for
    ``freeze``."""
    # Imported here: wasync.config imports from this package, so the package itself must
    # not import wasync.config at import time.
    from wasync.spec.load import load_desired as load
    from wasync.spec.yaml import DEFAULT_LIMITS

    return load(directory, limits or DEFAULT_LIMITS, freeze=freeze, resolve_env=resolve_env)

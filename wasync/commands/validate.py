"""`wasync validate`."""

from __future__ import annotations

from typing import Any

from wasync.errors import WasyncError


def run(*args: Any, **kwargs: Any) -> int:
    raise WasyncError("`wasync validate` is not yet available in this version")

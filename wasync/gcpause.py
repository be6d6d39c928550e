"""Pausing the cyclic garbage collector around bulk work.

Loading specs and planning build hundreds of thousands of small acyclic objects; a collector
that keeps rescanning the growing graph costs as much as the work itself. Memory is still
freed by reference counting while paused.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

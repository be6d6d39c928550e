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


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """Around a command's imports: no collection while modules load, then what they made is
    frozen (``gc.freeze()``).

    Importing a command builds its pydantic models, dataclasses and regular expressions:
    hundreds of thousands of objects that live as long as the process. A collector running
    meanwhile rescans that growing graph again and again (about 60 ms of a 0.3 s ``plan``),
    and after the imports every full collection would scan it once more, to free nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()

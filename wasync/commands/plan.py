"""`wasync plan`: show what apply would change, without changing anything."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from wasync import manager
from wasync.plan.render import write
from wasync.plan.saved import write_plan
from wasync.session import Session


def run(
    directory: Path,
    *,
    fmt: str = "text",
    out: Path | None = None,
    detailed_exitcode: bool = False,
    targets: Sequence[str] = (),
    prune: bool = False,
) -> int:
    """Exit 0 (no changes, or changes without ``detailed_exitcode``), 2 (changes with it)."""
    config, specs = manager.load(directory)

    made: list[manager.Planned] = []

    async def go() -> None:
        async with Session(config) as session:
            made.append(
                await manager.make_plan(session, config, specs, prune=prune, targets=targets)
            )

    # The plan is not returned through asyncio.run: on Python 3.11 it formats its result
    # with repr() when it restores the SIGINT handler (a CPython bug), seconds of CPU and
    # tens of MB for 20,000 resources.
    asyncio.run(go())
    planned = made[0]
    write(planned.plan.data(), fmt, sys.stdout)
    if out is not None:
        write_plan(planned.plan, out)
        click.echo(
            f"Saved the plan to {out}; apply it with: wasync apply {directory} --plan {out}",
            err=True,
        )
    return 2 if detailed_exitcode and planned.plan.has_changes else 0

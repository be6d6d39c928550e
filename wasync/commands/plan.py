"""`wasync plan`: show what apply would change, without changing anything."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from wasync import manager
from wasync.plan.render import write
from wasync.session import Session

# --detailed-exitcode: changes to apply; or differences that apply cannot make (only
# blocked changes), so that CI does not stay green while the specs and the remote disagree.
EXIT_CHANGES = 2
EXIT_BLOCKED_ONLY = 4


def run(
    directory: Path,
    *,
    fmt: str = "text",
    out: Path | None = None,
    detailed_exitcode: bool = False,
    targets: Sequence[str] = (),
    prune: bool = False,
    refresh_cache: bool = False,
    verbose: bool = False,
) -> int:
    """Exit 0 (no changes, or changes without ``detailed_exitcode``); with it, 2 when there
    are changes to apply, 4 when every difference is blocked (``exit_code``)."""
    config, specs = manager.load(directory)

    made: list[manager.Planned] = []
    calls: dict[str, int] = {}

    async def go() -> None:
        async with Session(config, refresh_cache=refresh_cache) as session:
            made.append(
                await manager.make_plan(
                    session,
                    config,
                    specs,
                    prune=prune,
                    targets=targets,
                    release_sandboxes=True,  # a plan calls them no more once read
                )
            )
            calls.update(session.calls())

    # The plan is not returned through asyncio.run: on Python 3.11 it formats its result
    # with repr() when it restores the SIGINT handler (a CPython bug), seconds of CPU and
    # tens of MB for 20,000 resources.
    asyncio.run(go())
    planned = made[0]
    data = planned.plan.data()
    if fmt == "json" and verbose:  # not in the plan's own data, nor in a saved plan's
        data["provider_calls"] = calls
    write(data, fmt, sys.stdout)
    if verbose:
        click.echo(
            "Provider calls: " + (", ".join(f"{name} {n}" for name, n in calls.items()) or "none"),
            err=True,
        )
    if out is not None:
        from wasync.plan.saved import write_plan  # only plan --out saves one

        write_plan(planned.plan, out)
        click.echo(
            f"Saved the plan to {out}; apply it with: wasync apply {directory} --plan {out}",
            err=True,
        )
    return exit_code(planned.plan.data()["summary"]) if detailed_exitcode else 0


def exit_code(summary: Mapping[str, Any]) -> int:
    """``--detailed-exitcode``'s answer for a plan's summary: 2 changes to apply, 4 only
    blocked ones (apply would do nothing, yet the specs and the remote disagree), 0 none."""
    if summary["has_changes"]:
        return EXIT_CHANGES
    return EXIT_BLOCKED_ONLY if summary["blocked"] else 0

"""`wasync apply`: make the remote match the specs, then check that it does."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from wasync import manager
from wasync.apply.executor import Executor, Progress, Report, Status
from wasync.apply.lock import ApplyLock
from wasync.apply.progress import BarProgress, LineProgress, describe
from wasync.config import Config
from wasync.errors import WasyncError
from wasync.plan.render import write
from wasync.plan.saved import SavedPlan, ensure_fresh, read_plan
from wasync.session import Session
from wasync.spec.load import LoadedSpecs


class ConfirmationError(WasyncError):
    """Apply was asked to run unattended without --auto-approve."""


def run(
    directory: Path,
    *,
    plan_file: Path | None = None,
    auto_approve: bool = False,
    targets: Sequence[str] = (),
    prune: bool = False,
    force: bool = False,
) -> int:
    """Exit 0 when everything applied and nothing is left to do; 1 otherwise."""
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not auto_approve and not interactive:
        raise ConfirmationError(
            "apply needs confirmation, and there is no terminal to ask on; "
            "review the plan (wasync plan) and re-run with --auto-approve"
        )
    saved = read_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        if targets or prune:
            raise WasyncError(
                "--target and --prune come from the saved plan; run apply --plan without them"
            )
        targets, prune = saved.targets, saved.prune
    config, specs = manager.load(directory)
    with ApplyLock(config.root):
        return asyncio.run(
            _apply(config, specs, saved, targets, prune, force, auto_approve, interactive)
        )


async def _apply(
    config: Config,
    specs: LoadedSpecs,
    saved: SavedPlan | None,
    targets: Sequence[str],
    prune: bool,
    force: bool,
    auto_approve: bool,
    interactive: bool,
) -> int:
    async with Session(config) as session:
        planned = await manager.make_plan(session, config, specs, prune=prune, targets=targets)
        the_plan = planned.plan
        if saved is not None:
            ensure_fresh(saved, the_plan)
        write(the_plan.data(), "text", sys.stdout)
        if not the_plan.has_changes:
            return 0
        the_plan.check_thresholds(force=force)
        if not auto_approve and not await _confirmed():
            click.echo("Apply cancelled; nothing was changed.", err=True)
            return 1

        started = time.monotonic()
        actionable = [c for c in the_plan.changes if c.actionable]
        with _progress(interactive, len(actionable)) as progress:
            executor = Executor(session, planned.settings, progress=progress)
            with _stop_on_interrupt(executor.stop):
                report = await executor.run(the_plan, planned.remote)
        _print_report(report, time.monotonic() - started)
        if report.interrupted:
            click.echo(
                "Interrupted: calls in flight were finished, nothing new was started. "
                "Run wasync apply again to finish; it picks up from the remote state.",
                err=True,
            )
            return 1

        # The contract: after an apply, a fresh plan has nothing left to do.
        again = await manager.make_plan(session, config, specs, prune=prune, targets=targets)
        if again.plan.has_changes:
            click.echo("\nThe remote still differs from the specs after apply:")
            write(again.plan.data(), "text", sys.stdout)
            return 1
        return 1 if report.failed else 0


async def _confirmed() -> bool:
    answer = await asyncio.to_thread(
        click.prompt,
        "\nDo you want to perform these actions? Only 'yes' will be accepted",
        default="",
        show_default=False,
        err=True,
    )
    return str(answer).strip() == "yes"


@contextlib.contextmanager
def _progress(interactive: bool, total: int) -> Iterator[Progress]:
    if interactive:
        with BarProgress(sys.stderr, total) as bar:
            yield bar
    else:
        yield LineProgress(sys.stderr)


@contextlib.contextmanager
def _stop_on_interrupt(stop: asyncio.Event) -> Iterator[None]:
    """First Ctrl-C: finish the calls in flight, start nothing new. Second: abort now."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_interrupt() -> None:
        if stop.is_set():
            if task is not None:
                task.cancel()
            return
        stop.set()
        click.echo("\nStopping after the calls in flight (Ctrl-C again to abort them).", err=True)

    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _print_report(report: Report, seconds: float) -> None:
    done = report.having(Status.SUCCEEDED)
    failed = report.having(Status.FAILED)
    skipped = report.having(Status.SKIPPED)
    for title, outcomes in (("Failed", failed), ("Skipped", skipped)):
        if outcomes:
            click.echo(f"\n{title}:")
            for o in outcomes:
                click.echo(f"  {o.change.address}: {describe(o)}")
    click.echo(
        f"\nApply {'finished with errors' if failed else 'complete'}: {len(done)} succeeded, "
        f"{len(failed)} failed, {len(skipped)} skipped ({seconds:.1f} s)."
    )

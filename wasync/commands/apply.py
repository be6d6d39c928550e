"""`wasync apply`: make the remote match the specs, then check that it does."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from wasync import manager
from wasync.apply import pins
from wasync.apply.executor import Executor, Progress, Report, Status
from wasync.apply.lock import ApplyLock
from wasync.apply.progress import BarProgress, LineProgress, WaitLine, describe
from wasync.apply.review import Reviews, Verdict, wait_for_review
from wasync.config import Config
from wasync.errors import WasyncError
from wasync.model import RemoteQrCode, Template, qr_phone_address
from wasync.output import one_line
from wasync.plan.identity import duplicate_codes, match_qr_codes
from wasync.plan.render import write
from wasync.plan.saved import SavedPlan, ensure_fresh, read_plan
from wasync.plan.targets import UnknownTargetError, filter_targets, selects
from wasync.session import Session
from wasync.spec.load import LoadedSpecs

# Exit status after a second Ctrl-C abandoned calls in flight (as for any Ctrl-C elsewhere).
ABORTED_EXIT = 130


class ConfirmationError(WasyncError):
    """Apply was asked to run unattended without --auto-approve."""


# Seconds `apply --wait` waits for review by default: most reviews end within minutes.
WAIT_TIMEOUT = 900.0


@dataclass(frozen=True)
class Options:
    saved: SavedPlan | None
    targets: Sequence[str]
    prune: bool
    force: bool
    auto_approve: bool
    interactive: bool
    wait: float | None = None  # seconds to wait for review after the apply; None: no wait
    write_codes: bool = True  # write the codes of new QR codes into the specs
    codes_out: Path | None = None  # and list them, as JSON, in this file
    refresh_cache: bool = False  # ignore .wasync/cache/


def run(
    directory: Path,
    *,
    plan_file: Path | None = None,
    auto_approve: bool = False,
    targets: Sequence[str] = (),
    prune: bool = False,
    force: bool = False,
    wait: bool = False,
    wait_timeout: float | None = None,
    no_write_codes: bool = False,
    codes_out: Path | None = None,
    refresh_cache: bool = False,
) -> int:
    """Exit 0 when everything applied and nothing is left to do (and, with ``wait``, every
    template it submitted was approved); 1 otherwise. Pins that cannot be written are
    reported loudly, and do not change the exit code."""
    if wait_timeout is not None and not wait:
        raise WasyncError("--wait-timeout goes with --wait; add --wait, or leave it out")
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not auto_approve and not interactive:
        raise ConfirmationError(
            "apply needs confirmation and there is no terminal to ask on; nothing was "
            "changed. Review the plan (wasync plan --out PLAN.json), then run "
            "wasync apply --plan PLAN.json --auto-approve"
        )
    saved = read_plan(plan_file) if plan_file is not None else None
    if saved is not None:
        if targets or prune:
            raise WasyncError(
                "--target and --prune come from the saved plan; run apply --plan without them"
            )
        targets, prune = saved.targets, saved.prune
    config, specs = manager.load(directory)
    within = (WAIT_TIMEOUT if wait_timeout is None else wait_timeout) if wait else None
    options = Options(
        saved,
        targets,
        prune,
        force,
        auto_approve,
        interactive,
        wait=within,
        write_codes=not no_write_codes,
        codes_out=codes_out,
        refresh_cache=refresh_cache,
    )
    with ApplyLock(config.root):
        return asyncio.run(_apply(config, specs, options))


async def _apply(config: Config, specs: LoadedSpecs, options: Options) -> int:
    async with Session(config, refresh_cache=options.refresh_cache) as session:
        planned = await manager.make_plan(
            session, config, specs, prune=options.prune, targets=options.targets
        )
        the_plan = planned.plan
        if options.saved is not None:
            ensure_fresh(options.saved, the_plan)
        write(the_plan.data(), "text", sys.stdout)
        if not the_plan.has_changes:
            return 0
        the_plan.check_thresholds(force=options.force)
        if not options.auto_approve and not await _confirmed():
            click.echo("Apply cancelled; nothing was changed.", err=True)
            return 1

        started = time.monotonic()
        with _progress(options.interactive, len(the_plan.actionable)) as progress:
            executor = Executor(session, planned.settings, progress=progress)
            with _interrupts(executor.stop) as aborted:
                try:
                    report = await executor.run(the_plan, planned.remote)
                except asyncio.CancelledError:
                    if not aborted():
                        raise
                    _uncancel()
                    report = executor.report
                    report.interrupted = True
        _print_report(report, time.monotonic() - started)
        made = pins.made_codes(report, specs)
        _show_made(made)
        pinning = pins.write(made, enabled=options.write_codes)
        _show_pinned(pinning)
        listed = _write_codes_out(options.codes_out, made, pinning)
        # The check below plans with the pins in place: they must keep every entry's code.
        specs = pins.pinned_specs(specs, made)
        if aborted():
            finished = sum(1 for o in report.outcomes if o.change.actionable)
            unfinished = len(the_plan.actionable) - finished
            click.echo(
                f"Aborted: {unfinished} changes were not finished, and calls in flight were "
                "abandoned, so some may or may not have taken effect. Run wasync plan to see "
                "where things stand; wasync apply picks up from there.",
                err=True,
            )
            _show_unpinned(pinning)  # last, so that it is not missed
            return ABORTED_EXIT
        if report.interrupted:
            click.echo(
                "Interrupted: the calls in flight were finished and nothing new was started. "
                "Run wasync apply again to finish; it picks up from the remote state.",
                err=True,
            )
            _show_unpinned(pinning)
            return 1
        code = await _check(session, config, specs, options) or (1 if report.failed else 0)
        _show_unpinned(pinning)
        code = code or (0 if listed else 1)
        if options.wait is None:
            return code
        return await _wait(session, report, options.wait, options.interactive) or code


async def _check(session: Session, config: Config, specs: LoadedSpecs, options: Options) -> int:
    """The contract: after an apply, a fresh plan has nothing left to do, and no entry has
    copies of its code at the provider. 1 if it has."""
    try:
        again, targets = await _replan(session, config, specs, options)
    except WasyncError as exc:
        click.echo(
            f"\nApplied, but reading the remote state back failed: {exc}\n"
            "Run wasync plan to check that nothing is left to do.",
            err=True,
        )
        return 1
    differs = again.plan.has_changes
    if differs:
        click.echo("\nThe remote still differs from the specs after apply:")
        write(again.plan.data(), "text", sys.stdout)
    if _report_duplicates(again, targets) or differs:
        return 1
    click.echo("Checked: a fresh plan finds nothing left to do.")
    return 0


async def _replan(
    session: Session, config: Config, specs: LoadedSpecs, options: Options
) -> tuple[manager.Planned, Sequence[str] | None]:
    """The check's plan, with the apply's ``--target`` filter, and the targets it kept (None:
    no filter). A target that named only what the apply deleted (``--prune --target`` of a
    code) names nothing now: it is dropped, not an error; with none left, nothing is
    selected."""
    try:
        again = await manager.make_plan(
            session, config, specs, prune=options.prune, targets=options.targets
        )
        return again, (options.targets or None)
    except UnknownTargetError:
        pass
    full = await manager.make_plan(session, config, specs, prune=options.prune)
    known = full.plan.known_addresses
    kept = [t for t in options.targets if any(selects(t, a) for a in known)]
    if kept:
        return replace(full, plan=filter_targets(full.plan, kept)), kept
    nothing = replace(
        full.plan, changes=(), unmanaged=(), warnings=(), targets=tuple(options.targets)
    )
    return replace(full, plan=nothing), kept


def _report_duplicates(again: manager.Planned, targets: Sequence[str] | None) -> bool:
    """Part of the check: QR codes at the provider that copy what an entry asks for, besides
    the code the entry has. Another apply from another copy of these specs (another checkout,
    which the folder's lock cannot see) ran at the same time, and the window between reading
    a phone again and creating let both create. Says how to delete the copies; True if any."""
    entries = list(again.specs.desired.qr_codes)  # the remote holds the accounts read
    if targets is not None:
        entries = [q for q in entries if any(selects(t, q.address) for t in targets)]
    found = duplicate_codes(entries, again.remote.qr_codes)
    if not found:
        return False
    copies = [c for f in found for c in f.copies]
    n = len(copies)
    click.echo(
        f"\nDuplicate QR codes: {n} code{'s' * (n != 1)} at the provider copy what an entry "
        "already has (another apply from another copy of these specs ran at the same time?):"
    )
    for f in found:
        also = ", ".join(one_line(c.code) for c in f.copies)
        click.echo(f"  {f.entry.address}: code {one_line(f.code.code)}; also {also}")
    command = " ".join(["wasync apply --prune", *(f"--target {t}" for t in _copies(again, copies))])
    click.echo(
        "No entry claims the copies, and none is pinned in these specs: each entry keeps its "
        f"own code. Delete the copies with\n  {one_line(command)}\n(wasync plan with the same "
        "options shows the deletes first). If the other copy of the specs pinned them, apply "
        "from one copy only, and bring the other up to date (its pins) before applying from it."
    )
    return True


def _copies(again: manager.Planned, copies: Sequence[RemoteQrCode]) -> list[str]:
    """``--target`` addresses that select exactly ``copies`` for deletion: a phone where every
    code no entry claims is a copy and nothing else is left to do, else each copy by its
    code."""
    matches = match_qr_codes(again.specs.desired.qr_codes, again.remote.qr_codes)
    targets = []
    for (account, phone), found in matches.items():
        these = sorted(c.address for c in copies if (c.account, c.phone) == (account, phone))
        whole = qr_phone_address(account, phone)
        pending = any(selects(whole, c.address) for c in again.plan.changes if c.action != "delete")
        if these and len(these) == len(found.unclaimed) and not pending:
            targets.append(whole)
        else:
            targets += these
    return targets


async def _wait(session: Session, report: Report, within: float, interactive: bool) -> int:
    """``--wait``: until each template this apply created or updated leaves review; print
    each verdict. 1 when any was not approved, or was still in review when time ran out."""
    submitted = [
        o.change.desired
        for o in report.having(Status.SUCCEEDED)
        if isinstance(o.change.desired, Template) and o.change.action in ("create", "update")
    ]
    if not submitted:
        click.echo("No template went to review; nothing to wait for.")
        return 0
    line = WaitLine(sys.stderr, interactive)
    stop = asyncio.Event()  # Ctrl-C once: stop waiting, and report what is known
    with _interrupts(stop) as aborted:
        try:
            reviews = await wait_for_review(
                session, submitted, within=within, progress=line, stop=stop
            )
        except asyncio.CancelledError:
            if not aborted():
                raise
            _uncancel()
            line.done()
            click.echo("Stopped waiting; the templates' review goes on.", err=True)
            return ABORTED_EXIT
    line.done()
    return _print_reviews(reviews, within)


def _print_reviews(reviews: Reviews, within: float) -> int:
    click.echo(f"\nReview ({reviews.seconds:.0f} s):")
    for verdict in reviews.verdicts:
        click.echo(f"  {verdict.address}: {_verdict(verdict)}")
    for template in reviews.waiting:
        click.echo(f"  {template.address}: still in review")
    approved = sum(v.approved for v in reviews.verdicts)
    rejected = sum(v.status == "REJECTED" for v in reviews.verdicts)
    other = len(reviews.not_approved) - rejected
    counts = [f"{approved} approved", f"{rejected} rejected"]
    counts += [f"{other} not approved otherwise"] if other else []
    counts += [f"{len(reviews.waiting)} still in review"] if reviews.waiting else []
    click.echo(f"Review {'ended' if not reviews.waiting else 'not over'}: {', '.join(counts)}.")
    if reviews.not_approved:
        n = len(reviews.not_approved)
        click.echo(
            f"{n} template{' was' if n == 1 else 's were'} not approved (reasons above): fix "
            "the spec as the reason says and apply again (a rejected template can be edited).",
            err=True,
        )
    if reviews.waiting:
        n = len(reviews.waiting)
        why = "waiting was stopped" if reviews.stopped else f"{within:g} s passed"
        click.echo(
            f"{n} template{' was' if n == 1 else 's were'} still in review when {why}; wasync "
            "plan shows their status later, or wait longer with --wait-timeout.",
            err=True,
        )
    return 1 if reviews.not_approved or reviews.waiting else 0


def _verdict(verdict: Verdict) -> str:
    """``approved``, ``rejected: PROMOTIONAL`` (the provider's reason), ``not approved
    (PAUSED)``; provider text may hold anything, so hidden characters are shown."""
    if verdict.status is None:
        return "gone: the provider no longer lists it"
    if verdict.approved:
        return "approved"
    if verdict.status == "REJECTED":
        said = f"rejected: {verdict.reason}" if verdict.reason else "rejected"
    else:
        said = f"not approved ({verdict.status})"
        said += f": {verdict.reason}" if verdict.reason else ""
    return one_line(said)


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
def _interrupts(stop: asyncio.Event) -> Iterator[Callable[[], bool]]:
    """While changes run: the first Ctrl-C (or SIGTERM) finishes the calls in flight and
    starts nothing new; a second one abandons them. Yields "was it abandoned?".

    Outside this block Ctrl-C keeps its usual meaning (stop at once; nothing is half-done
    while planning), so the previous handlers are put back afterwards."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    aborted = False

    def on_signal() -> None:
        nonlocal aborted
        if stop.is_set():
            if not aborted and task is not None:
                aborted = True
                click.echo("\nAborting the calls in flight.", err=True)
                task.cancel()
            return
        stop.set()
        click.echo("\nStopping after the calls in flight (Ctrl-C again to abandon them).", err=True)

    installed: list[tuple[signal.Signals, Any]] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append((signum, previous))
    try:
        yield lambda: aborted
    finally:
        for signum, previous in installed:
            loop.remove_signal_handler(signum)
            signal.signal(signum, previous)


def _uncancel() -> None:
    """Forget the cancellation the abort asked for, so the report can still be written."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _print_report(report: Report, seconds: float) -> None:
    done = report.having(Status.SUCCEEDED)
    failed = report.having(Status.FAILED)
    skipped = report.having(Status.SKIPPED)
    for title, outcomes in (("Failed", failed), ("Skipped", skipped)):
        if outcomes:
            click.echo(f"\n{title}:")
            for o in outcomes:
                click.echo(f"  {o.change.address}: {describe(o)}")
    state = "finished with errors" if failed else "interrupted" if report.interrupted else "done"
    click.echo(
        f"\nApply {state}: {len(done)} succeeded, {len(failed)} failed, "
        f"{len(skipped)} skipped ({seconds:.1f} s)."
    )


def _show_made(made: Sequence[pins.MadeCode]) -> None:
    """What the new QR codes are, for whoever prints them."""
    if not made:
        return
    click.echo("\nQR codes made (print these; the old code of a replacement no longer works):")
    for m in made:
        verb = "created" if m.action == "create" else "replaced"
        verb = "adopted (another apply made it meanwhile; not created again)" if m.adopted else verb
        # Codes and links come from the provider: one line each, whatever they hold.
        click.echo(f"  {one_line(m.address)}: {verb}")
        click.echo(f"    code:      {one_line(m.code)}")
        if m.action == "replace":
            click.echo(f"    old code:  {one_line(m.old_code or '')} (no longer works)")
        click.echo(f"    deep link: {one_line(m.deep_link_url or '(the provider gave none)')}")
        click.echo(f"    image:     {one_line(m.qr_image_url or '(the provider gave none)')}")


def _write_codes_out(
    path: Path | None, made: Sequence[pins.MadeCode], pinning: pins.Pinning
) -> bool:
    """``--codes-out``: False (and said on stderr) if the file cannot be written."""
    if path is None:
        return True
    try:
        pins.write_document(path, made, pinning)
    except OSError as exc:
        click.echo(
            f"Error: cannot write the QR codes to {path}: {exc.strerror or exc}; they are "
            "listed above",
            err=True,
        )
        return False
    return True


def _show_pinned(pinning: pins.Pinning) -> None:
    for file, codes in sorted(pinning.written.items()):
        if codes:
            n = len(codes)
            click.echo(f"Pinned {n} QR code{'s' * (n != 1)} in {file} (code: in each entry).")


def _show_unpinned(pinning: pins.Pinning) -> None:
    """The pins that are not in the files, with the codes: loudly, on stderr, where a
    file could not take them."""
    for u in pinning.unwritten:
        lines = [f"  {m.address}: code: {m.code}" for m in u.codes]
        if pinning.skipped:
            click.echo("\nNot written (--no-write-codes); pin these in the specs:")
            lines = [f"  {m.file or '?'}: {m.address}: code: {m.code}" for m in u.codes]
            click.echo("\n".join(lines))
            continue
        click.echo(
            f"\nWARNING: the codes of {len(u.codes)} new QR code(s) were NOT written to "
            f"{u.file}: {u.reason}. The changes at the provider were made. Add each code to "
            "its entry by hand (until then these entries find their code by prefilled "
            "message only):\n" + "\n".join(lines),
            err=True,
        )

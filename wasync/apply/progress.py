"""Progress of an apply, on stderr: a rich bar on a terminal, one line per change elsewhere."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wasync.apply.executor import Outcome, Status
from wasync.errors import ErrorClass, ProviderError
from wasync.output import visible
from wasync.plan import Change

VERB = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}


def describe(outcome: Outcome) -> str:
    """One outcome in a few words: ``created (code X)``, ``FAILED: cams ... failed: ...``.
    Provider text may hold anything: hidden and control characters are shown, not sent."""
    return visible(_describe(outcome))


def _describe(outcome: Outcome) -> str:
    change = outcome.change
    if outcome.status is Status.SUCCEEDED:
        text = VERB[change.action]
        return f"{text} ({outcome.detail})" if outcome.detail else text
    if outcome.status is Status.FAILED and outcome.error is not None:
        return f"FAILED: {outcome.error}"
    return f"skipped: {outcome.detail}"


def describe_retry(change: Change, error: ProviderError, delay: float) -> str:
    if error.error_class is ErrorClass.UNKNOWN_OUTCOME and change.action != "delete":
        what = "no answer" if error.http_status is None else "no clear answer"
        return visible(f"{what} ({error.code}); checking in {delay:.1f}s whether it took effect")
    return visible(f"{error.code}, retrying in {delay:.1f}s")


class LineProgress:
    """One line per finished change, and one per retry; for logs and CI."""

    def __init__(self, file: TextIO) -> None:
        self.file = file

    def started(self, change: Change) -> None:
        pass

    def retrying(self, change: Change, error: ProviderError, delay: float) -> None:
        print(f"{change.address}: {describe_retry(change, error, delay)}", file=self.file)
        self.file.flush()

    def finished(self, outcome: Outcome) -> None:
        print(f"{outcome.change.address}: {describe(outcome)}", file=self.file)
        self.file.flush()


class BarProgress:
    """A progress bar, with failures and skips printed above it; for a terminal."""

    def __init__(self, file: TextIO, total: int) -> None:
        self.console = Console(file=file, highlight=False, markup=False)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.task = self.bar.add_task("Applying", total=total)
        self.retries = 0

    def __enter__(self) -> BarProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def started(self, change: Change) -> None:
        pass

    def retrying(self, change: Change, error: ProviderError, delay: float) -> None:
        self.retries += 1
        self.bar.update(self.task, description=f"Applying ({self.retries} retried)")

    def finished(self, outcome: Outcome) -> None:
        if outcome.status is not Status.SUCCEEDED:
            self.console.print(f"{outcome.change.address}: {describe(outcome)}")
        self.bar.advance(self.task)


class WaitLine:
    """How a wait for review goes, on stderr: one line rewritten in place on a terminal;
    elsewhere a line when the count changes, and at least one a minute."""

    QUIET = 60.0  # seconds a log may go without a line

    def __init__(self, file: TextIO, interactive: bool) -> None:
        self.file = file
        self.interactive = interactive
        self._last: tuple[int, float] | None = None
        self._open = False  # a line rewritten in place is showing, not yet ended

    def polled(self, waiting: int, total: int, elapsed: float, within: float) -> None:
        line = (
            f"Waiting for review: {waiting} of {total} template{'s' * (total != 1)} "
            f"in review ({elapsed:.0f} s of {within:.0f} s)"
        )
        if self.interactive:
            self._open = waiting > 0
            print(f"\r{line}\x1b[K", end="" if self._open else "\n", file=self.file)
        elif (
            self._last is None or waiting != self._last[0] or elapsed - self._last[1] >= self.QUIET
        ):
            print(line, file=self.file)
            self._last = (waiting, elapsed)
        self.file.flush()

    def poll_failed(self, account: str, error: ProviderError) -> None:
        self.done()
        print(
            visible(f"{account}: reading review status failed ({error.code}); trying again"),
            file=self.file,
        )
        self.file.flush()

    def done(self) -> None:
        """End the line rewritten in place, if one is showing."""
        if self._open:
            print(file=self.file)
            self._open = False

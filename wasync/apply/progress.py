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

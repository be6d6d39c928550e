"""`wasync validate`: check wasync.yaml and every spec file, offline."""

from __future__ import annotations

from pathlib import Path

import click

from wasync.errors import SpecError


def run(directory: Path) -> int:
    """Print every problem to stderr (then a count) and return 1; or print the warnings to
    stderr, if any, and a one-line summary naming the folder checked
    (``specs: 8 templates, ...: valid``), and return 0. A missing wasync.yaml raises
    ``ConfigError`` (exit 1)."""
    from wasync.loading import load_desired
    from wasync.output import visible

    try:
        # Offline: credentials are checked for form, not read, so the check runs anywhere
        # (a pre-commit hook, a pull request from a fork) without secrets.
        _, loaded = load_desired(directory, resolve_env=False)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(visible(str(problem)), err=True)  # file names can hold anything
        n = len(exc.problems)
        click.echo(f"{n} problem{'s' * (n != 1)} found", err=True)
        return 1
    for warning in loaded.warnings:  # valid, but relies on a guess about the provider
        click.echo(f"warning: {visible(str(warning))}", err=True)
    n = len(loaded.warnings)
    warned = f" ({n} warning{'s' * (n != 1)})" if n else ""
    click.echo(f"{visible(str(directory))}: {loaded.summary()}: valid{warned}")
    return 0

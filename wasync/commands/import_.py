"""`wasync import`: write spec files for what an account holds today (``wasync.importer``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

import click

from wasync.importer import ImportOptions, ImportResult, import_account
from wasync.output import one_line

SHOWN = 20  # entries listed per section; a large account gets a count for the rest


def run(directory: Path, account: str, **options: Unpack[ImportOptions]) -> int:
    """Exit 0 when the import ran (skipped resources are warnings); 1 on a user error."""
    result = import_account(directory, account, **options)
    _report(result, directory)
    return 0


def _report(r: ImportResult, directory: Path) -> None:
    for warning in r.warnings:
        click.echo(f"Warning: {one_line(warning)}", err=True)
    read = f"{_count(r.remote_templates, 'template')}"
    if r.qr_phones:
        read = (
            f"{_count(r.remote_qr_codes, 'QR code')} on "
            f"{_count(len(r.qr_phones), 'number')} and {read}"
        )
    click.echo(f"Read {r.account} ({r.provider}): {read}.")

    for path, addresses in r.added.items():
        click.echo(f"Added {_count(len(addresses), 'entry', 'entries')} to {path}")
    overwritten = [d for d in r.differing if d.overwritten]
    for d in overwritten:
        click.echo(f"Overwrote {d.address} in {d.file} ({', '.join(d.fields)})")
    if r.in_sync:
        click.echo(f"Already in the specs and matching: {r.in_sync}.")

    left = [d for d in r.differing if not d.overwritten]
    if left:
        click.echo(
            "\nIn the specs but different at the provider; left as they are (wasync plan "
            "shows the change an apply would make; import --overwrite takes the provider's "
            "version instead):"
        )
        _list([f"{d.address} ({d.file}): {d.reason or ', '.join(d.fields)}" for d in left])
    if r.missing:
        click.echo("\nIn the specs but not at the provider (wasync apply would create them):")
        _list(r.missing)
    if r.pinned:
        click.echo(
            f"\nPinned {_count(len(r.pinned), 'QR entry', 'QR entries')} to the code each "
            "found by its message (code:), so that a later edit of the message changes that "
            "code rather than planning a new one:"
        )
        _list([f"{address} ({file}): code: {code}" for address, file, code in r.pinned])
    if r.unpinned:
        click.echo(
            "\nNot pinned: these QR entries find their code by its message only, so an edit "
            "to the message would plan a new code rather than update this one. Their files "
            "could not take the pin without other changes; pin each by hand:",
            err=True,
        )
        _list([f"{a} ({file}): code: {code}; {why}" for a, file, code, why in r.unpinned], err=True)
    if r.skipped:
        click.echo(
            "\nSkipped: wasync cannot manage these as they are; they stay unmanaged "
            "(listed by plan, never touched):",
            err=True,
        )
        _list([f"{s.address}: {s.reason}" for s in r.skipped], err=True)
    if r.notes:
        click.echo("\nTo do before you change these:", err=True)
        _list([f"{n.address}: {n.message}" for n in r.notes], err=True)

    if not r.written:
        click.echo("Nothing to write: the specs already hold everything import could read.")
        return
    click.echo(f"\nNext: wasync plan {directory} (it should show no changes)")


def _list(lines: Sequence[str], *, err: bool = False) -> None:
    for line in lines[:SHOWN]:  # each names what the provider holds: kept on its line
        click.echo(f"  {one_line(line)}", err=err)
    if len(lines) > SHOWN:
        click.echo(f"  ... and {len(lines) - SHOWN} more", err=err)


def _count(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"

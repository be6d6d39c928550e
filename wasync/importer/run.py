"""``import_account``: read the account, decide, write, prove (see the package docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict, Unpack

from wasync.importer.account import Target, check_phones, open_target, phones_to_read, read_specs
from wasync.importer.decide import decide
from wasync.importer.result import ImportResult
from wasync.importer.writer import Writer
from wasync.model import Remote
from wasync.plan import plan
from wasync.refresh import Reading, read
from wasync.session import Session


class ImportOptions(TypedDict, total=False):
    """What an import may be asked besides its account (``wasync import``'s options)."""

    phones: Sequence[str]  # numbers to read besides those the account's specs name
    overwrite: bool  # rewrite spec entries that differ from the provider (else report them)


def import_account(
    directory: Path, account_name: str, **options: Unpack[ImportOptions]
) -> ImportResult:
    """Read ``account_name`` in full and write spec entries under ``directory`` (see the
    package docstring for the rules). Raises ``WasyncError`` for what the user can fix."""
    phones, overwrite = options.get("phones", ()), options.get("overwrite", False)
    check_phones(phones)
    specs, desired = read_specs(directory, account_name)
    target = open_target(directory, account_name)
    result = phones_to_read(target, desired, phones)
    remote = asyncio.run(_read(target, result))
    result.remote_qr_codes, result.remote_templates = len(remote.qr_codes), len(remote.templates)

    the_plan = plan(desired, remote, accounts={target.name: target.settings})
    result.warnings += [f"{w.address}: {w.message}" for w in the_plan.warnings]
    writer = Writer(directory, target, specs)
    decide(the_plan, remote, desired, target, writer, result, overwrite=overwrite)
    if target.prunes and result.skipped:
        result.warnings.append(
            f"account {target.name} has prune: true, so the next apply would delete the "
            f"{len(result.skipped)} skipped resource(s) listed below; write them into the "
            "specs by hand, or turn prune off, before you apply"
        )
    writer.commit(result, remote)
    return result


async def _read(target: Target, wanted: ImportResult) -> Remote:
    """Everything the account holds on the numbers in ``wanted``, templates in full detail,
    read as a refresh reads (the session paces and retries each call)."""
    reading = Reading(wanted.qr_phones, wanted.template_phones, detail_for=None)
    async with Session(target.config) as session:
        return await read(session, {target.name: reading})

"""`wasync qr export`: print-ready images of the managed QR codes (``wasync.export``).

It reads the providers (the deep link of a code is the provider's), plans the QR codes of
the accounts it reads, and writes one image per managed code and ``index.csv``. Entries
it cannot export are listed on stderr with the reason, and the exit code is 1, so that a
print run never goes out short without anyone noticing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import click

from wasync import export as exporting
from wasync import manager
from wasync.config import Config
from wasync.errors import WasyncError
from wasync.model import Desired, Remote
from wasync.plan import from_config, plan
from wasync.plan.targets import UnknownTargetError, selects
from wasync.refresh import Reading, read
from wasync.session import Session


def export(directory: Path, *, out: Path, fmt: str = "svg", targets: Sequence[str] = ()) -> int:
    """Exit 0 when every chosen entry was exported; 1 when some could not be."""
    config, specs = manager.load(directory)
    entries = specs.desired.qr_codes
    targets = [t.strip().rstrip(".") for t in targets if t.strip()]
    wanted = [q for q in entries if not targets or any(selects(t, q.address) for t in targets)]
    unknown = [t for t in targets if not any(selects(t, q.address) for q in entries)]
    if unknown:
        raise UnknownTargetError(
            "\n".join(f"--target {t} names no QR code of the specs" for t in unknown)
        )
    if not wanted:
        click.echo("No QR codes in the specs: nothing to export.")
        return 0
    accounts = sorted({q.account for q in wanted})
    # Every entry of the accounts read: codes go to entries by the rule of a whole phone.
    mine = tuple(q for q in entries if q.account in accounts)
    remote = asyncio.run(_read(config, Desired(qr_codes=mine), accounts))
    settings = {name: s for name, s in from_config(config).items() if name in accounts}
    the_plan = plan(Desired(qr_codes=mine), remote, accounts=settings)
    items, left = exporting.choose(mine, remote.qr_codes, the_plan, wanted)
    try:
        index = exporting.write(items, out, fmt)
    except OSError as exc:
        raise WasyncError(
            f"cannot write the images to {out}: {exc.strerror or exc}; give a folder you "
            "can write to with --out"
        ) from exc
    n = len(items)
    click.echo(f"Wrote {n} QR code image{'s' * (n != 1)} ({fmt.upper()}) and {index.name} to {out}")
    for item in items:
        line = f"  {item.file_name(fmt)}: {item.code.deep_link_url}"
        click.echo(line + (f" ({item.note})" if item.note else ""))
    if left:
        click.echo(f"\nNot exported ({len(left)}):", err=True)
        for x in left:
            click.echo(f"  {x.address}: {x.reason}", err=True)
        return 1
    return 0


async def _read(config: Config, desired: Desired, accounts: Sequence[str]) -> Remote:
    """The QR codes of the numbers the entries name (and nothing else worth the calls)."""
    phones: dict[str, set[str]] = {a: set() for a in accounts}
    for q in desired.qr_codes:
        phones[q.account].add(q.phone)
    async with Session(config) as session:
        remote = await read(session, {a: Reading(qr_phones=phones[a]) for a in accounts})
    return Remote(qr_codes=remote.qr_codes)

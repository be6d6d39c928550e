"""`wasync preview`: a static HTML page of every template, as customers will see it.

Offline, like `validate`: it reads the spec folder only (no provider, no credential), so
marketing and legal can review the messages of a pull request before anyone applies it.
"""

from __future__ import annotations

from pathlib import Path

import click

from wasync.errors import WasyncError

PAGE = "index.html"


def run(directory: Path, *, out: Path) -> int:
    from wasync.loading import load_desired
    from wasync.plan.render.message import PageEntry, message_of, page_html

    _, loaded = load_desired(directory, resolve_env=False)
    entries = [
        PageEntry(
            address=t.address,
            account=t.account,
            name=t.name,
            language=t.language,
            category=t.category,
            message=message_of(t.canonical_components()),
        )
        for t in loaded.desired.templates
    ]
    title = directory.resolve().name or str(directory)
    html = page_html(title, entries)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / PAGE).write_text(html, encoding="utf-8")
    except OSError as exc:
        raise WasyncError(
            f"cannot write the preview to {out}: {exc.strerror or exc}; give a folder "
            "you can write to with --out"
        ) from exc
    n = len(entries)
    click.echo(f"Wrote {n} template{'s' * (n != 1)} to {out / PAGE}")
    return 0

"""`wasync schema`: print the JSON Schema of spec files."""

from __future__ import annotations

import json

import click


def run() -> int:
    from wasync.spec.schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))
    return 0

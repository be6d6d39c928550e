"""`wasync schema`: print the JSON Schema of spec files, or of wasync.yaml (``--config``)."""

from __future__ import annotations

import json

import click


def run(config: bool = False) -> int:
    if config:
        from wasync.config import config_schema
        from wasync.providers import registry

        schema = config_schema(registry.plugins())
    else:
        from wasync.spec.schema import spec_schema

        schema = spec_schema()
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))
    return 0

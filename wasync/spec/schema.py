"""The JSON Schema of a spec file, generated from the models, for editors.

yaml-language-server picks it up from a modeline at the top of a spec file::

    # yaml-language-server: $schema=./wasync-spec.schema.json

after ``wasync schema > wasync-spec.schema.json``. The schema checks shape only (keys, types,
allowed values); ``wasync validate`` checks WhatsApp's rules too.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from wasync.model import QrCode, Strict, Template

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
TITLE = "wasync spec file"


class SpecFile(Strict):
    """A wasync spec file: the QR codes and templates that should exist."""

    qr_codes: list[QrCode] | None = Field(
        None, description="Message QR codes; each has the address qr.<account>.<phone>.<label>."
    )
    templates: list[Template] | None = Field(
        None,
        description="Message templates; each has the address "
        "template.<account>[.<phone>].<name>.<language>.",
    )


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file.

    Pydantic writes JSON Schema 2020-12, but what it writes for these models (``$defs``
    with ``$ref``, ``const``, ``enum``, ``oneOf``, ``additionalProperties``) means the same
    under draft-07, which yaml-language-server and most editors support best; so it is
    declared as draft-07.
    """
    schema = SpecFile.model_json_schema()
    schema.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "title": TITLE, **schema}

"""`wasync schema`: a JSON Schema that editors can use, agreeing with the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_runner import wasync

from wasync.spec.schema import spec_schema
from wasync.spec.yaml import read_yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "specs").rglob("*.yaml") if p.name != "wasync.yaml")

# Keywords that mean the same in draft-07 as in 2020-12 (what the schema declares itself as).
DRAFT7_KEYWORDS = {
    "$schema", "$ref", "$defs", "title", "description", "type", "properties",
    "additionalProperties", "required", "items", "enum", "const", "default", "anyOf",
    "oneOf", "discriminator", "propertyName", "mapping",
}  # fmt: skip


def validator() -> jsonschema.Draft7Validator:
    schema = spec_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def keywords(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            if key in ("properties", "$defs", "mapping"):
                for sub in value.values():
                    keywords(sub, out)
            elif key not in ("default", "enum", "const"):
                keywords(value, out)
    elif isinstance(node, list):
        for item in node:
            keywords(item, out)
    return out


def test_the_schema_names_its_dialect_and_title() -> None:
    schema = spec_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "wasync spec file"
    assert set(schema["properties"]) == {"qr_codes", "templates"}
    assert schema["additionalProperties"] is False


def test_the_schema_uses_only_keywords_draft7_understands() -> None:
    assert keywords(spec_schema(), set()) <= DRAFT7_KEYWORDS


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_example_specs_validate(path: Path) -> None:
    validator().validate(read_yaml(path).data)


@pytest.mark.parametrize(
    "spec",
    [
        {"templates": [{"account": "a", "name": "n", "language": "en", "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "x", "colour": "red"}]}]},
        {"qr_codes": [{"account": "a", "phone": "1", "label": "l", "prefilled_message": "m",
                       "shape": "round"}]},
        {"templates": [], "accounts": {}},
        {"templates": [{"account": "a", "name": "n", "language": "en", "category": "OTP",
                        "components": []}]},
    ],
    ids=["unknown component key", "unknown QR key", "unknown top-level key", "bad category"],
)  # fmt: skip
def test_invalid_specs_do_not_validate(spec: dict[str, Any]) -> None:
    assert list(validator().iter_errors(spec))


def test_the_command_prints_the_schema() -> None:
    result = wasync("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == spec_schema()

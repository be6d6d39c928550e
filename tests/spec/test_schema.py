"""`wasync schema [--config]`: JSON Schemas that editors can use, agreeing with the loader,
committed next to the example specs and named by each example's modeline."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_runner import wasync

from wasync.config import config_schema
from wasync.providers import registry
from wasync.spec import CONFIG_FILE
from wasync.spec.schema import CONFIG_SCHEMA_FILE, SCHEMA_FOLDER, SPEC_SCHEMA_FILE, spec_schema
from wasync.spec.yaml import read_yaml

REPO = Path(__file__).resolve().parents[2]
# Every example spec folder: the repository's own, and the spec repository users copy.
FOLDERS = sorted(
    p.parent for p in [*REPO.glob("specs/wasync.yaml"), *REPO.glob("examples/*/specs/wasync.yaml")]
)
EXAMPLES = sorted(p for f in FOLDERS for p in f.rglob("*.yaml") if ".wasync" not in p.parts)
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")

# Keywords that mean the same in draft-07 as in 2020-12 (what the schemas declare themselves
# as): no `discriminator` (OpenAPI's, which validators and editors ignore).
DRAFT7_KEYWORDS = {
    "$schema", "$ref", "$defs", "title", "description", "type", "properties",
    "additionalProperties", "required", "items", "enum", "const", "default", "anyOf",
    "allOf", "if", "then", "else", "propertyNames", "pattern", "minProperties", "format",
    "writeOnly", "minimum", "maximum", "exclusiveMinimum", "minItems", "uniqueItems",
}  # fmt: skip


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def spec_validator() -> jsonschema.Draft7Validator:
    return validator(spec_schema())


def config_validator() -> jsonschema.Draft7Validator:
    return validator(config_schema(registry.plugins()))


def keywords(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    keywords(sub, out)
            elif key not in ("default", "enum", "const"):
                keywords(value, out)
    elif isinstance(node, list):
        for item in node:
            keywords(item, out)
    return out


def test_the_schemas_name_their_dialect_and_title() -> None:
    spec, config = spec_schema(), config_schema(registry.plugins())
    assert spec["$schema"] == config["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert (spec["title"], config["title"]) == ("wasync spec file", "wasync.yaml")
    assert set(spec["properties"]) == {"qr_codes", "templates"}
    assert set(config["properties"]) == {"accounts", "groups"}
    assert spec["additionalProperties"] is config["additionalProperties"] is False


@pytest.mark.parametrize("schema", [spec_schema, lambda: config_schema(registry.plugins())])
def test_the_schemas_use_only_keywords_draft7_understands(schema: Any) -> None:
    assert keywords(schema(), set()) <= DRAFT7_KEYWORDS


def test_the_examples_are_found() -> None:
    assert REPO / "specs" in FOLDERS
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_each_example_validates_against_its_schema(path: Path) -> None:
    data = read_yaml(path).data
    if path.name == CONFIG_FILE:
        config_validator().validate(data)
    else:
        spec_validator().validate(data)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_each_example_names_its_schema_on_its_first_line(path: Path) -> None:
    """yaml-language-server reads the modeline; its path is relative to the file."""
    found = MODELINE.match(path.read_text("utf-8"))
    assert found, f"{path}: the first line should be the yaml-language-server modeline"
    folder = next(f for f in FOLDERS if f in path.parents)
    wanted = CONFIG_SCHEMA_FILE if path.name == CONFIG_FILE else SPEC_SCHEMA_FILE
    target = (path.parent / found.group(1)).resolve()
    assert target == (folder / SCHEMA_FOLDER / wanted).resolve()


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(REPO)))
@pytest.mark.parametrize(
    ("file", "args"), [(SPEC_SCHEMA_FILE, ["schema"]), (CONFIG_SCHEMA_FILE, ["schema", "--config"])]
)
def test_the_committed_schemas_are_what_wasync_schema_prints(
    folder: Path, file: str, args: list[str]
) -> None:
    path = folder / SCHEMA_FOLDER / file
    printed = wasync(*args)
    assert printed.exit_code == 0, printed
    committed = path.read_text("utf-8") if path.exists() else ""
    assert committed == printed.stdout, (
        f"{path.relative_to(REPO)} is stale; regenerate it from the repository root with\n"
        f"  wasync {' '.join(args)} > {path.relative_to(REPO)}"
    )


def test_the_command_prints_the_schemas() -> None:
    assert json.loads(wasync("schema").stdout) == spec_schema()
    assert json.loads(wasync("schema", "--config").stdout) == config_schema(registry.plugins())


# --- what an editor shows for a mistake: one error, on the field at fault ------------------

TEMPLATE = {
    "templates": [
        {
            "account": "shop",
            "name": "offer",
            "language": "en",
            "category": "MARKETING",
            "components": [
                {"type": "BODY", "text": "Hello"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Yes"},
                        {"type": "URL", "text": "Shop", "url": "https://shop.example.com"},
                    ],
                },
            ],
        }
    ]
}
BUTTON = ["templates", 0, "components", 1, "buttons", 1]


def errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[tuple[list[Any], str]]:
    return [(list(e.absolute_path), e.message) for e in validator.iter_errors(doc)]


def edited(path: list[Any], value: Any, doc: Any = TEMPLATE) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def test_the_example_template_is_valid() -> None:
    assert errors(spec_validator(), TEMPLATE) == []


def test_a_wrong_button_type_is_one_error_naming_that_button() -> None:
    found = errors(spec_validator(), edited([*BUTTON, "type"], "LINK"))
    assert len(found) == 1, found
    ((path, message),) = found
    assert path == [*BUTTON, "type"]
    assert message.startswith("'LINK' is not one of ['COPY_CODE', 'FLOW', 'OTP',")


def test_a_wrong_key_in_a_button_is_one_error_against_its_own_kind() -> None:
    button = {"type": "URL", "text": "Shop", "link": "https://shop.example.com"}
    found = errors(spec_validator(), edited(BUTTON, button))
    assert sorted(found) == sorted(
        [
            (BUTTON, "Additional properties are not allowed ('link' was unexpected)"),
            (BUTTON, "'url' is a required property"),
        ]
    )


def test_a_missing_or_wrong_component_type_is_one_error() -> None:
    component = ["templates", 0, "components", 0]
    assert errors(spec_validator(), edited(component, {"text": "Hello"})) == [
        (component, "'type' is a required property")
    ]
    ((path, message),) = errors(spec_validator(), edited([*component, "type"], "BODYY"))
    assert path == [*component, "type"] and "'BODYY' is not one of" in message


ACCOUNTS = {
    "accounts": {
        "shop-cams": {"provider": "cams", "endpoint": "sandbox"},
        "shop-nx": {
            "provider": "nxcloud",
            "endpoint": "https://api2.nxcloud.com",
            "appkey": "8exxxs",
            "access_key": "${NXCLOUD_ACCESS_KEY}",
            "secret_key": "${NXCLOUD_SECRET_KEY}",
        },
    }
}


def test_a_wasync_yaml_mistake_is_one_error_on_its_account() -> None:
    config = config_validator()
    assert errors(config, ACCOUNTS) == []
    ((path, message),) = errors(
        config, edited(["accounts", "shop-nx", "provider"], "nxcloudd", ACCOUNTS)
    )
    assert path == ["accounts", "shop-nx", "provider"]
    assert message == "'nxcloudd' is not one of ['cams', 'meta', 'nxcloud']"
    # A key of the other provider's accounts: one error, against this account's own kind.
    found = errors(config, edited(["accounts", "shop-nx", "cust_space_id"], "x", ACCOUNTS))
    assert found == [
        (
            ["accounts", "shop-nx"],
            "Additional properties are not allowed ('cust_space_id' was unexpected)",
        )
    ]
    # A real endpoint needs the credentials; the sandbox does not.
    nx = dict(ACCOUNTS["accounts"]["shop-nx"])
    del nx["secret_key"]
    assert errors(config, edited(["accounts", "shop-nx"], nx, ACCOUNTS)) == [
        (["accounts", "shop-nx"], "'secret_key' is a required property")
    ]
    ((path, message),) = errors(config, {"accounts": {"Shop": {"provider": "cams"}}})
    assert "'Shop' does not match" in message


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
    assert len(list(spec_validator().iter_errors(spec))) == 1

"""Named variables (``parameter_format: NAMED``), media samples as files of the spec folder,
and what each provider takes of them (traits: NAMED_PARAMETERS, template_media_samples);
a Meta account needs ``app_id`` once a template has a media header."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .helpers import CONFIG, NX_PHONE, dump, folder, problems

META_CONFIG = CONFIG + (
    "  shop-meta:\n"
    "    provider: meta\n"
    "    endpoint: sandbox\n"
    '    waba_id: "100200300400500"\n'
    '    app_id: "900800700600500"\n'
)
PNG = b"\x89PNG\r\n\x1a\nsample"


def named(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "account": "shop-meta",
        "name": "order_ready",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{order_id}}",
                "example": {
                    "header_text_named_params": [{"param_name": "order_id", "example": "7"}]
                },
            },
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, order {{order_id}} is ready.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "order_id", "example": "7"},
                        {"param_name": "first_name", "example": "Ana"},
                    ]
                },
            },
        ],
    }
    entry.update(changes)
    return entry


def media(sample: dict[str, Any], account: str = "shop-meta") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "account": account,
        "name": "autumn_sale",
        "language": "en",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": sample},
            {"type": "BODY", "text": "Sale from {{1}}.", "example": {"body_text": [["today"]]}},
        ],
    }
    return entry


def found(root: Path, *templates: dict[str, Any], config: str = META_CONFIG) -> list[str]:
    """``field: message`` of every problem (``file:line:col: address:`` dropped)."""
    folder(root, {"spec.yaml": dump({"templates": list(templates)})}, config)
    out = []
    for line in problems(root):
        parts = line.split(": ", 2)
        out.append(parts[2] if len(parts) == 3 and parts[1].startswith("template.") else line)
    return out


def body_of(entry: dict[str, Any], text: str, example: Any) -> dict[str, Any]:
    entry = dict(entry)
    entry["components"] = [{"type": "BODY", "text": text, "example": example}]
    return entry


# --- named variables -------------------------------------------------------------------------


def test_named_variables_are_valid_on_meta(tmp_path: Path) -> None:
    assert found(tmp_path, named()) == []


def test_named_variables_elsewhere_say_where_they_go(tmp_path: Path) -> None:
    entry = named(account="shop-nx", phone=NX_PHONE)
    assert found(tmp_path, entry) == [
        "parameter_format: NXCloud documents no named variables; write them {{1}}, {{2}}, ... "
        "(parameter_format: POSITIONAL or left out); put templates with named variables on a "
        "Meta account"
    ]


@pytest.mark.parametrize(
    ("text", "example", "expected"),
    [
        (
            "Hi {{1}}, your order is ready.",
            {"body_text": [["Ana"]]},
            [
                "components[0].text: positional variable '{{1}}' in a template with "
                "parameter_format: NAMED; name it, e.g. {{first_name}} (lowercase letters and _)",
            ],
        ),
        (
            "Hi {{firstName}}, your order is ready.",
            None,
            [
                "components[0].text: '{{firstName}}': a named variable is lowercase letters and "
                "underscores only; write '{{first_name}}'",
            ],
        ),
        (
            "Hi {{first_name}}, your order is ready.",
            None,
            [
                "components[0].text: 1 named variable (first_name) but no example; add example: "
                "{body_text_named_params: [{param_name: ..., example: ...}]}",
            ],
        ),
        (
            "Hi {{first_name}}, order {{order_id}} is ready.",
            {
                "body_text_named_params": [
                    {"param_name": "first_name", "example": "Ana"},
                    {"param_name": "first_name", "example": "Bo"},
                    {"param_name": "city", "example": "Oslo"},
                ]
            },
            [
                "components[0].example.body_text_named_params: no example for {{order_id}}; add "
                "{param_name: ..., example: ...} for each",
                "components[0].example.body_text_named_params[1].param_name: 'first_name' has two "
                "examples; give one",
                "components[0].example.body_text_named_params[2].param_name: 'city' is not a "
                "variable of the text (first_name, order_id); remove it or fix the name",
            ],
        ),
        (
            "Hi {{first_name}}, your order is ready.",
            {"body_text": [["Ana"]]},
            [
                "components[0].example.body_text: the template's variables are named: give the "
                "examples as body_text_named_params",
                "components[0].text: 1 named variable (first_name) but no example; add example: "
                "{body_text_named_params: [{param_name: ..., example: ...}]}",
            ],
        ),
        (
            "{{first_name}}, your order is ready",
            {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]},
            [
                "components[0].text: starts with variable {{first_name}}; WhatsApp rejects text "
                "that starts with a variable: put words before it",
            ],
        ),
    ],
)
def test_named_variable_rules(tmp_path: Path, text: str, example: Any, expected: list[str]) -> None:
    assert found(tmp_path, body_of(named(), text, example)) == expected


def test_named_examples_in_a_positional_template_are_refused(tmp_path: Path) -> None:
    entry = body_of(
        named(parameter_format=None),
        "Hi {{1}}, your order is ready.",
        {"body_text": [["Ana"]], "body_text_named_params": [{"param_name": "x", "example": "y"}]},
    )
    assert found(tmp_path, entry) == [
        "components[0].example.body_text_named_params: named examples need parameter_format: "
        "NAMED on the template: give the examples as body_text"
    ]


def test_a_named_header_takes_one_variable(tmp_path: Path) -> None:
    entry = named()
    entry["components"][0]["text"] = "Order {{order_id}} for {{first_name}}"
    assert found(tmp_path, entry) == [
        "components[0].text: 2 variables; a header has at most one, {{first_name}}"
    ]


# --- media samples ---------------------------------------------------------------------------


def test_a_sample_file_in_the_spec_folder_is_valid_on_meta(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir(parents=True)
    (tmp_path / "media" / "banner.png").write_bytes(PNG)
    assert found(tmp_path, media({"header_file": "media/banner.png"})) == []


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("media/none.png", "media/none.png: no such file in the spec folder"),
        ("banner.gif", "an IMAGE header's sample is a .jpg or .jpeg or .png file, not .gif"),
        ("/etc/banner.png", "'/etc/banner.png': give the file's path inside the spec folder"),
        ("../banner.png", "'../banner.png': give the file's path inside the spec folder"),
        ("media/empty.png", "media/empty.png is empty; give the sample file itself"),
        ("media/huge.png", "media/huge.png is 6.0 MB; an IMAGE sample is at most 5 MB"),
    ],
)
def test_a_sample_file_must_be_there_and_fit(tmp_path: Path, file: str, message: str) -> None:
    (tmp_path / "media").mkdir(parents=True)
    (tmp_path / "media" / "empty.png").write_bytes(b"")
    with open(tmp_path / "media" / "huge.png", "wb") as f:  # sparse: no 6 MB written
        f.truncate(6 * 1024 * 1024)
    (problem,) = found(tmp_path, media({"header_file": file}))
    assert problem.startswith("components[0].example.header_file: ")
    assert message in problem
    assert not os.path.exists(tmp_path.parent / "banner.png")


def test_each_provider_takes_its_own_form_of_sample(tmp_path: Path) -> None:
    (tmp_path / "banner.png").write_bytes(PNG)
    on_meta = media({"header_url": "https://example.com/banner.png"})
    on_cams = media({"header_file": "banner.png"}, account="shop-cams")
    assert found(tmp_path, on_meta, on_cams) == [
        "components[0].example.header_url: Meta takes a media sample as an uploaded file, not "
        "a URL: replace it with header_file: media/<file> (a file in the spec folder)",
        "components[0].example.header_file: CAMS takes a media sample as a public URL, not a "
        "file: replace it with header_url: https://...",
    ]


def test_a_media_header_needs_app_id_on_the_account(tmp_path: Path) -> None:
    (tmp_path / "banner.png").write_bytes(PNG)
    config = META_CONFIG.replace('    app_id: "900800700600500"\n', "")
    (problem,) = found(tmp_path, media({"header_file": "banner.png"}), config=config)
    assert problem.startswith(f"{tmp_path}/wasync.yaml:")
    assert (
        "accounts.shop-meta.app_id: required, because a template of this account has an " in problem
    )
    assert "(e.g. template.shop-meta.autumn_sale.en at " in problem

"""Fan-out in the loader: what a fanned-out entry becomes, and every mistake in it named at
its file, line, target or language, and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wasync.loading import load_desired

from .helpers import dump, folder, problems

CONFIG = """\
accounts:
  shop-a: {provider: cams, endpoint: sandbox, cust_space_id: space-a}
  shop-b: {provider: cams, endpoint: sandbox, cust_space_id: space-b}
  shop-nx: {provider: nxcloud, endpoint: sandbox, appkey: nx-key}
groups:
  brands: [shop-a, shop-b]
  counters: ["8615800001111", "8615800002222"]
"""


def template(account: Any = "shop-a", **more: Any) -> dict[str, Any]:
    return {
        "account": account,
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order news"},
            {
                "type": "BODY",
                "text": "Your order {{1}} has shipped.",
                "example": {"body_text": [["12345"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                    {"type": "QUICK_REPLY", "text": "Stop"},
                ],
            },
        ],
        **more,
    }


def qr(**more: Any) -> dict[str, Any]:
    return {
        "account": "shop-a",
        "phone": "8615800001111",
        "label": "poster",
        "prefilled_message": "Hi",
        **more,
    }


def found(
    tmp_path: Path, *, templates: Any = (), qr_codes: Any = (), config: str = CONFIG
) -> list[str]:
    specs = {k: list(v) for k, v in (("templates", templates), ("qr_codes", qr_codes)) if v}
    return problems(folder(tmp_path, {"s.yaml": dump(specs)}, config=config))


def line_of(text: str, root: Path, needle: str) -> str:
    """``<root>/s.yaml:<line>`` of the first line of ``s.yaml`` holding ``needle``."""
    lines = (root / "s.yaml").read_text(encoding="utf-8").splitlines()
    last = needle.startswith("LAST ")  # its last line rather than its first
    needle = needle.removeprefix("LAST ")
    numbers = [i for i, line in enumerate(lines, 1) if needle in line]
    return f"{root}/s.yaml:{numbers[-1] if last else numbers[0]}:"


def test_a_group_and_a_list_expand_to_the_addresses_of_one_target_entries(tmp_path: Path) -> None:
    specs = {
        "templates": [template({"group": "brands"}), template(["shop-nx"], phone="8618500009999")],
        "qr_codes": [qr(phone={"group": "counters"})],
    }
    _, loaded = load_desired(folder(tmp_path, {"s.yaml": dump(specs)}, config=CONFIG), freeze=False)
    assert [t.address for t in loaded.desired.templates] == [
        "template.shop-a.order_shipped.en_US",
        "template.shop-b.order_shipped.en_US",
        "template.shop-nx.8618500009999.order_shipped.en_US",
    ]
    assert [q.address for q in loaded.desired.qr_codes] == [
        "qr.shop-a.8615800001111.poster",
        "qr.shop-a.8615800002222.poster",
    ]
    assert loaded.summary() == "3 templates, 2 QR codes in 1 file"


def test_translations_share_the_structure_and_take_their_texts(tmp_path: Path) -> None:
    entry = template(
        translations={
            "pt_BR": {
                "components": [
                    {"text": "Notícias do pedido"},
                    {"text": "Seu pedido {{1}} foi enviado.", "example": {"body_text": [["9"]]}},
                    {"buttons": [{"text": "Obrigado"}, {}]},
                ]
            }
        },
        overrides={"shop-b": {"category": "MARKETING"}},
        account=["shop-a", "shop-b"],
    )
    root = folder(tmp_path, {"s.yaml": dump({"templates": [entry]})}, config=CONFIG)
    _, loaded = load_desired(root, freeze=False)
    by = {t.address: t for t in loaded.desired.templates}
    assert len(by) == 4
    pt = by["template.shop-b.order_shipped.pt_BR"]
    assert pt.category == "MARKETING"  # the target's override, in every language
    assert pt.canonical_components() == [
        {"type": "HEADER", "format": "TEXT", "text": "Notícias do pedido"},
        {
            "type": "BODY",
            "text": "Seu pedido {{1}} foi enviado.",
            "example": {"body_text": [["9"]]},
        },
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Obrigado"},
                {"type": "QUICK_REPLY", "text": "Stop"},
            ],
        },
    ]
    assert by["template.shop-a.order_shipped.pt_BR"].category == "UTILITY"
    # A problem in a translation's field points at the translation, not the base.
    at = loaded.source_map.locate("template.shop-a.order_shipped.pt_BR", ("components", 1, "text"))
    assert at is not None and f"{at.file}:{at.line}:" == line_of("", root, "Seu pedido")
    base = loaded.source_map.locate(
        "template.shop-a.order_shipped.en_US", ("components", 1, "text")
    )
    assert base is not None and f"{base.file}:{base.line}:" == line_of("", root, "Your order")


@pytest.mark.parametrize(
    ("entry", "needle", "expected"),
    [
        pytest.param(
            template(["shop-a", "shop-b"], overrides={"shop-c": {"category": "MARKETING"}}),
            "shop-c:",
            "templates[0]: overrides.shop-c: 'shop-c' is not a target of this entry; "
            "did you mean 'shop-b'? its accounts: shop-a, shop-b",
            id="override-for-a-target-not-listed",
        ),
        pytest.param(
            template(["shop-a", "shop-b"], overrides={"shop-b": {"language": "pt_BR"}}),
            "language: pt_BR",
            "templates[0]: overrides.shop-b.language: `language` says which resource this is; "
            "an override cannot change it: write a separate entry for that resource",
            id="override-of-identity",
        ),
        pytest.param(
            template({"group": "brandz"}),
            "group: brandz",
            "templates[0]: account.group: no group 'brandz' in wasync.yaml; did you mean "
            "'brands'? groups there: brands, counters",
            id="unknown-group",
        ),
        pytest.param(
            template(["shop-a", "shop-b", "shop-a"]),
            "LAST - shop-a",
            "templates[0]: account[2]: 'shop-a' is named twice (also at account[0]); "
            "each account name once",
            id="a-target-twice",
        ),
        pytest.param(
            template(["shop-nx"], phone=["8618500009999", "8618500008888"]),
            "8618500009999",
            "templates[0]: phone: an entry fans out over accounts or over numbers, not both",
            id="accounts-and-numbers",
        ),
        pytest.param(
            template([]),
            "account: []",
            "templates[0]: account: empty list; give at least one account name",
            id="no-target",
        ),
        pytest.param(
            template(translations={"pt_BR": {"components": [{"text": "Olá {{2}}"}, {}, {}]}}),
            "Olá",
            "templates[0]: translations.pt_BR.components[0].text: the pt_BR text adds {{2}}; "
            "every translation has the same variables as the entry's text",
            id="translation-with-other-variables",
        ),
        pytest.param(
            template(
                translations={
                    "es": {"components": [{}, {"text": "Tu pedido ha sido enviado."}, {}]}
                }
            ),
            "Tu pedido",
            "templates[0]: translations.es.components[1].text: the es text lacks {{1}}",
            id="translation-without-a-variable",
        ),
        pytest.param(
            template(translations={"es": {"components": [{"type": "FOOTER"}, {}, {}]}}),
            "type: FOOTER",
            "templates[0]: translations.es.components[0].type: shared by every language: the "
            "entry has 'HEADER'; a translation changes only texts and examples",
            id="translation-changes-structure",
        ),
        pytest.param(
            template(translations={"es": {"components": [{}, {}]}}),
            "- {}",
            "templates[0]: translations.es.components: 2 items where the entry has 3",
            id="translation-with-fewer-components",
        ),
        pytest.param(
            template(translations={"es": {"category": "MARKETING", "components": [{}, {}, {}]}}),
            "category: MARKETING",
            "templates[0]: translations.es.category: not allowed here: shared by every "
            "language; set it on the entry",
            id="translation-of-a-shared-field",
        ),
        pytest.param(
            template(translations={"en_US": {"components": [{}, {}, {}]}}),
            "en_US:",
            "templates[0]: translations.en_US: 'en_US' is the entry's own language",
            id="translation-of-its-own-language",
        ),
    ],
)
def test_mistakes_in_fan_out_are_named_where_they_are(
    tmp_path: Path, entry: dict[str, Any], needle: str, expected: str
) -> None:
    found_ = found(tmp_path, templates=[entry])
    assert len(found_) == 1, found_
    assert found_[0].startswith(line_of("", tmp_path, needle)), found_
    assert expected in found_[0]


def test_qr_mistakes(tmp_path: Path) -> None:
    entry = qr(phone=["8615800001111", "8615800002222"], code="ABC", translations={"es": {}})
    found_ = found(tmp_path, qr_codes=[entry])
    assert [p.split(": ", 2)[2] for p in found_] == [
        "code: a code belongs to one target; pin each under overrides: "
        "{<target>: {code: ...}}, or remove `code`",
        "translations: only templates have translations",
    ]


def test_a_problem_of_every_target_is_said_once_naming_them(tmp_path: Path) -> None:
    long = "x" * 200
    found_ = found(tmp_path, qr_codes=[qr(phone={"group": "counters"}, prefilled_message=long)])
    assert len(found_) == 1, found_
    assert ": qr.shop-a.8615800001111.poster: prefilled_message: 200 characters" in found_[0]
    assert "(also 1 more of this entry: qr.shop-a.8615800002222.poster)" in found_[0]


def test_a_problem_of_one_target_names_it_at_its_override(tmp_path: Path) -> None:
    entry = qr(phone={"group": "counters"}, overrides={"8615800002222": {"image": "GIF"}})
    found_ = found(tmp_path, qr_codes=[entry])
    assert len(found_) == 1, found_
    assert found_[0].startswith(line_of("", tmp_path, "image: GIF"))
    assert ": qr.shop-a.8615800002222.poster: image: " in found_[0]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ("  g: []\n", "groups.g: expected a list of accounts or numbers, got an empty list"),
        ("  g: [shop-a, shop-z]\n", "groups.g[1]: 'shop-z' is neither an account of this file"),
        (
            "  g: [8615800001111]\n",
            "groups.g[0]: expected text, got a number (write numbers in quotes)",
        ),
        ("  g: [shop-a, shop-a]\n", "groups.g[1]: 'shop-a' is listed twice"),
        ("  Bad: [shop-a]\n", "groups.Bad: 'Bad' is not a valid group name"),
    ],
)
def test_groups_in_wasync_yaml_are_checked(tmp_path: Path, groups: str, expected: str) -> None:
    config = CONFIG.split("groups:", maxsplit=1)[0] + "groups:\n" + groups
    found_ = found(tmp_path, qr_codes=[qr()], config=config)
    assert len(found_) == 1, found_
    assert f"{tmp_path}/wasync.yaml:" in found_[0] and expected in found_[0]


def test_the_editor_schema_takes_fan_out_and_refuses_identity_overrides() -> None:
    import jsonschema

    from wasync.spec.schema import spec_schema

    validator = jsonschema.Draft7Validator(spec_schema())
    entry = template(
        ["shop-a", {"group": "brands"}],
        overrides={"shop-a": {"category": "MARKETING", "phone": "8618500009999"}},
        translations={"pt_BR": {"components": [{"text": "Olá"}, {}, None]}},
    )
    doc = {"templates": [entry], "qr_codes": [qr(phone={"group": "counters"})]}
    assert list(validator.iter_errors(doc)) == []
    entry["overrides"] = {"shop-a": {"name": "other"}}
    entry["account"] = [{"grop": "brands"}]
    found_ = sorted((list(e.absolute_path), e.validator) for e in validator.iter_errors(doc))
    assert found_ == [
        (["templates", 0, "account", 0], "additionalProperties"),
        (["templates", 0, "account", 0], "required"),
        (["templates", 0, "overrides", "shop-a"], "additionalProperties"),
    ]


def test_pins_of_a_fanned_out_entry_go_under_its_overrides(tmp_path: Path) -> None:
    from wasync.spec.write import write_pins

    path = tmp_path / "q.yaml"
    before = (
        "qr_codes:\n"
        "  # the counters\n"
        "  - account: shop-a\n"
        "    phone: {group: counters}   # every counter\n"
        "    label: counter\n"
        "    prefilled_message: Hi\n"
        "    overrides:\n"
        '      "8615800002222": {prefilled_message: Hola}\n'
        "  - account: shop-a\n"
        '    phone: "8615800001111"\n'
        "    label: other\n"
        "    prefilled_message: Hi\n"
    )
    path.write_text(before, encoding="utf-8")
    missing = write_pins(
        path,
        {
            "qr.shop-a.8615800001111.counter": "C1",
            "qr.shop-a.8615800002222.counter": "C2",
            "qr.shop-a.8615800001111.other": "C3",
            "qr.shop-a.8615800001111.gone": "C4",
        },
    )
    assert missing == ["qr.shop-a.8615800001111.gone"]
    after = path.read_text(encoding="utf-8")
    assert after == (
        "qr_codes:\n"
        "  # the counters\n"
        "  - account: shop-a\n"
        "    phone: {group: counters}   # every counter\n"
        "    label: counter\n"
        "    prefilled_message: Hi\n"
        "    overrides:\n"
        '      "8615800002222": {prefilled_message: Hola, code: C2}\n'
        '      "8615800001111":\n'
        "        code: C1\n"
        "  - account: shop-a\n"
        '    phone: "8615800001111"\n'
        "    label: other\n"
        "    prefilled_message: Hi\n"
        "    code: C3\n"
    )

"""Loading a spec folder: files, top-level keys, models, addresses, accounts, positions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wasync.errors import Location, SpecError
from wasync.loading import load_desired
from wasync.model import QrCode, Template
from wasync.spec.load import spec_files

from .helpers import CONFIG, NX_PHONE, dump, folder, problems

REPO = Path(__file__).resolve().parents[2]

BODY = {
    "account": "shop-nx",
    "phone": NX_PHONE,
    "name": "order_shipped",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your order has shipped."}],
}


def template(**fields: object) -> dict[str, object]:
    return {**BODY, **fields}


def test_the_message_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "x" * 1031
    spec = "\n".join(
        [
            "# Shop templates",
            "#",
            "# Utility messages about orders.",
            "#",
            "# (each template names its account and number)",
            "templates:",
            "  - account: shop-nx",
            '    phone: "8618500009999"',
            "    name: order_shipped",
            "    language: en_US",
            "    category: UTILITY",
            "    components:",
            "      - type: BODY",
            f'        text: "{text}"',
            "",
        ]
    )
    folder(tmp_path / "specs", {"shop.yaml": spec})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_desired(Path("specs"), freeze=False)
    assert [str(p) for p in caught.value.problems] == [
        "specs/shop.yaml:14:15: template.shop-nx.8618500009999.order_shipped.en_US: "
        "components[0].text: 1031 characters; at most 1024 allowed"
    ]
    assert str(caught.value).endswith("\n1 problem in the specs")


def test_files_are_found_recursively_in_sorted_order(tmp_path: Path) -> None:
    empty = "templates: []\n"
    root = folder(
        tmp_path,
        {
            "b.yaml": empty,
            "a.yml": empty,
            "sub/z.yaml": empty,
            "sub/deeper/a.yaml": empty,
            "sub/wasync.yaml": "not: a spec\n",
            ".hidden/x.yaml": "broken: [\n",
            ".wasync/sandbox/state.yaml": "broken: [\n",
            "sub/.github/workflows/ci.yml": "broken: [\n",
            ".editor-swap.yaml": "broken: [\n",
            "notes.txt": "broken: [\n",
            "sub.yaml.bak": "broken: [\n",
        },
    )
    files, found = spec_files(root)
    assert found == []
    assert [str(f) for f in files] == ["a.yml", "b.yaml", "sub/deeper/a.yaml", "sub/z.yaml"]
    _, loaded = load_desired(root, freeze=False)
    assert loaded.files == tuple(str(root / f) for f in files)
    assert loaded.summary() == "0 templates, 0 QR codes in 4 files"


def test_an_empty_file_declares_nothing(tmp_path: Path) -> None:
    root = folder(tmp_path, {"empty.yaml": "", "comments.yaml": "# nothing yet\n"})
    _, loaded = load_desired(root, freeze=False)
    assert loaded.desired.templates == ()
    assert loaded.summary() == "0 templates, 0 QR codes in 2 files"


def test_resources_become_models_with_addresses(tmp_path: Path) -> None:
    qr = {"account": "shop-cams", "phone": "8615800001111", "label": "p", "prefilled_message": "Hi"}
    cams = template(account="shop-cams", phone=None)
    del cams["phone"]
    root = folder(
        tmp_path,
        {"a.yaml": dump({"templates": [template(), cams]}), "b.yaml": dump({"qr_codes": [qr]})},
    )
    _, loaded = load_desired(root, freeze=False)
    t1, t2 = loaded.desired.templates
    (q,) = loaded.desired.qr_codes
    assert isinstance(t1, Template)
    assert isinstance(q, QrCode)
    assert t1.address == "template.shop-nx.8618500009999.order_shipped.en_US"
    assert t2.address == "template.shop-cams.order_shipped.en_US"
    assert q.address == "qr.shop-cams.8615800001111.p"
    assert loaded.summary() == "2 templates, 1 QR code in 2 files"


def test_the_source_map_locates_resources_and_fields(tmp_path: Path) -> None:
    root = folder(tmp_path, {"a.yaml": dump({"templates": [template()]})})
    _, loaded = load_desired(root, freeze=False)
    where = loaded.source_map
    address = "template.shop-nx.8618500009999.order_shipped.en_US"
    assert address in where
    assert len(where) == 1
    file = f"{root}/a.yaml"
    assert where.locate(address) == Location(file, 2, 3)
    assert where.locate(address, ("components", 0, "text")) == Location(file, 5, 11)
    assert where.locate(address, ("name",), key=True) == Location(file, 8, 3)
    assert where.locate("template.nope.x.en") is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "template:\n  - {}\n",
            ["spec.yaml:1:1: unknown top-level key; did you mean `templates`?"],
        ),
        (
            "accounts: {}\n",
            ["spec.yaml:1:1: unknown top-level key; accounts belong in wasync.yaml"],
        ),
        (
            "stuff: 1\n",
            ["spec.yaml:1:1: unknown top-level key; allowed: qr_codes, templates"],
        ),
        (
            "templates: {name: x}\n",
            ["spec.yaml:1:12: templates: expected a list of resources (- ...), got a mapping"],
        ),
        (
            "- templates\n",
            ["spec.yaml:1:1: expected a mapping with `qr_codes:` and/or `templates:`, got a list"],
        ),
        ("templates:\nqr_codes: ~\n", []),
    ],
)
def test_top_level(tmp_path: Path, spec: str, expected: list[str]) -> None:
    root = folder(tmp_path, {"spec.yaml": spec})
    assert [p.replace(f"{root}/", "") for p in problems(root)] == expected


VALIDATION = """\
templates:
  - account: shop-nx
    phone: 8618500009999
    name: order_shipped
    language: en_US
    category: UTILITY
    colour: blue
    components:
      - type: BODY
        txt: hello
      - type: HEAD
      - just text
      - type: BUTTONS
        buttons:
          - type: URL
            text: Track
qr_codes:
  - account: shop-cams
    phone: "8615800001111"
    prefilled_message: Hi
"""


def test_validation_errors_point_at_the_offending_field(tmp_path: Path) -> None:
    root = folder(tmp_path, {"spec.yaml": VALIDATION})
    t = "template.shop-nx.order_shipped.en_US"
    assert [p.replace(f"{root}/", "") for p in problems(root)] == [
        f"spec.yaml:3:12: {t}: phone: expected text, got a number; put it in quotes to make "
        "it text",
        f"spec.yaml:7:5: {t}: colour: unknown key (allowed: account, phone, name, language, "
        "category, parameter_format, components, message_send_ttl_seconds, protect)",
        f"spec.yaml:10:9: {t}: components[0].txt: unknown key; did you mean `text`? (allowed: "
        "type, text, example, add_security_recommendation)",
        f'spec.yaml:11:15: {t}: components[1].type: "HEAD" is not a component type; did you '
        "mean HEADER? (allowed: HEADER, BODY, FOOTER, BUTTONS, CAROUSEL)",
        f"spec.yaml:12:9: {t}: components[2]: expected a mapping (key: value pairs), got text",
        f"spec.yaml:15:13: {t}: components[3].buttons[0].url: required, but missing",
        "spec.yaml:18:5: qr_codes[0]: label: required, but missing",
    ]


def test_duplicate_addresses_name_both_places(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {
            "a.yaml": dump({"templates": [template()]}),
            "b/c.yaml": dump({"templates": [template()]}),
        },
    )
    assert problems(root) == [
        f"{root}/b/c.yaml:2:3: template.shop-nx.8618500009999.order_shipped.en_US: declared "
        f"twice: first at {root}/a.yaml:2:3; each address must be unique"
    ]


def test_a_remote_code_is_pinned_once(tmp_path: Path) -> None:
    qr = {"account": "shop-cams", "phone": "8615800001111", "prefilled_message": "Hi", "code": "X1"}
    spec = dump({"qr_codes": [{**qr, "label": "a"}, {**qr, "label": "b"}]})
    root = folder(tmp_path, {"qr.yaml": spec})
    assert problems(root) == [
        f"{root}/qr.yaml:8:9: qr.shop-cams.8615800001111.b: code: code 'X1' is already pinned "
        f"at {root}/qr.yaml:2:3"
    ]


def test_an_unknown_account_lists_the_accounts(tmp_path: Path) -> None:
    root = folder(tmp_path, {"a.yaml": dump({"templates": [template(account="shop-nc")]})})
    assert problems(root) == [
        f"{root}/a.yaml:2:12: template.shop-nc.8618500009999.order_shipped.en_US: account: no "
        "account 'shop-nc' in wasync.yaml; did you mean 'shop-nx'? accounts there: shop-cams, "
        "shop-nx"
    ]


def test_a_spec_on_a_broken_account_is_not_also_unknown(tmp_path: Path) -> None:
    config = CONFIG.replace("    appkey: test-appkey\n", "")
    root = folder(tmp_path, {"a.yaml": dump({"templates": [template()]})}, config=config)
    assert problems(root) == [
        f"{root}/wasync.yaml:7:5: accounts.shop-nx.appkey: required, but missing"
    ]


def test_problems_of_all_files_are_reported_together_in_order(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {
            "b.yaml": dump({"templates": [template(name="B")]}),
            "a.yaml": dump({"templates": [template(name="A"), template(name="C")]}),
            "c.yaml": "x: [\n",
        },
    )
    found = [p.replace(f"{root}/", "") for p in problems(root)]
    assert [p.split(": ")[0] for p in found] == [
        "a.yaml:8:9",
        "a.yaml:16:9",
        "b.yaml:8:9",
        "c.yaml:2:1",
    ]


def test_the_example_specs_are_valid() -> None:
    config, loaded = load_desired(REPO / "specs", freeze=False)
    assert set(config.accounts) == {"shop-cams", "shop-nx", "shop-meta"}
    categories = {t.category for t in loaded.desired.templates}
    assert categories == {"MARKETING", "UTILITY", "AUTHENTICATION"}
    assert {t.account for t in loaded.desired.templates} == {"shop-cams", "shop-nx", "shop-meta"}
    assert len(loaded.desired.qr_codes) >= 5


def test_twenty_thousand_resources_load_in_seconds(tmp_path: Path) -> None:
    """A guard against pathological slowdowns, not a benchmark: the bound is loose."""
    item = dump({"templates": [template(name="NAME")]}).removeprefix("templates:\n")
    specs = {
        f"t{f}.yaml": "templates:\n"
        + "".join(item.replace("NAME", f"order_{f}_{i}") for i in range(2000))
        for f in range(10)
    }
    root = folder(tmp_path, specs)
    started = time.process_time()
    _, loaded = load_desired(root, freeze=False)
    elapsed = time.process_time() - started
    assert len(loaded.desired.templates) == 20_000
    assert elapsed < 30, f"{elapsed:.1f}s"


def parsed_entries(root: Path) -> list[Path]:
    """The parse cache's entries for files (not verdicts of checks: ``spec.checked``)."""
    found = (root / ".wasync" / "cache" / "specs").glob("*.bin")
    return sorted(p for p in found if not p.name.startswith("checked-"))


def test_a_folder_read_from_the_parse_cache_reports_the_same_problems(tmp_path: Path) -> None:
    # A problem deep in a resource is located from the file's text again (a parse keeps
    # only shallow positions): the same on a parse cache hit as on the first read.
    long_label = [{"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x" * 30}]}]
    bad = template(components=[*BODY["components"], *long_label])  # type: ignore[list-item]
    root = folder(tmp_path, {"a.yaml": dump({"templates": [bad]}), "b.yaml": dump({})})
    first = problems(root)
    assert len(first) == 1 and "components[1].buttons[0].text" in first[0]
    cached = parsed_entries(root)
    assert len(cached) == 2
    assert problems(root) == first
    # An edited file gets a new entry; the old one is dropped.
    (root / "a.yaml").write_text(dump({"templates": [template()]}), encoding="utf-8")
    assert problems(root) == []
    now = parsed_entries(root)
    assert len(now) == 2 and now != cached

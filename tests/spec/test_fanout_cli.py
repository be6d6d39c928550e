"""Fan-out through the command line, against the embedded sandbox: one entry, three
accounts (and a group, and translations), planned, applied and planned again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_runner import wasync
from newcomer.support import cams_emulator
from ruamel.yaml import YAML

from .helpers import dump, folder

# qps: 1000: pacing at the documented rates is not what these tests are about.
CONFIG = """\
accounts:
  shop-a: {provider: cams, endpoint: sandbox, cust_space_id: space-a, qps: 1000}
  shop-b: {provider: cams, endpoint: sandbox, cust_space_id: space-b, qps: 1000}
  shop-c: {provider: cams, endpoint: sandbox, cust_space_id: space-c, qps: 1000}
  shop-nx: {provider: nxcloud, endpoint: sandbox, appkey: nx-key}
  shop-meta: {provider: meta, endpoint: sandbox, waba_id: "100200300400500"}
groups:
  brands: [shop-a, shop-b, shop-c]
"""


def shipped(account: object, **more: object) -> dict[str, object]:
    return {
        "account": account,
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Your order {{1}} has shipped.",
                "example": {"body_text": [["12345"]]},
            },
            {"type": "FOOTER", "text": "Thank you"},
        ],
        **more,
    }


def plan_json(root: Path, *extra: str) -> list[dict[str, object]]:
    result = wasync("plan", root, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    changes: list[dict[str, object]] = json.loads(result.stdout)["changes"]
    return changes


def test_one_entry_three_accounts_round_trip(tmp_path: Path) -> None:
    entry = shipped(["shop-a", "shop-b", "shop-c"])
    root = folder(tmp_path, {"t.yaml": dump({"templates": [entry]})}, config=CONFIG)

    first = wasync("plan", root, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "Plan: 3 to create, 0 to update, 0 to delete." in first.stdout
    # JSON keeps one change per resource, each at the address a one-account entry has.
    addresses = [c["address"] for c in plan_json(root)]
    assert addresses == [f"template.shop-{x}.order_shipped.en_US" for x in "abc"]

    applied = wasync("apply", root, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply done: 3 succeeded, 0 failed, 0 skipped" in applied.stdout
    again = wasync("plan", root, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout

    # An override changes its one target, and nothing else.
    footer = {"type": "FOOTER", "text": "Thanks from shop B"}
    entry["overrides"] = {"shop-b": {"components": [entry["components"][0], footer]}}  # type: ignore[index]
    (root / "t.yaml").write_text(dump({"templates": [entry]}), encoding="utf-8")
    changes = plan_json(root)
    assert [(c["address"], c["action"]) for c in changes] == [
        ("template.shop-b.order_shipped.en_US", "update")
    ]
    assert changes[0]["fields"] == [
        {"path": "components[1].text", "before": "Thank you", "after": "Thanks from shop B"}
    ]
    # --target still picks one resource of a fanned-out entry.
    assert plan_json(root, "--target", "template.shop-a.order_shipped.en_US") == []
    assert len(plan_json(root, "--target", "template.shop-b.order_shipped.en_US")) == 1
    # CAMS edits a template that is not under review: say shop-b's was rejected.
    emulator = cams_emulator(root, "shop-b")
    (stored,) = emulator.templates("space-b")
    emulator.set_template_status(stored["TemplateCode"], "en_US", "REJECTED")
    applied = wasync("apply", root, "--auto-approve")
    assert "Apply done: 1 succeeded" in applied.stdout, applied.output
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


def test_qr_codes_fan_out_over_numbers_and_an_override_replaces_one(tmp_path: Path) -> None:
    phones = ["8615800001111", "8615800002222", "8615800003333"]
    entry: dict[str, object] = {
        "account": "shop-a",
        "phone": phones,
        "label": "poster",
        "prefilled_message": "Hello, I saw your poster",
    }
    root = folder(tmp_path, {"q.yaml": dump({"qr_codes": [entry]})}, config=CONFIG)
    text = wasync("plan", root).stdout
    assert "poster: create on 3 numbers (shop-a.8615800001111, " in text, text
    assert "Plan: 3 to create, 0 to update, 0 to delete." in text
    assert wasync("apply", root, "--auto-approve").exit_code == 0
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0

    # apply pinned each number's code under overrides
    [pinned] = YAML(typ="safe").load((root / "q.yaml").read_text(encoding="utf-8"))["qr_codes"]
    codes = {phone: fields["code"] for phone, fields in pinned["overrides"].items()}
    assert sorted(codes) == phones and len(set(codes.values())) == 3
    pinned["overrides"][phones[1]]["prefilled_message"] = "Hola, vi tu cartel"
    (root / "q.yaml").write_text(dump({"qr_codes": [pinned]}), encoding="utf-8")
    changes = plan_json(root)
    assert [(c["address"], c["action"]) for c in changes] == [
        (f"qr.shop-a.{phones[1]}.poster", "replace")
    ]
    applied = wasync("apply", root, "--auto-approve")
    assert "Apply done: 1 succeeded" in applied.stdout, applied.output
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


TRANSLATIONS = {
    "pt_BR": {"components": [{"text": "Seu pedido {{1}} foi enviado."}, {"text": "Obrigado"}]},
    "es": {"components": [{"text": "Tu pedido {{1}} fue enviado."}, {}]},
}


def test_translations_round_trip(tmp_path: Path) -> None:
    entry = shipped("shop-a", translations=TRANSLATIONS)
    root = folder(tmp_path, {"t.yaml": dump({"templates": [entry]})}, config=CONFIG)
    changes = {c["address"]: c for c in plan_json(root)}
    assert sorted(changes) == [
        f"template.shop-a.order_shipped.{lang}" for lang in ("en_US", "es", "pt_BR")
    ]
    es = {f["path"]: f["after"] for f in changes["template.shop-a.order_shipped.es"]["fields"]}  # type: ignore[union-attr]
    # The translation's text, the base's footer (it gave {}), the base's structure.
    assert es["components[0].text"] == "Tu pedido {{1}} fue enviado."
    assert es["components[1].text"] == "Thank you"
    assert es["components[0].example.body_text[0][0]"] == "12345"
    assert es["category"] == "UTILITY"

    applied = wasync("apply", root, "--auto-approve")
    assert "Apply done: 3 succeeded" in applied.stdout, applied.output
    assert wasync("plan", root, "--detailed-exitcode").exit_code == 0


def test_a_group_with_translations_is_planned_once_per_language(tmp_path: Path) -> None:
    entry = shipped({"group": "brands"}, translations=TRANSLATIONS)
    root = folder(tmp_path, {"t.yaml": dump({"templates": [entry]})}, config=CONFIG)
    assert len(plan_json(root)) == 9  # 3 accounts x 3 languages, one change each in JSON
    # Text and Markdown say each language's create once, for the three accounts.
    text = wasync("plan", root).stdout
    assert "order_shipped.es: create on 3 accounts (shop-a, shop-b, shop-c)" in text
    assert text.count('"Tu pedido {{1}} fue enviado."') == 1
    assert "template.shop-b.order_shipped.es" not in text
    assert "Plan: 9 to create, 0 to update, 0 to delete." in text
    markdown = wasync("plan", root, "--format", "markdown").stdout
    summary = "<summary>order_shipped.es: create on 3 accounts (shop-a, shop-b, shop-c)</summary>"
    assert summary in markdown, markdown
    assert "`template.*.order_shipped.es` **will be created**" in markdown
    assert "<summary>shop-b:" not in markdown  # not again, per account
    assert "| shop-b | cams | 3 |" in markdown  # the table still counts each resource


def test_validation_names_the_target_that_cannot_take_it(tmp_path: Path) -> None:
    """Named variables on an entry for a Meta and a CAMS account: the target whose provider
    lacks them is named, at the entry's line; the other is not blamed."""
    entry = shipped(["shop-meta", "shop-a"], parameter_format="NAMED")
    entry["components"] = [
        {
            "type": "BODY",
            "text": "Your order {{order}} has shipped.",
            "example": {"body_text_named_params": [{"param_name": "order", "example": "12345"}]},
        }
    ]
    qr = {
        "account": ["shop-a", "shop-nx"],
        "phone": "8615800001111",
        "label": "poster",
        "prefilled_message": "Hi",
    }
    root = folder(
        tmp_path, {"t.yaml": dump({"templates": [entry], "qr_codes": [qr]})}, config=CONFIG
    )
    result = wasync("validate", root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    named = [line for line in lines if "named variables" in line]
    assert len(named) == 1, result.output
    assert named[0].startswith(f"{root}/t.yaml:")
    assert ": template.shop-a.order_shipped.en_US: parameter_format: CAMS documents" in named[0]
    (no_qr,) = [line for line in lines if "no QR code API" in line]
    # At the account's place in the list, naming the target's address.
    line = dump({"templates": [entry], "qr_codes": [qr]}).splitlines().index("  - shop-nx") + 1
    assert no_qr.startswith(f"{root}/t.yaml:{line}:5: qr.shop-nx.8615800001111.poster: account: ")


def test_the_fan_out_example_validates_and_plans_each_language_once(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "fan-out"
    root = tmp_path / "fan-out"
    shutil.copytree(example, root)
    result = wasync("validate", root)
    assert result.exit_code == 0, result.output
    assert result.output == f"{root}: 12 templates, 3 QR codes in 2 files: valid\n"
    text = wasync("plan", root).stdout
    for lang in ("en_US", "es", "pt_BR"):
        headline = f"order_shipped.{lang}: create on 3 targets (brand-a, brand-b, brand-d-nx."
        assert headline in text, text
    assert "counter: create on 2 numbers (brand-a.8615800001111, brand-a.8615800002222)" in text
    assert "Plan: 15 to create, 0 to update, 0 to delete." in text

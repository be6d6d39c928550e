"""`wasync import` of several accounts that hold the same template writes it once, for all
of them (``account: [...]``), and a plan right after has nothing to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli_runner import wasync
from newcomer.support import cams_emulator
from ruamel.yaml import YAML

# qps: 1000: pacing at the documented rates is not what these tests are about.
CONFIG = """\
accounts:
  shop-a: {provider: cams, endpoint: sandbox, cust_space_id: space-a, qps: 1000}
  shop-b: {provider: cams, endpoint: sandbox, cust_space_id: space-b, qps: 1000}
  shop-c: {provider: cams, endpoint: sandbox, cust_space_id: space-c, qps: 1000}
"""


def held(root: Path, account: str, name: str, text: str) -> None:
    """A template the account holds (made in its sandbox, as in the provider's console)."""
    cams_emulator(root, account).call(
        "CreateChatappTemplate",
        {
            "Name": name,
            "Language": "en",
            "Category": "UTILITY",
            "TemplateType": "WHATSAPP",
            "Components": [{"Type": "BODY", "Text": text}],
            "CustSpaceId": f"space-{account[-1]}",
        },
    )


def entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return list(YAML(typ="safe").load(path.read_text(encoding="utf-8")).get("templates") or [])


def test_importing_three_accounts_folds_the_template_they_share(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    for account in ("shop-a", "shop-b", "shop-c"):
        held(root, account, "order_shipped", "Your order has shipped.")
    held(root, "shop-b", "welcome", "Welcome to shop B.")  # shop-b's own
    held(root, "shop-c", "order_paid", "Paid, thank you.")  # differs from...
    held(root, "shop-a", "order_paid", "Payment received.")  # ...shop-a's: kept apart

    for account in ("shop-a", "shop-b", "shop-c"):
        result = wasync("import", root, "--account", account)
        assert result.exit_code == 0, result.output

    imported = root / "imported"
    [shared] = entries(imported / "shared-templates.yaml")
    assert shared["account"] == ["shop-a", "shop-b", "shop-c"]
    assert shared["name"] == "order_shipped"
    assert shared["components"] == [{"type": "BODY", "text": "Your order has shipped."}]
    by_file = {p.name: [e["name"] for e in entries(p)] for p in sorted(imported.glob("*.yaml"))}
    assert by_file == {
        "shared-templates.yaml": ["order_shipped"],
        "shop-a-templates.yaml": ["order_paid"],
        "shop-b-templates.yaml": ["welcome"],
        "shop-c-templates.yaml": ["order_paid"],
    }
    plan = wasync("plan", root, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout
    # Importing again finds everything in the specs and writes nothing.
    again = wasync("import", root, "--account", "shop-b")
    assert "Nothing to write" in again.stdout, again.output


def test_overwrite_leaves_an_entry_for_several_accounts_and_says_why(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "wasync.yaml").write_text(CONFIG, encoding="utf-8")
    spec = (
        "templates:\n"
        "  - account: [shop-a, shop-b]\n"
        "    name: order_shipped\n"
        "    language: en\n"
        "    category: UTILITY\n"
        "    components:\n"
        "      - type: BODY\n"
        "        text: Your order has shipped.\n"
    )
    (root / "t.yaml").write_text(spec, encoding="utf-8")
    held(root, "shop-b", "order_shipped", "Shipped!")  # shop-b's differs
    result = wasync("import", root, "--account", "shop-b", "--overwrite")
    assert result.exit_code == 0, result.output
    assert "template.shop-b.order_shipped.en" in result.stdout
    assert "declared by an entry for several targets" in result.stdout
    assert (root / "t.yaml").read_text(encoding="utf-8") == spec

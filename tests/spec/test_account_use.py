"""What an account needs for what its specs ask, as its provider's account model says
(``AccountBase.check_use``), and the warnings of specs that rely on a provider guess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wasync.cli import cli
from wasync.loading import load_desired

from .helpers import CONFIG, NX_PHONE, dump, folder, problems

NO_SPACE = CONFIG.replace("    cust_space_id: cams-test-space\n", "")


def body_template(account: str, name: str = "note", **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "account": account,
        "name": name,
        "language": "en",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your parcel is on its way."}],
        **more,
    }
    if account == "shop-nx":
        entry["phone"] = NX_PHONE
    return entry


QR = {"account": "shop-cams", "phone": "8615800001111", "label": "p", "prefilled_message": "Hi"}


def test_a_cams_account_with_templates_needs_a_space(tmp_path: Path) -> None:
    root = folder(tmp_path, {"specs.yaml": dump({"templates": [body_template("shop-cams")]})})
    root.joinpath("wasync.yaml").write_text(NO_SPACE, encoding="utf-8")
    [problem] = problems(root)
    # At the account in wasync.yaml, the field to add, why, what to write, and who needs it.
    assert problem.startswith(f"{root}/wasync.yaml:2:3: accounts.shop-cams.cust_space_id: ")
    assert "required, because this account manages templates" in problem
    assert "CreateChatappTemplate, ModifyChatappTemplate, GetChatappTemplateDetail" in problem
    assert "add cust_space_id:" in problem and "Channel Management" in problem
    assert f"(e.g. template.shop-cams.note.en at {root}/specs.yaml:2:3)" in problem


def test_qr_codes_alone_need_no_space_and_nxcloud_never_does(tmp_path: Path) -> None:
    specs = {"qr_codes": [QR], "templates": [body_template("shop-nx")]}
    root = folder(tmp_path, {"specs.yaml": dump(specs)}, config=NO_SPACE)
    assert problems(root) == []


def test_validate_fails_on_it_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = folder(tmp_path, {"specs.yaml": dump({"templates": [body_template("shop-cams")]})})
    root.joinpath("wasync.yaml").write_text(NO_SPACE, encoding="utf-8")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["validate", "."])
    assert result.exit_code == 1
    assert "accounts.shop-cams.cust_space_id: required" in result.stderr
    assert result.stderr.endswith("1 problem found\n")


# --- warnings: valid specs that rely on a wire form wasync guesses ----------------------------


def with_examples(account: str) -> dict[str, Any]:
    return body_template(
        account,
        name="offer",
        category="MARKETING",
        components=[
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Hi {{1}}",
                "example": {"header_text": ["Ann"]},
            },
            {"type": "BODY", "text": "Our offer {{1}}.", "example": {"body_text": [["X"]]}},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Go",
                        "url": "https://shop.example/{{1}}",
                        "example": ["https://shop.example/1"],
                    }
                ],
            },
        ],
    )


def card(body: str | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_url": "https://x.example/a.png"}}
    ]
    if body is not None:
        parts.append(
            {"type": "BODY", "text": body, "example": {"body_text": [["A"]]}}
            if "{{" in body
            else {"type": "BODY", "text": body}
        )
    parts.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "More"}]})
    return {"components": parts}


def carousel(account: str) -> dict[str, Any]:
    return body_template(
        account,
        name="cards",
        category="MARKETING",
        components=[
            {"type": "BODY", "text": "Pick one."},
            {
                "type": "CAROUSEL",
                "cards": [card("Plain"), card("Size {{1}} left."), card("Also {{1}} left.")],
            },
        ],
    )


def warnings_of(root: Path) -> list[str]:
    _, loaded = load_desired(root, freeze=False)
    return [str(w).replace(f"{root}/", "") for w in loaded.warnings]


def test_cams_examples_in_a_guessed_wire_form_are_warned_where_they_are(tmp_path: Path) -> None:
    specs = {"templates": [with_examples("shop-cams"), carousel("shop-cams")]}
    warned = warnings_of(folder(tmp_path, {"specs.yaml": dump(specs)}))
    assert [w.split(": ")[:3] for w in warned] == [
        ["specs.yaml:7:7", "template.shop-cams.offer.en", "components[0].example.header_text"],
        ["specs.yaml:18:7", "template.shop-cams.offer.en", "components[2].buttons[0].example"],
        ["specs.yaml:31:5", "template.shop-cams.cards.en", "components[1].cards"],
    ]
    assert "the Example key header.1, a guess (docs/provider-fidelity.md)" in warned[0]
    assert "the Example key button.<b>.1" in warned[1]
    assert "examples inside carousel cards (cards 2, 3)" in warned[2]
    assert all("if CAMS refuses this template" in w for w in warned)


def test_nxcloud_documents_those_fields_so_nothing_is_warned(tmp_path: Path) -> None:
    specs = {"templates": [with_examples("shop-nx"), carousel("shop-nx")]}
    assert warnings_of(folder(tmp_path, {"specs.yaml": dump(specs)})) == []

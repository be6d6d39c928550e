"""The three renderings of a plan: golden files, colour rules, the Markdown size bound,
and the JSON Schema.

Regenerate the golden files after an intended output change with:

    PLAN_GOLDEN_UPDATE=1 .venv/bin/python -m pytest -q tests/plan/test_render.py

then review the diff of tests/plan/golden/ like any other change.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from plan.builders import CAMS_PHONE, body, golden_plan, make_plan, qr, rqr, rtpl, tpl
from wasync.plan import render
from wasync.plan.render import json as json_render
from wasync.plan.render import markdown, text

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json_render.SCHEMA
ANSI = re.compile(r"\x1b\[")


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PLAN_GOLDEN_UPDATE") == "1":
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs; see the module docstring to regenerate"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return golden_plan().data()


def test_the_golden_plan_has_every_change_kind_hazard_and_blocked_reason(
    data: dict[str, Any],
) -> None:
    # The golden files are only worth their bytes if they show every case.
    changes = data["changes"]
    # A QR update in place needs a provider that keeps codes: the golden accounts replace.
    assert {(c["kind"], c["action"]) for c in changes} == {
        *(("qr", a) for a in ("create", "replace", "delete")),
        *(("template", a) for a in ("create", "update", "delete")),
    }
    hazards = {h["code"] for c in changes for h in c["hazards"]}
    assert hazards == {
        "qr-code-replaced",
        "qr-pin-not-found",
        "delete",
        "deletes-all-languages",
        "rereview",
        "category-change",
        "name-lock",
    }
    blocked = {c["blocked"]["code"] for c in changes if c["blocked"]}
    assert blocked == {
        "not-editable",
        "category-locked",
        "protected",
        "deletes-kept-language",
        "edit-budget",
        "protected-unpinned",
        "maybe-protected",
    }
    # Previews: a template create and an update with a message before and after.
    previews = [c for c in changes if c["preview"]]
    assert {c["action"] for c in previews} == {"create", "update"}
    assert all(c["kind"] == "template" for c in previews)
    assert data["unmanaged"] and data["warnings"] and data["threshold_violations"]


def test_text_golden(data: dict[str, Any]) -> None:
    check_golden("plan.txt", text.to_text(data))


def test_markdown_golden(data: dict[str, Any]) -> None:
    check_golden("plan.md", markdown.render(data))


def test_json_golden(data: dict[str, Any]) -> None:
    check_golden("plan.json", json_render.render(data))


def test_every_rendering_names_every_change(data: dict[str, Any]) -> None:
    plain, md = text.to_text(data), markdown.render(data)
    for c in data["changes"]:
        assert c["address"] in plain and c["address"] in md
    assert json.loads(json_render.render(data)) == data


# --- text ----------------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_is_coloured_on_a_terminal_only(
    data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = FakeTerminal()
    render.write(data, "text", tty)
    assert ANSI.search(tty.getvalue())
    # Colour is the only difference: the words are the plain rendering's, line for line.
    assert re.sub(r"\x1b\[[0-9;]*m", "", tty.getvalue()) == text.to_text(data)
    # Only the marker of a field line is coloured, not the value a user wrote.
    assert '\x1b[32m+\x1b[0m phone             = "8615800001111"' in tty.getvalue()
    pipe = io.StringIO()
    render.write(data, "text", pipe)
    assert not ANSI.search(pipe.getvalue())
    assert pipe.getvalue() == text.to_text(data)


def test_no_color_means_plain_text_even_on_a_terminal(
    data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = FakeTerminal()
    render.write(data, "text", tty)
    assert not ANSI.search(tty.getvalue())


def test_long_values_are_never_wrapped() -> None:
    long = "word " * 60
    out = text.to_text(make_plan([qr("a", long.strip())]).data())
    assert json.dumps(long.strip()) in out


def test_user_text_cannot_inject_terminal_codes() -> None:
    out = text.to_text(make_plan([qr("a", "hi \x1b[2J there")]).data())
    assert "\x1b" not in out and "\\u001b[2J" in out


def test_summary_lines() -> None:
    assert text.to_text(make_plan().data()).strip() == "No changes. The remote matches the specs."
    t = tpl("legacy")
    out = text.to_text(make_plan([], [rtpl(t)]).data())
    assert out.strip().endswith(
        "No changes. The remote matches the specs. 1 unmanaged, not touched."
    )
    out = text.to_text(make_plan([qr("a", "x")]).data())
    assert out.strip().endswith("Plan: 1 to create, 0 to update, 0 to delete.")


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_starts_with_the_marker_and_balances_its_blocks(data: dict[str, Any]) -> None:
    md = markdown.render(data)
    assert md.startswith("<!-- wasync-plan -->\n")
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```diff") * 2 == md.count("```")


def test_markdown_is_bounded_and_says_what_it_left_out() -> None:
    desired = [qr(f"q{i:05}", f"A rather long prefilled message number {i}") for i in range(3000)]
    data = make_plan(desired).data()
    md = markdown.render(data)
    assert len(md) <= markdown.LIMIT
    shown = md.count("will be created")
    assert 0 < shown < 3000
    assert f"_{3000 - shown} of 3000 changes are not shown" in md
    assert "Run `wasync plan` locally" in md
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```diff") * 2 == md.count("```")
    # The addresses left out are named, the first ones after the last shown, as many as
    # fit; the rest are counted.
    listed = re.findall(r"^- `(qr\.[^`]+)`$", md, re.MULTILINE)
    assert listed and listed[0] == f"qr.shop-cams.{CAMS_PHONE}.q{shown:05}"
    assert listed == [
        f"qr.shop-cams.{CAMS_PHONE}.q{i:05}" for i in range(shown, shown + len(listed))
    ]
    assert f"- ... and {3000 - shown - len(listed)} more" in md


def test_a_plan_that_fits_names_no_left_out_addresses() -> None:
    md = markdown.render(make_plan([qr(f"q{i}", f"m {i}") for i in range(40)]).data())
    assert "not shown" not in md and md.count("will be created") == 40


def test_markdown_creates_are_one_compact_block_each() -> None:
    # A QR create is two lines; a template create is its message, with no field dump.
    created = tpl("hello", components=[body("Hi *{{1}}*", "Ana")])
    md = markdown.render(make_plan([qr("a", "Hello there"), created]).data())
    assert (
        f"# qr.shop-cams.{CAMS_PHONE}.a will be created\n"
        f'+ phone = "{CAMS_PHONE}", prefilled_message = "Hello there", image = "SVG"\n'
    ) in md
    assert "> Hi **Ana**" in md and "components[0]" not in md
    assert "**will be created** · category UTILITY" in md


def test_markdown_bounds_a_long_attention_list() -> None:
    desired = [qr(f"q{i:05}", f"new {i}", code=f"C{i:05}") for i in range(3000)]
    remote = [rqr(f"C{i:05}", f"old {i}") for i in range(3000)]
    md = markdown.render(make_plan(desired, remote).data())
    assert len(md) <= markdown.LIMIT
    assert re.search(r"- \.\.\. and \d+ more; see the plan below or locally", md)


def test_markdown_escapes_user_text() -> None:
    # A message that would close the code fence, or open HTML, stays inside its block.
    data = make_plan([qr("a", "```\n</details><b>x</b>")], [rqr("Z", "**bold** <i>")]).data()
    md = markdown.render(data)
    assert "````diff" in md  # a fence longer than any backtick run in the content
    assert "`qr.shop-cams.8615800001111.Z`" in md


def test_markdown_of_an_empty_plan() -> None:
    md = markdown.render(make_plan().data())
    assert "**No changes. The remote matches the specs.**" in md and "<details>" not in md


# --- json -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan_data",
    [
        pytest.param(lambda: golden_plan().data(), id="golden"),
        pytest.param(lambda: make_plan().data(), id="empty"),
        pytest.param(
            lambda: make_plan([qr("a", "x"), tpl("t", ttl=60)], prune=True).data(), id="creates"
        ),
    ],
)
def test_json_output_validates_against_the_schema(plan_data: Any) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(json_render.render(plan_data()))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["format_version"] == 1


def test_the_schema_rejects_what_is_not_a_plan() -> None:
    schema = json.loads(SCHEMA.read_text())
    doc = golden_plan().data()
    doc["changes"][0]["action"] = "rename"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown plan format 'yaml'"):
        render.write(make_plan().data(), "yaml", io.StringIO())


def test_markdown_bounds_long_warning_and_unmanaged_lists() -> None:
    # Every pin went stale, on 2000 numbers (a warning each: warnings are one per phone),
    # and thousands of codes nobody names: still one bounded comment.
    phones = [f"86158{i:08}" for i in range(2000)]
    desired = [
        qr(f"q{i:05}", f"message {i}", code=f"GONE{i:05}", phone=phone)
        for i, phone in enumerate(phones)
    ]
    remote = [rqr(f"NEW{i:05}", f"message {i}", phone=phone) for i, phone in enumerate(phones)]
    remote += [rqr(f"X{i:05}", f"stray {i}") for i in range(2000)]
    md = markdown.render(make_plan(desired, remote).data())
    assert len(md) <= markdown.LIMIT
    assert "2000 warnings are not listed here, for length." in md
    assert "2000 unmanaged resources are not listed here, for length." in md

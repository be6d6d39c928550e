"""The docs say what the code does: every schema field is in the spec reference, every
README command and option exists, links resolve, and the README's blocks run."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from cli_runner import wasync
from ruamel.yaml import YAML

from wasync.cli import cli
from wasync.config import Thresholds
from wasync.providers.cams.account import CamsAccount
from wasync.providers.meta.account import MetaAccount
from wasync.providers.nxcloud.account import NxcloudAccount
from wasync.sandbox import cams
from wasync.sandbox.common import serving
from wasync.spec.schema import spec_schema

from .readme import README, command_lines, tagged
from .support import REPO, copy_specs

REFERENCE = REPO / "docs" / "spec-reference.md"


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_spec_reference_names_every_schema_field_and_value() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    names: set[str] = set()
    values: set[str] = set()
    for key, value in _walk(spec_schema()):
        if key == "properties":
            names |= set(value)
        elif key == "enum":
            values |= {v for v in value if isinstance(v, str)}
        elif key == "const" and isinstance(value, str):
            values.add(value)
    assert len(names) > 30 and len(values) > 20  # the walk found the schema's contents
    missing = sorted(n for n in names | values if f"`{n}`" not in text)
    assert not missing, f"docs/spec-reference.md does not mention: {missing}"


def test_the_spec_reference_names_every_account_setting() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    fields = {
        *CamsAccount.model_fields,
        *NxcloudAccount.model_fields,
        *MetaAccount.model_fields,
        *Thresholds.model_fields,
    }
    missing = sorted(f for f in fields - {"name"} if f"`{f}`" not in text)
    assert not missing, f"docs/spec-reference.md does not mention: {missing}"


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = cli
    rest = words[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"no command {rest[0]!r} in: {shlex.join(words)}"
        command, rest = sub, rest[1:]
    return command, rest


def test_every_readme_command_and_option_exists() -> None:
    lines = command_lines()
    assert len(lines) >= 10  # the parser found the README's commands
    for words in lines:
        command, rest = _command(words)
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        known |= {"--help", "-h"} | {opt for p in cli.params for opt in getattr(p, "opts", [])}
        unknown = [
            w.split("=")[0] for w in rest if w.startswith("-") and w.split("=")[0] not in known
        ]
        assert not unknown, f"{shlex.join(words)}: no option {unknown}"


def _links(path: Path) -> Iterator[str]:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text("utf-8")):
        if not target.startswith(("http://", "https://", "mailto:")):
            yield target


@pytest.mark.parametrize(
    "doc", ["README.md", *sorted(p.name for p in (REPO / "docs").glob("*.md"))]
)
def test_relative_links_resolve(doc: str) -> None:
    path = REPO / doc if doc == "README.md" else REPO / "docs" / doc
    broken = [t for t in _links(path) if not (path.parent / t).exists()]
    assert not broken, f"{doc}: broken links {broken}"


def test_readme_anchors_exist() -> None:
    text = README.read_text("utf-8")
    slugs = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    }
    anchors = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert anchors and anchors <= slugs, anchors - slugs


def test_the_pre_commit_hook_runs_as_pre_commit_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """pre-commit runs `entry` + `args` (no file names: pass_filenames is false) from the
    repository root; the README shows args: [specs]."""
    (hook,) = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hook["id"] == "wasync-validate" and hook["pass_filenames"] is False
    assert hook["language"] == "python" and re.search(
        hook["files"], "specs/qr-codes.yaml"
    )  # as pre-commit matches
    assert "id: wasync-validate" in README.read_text("utf-8")
    assert "args: [specs]" in README.read_text("utf-8")
    words = [*shlex.split(hook["entry"]), "specs"]
    assert words[0] == "wasync"
    monkeypatch.chdir(REPO)
    result = wasync(*words[1:])
    assert result.exit_code == 0, result.output
    # Valid; the warnings (examples CAMS documents no field for) do not fail the hook.
    assert re.search(r": valid( \(\d+ warnings?\))?\n\Z", result.stdout)


@pytest.mark.slow  # applies the example specs: ~4 s at the providers' rate
def test_the_readme_next_steps_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_specs(tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    for line in tagged("cli").splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "wasync", line
        result = wasync(*words[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}"
    assert (tmp_path / "plan.json").exists()
    assert not (tmp_path / "specs" / ".wasync" / "sandbox").exists()  # the block ends in a reset


def test_the_readme_served_sandbox_config_works(tmp_path: Path) -> None:
    block = tagged("served-sandbox")
    assert "http://127.0.0.1:8080" in block
    app = cams.create_app()  # what `wasync sandbox serve --provider cams` serves by default
    with serving(app) as url:
        (tmp_path / "wasync.yaml").write_text(block.replace("http://127.0.0.1:8080", url), "utf-8")
        (tmp_path / "qr.yaml").write_text(
            "qr_codes:\n"
            "  - account: shop-cams\n"
            '    phone: "8615800001111"\n'
            "    label: poster\n"
            "    prefilled_message: Hello from the poster\n",
            "utf-8",
        )
        assert wasync("plan", tmp_path, "--detailed-exitcode").exit_code == 2
        applied = wasync("apply", tmp_path, "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert wasync("plan", tmp_path, "--detailed-exitcode").exit_code == 0
    assert app.state.emulator.qr_codes("8615800001111")[0]["PrefilledMessage"] == (
        "Hello from the poster"
    )

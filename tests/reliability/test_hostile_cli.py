"""Hostile input through the real CLI: each case is a clean error (exit 1, the problem
named, no traceback) from `wasync validate` and `wasync plan`, in a child process whose CPU
time and address space are capped, so a case that blew up would be killed, not wait.

tests/spec/test_hostile.py checks the loader's exact messages in process; this file checks
what a person sees, and adds the cases that only the whole program meets (wasync.yaml
itself, odd file names, the spec folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import wasync_process

from .support import Folder, bounded, qr_spec

CPU_SECONDS = 30
MEMORY = 1024 * 1024 * 1024  # 1 GiB of address space: the largest case needs ~150 MB
WALL_SECONDS = 60
CONFIG = "accounts:\n  shop:\n    provider: cams\n    endpoint: sandbox\n    cust_space_id: s\n"
TEMPLATE = (
    "templates:\n  - account: shop\n    name: note\n    language: en\n    category: UTILITY\n"
    "    components:\n      - type: BODY\n        text: {text}\n"
)


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path], None]
    expected: str  # a piece of the message that names the problem


def spec(content: str | bytes, name: str = "spec.yaml") -> Callable[[Path], None]:
    def write(root: Path) -> None:
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return write


def config(content: str | bytes) -> Callable[[Path], None]:
    return spec(content, "wasync.yaml")


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 30)]
    return "\n".join(lines) + "\n"


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        with (root / name).open("wb") as f:
            f.truncate(size)  # costs no disk

    return write


def fifo(name: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / name)  # reading it would block forever


def link(name: str, target: str) -> Callable[[Path], None]:
    return lambda root: os.symlink(target, root / name)


def replace_with_folder(name: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / name).unlink()
        (root / name).mkdir()

    return make


BIG = 10 * 1024 * 1024
CASES = [
    Case("duplicate keys", spec("qr_codes: []\nqr_codes: []\n"), "duplicate key 'qr_codes'"),
    Case("anchors", spec("templates:\n  - &t {a: 1}\n  - *t\n"), "anchor &t is not supported"),
    Case("alias bomb", spec(alias_bomb()), "anchor &a0 is not supported"),
    Case("recursive alias", spec("a: &x [*x]\n"), "anchor &x is not supported"),
    Case("deep flow nesting", spec("[" * 200_000 + "]" * 200_000), "nested more than 64"),
    Case(
        "deep block nesting",
        spec("".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v\n"),
        "nested more than 64",
    ),
    Case("a file over the size limit", sparse("spec.yaml", BIG + 1), "at most 10485760"),
    Case(
        "a 9 MB template text",
        spec(TEMPLATE.format(text="x" * (9 * 1024 * 1024))),
        "characters; at most 1024 allowed",
    ),
    Case("bytes that are not UTF-8", spec(b"qr_codes:\n  - label: caf\xe9\n"), "not valid UTF-8"),
    Case("UTF-16", spec("qr_codes: []\n".encode("utf-16")), "not valid UTF-8"),
    Case("NUL bytes", spec(b"qr_codes: [\x00]\n"), "U+0000 is not allowed"),
    Case(
        "a python tag",
        spec('a: !!python/object/apply:os.system ["echo pwned"]\n'),
        "tag !!python/object/apply:os.system is not supported",
    ),
    Case("a custom tag", spec("a: !include other.yaml\n"), "tag !include is not supported"),
    Case(
        "a raw control character in a template",
        spec(TEMPLATE.format(text="Ding\x07dong")),
        "U+0007 is not allowed",
    ),
    Case(
        "an escaped control character in a template",
        spec(TEMPLATE.format(text='"Back\\bspace {{1}} here"')),
        "control character U+0008 in text",
    ),
    Case("an escape sequence", spec(TEMPLATE.format(text='"\\e[2Jcleared"')), "U+001B"),
    Case("a lone surrogate", spec('a: "\\ud800"\n'), "YAML syntax error"),
    Case("a second document", spec("qr_codes: []\n---\nqr_codes: []\n"), "second YAML document"),
    Case("a huge number", spec("a: " + "9" * 100_000 + "\n"), "100000 digits is too long"),
    Case("a FIFO", fifo("spec.yaml"), "not a regular file"),
    Case("a link to /dev/zero", link("zero.yaml", "/dev/zero"), "not a regular file"),
    Case("a broken link", link("gone.yaml", "missing.yaml"), "broken symbolic link"),
    Case("wasync.yaml: an alias bomb", config(alias_bomb()), "anchor &a0 is not supported"),
    Case("wasync.yaml: not UTF-8", config(b"accounts:\n  caf\xe9: {}\n"), "not valid UTF-8"),
    Case("wasync.yaml: over the size limit", sparse("wasync.yaml", BIG + 1), "at most 10485760"),
    Case(
        "wasync.yaml: a FIFO",
        lambda r: (r / "wasync.yaml").unlink() or fifo("wasync.yaml")(r),
        "not a regular file",
    ),
    Case("wasync.yaml: a folder", replace_with_folder("wasync.yaml"), "is not a regular file"),
    Case(
        "wasync.yaml: a link to /dev/zero",
        lambda r: (r / "wasync.yaml").unlink() or link("wasync.yaml", "/dev/zero")(r),
        "not a regular file",
    ),
    Case("wasync.yaml: a python tag", config("accounts: !!python/name:os.system\n"), "tag"),
    Case(
        "wasync.yaml: a credential in a tag",
        config(CONFIG + "    access_key_secret: !!binary c2VjcmV0\n"),
        "tag !!binary is not supported",
    ),
]
SLOW_CASES = [
    Case(
        "two million values",  # the value limit, at about 5 s of CPU
        spec("[" + ",".join(["1"] * (BIG // 2 - 4)) + "]\n"),
        "more than 2000000 values in one file",
    ),
]


def folder_with(tmp_path: Path, case: Case) -> Path:
    root = tmp_path / "specs"
    root.mkdir()
    (root / "wasync.yaml").write_text(CONFIG)
    case.setup(root)
    return root


def check(root: Path, case: Case) -> None:
    for command in ("validate", "plan"):
        # Bounded: CPU time and memory by rlimits, and a child that hangs fails the test.
        result = wasync_process(
            command, root, timeout=WALL_SECONDS, preexec_fn=bounded(CPU_SECONDS, MEMORY)
        )
        assert result.exit_code == 1, result
        assert "Traceback" not in result.output and "internal error" not in result.output
        assert case.expected in result.stderr, (case.expected, str(result))
        assert len(result.stderr) < 20_000, "a hostile file must not flood the terminal"


@pytest.mark.slow  # about 30 s: two processes per case
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_a_clean_error(tmp_path: Path, case: Case) -> None:
    check(folder_with(tmp_path, case), case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW_CASES, ids=[c.name for c in SLOW_CASES])
def test_hostile_input_is_a_clean_error_slow(tmp_path: Path, case: Case) -> None:
    check(folder_with(tmp_path, case), case)


def test_a_spec_folder_that_is_a_file_or_missing_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "file", tmp_path / "missing"):
        for command in ("validate", "plan"):
            result = wasync_process(command, target, preexec_fn=bounded(CPU_SECONDS, MEMORY))
            assert result.exit_code == 1, result
            assert "Traceback" not in result.output
            assert str(target) in result.stderr


def test_symlink_loops_and_many_files_end_in_bounded_time(tmp_path: Path) -> None:
    root = Folder(tmp_path / "specs", [CONFIG.split("\n", 1)[1]]).write(
        qr_codes=[qr_spec("shop", "p", "Hello")]
    )
    os.symlink(root, root / "loop")
    os.symlink(root / "loop", root / "loop2")
    many = root / "many"
    many.mkdir()
    for i in range(2000):
        (many / f"f{i}.yaml").write_text("templates: []\n")
    for command in ("validate", "plan"):
        result = wasync_process(command, root, timeout=WALL_SECONDS, preexec_fn=bounded(20, MEMORY))
        assert result.exit_code == 0, result
    assert "in 2001 files: valid" in wasync_process("validate", root).stdout


def test_file_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    root = folder_with(
        tmp_path, Case("", spec("qr_codes: 5\n", "\x1b[2J\x1b]0;pwned\x07.yaml"), "")
    )
    for command in ("validate", "plan"):
        result = wasync_process(command, root)
        assert result.exit_code == 1, result
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, result
        assert "<U+001B>[2J<U+001B>]0;pwned<U+0007>.yaml" in result.stderr


def test_hidden_characters_in_a_template_are_shown_in_the_plan(tmp_path: Path) -> None:
    text = '"Pay \\u202e1 USD\\u202c now \\u200b {{1}} ok"'
    root = folder_with(tmp_path, Case("", spec(TEMPLATE.format(text=text) + EXAMPLE), ""))
    # The text plan lists the fields; the Markdown shows the message (example filled in),
    # its text escaped for Markdown: GitHub shows "Pay <U+202E>1 USD...".
    shown = {
        "text": "Pay <U+202E>1 USD<U+202C> now <U+200B> {{1}} ok",
        "markdown": "Pay \\<U\\+202E\\>1 USD\\<U\\+202C\\> now \\<U\\+200B\\> 12345 ok",
    }
    for fmt, expected in shown.items():
        result = wasync_process("plan", root, "--format", fmt)
        assert result.exit_code == 0, result
        assert expected in result.stdout
        assert "\u202e" not in result.stdout
    raw = wasync_process("plan", root, "--format", "json")
    assert "Pay \u202e1 USD\u202c now \u200b {{1}} ok" in raw.stdout  # JSON keeps the text


EXAMPLE = "        example: {body_text: [['12345']]}\n"

"""Hostile input: every case is a clean ``SpecError`` with located problems, quickly."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from wasync.errors import SpecError
from wasync.loading import load_desired
from wasync.spec.yaml import Limits

from .helpers import folder

SECONDS = 5.0  # generous: each case takes milliseconds


def refused(root: Path, content: str | bytes, limits: Limits | None = None) -> list[str]:
    """Load a folder whose one spec file is ``content``; return the problems as printed,
    with the folder's path cut off, after checking each has a location."""
    folder(root, {"spec.yaml": content})
    started = time.process_time()
    with pytest.raises(SpecError) as caught:
        load_desired(root, limits, freeze=False)
    assert time.process_time() - started < SECONDS
    problems = caught.value.problems
    assert problems
    for p in problems:
        assert p.location is not None, p
    return [str(p).replace(f"{root}/", "") for p in problems]


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    text = "templates:\n  - account: a\n    name: x\n    account: b\n"
    assert refused(tmp_path, text) == [
        "spec.yaml:4:5: duplicate key 'account': first on line 2, again on line 4"
    ]


def test_aliases_and_anchors_are_refused(tmp_path: Path) -> None:
    text = "templates:\n  - &base\n    account: a\n  - *base\n"
    assert refused(tmp_path, text) == [
        "spec.yaml:2:5: anchor &base is not supported; write each value out in full "
        "(wasync refuses YAML anchors and aliases)",
        "spec.yaml:4:5: alias *base is not supported; write the value out in full "
        "(wasync refuses YAML anchors and aliases)",
    ]


def test_an_alias_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 30):
        items = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{items}]")
    problems = refused(tmp_path, "\n".join(lines) + "\n")
    assert problems[0].startswith("spec.yaml:1:5: anchor &a0 is not supported")
    assert len(problems) == 100  # reading stops at the per-file cap


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    problems = refused(tmp_path, "a: &x [*x]\n")
    assert problems[0].startswith("spec.yaml:1:4: anchor &x is not supported")


def test_deep_flow_nesting_stops_at_the_depth_limit(tmp_path: Path) -> None:
    depth = 200_000
    problems = refused(tmp_path, "[" * depth + "]" * depth + "\n")
    assert problems == ["spec.yaml:1:65: nested more than 64 levels deep"]


def test_deep_block_nesting_stops_at_the_depth_limit(tmp_path: Path) -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "v\n"
    assert refused(tmp_path, text) == ["spec.yaml:65:129: nested more than 64 levels deep"]


def test_a_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    size = 10 * 1024 * 1024 + 1
    folder(tmp_path, {})
    with (tmp_path / "spec.yaml").open("wb") as f:
        f.truncate(size)  # sparse: costs no disk
    with pytest.raises(SpecError) as caught:
        load_desired(tmp_path, freeze=False)
    assert [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems] == [
        f"spec.yaml:1:1: file is {size} bytes; at most 10485760 allowed (split it)"
    ]


def test_the_size_limit_is_configurable(tmp_path: Path) -> None:
    assert refused(tmp_path, "templates: []\n" + "#" * 100, Limits(max_file_bytes=50)) == [
        "wasync.yaml:1:1: file is 178 bytes; at most 50 allowed (split it)",  # a cause: first
        "spec.yaml:1:1: file is 114 bytes; at most 50 allowed (split it)",
    ]


def test_too_many_values_stop_reading(tmp_path: Path) -> None:
    text = "[" + ", ".join(["1"] * 500) + "]\n"
    assert refused(tmp_path, text, Limits(max_values=100)) == [
        "spec.yaml:1:299: more than 100 values in one file; split the file"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'a: !!python/object/apply:os.system ["echo pwned"]\n',
            "spec.yaml:1:4: tag !!python/object/apply:os.system is not supported; wasync reads "
            "plain YAML data (the YAML 1.2 core tags !!str, !!int, !!float, !!bool, !!null, "
            "!!seq, !!map, or none)",
        ),
        (
            "a: !!python/name:os.system\n",
            "spec.yaml:1:4: tag !!python/name:os.system is not supported; wasync reads plain "
            "YAML data (the YAML 1.2 core tags !!str, !!int, !!float, !!bool, !!null, !!seq, "
            "!!map, or none)",
        ),
        (
            "a: !custom value\n",
            "spec.yaml:1:4: tag !custom is not supported; wasync reads plain YAML data (the "
            "YAML 1.2 core tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map, or none)",
        ),
        (
            "a: !!binary aGVsbG8=\n",
            "spec.yaml:1:4: tag !!binary is not supported; wasync reads plain YAML data (the "
            "YAML 1.2 core tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map, or none)",
        ),
        (
            "a: !!set {x: null}\n",
            "spec.yaml:1:4: tag !!set is not supported; wasync reads plain YAML data (the YAML "
            "1.2 core tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map, or none)",
        ),
        ("a: !!int abc\n", "spec.yaml:1:4: 'abc' is not an integer (it is tagged !!int)"),
        ("a: !!float x\n", "spec.yaml:1:4: 'x' is not a number (it is tagged !!float)"),
        ("a: !!bool yes\n", "spec.yaml:1:4: 'yes' is not true or false (it is tagged !!bool)"),
        ("a: !!null x\n", "spec.yaml:1:4: 'x' is not null (it is tagged !!null)"),
    ],
)
def test_tags_outside_the_core_schema_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text) == [expected]


def test_bytes_that_are_not_utf8_name_the_offset(tmp_path: Path) -> None:
    assert refused(tmp_path, b"templates:\n  - name: caf\xe9\n") == [
        "spec.yaml:2:14: not valid UTF-8: byte 0xe9 at byte offset 24; save the file as UTF-8"
    ]


def test_utf16_is_refused(tmp_path: Path) -> None:
    problems = refused(tmp_path, "templates: []\n".encode("utf-16"))
    assert problems == [
        "spec.yaml:1:1: not valid UTF-8: byte 0xff at byte offset 0; save the file as UTF-8"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1: a\n", "spec.yaml:1:1: mapping key 1 is a number; keys must be text"),
        ("true: a\n", "spec.yaml:1:1: mapping key True is true/false; keys must be text"),
        ("~: a\n", "spec.yaml:1:1: mapping key None is empty (null); keys must be text"),
        ("? [a, b]\n: c\n", "spec.yaml:1:3: a mapping key must be text, not a mapping or a list"),
        ("{a: 1}: x\n", "spec.yaml:1:1: a mapping key must be text, not a mapping or a list"),
    ],
)
def test_keys_must_be_text(tmp_path: Path, text: str, expected: str) -> None:
    assert refused(tmp_path, text) == [expected]


def test_a_syntax_error_points_at_the_problem(tmp_path: Path) -> None:
    text = "templates:\n  - account: shop\n    name: [a, b\n    language: en\n"
    (problem,) = refused(tmp_path, text)
    assert problem.startswith("spec.yaml:4:13: YAML syntax error: ")


def test_a_bad_indent_is_a_syntax_error(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, "a:\n  b: 1\n c: 2\n")
    assert problem.startswith("spec.yaml:3:2: YAML syntax error: ")


def test_escaped_control_characters_are_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, 'a: "bell\\a here"\nb: "nul\\0"\n') == [
        "spec.yaml:1:4: control character U+0007 in text; only newline and tab are allowed",
        "spec.yaml:2:4: control character U+0000 in text; only newline and tab are allowed",
    ]


def test_raw_control_characters_are_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, "a: bell\x07here\n") == [
        "spec.yaml:1:8: character U+0007 is not allowed in YAML"
    ]


def test_lone_surrogates_are_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, 'a: "\\ud800"\n') == [
        "spec.yaml:1:7: YAML syntax error: while parsing a quoted scalar: found invalid "
        "Unicode character escape code"
    ]


def test_a_second_document_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, "templates: []\n---\nqr_codes: []\n") == [
        "spec.yaml:2:1: a second YAML document (---); a spec file holds one document"
    ]


def test_a_huge_number_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, "a: " + "9" * 5000 + "\n") == [
        "spec.yaml:1:4: a number with 5000 digits is too long; if it is text (an id, a phone "
        "number), put it in quotes"
    ]


def test_problems_per_file_are_capped(tmp_path: Path) -> None:
    text = "".join(f"k: {i}\n" for i in range(1000))
    problems = refused(tmp_path, text)
    assert len(problems) == 100


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    folder(tmp_path, {})
    os.mkfifo(tmp_path / "spec.yaml")  # opening it for reading would block forever
    with pytest.raises(SpecError) as caught:
        load_desired(tmp_path, freeze=False)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/spec.yaml:1:1: not a regular file"
    ]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    root = folder(tmp_path / "specs", {"a/one.yaml": "templates: []\n"})
    os.symlink(root, root / "a" / "loop")  # a -> specs -> a -> ...
    os.symlink(root / "a", root / "a" / "self")
    os.symlink(root / "a" / "one.yaml", root / "again.yaml")  # the same file twice
    started = time.process_time()
    _, loaded = load_desired(root, freeze=False)
    assert time.process_time() - started < SECONDS
    assert loaded.files == (f"{root}/a/one.yaml",)


def test_a_broken_link_is_reported(tmp_path: Path) -> None:
    root = folder(tmp_path, {})
    os.symlink(root / "missing", root / "dangling.yaml")
    with pytest.raises(SpecError) as caught:
        load_desired(root, freeze=False)
    assert [str(p) for p in caught.value.problems] == [
        f"{root}/dangling.yaml:1:1: a broken symbolic link; remove it or fix its target"
    ]


def test_a_symlink_to_a_huge_device_is_not_read(tmp_path: Path) -> None:
    root = folder(tmp_path, {})
    os.symlink("/dev/zero", root / "zero.yaml")
    with pytest.raises(SpecError) as caught:
        load_desired(root, freeze=False)
    assert [str(p) for p in caught.value.problems] == [f"{root}/zero.yaml:1:1: not a regular file"]

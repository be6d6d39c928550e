"""The YAML layer: plain data typed by the YAML 1.2 core schema, and positions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from wasync.cache import BlobCache
from wasync.errors import Location
from wasync.spec.yaml import YamlProblems, parse_yaml, read_yaml


def load(text: str) -> object:
    return parse_yaml(text.encode(), "t.yaml").data


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: ~", None),
        ("a: null", None),
        ("a:", None),
        ("a: true", True),
        ("a: False", False),
        ("a: yes", "yes"),  # YAML 1.1's booleans are text in 1.2
        ("a: on", "on"),
        ("a: 42", 42),
        ("a: -7", -7),
        ("a: 0o17", 15),
        ("a: 0x1F", 31),
        ("a: 1_000", "1_000"),  # not a number in the 1.2 core schema
        ("a: 1.5", 1.5),
        ("a: 1e3", 1000.0),
        ("a: .inf", math.inf),
        ("a: -.inf", -math.inf),
        ("a: 2024-01-01", "2024-01-01"),  # no timestamps: dates stay text
        ("a: 8618500009999", 8618500009999),
        ('a: "8618500009999"', "8618500009999"),
        ("a: '42'", "42"),
        ("a: !!str 42", "42"),
        ("a: ! 42", "42"),
        ("a: !!int '42'", 42),
        ("a: !!float 1", 1.0),
        ("a: !!float 0x1F", 31.0),
        ("a: !!bool 'true'", True),
        ("a: !!null ''", None),
        ("a: |\n  two\n  lines\n", "two\nlines\n"),
        ("a: 'tab\there'", "tab\there"),
        ('a: "newline\\nhere"', "newline\nhere"),
        ("a: héllo wörld ✓", "héllo wörld ✓"),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    data = load(text)
    assert isinstance(data, dict)
    assert data["a"] == value
    assert type(data["a"]) is type(value)


def test_nan() -> None:
    data = load("a: .nan")
    assert isinstance(data, dict)
    assert math.isnan(data["a"])


def test_collections_and_empty_documents() -> None:
    assert load("") is None
    assert load("# only a comment\n") is None
    assert load("---\n") is None
    assert load("[1, [2, {a: b}], {}]") == [1, [2, {"a": "b"}], {}]
    assert load("- a\n- - b\n  - c\n") == ["a", ["b", "c"]]


SPEC = """\
templates:
  - account: shop
    components:
      - type: BODY
        text: "Hi {{1}}"
      - {type: FOOTER, text: Bye}
    é: "ü"
"""


def test_positions_of_values_keys_and_items() -> None:
    doc = parse_yaml(SPEC.encode(), "s.yaml")
    at = doc.positions.locate
    assert at(()) == Location("s.yaml", 1, 1)
    assert at(("templates",)) == Location("s.yaml", 2, 3)
    assert at(("templates", 0)) == Location("s.yaml", 2, 5)
    assert at(("templates", 0, "account")) == Location("s.yaml", 2, 14)
    assert at(("templates", 0, "account"), key=True) == Location("s.yaml", 2, 5)
    assert at(("templates", 0, "components", 0, "text")) == Location("s.yaml", 5, 15)
    assert at(("templates", 0, "components", 1)) == Location("s.yaml", 6, 9)
    assert at(("templates", 0, "components", 1, "text")) == Location("s.yaml", 6, 30)
    # columns count characters, not bytes
    assert at(("templates", 0, "é")) == Location("s.yaml", 7, 8)


def test_a_missing_path_points_at_the_deepest_value_that_exists() -> None:
    doc = parse_yaml(SPEC.encode(), "s.yaml")
    at = doc.positions.locate
    assert at(("templates", 0, "name")) == at(("templates", 0))
    assert at(("templates", 0, "components", 7, "text")) == at(("templates", 0, "components"))
    assert at(("templates", 0, "account", "deeper")) == at(("templates", 0, "account"))


def test_sub_positions() -> None:
    doc = parse_yaml(SPEC.encode(), "s.yaml")
    sub = doc.positions.sub(("templates", 0))
    assert sub.locate(("account",)) == Location("s.yaml", 2, 14)
    with pytest.raises(KeyError):
        doc.positions.sub(("templates", 3))


def test_read_yaml_names_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(YamlProblems) as caught:
        read_yaml(path, "specs/a.yaml")
    (problem,) = caught.value.problems
    assert str(problem).startswith("specs/a.yaml:2:1: YAML syntax error")


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_yaml(b"\xef\xbb\xbfa: 1\n", "t.yaml").data == {"a": 1}


def test_a_cached_parse_gives_the_same_data_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC, encoding="utf-8")
    cache = BlobCache(tmp_path / "cache")
    first = read_yaml(path, "s.yaml", cache=cache)  # parsed, then kept
    assert len(list((tmp_path / "cache").glob("*.bin"))) == 1
    again = read_yaml(path, "s.yaml", cache=BlobCache(tmp_path / "cache"))
    assert again.data == first.data == parse_yaml(SPEC.encode(), "s.yaml").data
    paths = [
        (),
        ("templates",),
        ("templates", 0),
        ("templates", 0, "account"),
        ("templates", 0, "components", 1, "text"),
        ("templates", 0, "é"),
    ]
    for p in paths:
        for key in (False, True):
            assert again.positions.locate(p, key=key) == first.positions.locate(p, key=key)
    # An edited file is parsed again, never answered from the old entry.
    path.write_text(SPEC.replace("Bye", "Later"), encoding="utf-8")
    edited = read_yaml(path, "s.yaml", cache=BlobCache(tmp_path / "cache"))
    assert edited.data["templates"][0]["components"][1]["text"] == "Later"


def test_a_corrupt_cache_entry_is_ignored_and_problems_are_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC, encoding="utf-8")
    read_yaml(path, "s.yaml", cache=BlobCache(tmp_path / "cache"))
    (entry,) = (tmp_path / "cache").glob("*.bin")
    entry.write_bytes(entry.read_bytes()[:-5] + b"xxxxx")
    doc = read_yaml(path, "s.yaml", cache=BlobCache(tmp_path / "cache"))
    assert doc.data == parse_yaml(SPEC.encode(), "s.yaml").data
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(YamlProblems, match="duplicate key 'a'"):
            read_yaml(bad, "bad.yaml", cache=BlobCache(tmp_path / "cache"))

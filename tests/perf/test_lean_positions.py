"""A spec file is read keeping only where each resource starts; a message about a field
deep inside still points at its exact line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasync.cache import BlobCache
from wasync.errors import Location
from wasync.spec.yaml import YamlProblems, parse_yaml, read_yaml

SPEC = b"""templates:
  - name: first
    components:
      - type: BODY
        text: "Hello {{1}}"
  - name: second
    components:
      - type: HEADER
        format: TEXT
      - type: BODY
        text: Bye
"""


def test_deep_positions_are_found_again_exactly() -> None:
    doc = parse_yaml(SPEC, "t.yaml")
    positions = doc.positions
    assert positions.locate(("templates", 1)) == Location("t.yaml", 6, 5)
    assert positions.locate(("templates", 1, "components", 1, "text")) == Location("t.yaml", 11, 15)
    assert positions.locate(("templates", 0, "components", 0, "type"), key=True) == Location(
        "t.yaml", 4, 9
    )
    # A field that is missing: the mapping that lacks it.
    assert positions.locate(("templates", 1, "category")) == Location("t.yaml", 6, 5)
    assert doc.data["templates"][1]["components"][0]["format"] == "TEXT"


def test_a_duplicate_key_deep_inside_names_both_lines() -> None:
    with pytest.raises(YamlProblems) as raised:
        parse_yaml(SPEC.replace(b"        format: TEXT\n", b"        type: TEXT\n"), "t.yaml")
    (problem,) = raised.value.problems
    assert "duplicate key 'type': first on line 8, again on line 9" in str(problem)


@pytest.mark.parametrize("cached", [False, True], ids=["parsed", "from the parse cache"])
def test_a_file_read_from_disk_is_read_again_for_a_deep_position(
    tmp_path: Path, cached: bool
) -> None:
    # Its text is not kept: a deep position reads the file again, and only while the file
    # is still the text the positions came from; once edited, the entry's own line is said
    # rather than a line of the new text.
    path = tmp_path / "t.yaml"
    path.write_bytes(SPEC)
    if cached:
        read_yaml(path, "t.yaml", cache=BlobCache(tmp_path / "cache"))
    deep = ("templates", 1, "components", 1, "text")
    doc = read_yaml(path, "t.yaml", cache=BlobCache(tmp_path / "cache"))
    assert doc.positions.locate(deep) == Location("t.yaml", 11, 15)

    edited = read_yaml(path, "t.yaml", cache=BlobCache(tmp_path / "cache"))
    path.write_bytes(b"# a comment moves every line\n" + SPEC)
    assert edited.positions.locate(deep) == Location("t.yaml", 6, 5)  # the entry, as read
    assert edited.positions.locate(("templates", 1)) == Location("t.yaml", 6, 5)

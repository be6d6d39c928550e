"""A spec file is read keeping only where each resource starts; a message about a field
deep inside still points at its exact line and column."""

from __future__ import annotations

import pytest

from wasync.errors import Location
from wasync.spec.yaml import YamlProblems, parse_yaml

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

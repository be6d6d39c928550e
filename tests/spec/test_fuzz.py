"""Property tests: whatever the spec files hold, loading gives models or a ``SpecError``
whose every problem has a location; never another exception."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasync.errors import SpecError
from wasync.loading import load_desired
from wasync.spec.yaml import parse_yaml

from .helpers import CONFIG, dump, folder

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = [
    parse_yaml(p.read_bytes(), p.name).data
    for p in sorted((REPO / "specs").rglob("*.yaml"))
    if p.name != "wasync.yaml"
]

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(files: dict[str, str | bytes]) -> None:
    """Load a folder of ``files``; fail on anything but success or a located SpecError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = folder(Path(tmp), files, CONFIG)
        try:
            load_desired(root, freeze=False)
        except SpecError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.location is not None, problem
                assert problem.location.file.startswith(tmp), problem
                assert problem.location.line >= 1 and problem.location.column >= 1, problem
                str(problem)


# --- arbitrary text --------------------------------------------------------------------------

YAML_ALPHABET = st.sampled_from(
    [*"abc xyz019:-[]{},#&*!|>'\"%@`?\n\t ", "\\", "---", "...", "{{1}}", "\u00e9", "\x07"]
)


@FAST
@given(st.lists(YAML_ALPHABET, max_size=80).map("".join))
def test_yaml_like_text(text: str) -> None:
    outcome({"spec.yaml": text})


@FAST
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    outcome({"spec.yaml": data})


# --- generated structures ----------------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "templates", "qr_codes", "account", "phone", "name", "language", "category",
        "components", "type", "text", "format", "example", "body_text", "header_text",
        "header_url", "buttons", "url", "cards", "otp_type", "supported_apps", "label",
        "prefilled_message", "image", "code", "extra",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "shop-cams", "shop-nx", "8618500009999", "BODY", "HEADER", "BUTTONS", "CAROUSEL",
            "URL", "OTP", "UTILITY", "MARKETING", "AUTHENTICATION", "en_US", "Hi {{1}}.",
            "IMAGE", "QUICK_REPLY", "ONE_TAP",
        ]
    ),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


@FAST
@given(st.dictionaries(st.sampled_from(["templates", "qr_codes", "other"]), VALUES, max_size=3))
def test_generated_structures(data: dict[str, Any]) -> None:
    outcome({"spec.yaml": dump(data)})


@FAST
@given(
    st.lists(
        st.fixed_dictionaries(
            {"account": st.sampled_from(["shop-cams", "shop-nx", "other"])},
            optional={k: VALUES for k in ("phone", "name", "language", "category", "components")},
        ),
        max_size=4,
    )
)
def test_generated_templates(templates: list[dict[str, Any]]) -> None:
    outcome({"spec.yaml": dump({"templates": templates})})


# --- mutated valid specs -----------------------------------------------------------------------


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    if not path:
        return value if how != "drop" else None
    *parent_path, last = path
    parent = data
    for part in parent_path:
        parent = parent[part]
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = value
    elif how == "unknown key" and isinstance(parent[last], dict):
        parent[last]["surprise"] = value
    elif how == "mangle" and isinstance(parent[last], str):
        parent[last] = parent[last][::-1] + "{{" + str(value)[:5]
    else:
        parent[last] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(EXAMPLES) - 1),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["drop", "replace", "unknown key", "mangle"]),
    SCALARS,
)
def test_mutated_valid_specs(which: int, where: int, how: str, value: Any) -> None:
    example = EXAMPLES[which]
    every = paths(example)
    mutated = mutate(example, every[where % len(every)], how, value)
    outcome({"spec.yaml": dump(mutated) if mutated is not None else ""})

"""wasync.spec.write.write_pins: a pin is one line more (or one line changed) in a file that
is otherwise byte for byte what the person wrote; a file the writer would reshape elsewhere
is refused and left alone."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from pathlib import Path

import pytest

from wasync.loading import load_desired
from wasync.spec.write import PinWriteError, pinned_text, write_pins

REPO = Path(__file__).resolve().parents[2]
PHONE = "8615800001111"


def addr(label: str, phone: str = PHONE) -> str:
    return f"qr.shop-cams.{phone}.{label}"


def changed_lines(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    """(tag, old lines, new lines) of every difference, lines split on \\n only."""
    a, b = before.split("\n"), after.split("\n")
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def test_the_example_specs_get_one_new_line_per_pin_and_keep_every_other_byte(
    tmp_path: Path,
) -> None:
    shutil.copytree(REPO / "specs", tmp_path / "specs", ignore=shutil.ignore_patterns(".wasync"))
    path = tmp_path / "specs" / "qr-codes.yaml"
    before = path.read_text(encoding="utf-8")
    _, specs = load_desired(tmp_path / "specs", resolve_env=False)
    here = [
        q
        for q in specs.desired.qr_codes
        if (where := specs.source_map.locate(q.address)) and where.file == str(path)
    ]
    pins = {q.address: f"CODE{i:02}" for i, q in enumerate(here)}

    assert write_pins(path, pins) == []

    after = path.read_text(encoding="utf-8")
    diff = changed_lines(before, after)
    assert [tag for tag, _, _ in diff] == ["insert"] * len(pins)
    assert sorted(line for _, _, new in diff for line in new) == sorted(
        f"    code: {code}" for code in pins.values()
    )
    # Comments stay where they were: the pin goes after image (or the message), above a
    # blank line and the next section's comment, below the key's own end-of-line comment.
    assert (
        "    image: SVG                    # SVG (best for print) or PNG\n    code: CODE00\n\n"
        in after
    )
    assert "    image: SVG\n    code: CODE01\n    protect: true" in after
    _, again = load_desired(tmp_path / "specs", resolve_env=False)
    assert {q.address: q.code for q in again.desired.qr_codes if q.address in pins} == pins


HARD = """\
# A file written by hand, in every style YAML allows.
qr_codes:
- {account: shop-cams, phone: '8615800001111', label: flow-one, prefilled_message: "Hi there"}
- account: 'shop-cams'   # single quoted
  phone: "8615800001111"
  label: block-last
  prefilled_message: |-
    Line one
    Line two
  # a comment after a block scalar

- account: shop-cams
  phone: "8615800001111"
  label: pinned-quoted
  prefilled_message: 'It''s here'
  code: "OLDCODE"   # keep this comment
  protect: true
- account: shop-cams
  phone: "8615800001111"
  label: last-of-list
  prefilled_message: Plain message # eol
# a comment before templates
templates: []
"""


def test_a_hand_written_file_changes_only_on_its_pinned_lines(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    path.write_text(HARD, encoding="utf-8")
    labels = ("flow-one", "block-last", "pinned-quoted", "last-of-list")
    pins = {addr(label): f"NEW{i}" for i, label in enumerate(labels)}

    write_pins(path, pins)

    after = path.read_text(encoding="utf-8")
    diff = changed_lines(HARD, after)
    assert diff == [
        (
            "replace",
            [HARD.splitlines()[2]],
            [
                "- {account: shop-cams, phone: '8615800001111', label: flow-one, "
                'prefilled_message: "Hi there", code: NEW0}'
            ],
        ),
        ("insert", [], ["  code: NEW1"]),
        # the quoting and the comment's column stay
        (
            "replace",
            ['  code: "OLDCODE"   # keep this comment'],
            ['  code: "NEW2"      # keep this comment'],
        ),
        ("insert", [], ["  code: NEW3"]),
    ]


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    text = (
        "# made on Windows\r\nqr_codes:\r\n  - account: shop-cams\r\n"
        '    phone: "8615800001111"\r\n    label: a\r\n    prefilled_message: Hi\r\n'
        "    image: PNG  # for the web\r\n"
    )
    path.write_bytes(text.encode())

    write_pins(path, {addr("a"): "ABC"})

    assert path.read_bytes() == (text + "    code: ABC\r\n").encode()


def test_mixed_line_endings_are_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    raw = (
        b"qr_codes:\r\n  - account: shop-cams\n    phone: '8615800001111'\r\n"
        b"    label: a\n    prefilled_message: Hi\n"
    )
    path.write_bytes(raw)
    with pytest.raises(PinWriteError, match="would also change line 1"):
        write_pins(path, {addr("a"): "ABC"})
    assert path.read_bytes() == raw


def test_a_style_the_writer_reshapes_elsewhere_is_refused(tmp_path: Path) -> None:
    # ruamel writes flow mappings without the spaces inside the braces: the unpinned entry
    # would change too, so nothing is written.
    path = tmp_path / "qr.yaml"
    text = (
        "qr_codes:\n"
        "  - { account: shop-cams, phone: '8615800001111', label: a, prefilled_message: Hi }\n"
        "  - { account: shop-cams, phone: '8615800001111', label: b, prefilled_message: Yo }\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PinWriteError, match=r'would also change line 3 \("- \{ account.*label: b,'):
        write_pins(path, {addr("a"): "ABC"})
    assert path.read_text(encoding="utf-8") == text


def test_no_final_newline_a_byte_order_mark_and_the_file_mode_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    text = "\ufeffqr_codes:\n  - account: shop-cams\n    phone: '8615800001111'\n    label: a\n"
    text += "    prefilled_message: Hi"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o640)

    write_pins(path, {addr("a"): "ABC"})

    assert path.read_text(encoding="utf-8") == text + "\n    code: ABC"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_code_yaml_would_read_as_something_else_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    path.write_text(
        "qr_codes:\n"
        + "".join(
            f"  - account: shop-cams\n    phone: '8615800001111'\n    label: {label}\n"
            "    prefilled_message: Hi\n"
            for label in ("a", "b", "c")
        ),
        encoding="utf-8",
    )
    write_pins(path, {addr("a"): "12345678", addr("b"): "1E5", addr("c"): "F8F3XQ"})
    after = path.read_text(encoding="utf-8")
    assert '    code: "12345678"\n' in after and '    code: "1E5"\n' in after
    assert "    code: F8F3XQ\n" in after


def test_an_entry_no_longer_in_the_file_is_named_and_the_others_written(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    path.write_text(
        "qr_codes:\n  - account: shop-cams\n    phone: '8615800001111'\n    label: a\n"
        "    prefilled_message: Hi\n",
        encoding="utf-8",
    )
    assert write_pins(path, {addr("a"): "ABC", addr("gone"): "XYZ"}) == [addr("gone")]
    assert path.read_text(encoding="utf-8").endswith("    code: ABC\n")


def test_pinning_what_is_already_pinned_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    text = (
        "qr_codes:\n  - account: shop-cams\n    phone: '8615800001111'\n    label: a\n"
        "    prefilled_message: Hi\n    code: ABC\n"
    )
    path.write_text(text, encoding="utf-8")
    before, after, missing = pinned_text(path, {addr("a"): "ABC"})
    assert before == after == text and missing == []


def test_a_file_that_is_not_a_spec_any_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(PinWriteError, match="not UTF-8"):
        write_pins(path, {addr("a"): "ABC"})
    path.write_text("qr_codes: [unclosed\n", encoding="utf-8")
    with pytest.raises(PinWriteError, match="no longer reads as a spec file"):
        write_pins(path, {addr("a"): "ABC"})

"""wasync.spec.write: files come back as the person wrote them; new values look like the
example specs and read back as the same data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasync.spec.write import SpecFile, address_of, same_scalar
from wasync.spec.yaml import read_yaml

from .support import SPECS


@pytest.mark.parametrize(
    "path", sorted(SPECS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(SPECS))
)
def test_an_untouched_file_renders_byte_for_byte(path: Path) -> None:
    spec = SpecFile(path)
    assert spec.render() == path.read_text(encoding="utf-8")
    assert not spec.changed


def test_indentation_of_the_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "flat.yaml"
    text = (
        "qr_codes:\n"
        "- account: shop-cams  # dashes at the key's column\n"
        "  phone: '8615800001111'\n"
        "  label: a\n"
        "  prefilled_message: Hi\n"
    )
    path.write_text(text, encoding="utf-8")
    spec = SpecFile(path)
    assert spec.render() == text
    spec.append(
        "qr_codes",
        {"account": "shop-cams", "phone": "8615800001111", "label": "b", "prefilled_message": "Yo"},
    )
    assert spec.render() == text + (
        '\n- account: shop-cams\n  phone: "8615800001111"\n  label: b\n  prefilled_message: Yo\n'
    )


def test_new_entries_look_like_the_examples(tmp_path: Path) -> None:
    spec = SpecFile(tmp_path / "new.yaml", header="Written by a test.\nSecond line.")
    entry = {
        "account": "shop-nx",
        "phone": "8618500009999",
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}},\nyour order {{2}} has shipped.",
                "example": {"body_text": [["Ana", "#12345"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]},
        ],
        "message_send_ttl_seconds": 3600,
    }
    notes = {"components.1.buttons.0.text": "check the wording", "components.0.text": "not here"}
    spec.append("templates", entry, notes=notes)
    assert spec.render() == (
        "# Written by a test.\n"
        "# Second line.\n"
        "\n"
        "templates:\n"
        "  - account: shop-nx\n"
        '    phone: "8618500009999"\n'
        "    name: order_shipped\n"
        "    language: en_US\n"
        "    category: UTILITY\n"
        "    components:\n"
        "      - type: BODY\n"
        "        text: |-\n"
        "          Hi {{1}},\n"
        "          your order {{2}} has shipped.\n"
        "        example:\n"
        '          body_text: [["Ana", "#12345"]]\n'
        "      - type: BUTTONS\n"
        "        buttons:\n"
        "          - type: QUICK_REPLY\n"
        "            text: Thanks  # check the wording\n"
        "    message_send_ttl_seconds: 3600\n"
    )


def test_replace_changes_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "qr.yaml"
    text = (
        "qr_codes:\n"
        "  # the mall poster\n"
        "  - account: shop-cams\n"
        "    phone: '8615800001111'   # quoted the user's way\n"
        "    label: mall\n"
        "    prefilled_message: Hi from the mall  # reworded in May\n"
        "    image: SVG\n"
        "    protect: true\n"
    )
    path.write_text(text, encoding="utf-8")
    spec = SpecFile(path)
    index = spec.index_of("qr_codes", "qr.shop-cams.8615800001111.mall")
    assert index == 0
    spec.replace(
        "qr_codes",
        index,
        {
            "account": "shop-cams",
            "phone": "8615800001111",
            "label": "mall",
            "prefilled_message": "Hello from the mall",
            "image": "SVG",
            "code": "ABC123",
            "protect": True,
        },
    )
    assert spec.render() == (
        "qr_codes:\n"
        "  # the mall poster\n"
        "  - account: shop-cams\n"
        "    phone: '8615800001111'   # quoted the user's way\n"
        "    label: mall\n"
        "    prefilled_message: Hello from the mall # reworded in May\n"  # the comment's column
        "    image: SVG\n"
        "    code: ABC123\n"
        "    protect: true\n"
    )


def test_scalars_compare_as_yaml_values() -> None:
    assert same_scalar(True, True) and not same_scalar(1, True) and not same_scalar(True, 1)
    assert not same_scalar("5", 5) and not same_scalar(5, "5") and same_scalar(5, 5)
    assert not same_scalar(5, 5.0) and same_scalar(None, None) and not same_scalar("", None)


def test_address_of_spec_entries() -> None:
    assert address_of("qr_codes", {"account": "a", "phone": "1", "label": "x"}) == "qr.a.1.x"
    assert address_of("templates", {"account": "a", "name": "n", "language": "en"}) == (
        "template.a.n.en"
    )
    assert address_of("templates", {"account": "a", "name": "n"}) is None
    assert address_of("qr_codes", ["not", "a", "mapping"]) is None


# Text a spec may hold: any printable characters and line breaks, including the YAML
# indicators, quotes, numbers-as-text, leading and trailing spaces.
PIECES = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff\x85"
) | st.sampled_from(["\n", " ", ": ", " #", "- ", "'", '"', "{{1}}", "0", "true", "~", "\t"])
TEXT = st.lists(PIECES, max_size=12).map("".join)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_written_text_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    """Whatever text import writes (literal blocks, quoting, flow lists), the spec loader
    reads back the same value."""
    path = tmp_path_factory.mktemp("w") / "t.yaml"
    entry = {"label": texts[0], "list": [texts], "flat": texts, "n": "123"}
    spec = SpecFile(path)
    spec.append("qr_codes", entry)
    path.write_text(spec.render(), encoding="utf-8")
    doc = read_yaml(path, str(path))
    assert doc.data == {"qr_codes": [entry]}

"""Edit spec files the way a person would: keep their comments, order, quoting and indentation.

``wasync import`` writes through this module. A file is read with ruamel.yaml's round-trip
loader, so an untouched file is written back byte for byte, and an edit changes only the
values that differ: an entry replaced in place keeps the comments on its unchanged keys.

New values are laid out like the example specs: block style, two-space indentation with list
dashes indented under their key, short lists of plain values in flow style
(``body_text: [["Ana", "20%"]]``), multi-line text as a literal block, and numbers-as-text
(phones) in double quotes so they stay text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from wasync.model import address_of

KINDS = ("qr_codes", "templates")
_WIDTH = 4096  # never fold a long line: a spec is read and diffed line by line


class SpecFile:
    """One spec file, loaded for editing (or new, when it does not exist yet)."""

    def __init__(self, path: Path, *, header: str | None = None) -> None:
        self.path = path
        self.existed = path.is_file()
        self._yaml = YAML()
        self._yaml.preserve_quotes = True
        self._yaml.width = _WIDTH
        if self.existed:
            self.original = path.read_text(encoding="utf-8")
            data, indent, offset = load_yaml_guess_indent(self.original, yaml=self._yaml)
            sequence = indent or 4
            offset = 2 if offset is None else offset
            self._yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
            self.data: CommentedMap = data if data is not None else CommentedMap()
        else:
            self.original = ""
            self._yaml.indent(mapping=2, sequence=4, offset=2)
            self.data = CommentedMap()
            if header:
                self.data.yaml_set_start_comment(header + "\n\n")  # then a blank line
        if not isinstance(self.data, CommentedMap):
            raise ValueError(f"{path}: not a mapping of qr_codes and templates")

    def _entries(self, kind: str) -> CommentedSeq:
        entries = self.data.get(kind)
        if entries is None:
            entries = self.data[kind] = CommentedSeq()
        if not isinstance(entries, CommentedSeq):
            raise ValueError(f"{self.path}: {kind} is not a list")
        return entries

    def index_of(self, kind: str, address: str) -> int | None:
        for i, raw in enumerate(self.data.get(kind) or ()):
            if address_of(kind, raw) == address:
                return i
        return None

    def append(
        self, kind: str, entry: Mapping[str, Any], *, notes: Mapping[str, str] | None = None
    ) -> None:
        """Add ``entry`` at the end of the ``kind`` list, after a blank line. ``notes`` are
        end-of-line comments, by dotted path inside the entry (``components.0.example``
        names the key ``header_url`` as ``components.0.example.header_url``)."""
        entries = self._entries(kind)
        node = to_node(entry)
        for path, text in (notes or {}).items():
            _note(node, path.split("."), text)
        entries.append(node)
        if len(entries) > 1:
            entries.yaml_set_comment_before_after_key(len(entries) - 1, before="\n")

    def replace(self, kind: str, index: int, entry: Mapping[str, Any]) -> None:
        """Make the entry at ``index`` equal ``entry``, changing only what differs."""
        entries = self._entries(kind)
        entries[index] = merge(entries[index], entry)

    def render(self) -> str:
        out = io.StringIO()
        self._yaml.dump(self.data, out)
        return out.getvalue()

    @property
    def changed(self) -> bool:
        return self.render() != self.original


# --- building and merging nodes --------------------------------------------------------------


def to_node(value: Any) -> Any:
    """Plain data -> ruamel nodes laid out like the example specs."""
    if isinstance(value, Mapping):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = to_node(v)
        return node
    if isinstance(value, list | tuple):
        if _is_flat(value):
            return _flow(value)
        return CommentedSeq(to_node(v) for v in value)
    if isinstance(value, str):
        return _text(value)
    return value


def _is_flat(value: Sequence[Any]) -> bool:
    """A short list of plain values, or a list of such lists: written on one line."""
    if not value:
        return True
    if all(isinstance(v, list | tuple) for v in value):
        return all(_is_flat(v) and all(not isinstance(x, list | tuple) for x in v) for v in value)
    return all(isinstance(v, str | int | float | bool) and "\n" not in str(v) for v in value)


def _flow(value: Sequence[Any]) -> CommentedSeq:
    seq = CommentedSeq(
        _flow(v)
        if isinstance(v, list | tuple)
        else DoubleQuotedScalarString(v)
        if isinstance(v, str)
        else v
        for v in value
    )
    seq.fa.set_flow_style()
    return seq


def _text(value: str) -> Any:
    if "\n" in value and _literal_safe(value):
        return LiteralScalarString(value)
    if value.isdigit():
        return DoubleQuotedScalarString(value)  # a phone number stays text, visibly
    return value


def _literal_safe(value: str) -> bool:
    """Whether a literal block (``|``) shows ``value`` exactly; else it is quoted."""
    lines = value.split("\n")
    return (
        not value.startswith((" ", "\n"))
        and not value.endswith("\n\n")
        and all(line == line.rstrip() for line in lines)
        and all(ch in "\n" or ch.isprintable() for ch in value)
    )


def _note(node: Any, path: list[str], text: str) -> None:
    *parents, key = path
    for part in parents:
        node = node[int(part)] if isinstance(node, CommentedSeq) else node[part]
    # ruamel writes a comment on a literal block after the block: only plain values get one.
    value = node.get(key) if isinstance(node, CommentedMap) else None
    if isinstance(value, str) and not isinstance(value, LiteralScalarString):
        node.yaml_add_eol_comment(text, key)


def merge(node: Any, value: Any) -> Any:
    """``node`` (loaded round-trip) updated to equal ``value``, keeping every node, comment
    and quoting style whose value is unchanged."""
    if isinstance(node, CommentedMap) and isinstance(value, Mapping):
        for key in [k for k in node if k not in value]:
            del node[key]
        for position, (key, v) in enumerate(value.items()):
            if key in node:
                node[key] = merge(node[key], v)
            else:
                node.insert(position, key, to_node(v))
        return node
    if isinstance(node, CommentedSeq) and isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if i < len(node):
                node[i] = merge(node[i], v)
            else:
                node.append(to_node(v))
        del node[len(value) :]
        return node
    return node if same_scalar(node, value) else to_node(value)


def same_scalar(node: Any, value: Any) -> bool:
    """Equal as YAML values: ``true`` is not ``1``, and a quoted "5" is not 5."""
    if isinstance(value, bool) or isinstance(node, bool):
        return type(node) is type(value) and node == value
    if isinstance(value, str) or isinstance(node, str):
        return isinstance(node, str) and isinstance(value, str) and str(node) == value
    if value is None or node is None:
        return node is None and value is None
    if isinstance(value, int) and isinstance(node, int):  # ruamel's ScalarInt is an int
        return int(node) == value
    if isinstance(value, float) and isinstance(node, float):
        return float(node) == value
    return False

"""Edit spec files the way a person would: keep their comments, order, quoting and indentation.

``wasync import`` and the pins ``wasync apply`` writes go through this module: the one
writer of spec files. A file is read with ruamel.yaml's round-trip loader, so an untouched
file is written back byte for byte (line endings, a byte-order mark and a missing final
newline included), and an edit changes only the values that differ: an entry replaced in
place keeps the comments on its unchanged keys.

``write_pins`` sets ``code:`` on QR entries and checks the result before writing it: the
file must read back as before plus the pins, and every line but the pinned ones must be
byte for byte what it was. A file the YAML writer would reshape elsewhere is refused
(``PinWriteError`` says why), never rewritten.

New values are laid out like the example specs: block style, two-space indentation with list
dashes indented under their key, short lists of plain values in flow style
(``body_text: [["Ana", "20%"]]``), multi-line text as a literal block, and numbers-as-text
(phones) in double quotes so they stay text.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, ScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from wasync.files import write_atomically
from wasync.model import address_of

KINDS = ("qr_codes", "templates")
_WIDTH = 4096  # never fold a long line: a spec is read and diffed line by line
# Where a pin goes in a block entry: after the first of these keys it has (else at the end),
# as in the README's example (image, then code, then protect).
_PIN_AFTER = ("image", "prefilled_message")


class PinWriteError(Exception):
    """Pins cannot be written into a file without changing anything else; says why."""


class SpecFile:
    """One spec file, loaded for editing (or new, when it does not exist yet)."""

    def __init__(self, path: Path, *, header: str | None = None) -> None:
        self.path = path
        self.existed = path.is_file()
        self._yaml = YAML()
        self._yaml.preserve_quotes = True
        self._yaml.width = _WIDTH
        self._crlf = self._bom = False
        self._final_newline = True
        if self.existed:
            # The exact text: render() puts back what the YAML library normalises.
            self.original = path.read_bytes().decode("utf-8")
            text = self.original
            # CRLF throughout is kept; anything else is read with universal newlines.
            self._crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            self._bom = text.startswith("\ufeff")
            text = text.removeprefix("\ufeff")
            self._final_newline = text == "" or text.endswith("\n")
            data, indent, offset = load_yaml_guess_indent(text, yaml=self._yaml)
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

    def remove(self, kind: str, index: int) -> None:
        """Take the entry at ``index`` out of the ``kind`` list."""
        del self._entries(kind)[index]

    def replace(self, kind: str, index: int, entry: Mapping[str, Any]) -> None:
        """Make the entry at ``index`` equal ``entry``, changing only what differs."""
        entries = self._entries(kind)
        entries[index] = merge(entries[index], entry)

    def pin(self, address: str, code: str) -> bool:
        """Set ``code:`` on the QR entry at ``address``: its value replaced where the entry
        has one (its quoting kept), else a new key after ``image`` (or the message), with
        the comments around it left where they were. An entry that fans out to several
        numbers or accounts gets it under ``overrides: {<target>: {code: ...}}``. False if
        no entry has that address."""
        index = self.index_of("qr_codes", address)
        if index is None:
            found = self.fanned_entry(address)
            if found is None:
                return False
            entry, target = found
            _pin_override(entry, target, code)
            return True
        entry = self._entries("qr_codes")[index]
        if not isinstance(entry, CommentedMap):
            return False
        _pin(entry, code)
        return True

    def fanned_entry(self, address: str) -> tuple[CommentedMap, str] | None:
        """The QR entry that fans out to ``address`` (``qr.<account>.<phone>.<label>``), and
        the target it is there (its number, or its account); an entry naming the target
        in a list comes before one naming a group (the groups are in wasync.yaml)."""
        parts = address.split(".")
        if len(parts) != 4 or parts[0] != "qr":
            return None
        _, account, phone, label = parts
        by_group = None
        for raw in self.data.get("qr_codes") or ():
            if not isinstance(raw, CommentedMap) or raw.get("label") != label:
                continue
            for fixed, fixed_value, fanned, target in (
                ("account", account, "phone", phone),
                ("phone", phone, "account", account),
            ):
                if raw.get(fixed) != fixed_value:
                    continue
                named = raw.get(fanned)
                if isinstance(named, list) and target in named:
                    return raw, target
                groups = named if isinstance(named, list) else [named]
                if by_group is None and any(isinstance(g, Mapping) for g in groups):
                    by_group = (raw, target)
        return by_group

    def render(self) -> str:
        out = io.StringIO()
        self._yaml.dump(self.data, out)
        text = out.getvalue()
        if not self._final_newline and text.endswith("\n"):
            text = text[:-1]
        if self._bom:
            text = "\ufeff" + text
        return text.replace("\n", "\r\n") if self._crlf else text

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


# --- pins ----------------------------------------------------------------------------------------


def _pin(entry: CommentedMap, code: str) -> None:
    old = entry.get("code")
    if "code" in entry:
        # Keep the quoting the person chose (a ruamel scalar string remembers it).
        entry["code"] = type(old)(code) if isinstance(old, ScalarString) else _code_node(code)
        return
    after = next((k for k in _PIN_AFTER if k in entry), None)
    keys = list(entry)
    anchor = after if after is not None else keys[-1] if keys else None
    entry.insert(keys.index(anchor) + 1 if anchor is not None else 0, "code", _code_node(code))
    if anchor is None:
        return
    # ruamel keeps the end-of-line comment of a key together with the comment lines and
    # blank lines below it: the new key takes those, the anchor keeps its own comment.
    slot = entry.ca.items.get(anchor)
    if not slot or len(slot) < 3 or slot[2] is None:
        return
    token = slot[2]
    text = str(token.value)
    if text.startswith("\n"):
        own, below = "", text
    else:
        cut = text.find("\n")
        own, below = (text, "") if cut < 0 else (text[: cut + 1], text[cut + 1 :])
        below = "\n" + below if below else ""
    if own:
        token.value = own
    else:
        slot[2] = None
    if below:
        entry.ca.items["code"] = [None, None, CommentToken(below, token.start_mark, None), None]


def _pin_override(entry: CommentedMap, target: str, code: str) -> None:
    """``overrides: {<target>: {code: ...}}`` on a fanned-out entry: the target's code."""
    overrides = entry.get("overrides")
    if not isinstance(overrides, CommentedMap):
        overrides = CommentedMap()
        entry["overrides"] = overrides
    fields = overrides.get(target)
    if not isinstance(fields, CommentedMap):
        fields = CommentedMap()
        overrides[_text(target) if isinstance(target, str) else target] = fields
    if "code" in fields:
        old = fields["code"]
        fields["code"] = type(old)(code) if isinstance(old, ScalarString) else _code_node(code)
    else:
        fields["code"] = _code_node(code)


def _code_node(code: str) -> Any:
    """A code as YAML reads it back as the same text: plain where it can be, else quoted
    (an all-digit code would read as a number, ``NO`` or ``1E5`` as something else)."""
    try:
        back = YAML(typ="safe", pure=True).load(f"v: {code}\n")
    except YAMLError:
        back = None
    plain = isinstance(back, dict) and back.get("v") == code and isinstance(back["v"], str)
    return code if plain and code.strip() == code else DoubleQuotedScalarString(code)


def pinned_text(path: Path, pins: Mapping[str, str]) -> tuple[str, str, list[str]]:
    """The text of ``path`` now; with ``code:`` set on the QR entries at the addresses of
    ``pins``; and the addresses it has no entry for. Raises ``PinWriteError`` when that
    would change anything but the pinned entries' lines."""
    try:
        spec = SpecFile(path)
    except UnicodeDecodeError:
        raise PinWriteError("it is not UTF-8 text") from None
    except (YAMLError, ValueError) as exc:
        raise PinWriteError(f"it no longer reads as a spec file ({_first_line(exc)})") from None
    if not spec.existed:
        raise PinWriteError("it no longer exists")
    expected = _plain(spec.data)
    missing = [a for a in sorted(pins) if not spec.pin(a, pins[a])]
    pins = {a: c for a, c in pins.items() if a not in missing}
    targets: list[str] = []
    for entry in expected.get("qr_codes") or ():
        if isinstance(entry, dict) and (code := pins.get(address_of("qr_codes", entry) or "")):
            entry["code"] = code
    for i, entry in enumerate(spec.data.get("qr_codes") or ()):
        # what pins of fanned-out entries added: their overrides, as the writer made them
        overrides = entry.get("overrides") if isinstance(entry, CommentedMap) else None
        if overrides is not None and _plain(overrides) != expected["qr_codes"][i].get("overrides"):
            expected["qr_codes"][i]["overrides"] = _plain(overrides)
            targets += [str(t) for t in overrides]
    text = spec.render()
    check_only_pins_changed(spec.original, text, pins.values(), keys=["overrides", *targets])
    try:
        reread = YAML(typ="rt").load(text.removeprefix("\ufeff"))
    except YAMLError as exc:  # pragma: no cover - a ruamel bug; refused, not written
        raise PinWriteError(f"the YAML writer made text that does not read back ({exc})") from exc
    if _plain(reread) != expected:
        raise PinWriteError("the YAML writer would change what the file says besides the pins")
    return spec.original, text, missing


def write_pins(path: Path, pins: Mapping[str, str]) -> list[str]:
    """Set ``code:`` on the QR entries of ``path`` at the addresses of ``pins`` (address ->
    code), changing nothing else, and write the file atomically. Returns the addresses the
    file has no entry for (moved or renamed since it was read). ``PinWriteError`` (or an
    ``OSError``) when it cannot write; the file is then as it was."""
    before, after, missing = pinned_text(path, pins)
    if after != before:
        write_atomically(path, after)
    return missing


def check_only_pins_changed(
    before: str, after: str, codes: Iterable[str], *, keys: Iterable[str] = ()
) -> None:
    """Every line that differs must be a pinned line: a new ``code:`` line, or the line of
    an entry whose code changed (its ``code:`` line, or a one-line flow entry); or a new
    line that only opens one of ``keys`` (``overrides:`` and a target, for pins of a
    fanned-out entry)."""
    opening = {f"{k}:" for k in keys} | {f'"{k}":' for k in keys}
    new = tuple(codes)
    old_lines, new_lines = before.split("\n"), after.split("\n")

    def pin_line(line: str) -> bool:
        return any(code in line for code in new) or line.strip() in opening

    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added = new_lines[j1:j2]
        pinned = all(pin_line(line) for line in added)
        # A pin adds a line, or changes lines one for one (a code: line, a flow entry), or
        # both at once: each line it changes goes on in a pinned line (a flow entry that
        # takes a code), next to pins of new lines.
        if pinned and (tag == "insert" or (tag == "replace" and i2 - i1 == j2 - j1)):
            continue
        if pinned and tag == "replace" and all(_goes_on(old, added) for old in old_lines[i1:i2]):
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:  # line for line: the first unpinned one
            gone = [i1 + k for k, line in enumerate(added) if not pin_line(line)]
        else:
            gone = [k for k in range(i1, i2) if old_lines[k] not in added]
        if gone:
            what = f"change line {gone[0] + 1} ({_first_line(old_lines[gone[0]])!r})"
        else:
            stray = next(line for line in added if not pin_line(line))
            what = f"add a line before line {i1 + 1} ({_first_line(stray)!r})"
        raise PinWriteError(
            f"the YAML writer would also {what}, in a style it does not keep (e.g. spaces "
            "inside flow brackets, or mixed line endings)"
        )


def plain(node: Any) -> Any:
    """A loaded node as plain data (dicts, lists, str and the scalars YAML read)."""
    return _plain(node)


def _goes_on(old: str, added: Sequence[str]) -> bool:
    """Whether ``old`` (a line that is not blank) goes on at the start of one of ``added``,
    its closing brackets aside: a flow entry that took a key."""
    stem = old.rstrip().rstrip("}]").rstrip()
    return bool(stem.strip()) and any(line.startswith(stem) for line in added)


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:120] if text else ""

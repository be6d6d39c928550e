"""Read YAML into plain data, keeping the position of every value.

Spec folders can hold tens of thousands of resources, and a bad one must be traced to
``file:line:col``. ruamel.yaml's round-trip loader keeps positions but is slow, and its
composer spends most of its time resolving tags; so this module takes the event stream of the
C parser (libyaml in ``ruamel.yaml.clib``, with the pure-Python parser as a fallback) and
builds the data itself:

- plain ``dict`` / ``list`` / ``str`` / ``int`` / ``float`` / ``bool`` / ``None``, with
  plain scalars typed by the YAML 1.2 core schema (so ``2024-01-01`` and ``yes`` stay text);
- a parallel tree of positions (``Positions``) that finds the line and column of any value,
  or of any mapping key, by its path, e.g. ``("templates", 2, "components", 0, "text")``.

Hostile input gets a clean ``Problem`` in bounded time and memory: files over a size limit,
bytes that are not UTF-8, syntax errors, nesting past a depth limit, too many values, more
than one document, duplicate keys (naming both lines), keys that are not text, tags other
than the core schema's, and control characters in text.

Anchors (``&name``) and aliases (``*name``) are refused outright. A spec is a list of
declarations, so they save little typing, and they cost a lot: an alias makes one value stand
for many places, so an error in it could not point at the one to fix, and nested aliases
expand exponentially ("billion laughs"). Refusing them closes both at once.
"""

from __future__ import annotations

import hashlib
import math
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import ruamel.yaml.events as ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from wasync.cache import BlobCache
from wasync.errors import Location, Problem
from wasync.gcpause import gc_paused

try:  # libyaml, through ruamel.yaml.clib
    from _ruamel_yaml import CParser as _CParser  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - PyPy or a build without the C extension
    _CParser = None

PathPart: TypeAlias = str | int
DataPath: TypeAlias = tuple[PathPart, ...]


@dataclass(frozen=True)
class Limits:
    """Bounds on what one YAML file may hold; past them the file is refused."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64  # nested mappings and lists; a spec needs about 12
    max_values: int = 2_000_000  # scalars, mappings and lists in one file
    max_problems: int = 100  # per file; a file this broken needs no more


DEFAULT_LIMITS = Limits()
# A file's positions are kept this deep when it is read: the document's keys, its lists,
# and where each item of them starts (each resource of a spec file). The others are found
# again from the file's text when a message needs one: a folder of 20,000 resources holds
# millions of positions, and a valid one needs none of them.
LEAN_DEPTH = 2

# --- positions -----------------------------------------------------------------------------

# A position is packed into one int, (line << 32) | column, both 1-based: cheaper to hold by
# the million than a tuple or a Location.
_SHIFT = 32
_COLUMN_MASK = (1 << _SHIFT) - 1


def _pack(mark: Any) -> int:
    return ((int(mark.line) + 1) << _SHIFT) | (int(mark.column) + 1)


class MapPos:
    """Positions in a mapping: its own, each key's and each value's."""

    __slots__ = ("at", "keys", "values")

    def __init__(self, at: int) -> None:
        self.at = at
        self.keys: dict[str, int] = {}
        self.values: dict[str, Pos] = {}


class SeqPos:
    """Positions in a sequence: its own and each item's."""

    __slots__ = ("at", "items")

    def __init__(self, at: int) -> None:
        self.at = at
        self.items: list[Pos] = []


Pos: TypeAlias = int | MapPos | SeqPos


def _at(pos: Pos) -> int:
    return pos if isinstance(pos, int) else pos.at


@dataclass(frozen=True)
class FileText:
    """A spec file's text as it was read: ``key`` is what ``_cache_key`` made of it."""

    path: Path
    key: str
    limits: Limits

    def read(self) -> bytes | None:
        """The same text again; None when the file changed or cannot be read."""
        try:
            source = self.path.read_bytes()
        except OSError:
            return None
        return source if _cache_key(source, self.limits) == self.key else None


class Positions:
    """Where every value of one YAML document is, by path."""

    __slots__ = ("_limits", "_source", "file", "root")

    def __init__(
        self,
        file: str,
        root: Pos | None,
        source: bytes | FileText | None = None,
        limits: Limits | None = None,
    ) -> None:
        """``source``: the document's text (or where to read it again), when ``root`` holds
        only the positions of a lean build; the rest are found by parsing it again, the
        first time one is asked for (a spec folder's positions cost far more memory than
        its text)."""
        self.file = file
        self.root = root
        self._source = source
        self._limits = limits

    def _complete(self) -> bool:
        """Every position, from the document's text; False when there were all along, or
        when the file is no longer the text the lean positions came from."""
        source = self._source
        if isinstance(source, FileText):
            source = source.read()
        self._source = None
        if source is None:
            return False
        builder = _Builder(self.file, self._limits or DEFAULT_LIMITS)
        with gc_paused():
            _, self.root = builder.build(_event_source(source))
        return True

    def text_on_disk(self, text: FileText) -> None:
        """Read the document's text again from its file when it is needed, rather than
        hold it (10 MiB for a folder of 20,000 resources, rarely read: only for a problem
        deeper than the lean build kept)."""
        if self._source is not None:
            self._source = text

    def _location(self, packed: int) -> Location:
        return Location(self.file, packed >> _SHIFT, packed & _COLUMN_MASK)

    def locate(self, path: Sequence[PathPart] = (), *, key: bool = False) -> Location:
        """The position of the value at ``path``; with ``key``, of its mapping key.

        A path that goes past what the document holds (a missing field) gives the deepest
        value that exists: the mapping that lacks the field.
        """
        pos = self.root
        if pos is None:
            return Location(self.file, 1, 1)
        for i, part in enumerate(path):
            if isinstance(pos, MapPos) and isinstance(part, str) and part in pos.values:
                if key and i == len(path) - 1:
                    return self._location(pos.keys[part])
                pos = pos.values[part]
            elif isinstance(pos, SeqPos) and isinstance(part, int) and 0 <= part < len(pos.items):
                pos = pos.items[part]
            else:
                if isinstance(pos, int) and self._complete():  # past what a lean build kept
                    return self.locate(path, key=key)
                break
        else:
            if key and isinstance(pos, int) and path and self._complete():
                return self.locate(path, key=key)
        return self._location(_at(pos))

    def sub(self, path: Sequence[PathPart]) -> Positions:
        """The positions below ``path`` (which must exist), as their own tree."""
        self._complete()
        pos = self.root
        for part in path:
            if isinstance(pos, MapPos) and isinstance(part, str) and part in pos.values:
                pos = pos.values[part]
            elif isinstance(pos, SeqPos) and isinstance(part, int) and 0 <= part < len(pos.items):
                pos = pos.items[part]
            else:
                raise KeyError(path)
        return Positions(self.file, pos)


@dataclass(frozen=True)
class Document:
    """One YAML file: its data (``None`` when empty) and where each value is."""

    data: Any
    positions: Positions
    # What ``read_yaml`` keys the parse cache by (the text, the limits, the parse's format):
    # the same key is the same document. None when read without a cache.
    key: str | None = None


# --- scalars -------------------------------------------------------------------------------

_CORE = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CONSTANTS: dict[str, bool | None] = {**dict.fromkeys(_NULL), **_BOOL}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_NUMBER_START = frozenset("-+0123456789.")
_MAX_INT_DIGITS = 100  # int() of a huge literal is slow (and capped by Python): refuse it
# C0 and C1 controls other than tab and newline, DEL, and lone surrogates from "\ud800".
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_CORE_TAGS = "!!str, !!int, !!float, !!bool, !!null, !!seq, !!map"


class _BadValueError(Exception):
    """A value that cannot be taken: becomes a Problem at the value's position."""


def _int(text: str) -> int:
    digits = text.lstrip("+-")
    if len(digits) > _MAX_INT_DIGITS:
        raise _BadValueError(
            f"a number with {len(digits)} digits is too long; "
            "if it is text (an id, a phone number), put it in quotes"
        )
    if digits.startswith("0o"):
        return int(digits[2:], 8)
    if digits.startswith("0x"):
        return int(digits[2:], 16)
    return int(text, 10)


def _float(text: str) -> float:
    lower = text.lower()
    if lower.endswith((".inf", ".nan")):
        if lower.endswith("nan"):
            return math.nan
        return -math.inf if lower.startswith("-") else math.inf
    return float(text)


def _plain(text: str) -> Any:
    """A plain (unquoted, untagged) scalar, typed by the YAML 1.2 core schema."""
    if not text or text in _NULL:
        return None
    first = text[0]
    if first in "tTfF" and text in _BOOL:
        return _BOOL[text]
    if first in _NUMBER_START:
        if _INT.fullmatch(text):
            return _int(text)
        if _FLOAT.fullmatch(text):
            return _float(text)
    return text


def _tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit tag: only the core schema's tags are taken."""
    if tag == "!" or tag == _CORE + "str":
        return text
    if tag == _CORE + "int":
        if _INT.fullmatch(text):
            return _int(text)
        raise _BadValueError(f"{text!r} is not an integer (it is tagged !!int)")
    if tag == _CORE + "float":
        if _FLOAT.fullmatch(text):
            return _float(text)
        if _INT.fullmatch(text):
            return float(_int(text))
        raise _BadValueError(f"{text!r} is not a number (it is tagged !!float)")
    if tag == _CORE + "bool":
        if text in _BOOL:
            return _BOOL[text]
        raise _BadValueError(f"{text!r} is not true or false (it is tagged !!bool)")
    if tag == _CORE + "null":
        if text in _NULL:
            return None
        raise _BadValueError(f"{text!r} is not null (it is tagged !!null)")
    raise _BadValueError(_tag_message(tag))


def _tag_message(tag: str) -> str:
    shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
    return (
        f"tag {shown} is not supported; wasync reads plain YAML data "
        f"(the YAML 1.2 core tags {_CORE_TAGS}, or none)"
    )


def _describe_key(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    return "a number"


# --- the builder ---------------------------------------------------------------------------


class _StopReadingError(Exception):
    """Stops reading a file: its problems are already recorded."""


class _Frame:
    """A mapping or sequence being built."""

    __slots__ = ("container", "full", "key", "key_at", "pos")

    def __init__(self, container: Any, pos: MapPos | SeqPos | int, mapping: bool) -> None:
        self.container = container
        # Its positions tree, or (past the depth a lean build keeps) only its own position.
        self.pos = pos
        self.full = pos.__class__ is not int
        # None in a sequence; in a mapping, _NO_KEY or the key waiting for its value
        self.key: Any = _NO_KEY if mapping else None
        self.key_at = 0


class _NeedFullError(Exception):
    """A lean build met what needs every position (a duplicate key): build again, in full."""


_NO_KEY = object()  # a mapping expects a key next
_BAD_KEY = object()  # the key was refused: its value is read and dropped


class _Builder:
    def __init__(self, file: str, limits: Limits, keep_depth: int | None = None) -> None:
        """``keep_depth``: record the positions inside collections only that deep (1:
        the document's, 2: also those of its values...); deeper ones are found again
        by ``Positions`` when asked for (``LEAN_DEPTH``). None: every position."""
        self.file = file
        self.limits = limits
        self.keep_depth = keep_depth if keep_depth is not None else 1 << 30
        self.problems: list[Problem] = []

    def problem(self, packed: int, message: str) -> None:
        self.problems.append(
            Problem(message, Location(self.file, packed >> _SHIFT, packed & _COLUMN_MASK))
        )
        if len(self.problems) >= self.limits.max_problems:
            raise _StopReadingError

    def fatal(self, packed: int, message: str) -> None:
        self.problem(packed, message)
        raise _StopReadingError

    def build(self, next_event: Any) -> tuple[Any, Pos | None]:
        """Consume the parser's events (``next_event()`` gives each in turn, ``None`` after
        the last); returns the document's data and positions.

        The loop runs once per event, a million times for a large spec folder, so it is
        written for speed: common cases inline, rare ones in methods.
        """
        max_depth = self.limits.max_depth
        max_values = self.limits.max_values
        keep_depth = self.keep_depth
        stack: list[_Frame | None] = []
        top: _Frame | None = None  # the mapping or sequence being filled
        root: Any = None
        root_pos: Pos | None = None
        documents = 0
        values = 0
        string = str
        control = _CONTROL.search
        constants = _CONSTANTS
        number_start = _NUMBER_START
        scalar_event = ev.ScalarEvent
        mapping_start = ev.MappingStartEvent
        sequence_start = ev.SequenceStartEvent
        mapping_end = ev.MappingEndEvent
        sequence_end = ev.SequenceEndEvent
        no_key = _NO_KEY
        bad_key = _BAD_KEY

        while (event := next_event()) is not None:
            kind = type(event)
            if kind is scalar_event:
                mark = event.start_mark
                at = ((mark.line + 1) << _SHIFT) | (mark.column + 1)
                values += 1
                text = event.value
                if event.ctag is None and event.anchor is None:
                    if event.style:  # quoted or block: text
                        value = text
                    elif text in constants:  # null, true, false (and the empty plain scalar)
                        value = constants[text]
                    elif text[0] in number_start:
                        value = self._number(text, at)
                    else:
                        value = text
                else:
                    value = self._special(event, at)
                # isprintable() is a fast C scan; only text with a line break, tab, other
                # separator or control character goes on to the exact check.
                if value.__class__ is string and not value.isprintable() and control(value):
                    self._control(at, value)
                pos: Pos = at
            elif kind is mapping_start or kind is sequence_start:
                mark = event.start_mark
                at = ((mark.line + 1) << _SHIFT) | (mark.column + 1)
                values += 1
                if event.ctag is not None or event.anchor is not None:
                    self._special_collection(event, at, kind is mapping_start)
                if len(stack) >= max_depth:
                    self.fatal(at, f"nested more than {max_depth} levels deep")
                if values > max_values:
                    self._too_many(at)
                stack.append(top)
                if len(stack) > keep_depth:
                    top = _Frame({} if kind is mapping_start else [], at, kind is mapping_start)
                elif kind is mapping_start:
                    top = _Frame({}, MapPos(at), True)
                else:
                    top = _Frame([], SeqPos(at), False)
                continue
            elif kind is mapping_end or kind is sequence_end:
                assert top is not None
                value = top.container
                pos = top.pos
                top = stack.pop()
            elif kind is ev.AliasEvent:
                mark = event.start_mark
                at = ((mark.line + 1) << _SHIFT) | (mark.column + 1)
                values += 1
                self.problem(
                    at,
                    f"alias *{event.anchor} is not supported; write the value out in full "
                    "(wasync refuses YAML anchors and aliases)",
                )
                value, pos = None, at
            elif kind is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.fatal(
                        _pack(event.start_mark),
                        "a second YAML document (---); a spec file holds one document",
                    )
                continue
            else:  # stream start/end, document end
                continue

            if values > max_values:
                self._too_many(_at(pos))
            if top is None:
                root, root_pos = value, pos
            elif top.key is None:  # a sequence
                top.container.append(value)
                if top.full:
                    top.pos.items.append(pos)  # type: ignore[union-attr]
            elif top.key is no_key:
                if value.__class__ is string and value not in top.container:
                    top.key = value
                    top.key_at = pos  # type: ignore[assignment]
                else:
                    top.key = self._bad_key(value, pos, top)
            else:
                key = top.key
                if key is not bad_key:
                    top.container[key] = value
                    if top.full:
                        mpos: MapPos = top.pos  # type: ignore[assignment]
                        mpos.keys[key] = top.key_at
                        mpos.values[key] = pos
                top.key = no_key
        return root, root_pos

    def _number(self, text: str, at: int) -> Any:
        """A plain scalar that may be a number (YAML 1.2 core schema), else text."""
        try:
            if _INT.fullmatch(text):
                return _int(text)
            if _FLOAT.fullmatch(text):
                return _float(text)
        except _BadValueError as exc:
            self.problem(at, str(exc))
            return None
        return text

    def _special(self, event: Any, at: int) -> Any:
        """A scalar with a tag or an anchor."""
        if event.anchor is not None:
            self._anchor(at, event.anchor)
        try:
            if event.tag is None:
                return event.value if event.style else _plain(event.value)
            return _tagged(event.tag, event.value)
        except _BadValueError as exc:
            self.problem(at, str(exc))
            return None

    def _special_collection(self, event: Any, at: int, mapping: bool) -> None:
        if event.anchor is not None:
            self._anchor(at, event.anchor)
        if event.tag is not None and event.tag not in ("!", _CORE + ("map" if mapping else "seq")):
            self.problem(at, _tag_message(event.tag))

    def _bad_key(self, value: Any, pos: Pos, frame: _Frame) -> Any:
        """Report a key that is not text, or repeats; the marker that drops its value."""
        at = _at(pos)
        if isinstance(value, (dict, list)):
            self.problem(at, "a mapping key must be text, not a mapping or a list")
            return _BAD_KEY
        if not isinstance(value, str):
            self.problem(at, f"mapping key {value!r} is {_describe_key(value)}; keys must be text")
            return _BAD_KEY
        if value in frame.container:
            if not frame.full:
                raise _NeedFullError
            first = frame.pos.keys[value] >> _SHIFT  # type: ignore[union-attr]
            self.problem(
                at, f"duplicate key {value!r}: first on line {first}, again on line {at >> _SHIFT}"
            )
            return _BAD_KEY
        return value  # pragma: no cover - only keys that are not new text come here

    def _anchor(self, at: int, anchor: str) -> None:
        self.problem(
            at,
            f"anchor &{anchor} is not supported; write each value out in full "
            "(wasync refuses YAML anchors and aliases)",
        )

    def _control(self, at: int, value: str) -> None:
        char = _CONTROL.search(value)
        assert char is not None
        self.problem(
            at,
            f"control character U+{ord(char.group()):04X} in text; "
            "only newline and tab are allowed",
        )

    def _too_many(self, at: int) -> None:
        self.fatal(at, f"more than {self.limits.max_values} values in one file; split the file")


# --- reading files -------------------------------------------------------------------------


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _event_source(source: bytes) -> Any:
    """A function giving the parser's events one by one, then ``None``."""
    if _CParser is not None:
        return _CParser(source).get_event  # None after the stream's end
    from ruamel.yaml import YAML  # pragma: no cover - only where the C extension is missing

    events = iter(YAML(typ="safe", pure=True).parse(source))  # pragma: no cover
    return lambda: next(events, None)  # pragma: no cover


def parse_yaml(source: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Parse one YAML document from ``source`` (UTF-8 bytes) named ``file`` in messages.

    Raises ``YamlProblems`` listing every problem found (reading stops at the first that
    leaves the rest unreadable)."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = source[: exc.start].decode("utf-8", "replace")
        line, col = _line_col(head, len(head))
        raise YamlProblems(
            [
                Problem(
                    f"not valid UTF-8: byte 0x{source[exc.start]:02x} at byte offset {exc.start}; "
                    "save the file as UTF-8",
                    Location(file, line, col),
                )
            ]
        ) from None
    builder = _Builder(file, limits, LEAN_DEPTH)
    try:
        with gc_paused():
            try:
                data, root = builder.build(_event_source(source))
                lean = True
            except _NeedFullError:
                builder = _Builder(file, limits)
                data, root = builder.build(_event_source(source))
                lean = False
    except _StopReadingError:
        raise YamlProblems(builder.problems) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        what = exc.problem or "not valid YAML"
        if exc.context:
            what = f"{exc.context}: {what}"
        builder.problems.append(Problem(f"YAML syntax error: {what}", where))
        raise YamlProblems(builder.problems) from None
    except YAMLError as exc:  # ReaderError: a character YAML does not allow
        index = getattr(exc, "position", 0)
        char = getattr(exc, "character", None)
        line, col = _line_col(text, min(index, len(text)))
        what = str(exc)
        if isinstance(char, int):
            what = f"character U+{char:04X} is not allowed in YAML"
        builder.problems.append(Problem(what, Location(file, line, col)))
        raise YamlProblems(builder.problems) from None
    if builder.problems:
        raise YamlProblems(builder.problems)
    if not lean:
        return Document(data, Positions(file, root))
    return Document(data, Positions(file, root, source, limits))


# Part of every parse cache key: bump it when what a parse gives (data or positions) changes.
PARSE_FORMAT = 1


def _encode(pos: Pos) -> Any:
    """A lean positions tree as plain data (for ``BlobCache``)."""
    if pos.__class__ is int:
        return pos
    if isinstance(pos, MapPos):
        return (pos.at, pos.keys, {k: _encode(v) for k, v in pos.values.items()})
    assert isinstance(pos, SeqPos)
    return (pos.at, [_encode(p) for p in pos.items])


def _decode(data: Any) -> Pos:
    if data.__class__ is int:
        return int(data)
    if len(data) == 3:
        at, keys, values = data
        mpos = MapPos(at)
        mpos.keys = keys
        mpos.values = {k: _decode(v) for k, v in values.items()}
        return mpos
    at, items = data
    spos = SeqPos(at)
    spos.items = [_decode(p) for p in items]
    return spos


def _cache_key(source: bytes, limits: Limits) -> str:
    h = hashlib.sha256(f"yaml-{PARSE_FORMAT}:{LEAN_DEPTH}:{limits!r}:".encode())
    h.update(source)
    return h.hexdigest()


def read_yaml(
    path: Path,
    file: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cache: BlobCache | None = None,
) -> Document:
    """Read and parse the YAML file at ``path``, shown as ``file`` in messages.

    With ``cache``, a file read before with the same content and limits is not parsed
    again: its data and (lean) positions come from the cache, as the parse gave them.
    Only files without problems are cached, so their problems are always found afresh."""
    name = file if file is not None else str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise YamlProblems([Problem("not a regular file", Location(name, 1, 1))])
        if info.st_size > limits.max_file_bytes:
            raise YamlProblems([_too_big(name, info.st_size, limits)])
        with path.open("rb") as f:
            source = f.read(limits.max_file_bytes + 1)
    except OSError as exc:
        what = f"cannot read: {exc.strerror or exc}"
        if path.is_symlink() and not path.exists():
            what = "a broken symbolic link; remove it or fix its target"
        raise YamlProblems([Problem(what, Location(name, 1, 1))]) from None
    if len(source) > limits.max_file_bytes:  # grew since stat
        raise YamlProblems([_too_big(name, len(source), limits)])
    if cache is None:
        return parse_yaml(source, name, limits)
    key = _cache_key(source, limits)
    with gc_paused():
        hit = cache.get(key)
        if hit is not None:
            try:
                data, root = hit
                text = FileText(path, key, limits)
                positions = Positions(name, None if root is None else _decode(root), text, limits)
            except (TypeError, ValueError, AttributeError, IndexError, KeyError):  # not ours
                pass
            else:
                return Document(data, positions, key)
    doc = parse_yaml(source, name, limits)
    root = doc.positions.root
    cache.put(key, (doc.data, None if root is None else _encode(root)))
    doc.positions.text_on_disk(FileText(path, key, limits))
    return Document(doc.data, doc.positions, key)


def _too_big(name: str, size: int, limits: Limits) -> Problem:
    return Problem(
        f"file is {size} bytes; at most {limits.max_file_bytes} allowed (split it)",
        Location(name, 1, 1),
    )


class YamlProblems(Exception):  # noqa: N818 - a carrier of Problems, not an error of its own
    """The problems that kept a YAML file from loading."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems

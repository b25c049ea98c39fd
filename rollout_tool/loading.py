"""Bytes to Python values with YAML 1.2 semantics, fast, and hostile input refused.

One loader for every file the tool reads. libyaml (through PyYAML's CParser)
parses and composes the node graph in C; the resolver below gives plain
scalars their YAML 1.2 core-schema types (so `no`, `on` and `yes` stay strings
and there are no timestamps), and our own constructor builds plain dicts and
lists. What a record never needs is refused, before composing where it could
hurt: aliases (an alias bomb), explicit tags, nesting deep enough to overflow
libyaml's recursion, YAML 1.1 line breaks; and duplicate keys.

A file that cannot be loaded is a value (`LoadError`) carrying a located
message, not an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml._yaml import CParser

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


# The core schema's plain scalars, one named group per type; anything else is
# a string. Checked against the spec's own table in tests/test_loading.py.
_PLAIN = re.compile(
    r"(?P<null>~|null|Null|NULL|)"
    r"|(?P<bool>true|True|TRUE|false|False|FALSE)"
    r"|(?P<int>[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"
)
_PLAIN_TAGS = {"null": _NULL, "bool": _BOOL, "int": _INT, "float": _FLOAT}
# A plain scalar starting with any other character is a string.
_PLAIN_FIRST = frozenset("~nNtTfF-+.0123456789")


class Resolver12(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#103-core-schema).

    libyaml asks for a tag once per node; answering with one regular
    expression instead of PyYAML's table of resolvers keeps that cheap.
    """

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            # Quoted scalars are strings. Tags never get here (`load` refuses
            # them first): libyaml reports `! 12` as a plain scalar.
            if implicit[0] and value is not None and (not value or value[0] in _PLAIN_FIRST):
                match = _PLAIN.fullmatch(value)
                if match is not None and match.lastgroup is not None:
                    return _PLAIN_TAGS[match.lastgroup]
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: yaml.Node | None, current_index: Any) -> None:
        pass  # no path resolvers

    def ascend_resolver(self) -> None:
        pass


class _Composer(CParser, Resolver12):
    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        Resolver12.__init__(self)


@dataclass(frozen=True)
class LoadError:
    """Why a file could not be loaded, and where (1-based line and column)."""

    line: int
    column: int
    rule: str
    message: str


class _RefusedError(Exception):
    def __init__(self, node: yaml.Node, rule: str, message: str) -> None:
        super().__init__(message)
        self.error = LoadError(node.start_mark.line + 1, node.start_mark.column + 1, rule, message)


def _short(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag == _STR:
        return value
    if tag == _INT:
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value)
    if tag == _FLOAT:
        lowered = value.lower()
        if lowered.endswith(".inf"):
            return -math.inf if value.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(value)
    if tag == _BOOL:
        return value[0] in "tT"
    if tag == _NULL:
        return None
    raise _RefusedError(node, "yaml-tag", f"the tag {_short(tag)} is not allowed: records use plain YAML values")


def _construct(node: yaml.Node, depth: int) -> Any:
    # Aliases are refused before composing (see `load`), so every node is
    # reached once and the graph is a tree.
    if depth > MAX_DEPTH:
        raise _RefusedError(node, "yaml-depth", f"nested deeper than {MAX_DEPTH} levels")
    cls = node.__class__
    if cls is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        return _scalar(node)  # type: ignore[arg-type]
    if cls is yaml.MappingNode:
        if node.tag != _MAP:
            raise _RefusedError(
                node, "yaml-tag", f"the tag {_short(node.tag)} is not allowed: records use plain mappings"
            )
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode:
                raise _RefusedError(key_node, "yaml-key", "a key must be a plain scalar")
            key = key_node.value if key_node.tag == _STR else _scalar(key_node)
            if key in result:
                raise _RefusedError(key_node, "duplicate-key", f"duplicate key {key!r}: each key may appear once")
            result[key] = _construct(value_node, depth + 1)
        return result
    if cls is yaml.SequenceNode:
        if node.tag != _SEQ:
            raise _RefusedError(node, "yaml-tag", f"the tag {_short(node.tag)} is not allowed: records use plain lists")
        return [_construct(item, depth + 1) for item in node.value]
    raise _RefusedError(node, "yaml-syntax", "unexpected YAML node")


def _decode(data: bytes) -> str | LoadError:
    if len(data) > MAX_BYTES:
        # Sources read one byte past the limit and no further: the true size is unknown.
        return LoadError(1, 1, "too-large", f"the file is larger than {MAX_BYTES:,} bytes, the most a record may hold")
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = _position(data, nul)
        return LoadError(line, column, "binary", "this is a binary file (it holds a NUL byte), not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        return LoadError(line, column, "encoding", f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded")
    if text.startswith("\ufeff"):
        text = text[1:]
    odd = _YAML11_BREAKS.search(text)
    if odd is not None:
        char, at = odd.group(), odd.start()
        return LoadError(
            text.count("\n", 0, at) + 1,
            at - text.rfind("\n", 0, at),
            "encoding",
            f"the character U+{ord(char):04X} ({_BREAK_NAMES[char]}) is a line break to YAML 1.1 parsers"
            f' and text to YAML 1.2 ones: write it as the escape "\\{_BREAK_ESCAPES[char]}" in double quotes',
        )
    return text


# libyaml folds these as line breaks (YAML 1.1); YAML 1.2 reads them as text.
# Rather than load a value other tools read differently, refuse them.
_YAML11_BREAKS = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}
_BREAK_ESCAPES = {"\x85": "N", "\u2028": "L", "\u2029": "P"}


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


# A line's run of spaces and block indicators: where block collections start.
_BLOCK_PREFIX = [re.compile(rf"^[ \t?:-]{{{n},}}", re.MULTILINE) for n in range(MAX_DEPTH + 1)]


def _may_be_deep(text: str) -> bool:
    """Whether the nesting could pass MAX_DEPTH: a cheap bound, checked exactly when it fails.

    libyaml composes nodes recursively in C, and a few ten thousand levels
    (`- - - - ...` on one line, 200 KB) overflow the C stack: the process dies.
    Each `[` or `{` opens at most one level. A block collection starts on a
    line after that line's indentation and indicators (`- `, `? `, `: `), at a
    column greater than its parent's, or equal once for a list under a key:
    so block nesting is at most 2 * (longest such prefix + 1).
    """
    flow = text.count("[") + text.count("{")
    room = (MAX_DEPTH - flow) // 2 - 1
    return room < 0 or _BLOCK_PREFIX[room + 1].search(text) is not None


def _depth(text: str) -> LoadError | None:
    """Refuse deep nesting before composing, from the parser's events (no recursion)."""
    try:
        return _deeper_than_allowed(yaml.parse(text, Loader=yaml.CLoader))
    except yaml.MarkedYAMLError as exc:
        if exc.problem != _LIBYAML_NESTING:
            raise
    # Newer libyaml (PyYAML 6.0.4's) has a bound of its own (1,000 levels) and,
    # looking ahead for simple keys, meets it before handing out the events
    # that reach ours. The pure Python parser has no such bound and looks at
    # most 1,024 characters ahead, so it reaches ours at once, wherever it is.
    return _deeper_than_allowed(yaml.parse(text, Loader=yaml.SafeLoader))


_LIBYAML_NESTING = "exceeded maximum nesting depth"


def _deeper_than_allowed(events: Iterator[yaml.Event]) -> LoadError | None:
    depth = 0
    for event in events:
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return _at(event.start_mark, "yaml-depth", f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def _syntax_error(exc: yaml.YAMLError) -> LoadError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        if mark is not None:
            return LoadError(mark.line + 1, mark.column + 1, "yaml-syntax", message)
        return LoadError(1, 1, "yaml-syntax", message)
    return LoadError(1, 1, "yaml-syntax", str(exc).strip() or "invalid YAML")


def compose(text: str) -> yaml.Node | None:
    composer = _Composer(text)
    try:
        node: yaml.Node | None = composer.get_single_node()
        return node
    finally:
        composer.dispose()


def load(data: bytes) -> Any | LoadError:
    """Load one YAML document as plain dicts, lists and scalars."""
    text = _decode(data)
    if isinstance(text, LoadError):
        return text
    try:
        if _may_be_deep(text):
            too_deep = _depth(text)
            if too_deep is not None:
                return too_deep
        # An alias needs a `*` and a tag a `!`: only then look for them. An
        # alias bomb is refused before its graph is built, let alone expanded;
        # a tag before it can change what a value is (`!!int abc`, `! 12`).
        if "*" in text or "!" in text:
            refused = _first_alias_or_tag(text)
            if refused is not None:
                return refused
        node = compose(text)
    except yaml.YAMLError as exc:
        return _syntax_error(exc)
    if node is None:
        return LoadError(1, 1, "empty", "the file is empty: a record is a YAML mapping")
    try:
        return _construct(node, 0)
    except _RefusedError as refused:
        return refused.error


def _at(mark: Any, rule: str, message: str) -> LoadError:
    if mark is None:
        return LoadError(1, 1, rule, message)
    return LoadError(mark.line + 1, mark.column + 1, rule, message)


_TAGGED = {"SequenceStartEvent": "lists", "MappingStartEvent": "mappings"}


def _first_alias_or_tag(text: str) -> LoadError | None:
    for event in yaml.parse(text, Loader=yaml.CLoader):
        if isinstance(event, yaml.AliasEvent):
            message = f"alias *{event.anchor} is not allowed: anchors and aliases are refused, write the value out"
            return _at(event.start_mark, "yaml-alias", message)
        tag = getattr(event, "tag", None)
        if tag is not None and isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            what = _TAGGED.get(type(event).__name__, "YAML values")
            message = f"the tag {_short(tag)} is not allowed: records use plain {what}"
            return _at(event.start_mark, "yaml-tag", message)
    return None


class Positions:
    """Where each value of one file is written: the file composed once, every path looked up in it.

    Built only for files that have problems, and once per file whatever the
    number of problems: each mapping's keys are indexed the first time a path
    goes through it, so locating N problems costs one compose and N short
    walks, not N composes.
    """

    def __init__(self, data: bytes) -> None:
        self._root: yaml.Node | None = None
        self._keys: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}
        text = _decode(data)
        if isinstance(text, LoadError):
            return
        try:
            self._root = compose(text)
        except (yaml.YAMLError, RecursionError):
            self._root = None

    def _index(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        index = self._keys.get(id(node))
        if index is None:
            index = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    # The first key that names a step wins, as a scan in order would.
                    for name in _key_names(key_node):
                        index.setdefault(name, (key_node, value_node))
            self._keys[id(node)] = index
        return index

    def find(self, loc: Sequence[str | int], *, key: bool = False) -> tuple[int, int, str | None]:
        """The 1-based line and column of the value at `loc` (or of its key), and its text as written.

        Where `loc` runs past what the file holds (a missing key), the position
        of the deepest node that exists is returned; (1, 1) when the file does
        not compose at all.
        """
        node = self._root
        if node is None:
            return 1, 1, None
        for at, step in enumerate(loc):
            found: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                pair = self._index(node).get(str(step))
                if pair is not None:
                    found = pair[0] if key and at == len(loc) - 1 else pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                found = node.value[step]
            if found is None:
                break
            node = found
        mark = node.start_mark
        written = node.value if isinstance(node, yaml.ScalarNode) else None
        return mark.line + 1, mark.column + 1, written


def _key_names(key_node: yaml.ScalarNode) -> tuple[str, ...]:
    """The names pydantic may give a key as written (`~` is 'None', `010` is '10', `true` '1')."""
    if key_node.tag == _STR:
        return (key_node.value,)
    try:
        value = _scalar(key_node)
    except _RefusedError:
        return (key_node.value,)
    if isinstance(value, bool):
        return key_node.value, str(value), str(int(value))
    return key_node.value, str(value)


def locate(data: bytes, loc: Sequence[str | int], *, key: bool = False) -> tuple[int, int, str | None]:
    """`Positions(data).find(loc)`, for one lookup; build `Positions` once to look up many."""
    return Positions(data).find(loc, key=key)

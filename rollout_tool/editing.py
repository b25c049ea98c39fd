"""Edits to a record's text that change only what they mean.

The bot and the coordinators' commands change a few fields of a record: set a
scalar (`state`, `revision`), append an entry to a list (`history`,
`decisions`), replace a list of identifiers (`teams`). A YAML round trip would
write the whole file again, and every emitter has its own opinion of tabs,
long or quoted strings, comments and line ends. Here an edit is a splice of
the text at the positions the parser gives (the node marks of the libyaml
graph `loading` composes): a value's span is replaced, or new lines are
inserted after a list's last entry, written in the style of the entries
already there. Every other byte stays as it was: comments, tabs, quoting,
flow or block style, CRLF line ends, a byte order mark.

The result is loaded again and must equal the intended document; otherwise
the edit is refused (`EditError`) and nothing is written. Values are written
plain only when every YAML reader (1.2 and 1.1) reads them back as the same
string; anything else is double-quoted, with escapes for what is not printable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rollout_tool.errors import RefusedError
from rollout_tool.loading import LoadError, compose, load
from rollout_tool.writing import atomic_write

Scalar = str | int | bool | dt.date | None
Entry = Scalar | Mapping[str, Scalar]


class EditError(RefusedError):
    """An edit that cannot be made without touching what it does not mean."""


@dataclass(frozen=True)
class SetScalar:
    """Set the top-level `key` to `value`; a missing key is added after the first of `after` present."""

    key: str
    value: Scalar
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Append:
    """Append `entry` to the top-level list `key`, which is created (after `after`) when missing."""

    key: str
    entry: Entry
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplaceList:
    """Make the top-level list `key` hold exactly `items` (identifiers such as `teams`)."""

    key: str
    items: tuple[Scalar, ...]
    after: tuple[str, ...] = ()


Edit = SetScalar | Append | ReplaceList


def edit_file(path: Path, edits: Sequence[Edit]) -> bool:
    """Apply `edits` to the file at `path`, atomically; True when its bytes changed."""
    original = path.read_bytes()
    updated = apply(original, edits, name=str(path))
    if updated == original:
        return False
    atomic_write(path, updated)
    return True


def apply(data: bytes, edits: Sequence[Edit], *, name: str = "the record") -> bytes:
    """The bytes of `data` with `edits` made, checked by loading them again."""
    before = load(data)
    if isinstance(before, LoadError):
        raise EditError(f"{name}:{before.line}:{before.column}: cannot be edited: {before.message}")
    if not isinstance(before, dict):
        raise EditError(f"{name}: cannot be edited: a record is a YAML mapping")
    text = data.decode("utf-8")
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    intended = dict(before)
    for change in edits:
        text = _splice(text, intended, change, name)
        _intend(intended, change)
    updated = (bom + text).encode("utf-8")
    after = load(updated)
    if after != intended:
        raise EditError(f"{name}: cannot be edited in place: the result would not read back as intended")
    return updated


# ---------------------------------------------------------------- the intended document


def _plain(value: Any) -> Any:
    """A value as our loader reads it back (dates are ISO strings in YAML 1.2)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _intend(document: dict[str, Any], change: Edit) -> None:
    if isinstance(change, SetScalar):
        document[change.key] = _plain(change.value)
    elif isinstance(change, Append):
        document[change.key] = [*(document.get(change.key) or []), _plain(change.entry)]
    else:
        document[change.key] = [_plain(item) for item in change.items]


# ---------------------------------------------------------------- splices


_BREAK = re.compile(r"\r\n|\r|\n")


def _splice(text: str, document: dict[str, Any], change: Edit, name: str) -> str:
    root = compose(text)
    if not isinstance(root, yaml.MappingNode):
        raise EditError(f"{name}: cannot be edited: a record is a YAML mapping")
    newline = _newline(text)
    found = _entry(root, change.key)
    if found is None:
        return _add_key(text, root, change, newline)
    key_node, value = found
    at = f"{name}:{value.start_mark.line + 1}:{value.start_mark.column + 1}"
    if isinstance(change, SetScalar):
        current, wanted = document[change.key], _plain(change.value)
        if current == wanted and type(current) is type(wanted):
            return text  # already so: keep it as written
        if not isinstance(value, yaml.ScalarNode):
            raise EditError(f"{at}: `{change.key}` is not a single value")
        return _replace_scalar(text, value, _scalar(change.value), newline)
    if not isinstance(value, yaml.SequenceNode):
        raise EditError(f"{at}: `{change.key}` is not a list")
    if isinstance(change, Append):
        return _append(text, value, change.entry, newline)
    if document.get(change.key) == [_plain(item) for item in change.items]:
        return text
    return _replace_list(text, key_node, value, change.items, newline)


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _newline(text: str) -> str:
    """The file's line end, taken from its first line."""
    first = _BREAK.search(text)
    return first.group() if first is not None else "\n"


def _line_start(text: str, at: int) -> int:
    return max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1


def _content_end(node: yaml.Node) -> int:
    """Where the text of a node ends: a block collection ends with its last entry, not at the next key."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end: int = node.end_mark.index
    return end


def _next_line(text: str, at: int) -> tuple[int, bool]:
    """The start of the line after the one holding `at`; True when a line break must be written first (at the end)."""
    start = _line_start(text, at)
    if text[start:at].strip(" \t") == "":
        # A block scalar ends after its line breaks, at (or inside) the next line's indentation.
        return start, False
    found = _BREAK.search(text, at)
    if found is None:
        return len(text), True
    return found.end(), False


def _insert_lines(text: str, node: yaml.Node, lines: list[str], newline: str) -> str:
    at, needs_break = _next_line(text, _content_end(node))
    block = newline.join(lines) + newline
    if needs_break:
        block = newline + block
    return text[:at] + block + text[at:]


def _replace_scalar(text: str, node: yaml.ScalarNode, written: str, newline: str) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        # The span runs over the scalar's lines and the breaks after them: keep one.
        end = _line_start(text, end) if text[_line_start(text, end) : end].strip(" \t") == "" else end
        written += newline
    elif start == end and start > 0 and text[start - 1] not in " \t\r\n":
        written = " " + written  # an empty value right after its `:`
    return text[:start] + written + text[end:]


def _add_key(text: str, root: yaml.MappingNode, change: Edit, newline: str) -> str:
    if isinstance(change, SetScalar):
        value: Scalar | list[Any] = change.value
    elif isinstance(change, Append):
        value = [change.entry]
    else:
        value = list(change.items)
    place = next((found for key in change.after if (found := _entry(root, key)) is not None), None)
    if place is None and root.value:
        place = root.value[-1]
    if root.flow_style:
        pair = f"{_scalar(change.key)}: {_flow(value)}"
        if place is None:
            at = root.start_mark.index + 1
            return text[:at] + pair + text[at:]
        at = _content_end(place[1])
        return text[:at] + ", " + pair + text[at:]
    indent = " " * root.start_mark.column
    if isinstance(value, list):
        lines = [f"{indent}{_scalar(change.key)}:"]
        for item in value:
            lines += _block_item(item, f"{indent}  ", f"{indent}    ")
    else:
        lines = [f"{indent}{_scalar(change.key)}: {_scalar(value)}"]
    assert place is not None  # a block mapping has an entry
    return _insert_lines(text, place[1], lines, newline)


def _block_item(item: Entry, dash: str, keys: str, *, flow: bool = False) -> list[str]:
    if isinstance(item, Mapping) and not flow and item:
        pairs = [f"{_scalar(key)}: {_scalar(value)}" for key, value in item.items()]
        return [f"{dash}- {' ' * (len(keys) - len(dash) - 2)}{pairs[0]}", *(keys + pair for pair in pairs[1:])]
    return [f"{dash}- {_flow(item)}"]


def _append(text: str, sequence: yaml.SequenceNode, entry: Entry, newline: str) -> str:
    if sequence.flow_style:
        return _append_flow(text, sequence, entry, newline)
    last = sequence.value[-1]  # a block sequence has an entry
    dash_column = sequence.start_mark.column
    block_mapping = isinstance(last, yaml.MappingNode) and not last.flow_style
    keys_column = last.start_mark.column if block_mapping else dash_column + 2
    lines = _block_item(entry, " " * dash_column, " " * keys_column, flow=not block_mapping)
    return _insert_lines(text, last, lines, newline)


def _append_flow(text: str, sequence: yaml.SequenceNode, entry: Entry, newline: str) -> str:
    written = _flow(entry)
    if not sequence.value:
        at = sequence.start_mark.index + 1
        return text[:at] + written + text[at:]
    last = sequence.value[-1]
    end = last.end_mark.index
    start = _line_start(text, last.start_mark.index)
    indent = text[start : last.start_mark.index]
    closing = sequence.end_mark.index - 1
    one_a_line = indent.strip(" \t") == "" and _BREAK.search(text, end, closing) is not None
    if not one_a_line:
        return text[:end] + ", " + written + text[end:]
    # One entry a line: the new one gets a line of its own, and a comment
    # after the last entry stays on that entry's line.
    comma = re.compile(r"[ \t]*,").match(text, end)
    at, _ = _next_line(text, end if comma is None else comma.end())
    if comma is None:
        return text[:end] + "," + text[end:at] + indent + written + newline + text[at:]
    return text[:at] + indent + written + "," + newline + text[at:]


def _replace_list(
    text: str, key_node: yaml.Node, sequence: yaml.SequenceNode, items: tuple[Scalar, ...], newline: str
) -> str:
    start = sequence.start_mark.index
    if sequence.flow_style:
        return text[:start] + _flow(list(items)) + text[sequence.end_mark.index :]
    end = _content_end(sequence)
    while text[end - 1] in " \t\r\n":
        end -= 1  # a block scalar entry ends after its line breaks: keep them
    if not items:
        # A flow value on a line of its own must be indented past its key.
        indent = " " * max(0, key_node.start_mark.column + 1 - sequence.start_mark.column)
        return text[:start] + indent + "[]" + text[end:]
    dash = " " * sequence.start_mark.column
    written = (newline + dash).join(f"- {_scalar(item)}" for item in items)
    return text[:start] + written + text[end:]


# ---------------------------------------------------------------- values as written


# Plain only when nothing can read it as anything but this string: no
# indicator, no flow or comment character, no leading or trailing space.
_SAFE_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./+~()-]*(?: [A-Za-z0-9_./+~()-]+)*")
# What YAML 1.1 readers (PyYAML, many tools) take for booleans, nulls and numbers.
_YAML11 = re.compile(
    r"(?i:y|n|yes|no|on|off|true|false|null)|[-+]?(?:0b[01_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:e[-+]?[0-9]+)?|0x[0-9a-f_]+)"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
    re.IGNORECASE,
)
_ESCAPES = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r", "\x1b": "e"}
_ESCAPES.update({'"': '"', "\\": "\\"})


def _scalar(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if _SAFE_PLAIN.fullmatch(value) and not _YAML11.fullmatch(value) and load(f"v: {value}".encode()) == {"v": value}:
        return value
    return _double_quoted(value)


def _double_quoted(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _ESCAPES:
            out.append("\\" + _ESCAPES[char])
        elif code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029\ufeff" or code in (0xFFFE, 0xFFFF):
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _flow(value: Entry | list[Any]) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_scalar(key)}: {_scalar(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return _scalar(value)

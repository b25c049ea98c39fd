"""Reporters: the same problems as text, GitHub workflow annotations, or JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

from rollout_tool.problems import Level, Problem

FORMATS = ("text", "github", "json")


def default_format() -> str:
    # Inside GitHub Actions the annotations appear on the pull request's diff.
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def visible(value: str) -> str:
    """`value` on one line, every character printable: what a file name holds is shown, never obeyed.

    A line break would start a forged problem line, an escape sequence would
    recolour or erase the log, a bidirectional override would reorder what is
    read, and a byte that is not UTF-8 (kept by the file system's
    surrogateescape) cannot be written out at all: each shows as its escape.
    """
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else _escape_char(char) for char in value)


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def text(problems: Sequence[Problem]) -> str:
    return "".join(
        f"{visible(p.path)}:{p.line}:{p.column}: [{p.level.value}] {visible(p.message)} ({p.rule})\n" for p in problems
    )


def escape_data(value: str) -> str:
    """A workflow command's message: line breaks in GitHub's own escapes, anything else unprintable visible."""
    return visible(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> str:
    lines = []
    for p in problems:
        command = "error" if p.level is Level.error else "warning"
        props = f"file={_escape_property(p.path)},line={p.line},col={p.column},title={_escape_property(p.rule)}"
        lines.append(f"::{command} {props}::{escape_data(p.message)}\n")
    return "".join(lines)


def as_json(problems: Sequence[Problem], **extra: object) -> str:
    return json.dumps({**extra, "problems": [p.as_dict() for p in problems]}, indent=2, sort_keys=False) + "\n"


PROBLEM_REPORTERS: dict[str, Callable[[Sequence[Problem]], str]] = {"text": text, "github": github}

"""Turn pydantic's validation errors into sentences a site admin can act on."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from rollout_tool.records import IDENTIFIER_PATTERN, LOGIN_PATTERN, URL_PATTERN

_YAML11_BOOLS = {"yes": "true", "no": "false", "on": "true", "off": "false", "y": "true", "n": "false"}

_PATTERN_HINTS = {
    IDENTIFIER_PATTERN: "an identifier: lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter or digit",
    LOGIN_PATTERN: "a GitHub login",
    URL_PATTERN: "an http:// or https:// URL without spaces, quotes or angle brackets",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an e-mail address",
    r"^[A-Za-z0-9][A-Za-z0-9._+~-]*$": "a version: letters, digits, '.', '_', '+', '~' and '-'",
}


@dataclass(frozen=True)
class Message:
    loc: tuple[str | int, ...]
    at_key: bool
    rule: str
    text: str
    # For an unknown key: the key it is probably a misspelling of.
    suggests: str | None = None


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
    return found


def model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose fields are valid at `loc` (list indexes and dict keys skipped)."""
    current: type[BaseModel] = model
    pending_container = False
    for step in loc:
        if pending_container or isinstance(step, int):
            pending_container = False
            continue
        field = current.model_fields.get(str(step))
        if field is None:
            return None
        inner = _models_in(field.annotation)
        if not inner:
            return None
        current = inner[0]
        origin = typing.get_origin(field.annotation)
        annotated_inner = typing.get_args(field.annotation)[0] if origin is typing.Annotated else None
        if origin is dict or typing.get_origin(annotated_inner) is dict:
            pending_container = True
    return current


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def shows_source_text(error: ErrorDetails) -> bool:
    """Whether `describe` says more given the value as written: keys, and values that are not text."""
    loc = error["loc"]
    return error["type"] in ("invalid_key", "string_type") or bool(loc and loc[-1] == "[key]")


def describe(error: ErrorDetails, model: type[BaseModel], source_text: str | None) -> Message:
    """One pydantic error as a located message; `source_text` is the value as written in the file."""
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    field = str(loc[-1]) if loc else "the file"
    written = source_text if source_text is not None else str(value)

    # Keys: pydantic names a key by its str() (`~` is 'None'), and a wrong key
    # of a dict by the dict's location plus '[key]'. Point at the key as written.
    if kind == "invalid_key":
        text = f'a key must be text, not {_kind(value)}; write it in quotes: "{written}"'
        return Message(loc, True, "type", text)
    if loc and loc[-1] == "[key]":
        inner = describe({**error, "loc": loc[:-1]}, model, source_text)
        owner = str(loc[-3]) if len(loc) > 2 else "the file"
        if kind == "string_type":
            text = f'{owner}: a key must be text, not {_kind(value)}; write it in quotes: "{written}"'
            return Message(loc[:-1], True, "type", text)
        text = inner.text.replace(f"{loc[-2]}:", f"{owner} key:", 1)
        return Message(inner.loc, True, inner.rule, text, inner.suggests)

    if kind == "extra_forbidden":
        parent = model_at(model, loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(field, allowed, n=1, cutoff=0.6)
        hint = (
            f"; did you mean {close[0]!r}?" if close else (f" (allowed here: {', '.join(allowed)})" if allowed else "")
        )
        return Message(loc, True, "unknown-key", f"unknown key {field!r}{hint}", close[0] if close else None)
    if kind == "missing":
        return Message(loc[:-1], False, "required", f"missing required key {field!r}")
    if kind == "string_type":
        # 1.10 loads as the float 1.1: show the number as it was written
        got = f"the number {written}" if isinstance(value, float) and source_text is not None else _kind(value)
        text = f"{field}: expected text, got {got}"
        if isinstance(value, (int, float, bool)) or value is None:
            text += f'; write it in quotes: {field}: "{written}"'
        return Message(loc, False, "type", text)
    if kind in ("bool_type", "bool_parsing"):
        text = f"{field}: expected true or false, got {_kind(value)}"
        if isinstance(value, str) and value.lower() in _YAML11_BOOLS:
            text += f" (YAML 1.2 reads {value} as text): write {_YAML11_BOOLS[value.lower()]}"
        return Message(loc, False, "type", text)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return Message(loc, False, "type", f"{field}: expected a whole number, got {_kind(value)}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return Message(loc, False, "type", f"{field}: expected a mapping of keys to values, got {_kind(value)}")
    if kind == "list_type":
        return Message(loc, False, "type", f"{field}: expected a list, got {_kind(value)}")
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        choices = [part.strip(" '") for part in str(expected).replace(" or ", ", ").split(",")]
        hint = _suggest(str(value), choices) if isinstance(value, str) else ""
        return Message(loc, False, "vocabulary", f"{field}: {_kind(value)} is not one of {expected}{hint}")
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return Message(loc, False, "format", f"{field}: {value!r} is not {hint}")
    if kind in ("too_short", "string_too_short"):
        return Message(loc, False, "required", f"{field}: must not be empty")
    if kind in ("too_long", "string_too_long"):
        return Message(loc, False, "format", f"{field}: too long ({error['msg'].lower()})")
    if kind == "value_error":
        return Message(loc, False, "value", f"{field}: {error['msg'].removeprefix('Value error, ')}")
    return Message(loc, False, "value", f"{field}: {error['msg']}")

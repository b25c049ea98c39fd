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


def _one_line(value: str) -> str:
    # A file name or a value may hold a line break; the format is one problem a line.
    return value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value


def text(problems: Sequence[Problem]) -> str:
    return "".join(
        f"{_one_line(p.path)}:{p.line}:{p.column}: [{p.level.value}] {_one_line(p.message)} ({p.rule})\n"
        for p in problems
    )


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem]) -> str:
    lines = []
    for p in problems:
        command = "error" if p.level is Level.error else "warning"
        props = f"file={_escape_property(p.path)},line={p.line},col={p.column},title={_escape_property(p.rule)}"
        lines.append(f"::{command} {props}::{_escape_data(p.message)}\n")
    return "".join(lines)


def as_json(problems: Sequence[Problem], **extra: object) -> str:
    return json.dumps({**extra, "problems": [p.as_dict() for p in problems]}, indent=2, sort_keys=False) + "\n"


PROBLEM_REPORTERS: dict[str, Callable[[Sequence[Problem]], str]] = {"text": text, "github": github}

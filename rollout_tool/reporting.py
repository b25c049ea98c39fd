"""Reporters: one table turning any command's result and a format name into output and an exit code.

A command returns a result; it never prints. Every result offers the same
few things (its problems, the lines that say what it found, a closing line,
a JSON payload, an exit code), and each reporter lays those out one way:
`text` (`path:line:col: [level] message (rule)`, one problem a line),
`github` (workflow annotations), `json`, and `markdown` (the pull-request
comment, from a template shipped with the package). The escaping each
format needs lives here, once.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import click

from rollout_tool import templating
from rollout_tool.errors import EXIT_OK, EXIT_PROBLEMS
from rollout_tool.problems import Level, Problem, has_errors

FORMATS = ("text", "github", "json")
CHECK_FORMATS = (*FORMATS, "markdown")


class Result(Protocol):
    """What every command's result offers its reporters."""

    @property
    def problems(self) -> list[Problem]: ...

    def lines(self) -> list[str]:
        """What the command found, in plain text, one line each, before any problem."""
        ...

    def notices(self) -> list[tuple[str, str]]:
        """What the command found as GitHub notices: (title, message)."""
        ...

    def closing(self) -> tuple[str, bool]:
        """The line that sums the result up, and whether it is for a person at a terminal only (stderr)."""
        ...

    def as_dict(self) -> dict[str, object]: ...

    def exit_code(self) -> int: ...


@dataclass(frozen=True)
class Problems:
    """A result that is a list of problems over some files: `rollout validate`'s."""

    files: int
    problems: list[Problem]

    def lines(self) -> list[str]:
        return []

    def notices(self) -> list[tuple[str, str]]:
        return []

    def closing(self) -> tuple[str, bool]:
        errors = sum(1 for p in self.problems if p.level is Level.error)
        return f"{self.files} files checked, {errors} errors, {len(self.problems) - errors} warnings", True

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "problems": [p.as_dict() for p in self.problems]}

    def exit_code(self) -> int:
        return EXIT_PROBLEMS if has_errors(self.problems) else EXIT_OK


@dataclass(frozen=True)
class Lines:
    """A result told in a few lines for people and a payload for machines: what `advance` or `codeowners` did."""

    said: list[str]
    payload: dict[str, object]
    notes: list[str] = field(default_factory=list)  # for a person at a terminal: on stderr, and not in JSON
    code: int = EXIT_OK
    found: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return self.found

    def lines(self) -> list[str]:
        return self.said

    def notices(self) -> list[tuple[str, str]]:
        return [("rollout", line) for line in [*self.said, *self.notes]]

    def closing(self) -> tuple[str, bool]:
        return "\n".join(self.notes), True

    def as_dict(self) -> dict[str, object]:
        return {**self.payload, "problems": [p.as_dict() for p in self.found]} if self.found else self.payload

    def exit_code(self) -> int:
        return self.code


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


# ---------------------------------------------------------------- one reporter per format


def _text(result: Result) -> tuple[str, str]:
    closing, terminal = result.closing()
    body = "".join(f"{visible(line)}\n" for line in result.lines()) + text(result.problems)
    closing = f"{closing}\n" if closing else ""
    return (body, closing) if terminal else (body + closing, "")


def _github(result: Result) -> tuple[str, str]:
    closing, terminal = result.closing()
    body = "".join(
        f"::notice title={_escape_property(title)}::{escape_data(message)}\n" for title, message in result.notices()
    )
    body += github(result.problems)
    return body + (f"{closing}\n" if closing and not terminal else ""), ""


def _json(result: Result) -> tuple[str, str]:
    return json.dumps(result.as_dict(), indent=2) + "\n", ""


def markdown(template: str, **context: object) -> str:
    """A Markdown document from a template of the package (never of the repository judged)."""
    env = templating.environment(None, html=False)
    rendered = env.get_template(template).render(**context)
    # Optional sections leave runs of blank lines.
    return re.sub(r"\n{3,}", "\n\n", rendered).strip() + "\n"


def _markdown(result: Result) -> tuple[str, str]:
    template = getattr(result, "markdown_template", None)
    if not isinstance(template, str):
        raise click.UsageError("this command has no markdown output")
    return markdown(template, result=result), ""


REPORTER_BY_NAME: dict[str, Callable[[Result], tuple[str, str]]] = {
    "text": _text,
    "github": _github,
    "json": _json,
    "markdown": _markdown,
}


def render(result: Result, output_format: str) -> str:
    """What the reporter prints on stdout (and, after it, on stderr) for `result`."""
    out, err = REPORTER_BY_NAME[output_format](result)
    return out + err


def report(result: Result, output_format: str | None) -> None:
    """Print `result` in `output_format` (the default for where it runs when None) and exit with its code."""
    out, err = REPORTER_BY_NAME[output_format or default_format()](result)
    click.echo(out, nl=False)
    if err:
        click.echo(err, nl=False, err=True)
    sys.exit(result.exit_code())

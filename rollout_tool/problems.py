"""A problem is a value: where, how bad, which rule, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    rule: str
    message: str
    level: Level = Level.error

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "level": self.level.value,
            "rule": self.rule,
            "message": self.message,
        }


def has_errors(problems: list[Problem]) -> bool:
    return any(p.level is Level.error for p in problems)

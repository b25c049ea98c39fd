"""Fatal errors, and the one place they become exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_FATAL = 2


class RolloutError(Exception):
    """An error that stops a command; its message is for the user."""

    exit_code = EXIT_FATAL


class FatalError(RolloutError):
    """The repository cannot be read at all (missing, unreadable, not git)."""


class UsageError(RolloutError):
    """The command was called wrongly."""


class RefusedError(RolloutError):
    """A write that would lose or corrupt what the user had."""

    exit_code = EXIT_PROBLEMS

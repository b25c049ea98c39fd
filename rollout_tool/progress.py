"""A progress line on stderr for long runs, for a person at a terminal and no one else.

Shown only when stderr is a terminal: in CI, in a pipe or a file nothing is
written, and stdout (where `--format json` goes) is never touched. The line is
redrawn at most ten times a second and erased when the run ends, so what the
command says afterwards starts on a clean line.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

_WIDTH = 30
_INTERVAL = 0.1


class Progress:
    """`with Progress("validating", total) as progress: ... progress.advance()`; `total` may be unknown (None)."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        # Whether the line is drawn at all: a total that costs work to count is counted only then.
        self.shown = _is_terminal(self._stream)
        self._drawn_at: float | None = None

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.shown and (self._drawn_at is None or time.monotonic() - self._drawn_at >= _INTERVAL):
            self._draw()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.shown and self._drawn_at is not None:
            self._stream.write("\r\x1b[K")
            self._stream.flush()

    def line(self) -> str:
        """What the line says now."""
        if not self.total:
            return f"{self.label}: {self.done:,}"
        done = min(self.done, self.total)
        filled = _WIDTH * done // self.total
        return f"{self.label} [{'#' * filled}{'-' * (_WIDTH - filled)}] {done:,}/{self.total:,}"

    def _draw(self) -> None:
        if not self.shown:
            return
        self._stream.write("\r" + self.line() + "\x1b[K")
        self._stream.flush()
        self._drawn_at = time.monotonic()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or a stand-in stream
        return False

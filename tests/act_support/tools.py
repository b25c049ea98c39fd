"""What the tests need from the machine: tools of the environment they run in, and what to do without them.

A tool is looked for beside the interpreter running the tests first (the
virtual environment's `bin/`, where `pip install -e '.[test]'` puts act,
actionlint and zizmor), then on PATH. Without a tool, a browser or a
description file a test is skipped, except in CI (ROLLOUT_REQUIRE_ALL=1), where
it fails: a run that skipped what it could not do would pass proving less.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest


def tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("ROLLOUT_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (ROLLOUT_REQUIRE_ALL=1: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, where: str) -> str:
    found = tool(name)
    if found is None:
        unavailable(f"{name} is not installed ({where})")
    return found

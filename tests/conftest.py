"""The fixtures every test may ask for; what they build lives in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.repos import Repo, build_repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    """A small valid repository: one product, a release in rollout, one report, committed."""
    yield build_repo(tmp_path / "repo")

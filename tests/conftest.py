"""The fixtures every test may ask for; what they build lives in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.repos import Repo, build_repo


@pytest.fixture(autouse=True)
def rollout_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's own validation cache: nothing is read from or written to the user's."""
    folder = tmp_path_factory.mktemp("rollout-cache")
    monkeypatch.setenv("ROLLOUT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths parsed afresh in this process during the test: a cache hit parses nothing."""
    from rollout_tool import cache, parallel, repository
    from rollout_tool.repository import Document

    seen: list[str] = []
    original = repository.parse_document

    def counting(path: str, kind: str, data: bytes) -> Document:
        seen.append(path)
        return original(path, kind, data)

    for module in (repository, cache, parallel):
        monkeypatch.setattr(module, "parse_document", counting)
    return seen


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    """A small valid repository: one product, a release in rollout, one report, committed."""
    yield build_repo(tmp_path / "repo")

"""`rollout notes`: the Markdown notes of one release, or of every release into a folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rollout_tool import notes
from rollout_tool.errors import UsageError
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


def split_name(name: str) -> tuple[str, str]:
    first, slash, second = name.strip("/").partition("/")
    if not slash or not first or not second or "/" in second:
        raise UsageError(f"{name!r}: name a release as PRODUCT/VERSION (or a distribution release as NAME/VERSION)")
    return first, second


def one(source: Source, name: str, today: dt.date, *, distribution: bool = False) -> str:
    repo = Repository(source)
    first, second = split_name(name)
    if distribution:
        return notes.distribution_notes(repo, first, second, today)
    return notes.release_notes(repo, first, second, today)


def release_file(product: str, version: str) -> str:
    return f"releases/{product}/{version}.md"


def distribution_file(distribution: str, version: str) -> str:
    return f"distributions/{distribution}/{version}.md"


@dataclass(frozen=True)
class Written:
    releases: int
    distributions: int


def write_all(source: Source, out: Path, today: dt.date) -> Written:
    """Notes of every valid release and distribution release, one file each under `out`."""
    repo = Repository(source)
    releases = 0
    for product, version, _ in repo.releases():
        _write(out / release_file(product, version), notes.release_notes(repo, product, version, today))
        releases += 1
    distributions = 0
    for distribution in repo.distribution_ids():
        for version in repo.distribution_versions(distribution):
            if repo.distribution(distribution, version) is None:
                continue
            text = notes.distribution_notes(repo, distribution, version, today)
            _write(out / distribution_file(distribution, version), text)
            distributions += 1
    return Written(releases, distributions)


def _write(path: Path, text: str) -> None:
    # Generated output, rebuilt whole on every run: plain writes, not one fsync per file.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))

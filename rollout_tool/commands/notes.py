"""`rollout notes`: the Markdown notes of one release, or of every release into a folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rollout_tool import gathering, notes, parallel
from rollout_tool.cache import DocumentCache
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


# Releases worked out at a time: what is held in memory between their facts and their notes.
BATCH = 1_000


def write_all(source: Source, out: Path, today: dt.date, cache: DocumentCache | None = None, jobs: int = 1) -> Written:
    """Notes of every valid release and distribution release, one file each under `out`.

    With a `cache`, the facts of a release whose records did not change are
    read back (rollout_tool.gathering); the notes are written over `jobs` processes.
    """
    repo = Repository(source)
    repo.cache = cache
    try:
        derived = gathering.derived_of(repo, today)
        named = [(product, version) for product in repo.product_ids() for version in repo.versions(product)]
        written: set[Path] = set()

        def write(chunk: list[notes.ReleaseFacts]) -> list[str]:
            return [
                str(_write(out / release_file(f.product_id, f.version), notes.render_release_notes(repo, f)))
                for f in chunk
            ]

        for start in range(0, len(named), BATCH):
            found = gathering.gather(repo, named[start : start + BATCH], today, jobs, derived=derived)
            facts = [hit.facts for hit in found if hit.facts is not None]
            written.update(Path(path) for path in parallel.spread(write, facts, jobs, 64, 200))
        releases = len(written)
        for distribution in repo.distribution_ids():
            for version in repo.distribution_versions(distribution):
                shipped = gathering.distribution(repo, distribution, version, today, derived)
                if shipped is not None:
                    text = notes.render_distribution_notes(repo, shipped)
                    written.add(_write(out / distribution_file(distribution, version), text))
        _remove_stale(out, written)
        return Written(releases, len(written) - releases)
    finally:
        if cache is not None:
            cache.save()


def _remove_stale(out: Path, written: set[Path]) -> None:
    """Notes left by an earlier run for releases that are gone; nothing outside the notes' own layout."""
    for folder in ("releases", "distributions"):
        for path in sorted((out / folder).glob("*/*.md")):
            if path not in written and path.is_file() and not path.is_symlink():
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()


def _write(path: Path, text: str) -> Path:
    # Generated output, rebuilt whole on every run: plain writes, not one fsync per file.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path

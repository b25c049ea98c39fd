"""`rollout notes`: the Markdown notes of one release, or of every release into a folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rollout_tool import collector, gathering, notes, parallel, templating
from rollout_tool.cache import DocumentCache, tool_key
from rollout_tool.errors import UsageError
from rollout_tool.repository import Repository
from rollout_tool.sources import Source
from rollout_tool.writing import atomic_write, read_manifest


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


# Beside the notes: each release's notes file, the key it was written for and a hash of what was written.
MANIFEST = ".rollout-notes.json"


def write_all(source: Source, out: Path, today: dt.date, cache: DocumentCache | None = None, jobs: int = 1) -> Written:
    """Notes of every valid release and distribution release, one file each under `out`.

    With a `cache`, the facts of a release whose records did not change are
    read back (rollout_tool.gathering), and a release's notes file is left as
    it is when the key it was written for is unchanged (the tool, rollout.yaml
    and the release's facts) and the file still holds what was written. The
    notes left to write are written over `jobs` processes.
    """
    repo = Repository(source)
    repo.cache = cache
    try:
        derived = gathering.derived_of(repo, today)
        named = [(product, version) for product in repo.product_ids() for version in repo.versions(product)]
        # A repository's own templates may draw on anything: its notes are always written afresh.
        reuse = derived is not None and repo.source.kind(templating.OVERRIDE_FOLDER) is None
        previous = _previous(out) if reuse else {}
        common = f"{tool_key()}\0{repo.config()!r}\0"
        manifest: dict[str, list[str]] = {}
        written: set[Path] = set()

        def write(chunk: list[gathering.Gathered]) -> list[tuple[str, str, str]]:
            done = []
            for hit in chunk:
                assert hit.facts is not None
                name = release_file(hit.facts.product_id, hit.facts.version)
                key = hashlib.blake2b((common + hit.digest.hex()).encode(), digest_size=16).hexdigest()
                content = _unchanged(out / name, key, previous.get(name))
                if content is None:
                    data = notes.render_release_notes(repo, hit.facts).encode("utf-8")
                    _write(out / name, data)
                    content = _hash(data)
                done.append((name, key, content))
            return done

        for start in range(0, len(named), BATCH):
            with collector.paused():
                found = gathering.gather(repo, named[start : start + BATCH], today, jobs, derived=derived)
            valid = [hit for hit in found if hit.facts is not None]
            for name, key, content in parallel.spread(write, valid, jobs, 64, 200):
                written.add(out / name)
                manifest[name] = [key, content]
        releases = len(written)
        for distribution in repo.distribution_ids():
            for version in repo.distribution_versions(distribution):
                shipped = gathering.distribution(repo, distribution, version, today, derived)
                if shipped is not None:
                    text = notes.render_distribution_notes(repo, shipped)
                    written.add(_write(out / distribution_file(distribution, version), text.encode("utf-8")))
        _remove_stale(out, written)
        if reuse:
            atomic_write(out / MANIFEST, (json.dumps({"notes": manifest}, sort_keys=True, indent=0) + "\n").encode())
        else:
            (out / MANIFEST).unlink(missing_ok=True)
        return Written(releases, len(written) - releases)
    finally:
        if cache is not None:
            cache.save()


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _previous(out: Path) -> dict[str, tuple[str, str]]:
    """What the last run wrote: each notes file's key and content hash; none when there is no manifest that reads."""
    kept = read_manifest(out / MANIFEST, "notes")
    return {
        name: (value[0], value[1])
        for name, value in kept.items()
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
    }


def _unchanged(path: Path, key: str, previous: tuple[str, str] | None) -> str | None:
    """The hash of the notes at `path` when they were written for `key` and still hold what was written; else None."""
    if previous is None or previous[0] != key:
        return None
    try:
        if path.is_symlink() or not path.is_file():
            return None
        content = _hash(path.read_bytes())
    except OSError:
        return None
    return content if content == previous[1] else None


def _remove_stale(out: Path, written: set[Path]) -> None:
    """Notes left by an earlier run for releases that are gone; nothing outside the notes' own layout."""
    for folder in ("releases", "distributions"):
        for path in sorted((out / folder).glob("*/*.md")):
            if path not in written and path.is_file() and not path.is_symlink():
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()


def _write(path: Path, data: bytes) -> Path:
    # Generated output, rebuilt whole on every run: plain writes, not one fsync per file.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path

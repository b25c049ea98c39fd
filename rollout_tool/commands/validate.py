"""`rollout validate`: every record, or the given files in the repository's context."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydantic

from rollout_tool import collector, parallel, placement, rules
from rollout_tool.cache import DocumentCache
from rollout_tool.derived import Derived
from rollout_tool.errors import UsageError
from rollout_tool.placement import DATA_FOLDERS
from rollout_tool.problems import Problem
from rollout_tool.progress import Progress
from rollout_tool.repository import (
    CONFIG_PATH,
    Document,
    Place,
    Repository,
    distribution_path,
    place_of,
    product_path,
    release_folders,
    release_path,
    team_path,
)
from rollout_tool.sources import Kind, Source, WorkTree


@dataclass(frozen=True)
class Validation:
    files: int
    problems: list[Problem]


def validate_repository(repo: Repository, jobs: int = 1) -> Validation:
    """Check every record and every folder of the tree.

    A release's folder is checked as one piece: with the repository's cache,
    its problems are kept beside the hash of every file and folder the check
    read (rollout_tool.derived), so the next run reads them back, without
    parsing or checking anything, when none of those changed. What lies
    outside release folders (rollout.yaml, teams, products, distributions)
    is checked every time, from the documents the cache keeps.
    """
    problems: list[Problem] = []
    files = 0
    derived = None if repo.cache is None else Derived(repo, repo.cache, _CHECKED_KEY)
    releases = [(product, version) for product in repo.product_ids() for version in repo.versions(product)]
    found: list[Checked | None] = [None] * len(releases)
    if derived is not None:
        # In one process: hashing what each release's check read costs little beside parsing, and workers
        # would each hold a copy of the folders they list. The folders' listings are let go as it goes.
        for index, (product, version) in enumerate(releases):
            read_back = derived.read(derived.cached_json(_checked_name(product, version)), CHECKED)
            found[index] = None if read_back is None else read_back[0]
            repo.forget_folders(release_folders(product, version))
    missing = {release for release, kept in zip(releases, found, strict=True) if kept is None}

    def check(doc: Document) -> None:
        nonlocal files
        files += 1
        problems.extend(rules.check(repo, doc))
        progress.advance()

    # Each record is checked as it is read; reports (and a release, and the listings of its folders,
    # once its folder is done) are then let go, so memory grows with neither.
    progress = Progress("validating")
    if progress.shown:
        progress.total = sum(kept.files for kept in found if kept is not None) + _records(repo, missing)
    with collector.paused(), progress:
        for path in _outside_releases(repo, before=True):
            _visit(repo, path, check)
        # The release folders left are checked over the cores, in the order they are asked for.
        checks = _checked_elsewhere(repo, derived, [release for release in releases if release in missing], jobs)
        previous: tuple[str, str] | None = None
        try:
            at = 0
            for product in repo.product_ids():
                _visit(repo, product_path(product), check)
                for version in repo.versions(product):
                    kept = found[at]
                    if kept is None and checks is not None:
                        kept = next(checks)
                    elif kept is None:
                        kept = _check_release_folder(repo, derived, product, version)
                        _let_go(repo, previous)  # the release checked before it, kept for this one's check
                        previous = (product, version)
                    files += kept.files
                    problems.extend(kept.problems)
                    progress.advance(kept.files)
                    at += 1
        finally:
            if checks is not None:
                checks.close()
        for path in _outside_releases(repo, before=False):
            _visit(repo, path, check)
        checked = {folder for release in releases for folder in release_folders(*release)}
        for folder in repo.record_folders():
            if folder not in checked:
                problems.extend(_folder_problems(repo, folder))
    return Validation(files, sorted(set(problems)))


@dataclass(frozen=True)
class Checked:
    """What checking a release's folder found: how many records it holds, and their problems and the folders'."""

    files: int
    problems: list[Problem]


CHECKED = pydantic.TypeAdapter(Checked)
# Checking does not depend on the day: the key names only what is kept.
_CHECKED_KEY = "validate"


def _checked_name(product: str, version: str) -> str:
    return f"checked {product}/{version}"


def _check_release_folder(repo: Repository, derived: Derived | None, product: str, version: str) -> Checked:
    """Check every record in a release's folder and the folders themselves; kept in `derived` with what was read."""

    read: set[str] = set()  # every release record the check read

    def work() -> Checked:
        problems: list[Problem] = []
        files = 0
        release = release_path(product, version)
        with repo.recording() as reads:
            for path in repo.release_record_paths(product, version):
                doc = repo.document(path)
                if doc is None:
                    continue
                files += 1
                problems.extend(rules.check(repo, doc))
                if path != release:
                    repo.forget(path)  # nothing else refers to a report, result or waiver
            for folder in release_folders(product, version):
                problems.extend(_folder_problems(repo, folder))
        read.update(path for path in reads.documents if place_of(path) is not None and path.endswith("/release.yaml"))
        return Checked(files, sorted(set(problems)))

    checked = work() if derived is None else derived.work_out(_checked_name(product, version), CHECKED, work)[0]
    # Another release it read (the one it supersedes), and their folders' listings, are read again if asked
    # for. Its own record and folder are kept for the next release's check (`_let_go` once that is done).
    own = release_path(product, version)
    for path in read - {own}:
        _, other_product, other_version, _ = path.split("/", 3)
        _let_go(repo, (other_product, other_version))
    repo.forget_folders(release_folders(product, version)[1:])
    return checked


def _let_go(repo: Repository, release: tuple[str, str] | None) -> None:
    """Forget a release's record and its folders' listings, read again if a later check asks for them."""
    if release is not None:
        repo.forget(release_path(*release))
        repo.forget_folders(release_folders(*release))


# Below this many release folders to check, one process checks them; above, chunks of this many go to each.
SPREAD_THRESHOLD = 100
SPREAD_CHUNK = 16


def _checked_elsewhere(
    repo: Repository, derived: Derived | None, releases: list[tuple[str, str]], jobs: int
) -> Generator[Checked] | None:
    """What checking each of `releases` finds, in order, done by `jobs` forked processes; None when not
    worth it.

    Each process parses, checks and works out the entries the cache is to
    keep; it hands back what it found and those entries, which are added here
    (a worker never writes the cache).
    """
    if not _spreads(jobs, len(releases)):
        return None
    store = repo.cache

    def work(chunk: list[tuple[str, str]]) -> list[tuple[Checked, list[tuple[bytes, bytes]]]]:
        done: list[tuple[Checked, list[tuple[bytes, bytes]]]] = []
        previous = None
        for product, version in chunk:
            if store is None:
                done.append((_check_release_folder(repo, derived, product, version), []))
            else:
                with store.collecting() as entries:
                    checked = _check_release_folder(repo, derived, product, version)
                done.append((checked, entries))
            _let_go(repo, previous)
            previous = (product, version)
        _let_go(repo, previous)
        return done

    def checked() -> Generator[Checked]:
        for found, entries in parallel.spread(work, releases, jobs, SPREAD_CHUNK, SPREAD_THRESHOLD):
            if store is not None:
                for key, entry in entries:
                    store.add(key, entry)
            yield found

    return checked()


def _spreads(jobs: int, releases: int) -> bool:
    return jobs > 1 and releases >= SPREAD_THRESHOLD


def _folder_problems(repo: Repository, folder: str) -> list[Problem]:
    entries = repo.listing(folder)
    return [*placement.check(folder, entries).problems, *placement.missing_records(folder, entries)]


def _outside_releases(repo: Repository, *, before: bool) -> Iterator[str]:
    """The records a full read reads before the products (rollout.yaml, teams), or after them (distributions)."""
    if before:
        yield CONFIG_PATH
        yield from (team_path(team) for team in repo.team_ids())
    else:
        for distribution in repo.distribution_ids():
            for version in repo.distribution_versions(distribution):
                yield distribution_path(distribution, version)


def _visit(repo: Repository, path: str, check: Callable[[Document], None]) -> None:
    doc = repo.document(path)
    if doc is not None:
        check(doc)


def _records(repo: Repository, missing: set[tuple[str, str]]) -> int:
    """How many records are read: those outside release folders and in the `missing` ones.

    Each folder listed to count them is let go at once (and listed again
    when checked): counting costs time, not memory, so it is done only for
    a progress line someone sees.
    """
    outside = [*_outside_releases(repo, before=True), *_outside_releases(repo, before=False)]
    inside = 0
    for release in missing:
        inside += sum(1 for _ in repo.release_record_paths(*release))
        repo.forget_folders(release_folders(*release))
    return len(outside) + len(repo.product_ids()) + inside


def validate_paths(repo: Repository, paths: list[str]) -> Validation:
    """Check the given files (and the files in given folders) only, reading just what they refer to.

    The folders above each of them, and the given folders with all they hold,
    are checked as a full validation checks them; of their problems, those
    about what was given (or about a folder on its way) are kept.
    """
    problems: list[Problem] = []
    files = 0
    folders = [path for path in paths if repo.kind(path) is Kind.directory]
    inside = [folder for given in folders for folder in _folders_under(repo, given)]
    paths = [path for path in paths if path not in folders]
    paths += [path for folder in inside for path in _files_in(repo, folder)]
    wanted = set(paths)
    covered = dict.fromkeys([*(above for path in [*paths, *folders] for above in _folders_above(path)), *inside])
    layout: list[Problem] = []
    look_alikes: list[Problem] = []
    for folder in covered:
        found = placement.check(folder, repo.listing(folder))
        layout.extend(found.problems)
        look_alikes.extend(found.look_alikes)
    reported = {p.path for p in layout}
    for path in paths:
        place = place_of(path)
        kind = repo.kind(path)
        if kind is Kind.symlink or _linked_folder(repo, path):
            continue
        if kind is None:
            problems.append(Problem(path, 1, 1, "missing-record", "no such file"))
            continue
        if place is None:
            top = path.split("/", 1)[0]
            if path in reported:
                pass  # its folder's listing has said what belongs there instead
            elif top in DATA_FOLDERS or (path.endswith((".yaml", ".yml")) and "/" not in path):
                problems.append(placement.misplaced(path, "no record belongs at this path"))
            continue
        if not _listed(repo, place):
            continue  # its name is reported by the folder that holds it, as in a full validation
        doc = repo.document(path)
        if doc is not None:
            files += 1
            problems.extend(rules.check(repo, doc))
    problems.extend(
        p
        for p in layout
        if p.path in wanted
        or _above(p.path, wanted)
        or any(p.path == folder or _above(folder, {p.path}) for folder in folders)
    )
    problems.extend(p for p in look_alikes if p.path in wanted)
    return Validation(files, sorted(set(problems)))


def _folders_above(path: str) -> Iterator[str]:
    parts = path.split("/")
    for end in range(len(parts)):
        yield "/".join(parts[:end])


def _folders_under(repo: Repository, folder: str) -> Iterator[str]:
    # Through the repository's listings: links are reported, not followed.
    yield folder
    for entry in repo.folder(folder):
        if entry.kind is Kind.directory:
            yield from _folders_under(repo, f"{folder}/{entry.name}")


def _files_in(repo: Repository, folder: str) -> Iterator[str]:
    return (f"{folder}/{entry.name}" for entry in repo.folder(folder) if entry.kind is Kind.file)


def _listed(repo: Repository, place: Place) -> bool:
    """Whether a full validation would read the file: every name on its path is valid where it is."""
    match place.kind, place.ids:
        case "team", (team,):
            return team in repo.team_ids()
        case "product", (product,):
            return product in repo.product_ids()
        case "release", (product, version):
            return product in repo.product_ids() and version in repo.versions(product)
        case "report", (product, version, team):
            return (
                product in repo.product_ids()
                and version in repo.versions(product)
                and team in repo.report_teams(product, version)
            )
        case "distribution", (distribution, version):
            return distribution in repo.distribution_ids() and version in repo.distribution_versions(distribution)
    return True


def _linked_folder(repo: Repository, path: str) -> bool:
    parts = path.split("/")
    return any(repo.kind("/".join(parts[:end])) is Kind.symlink for end in range(1, len(parts)))


def _above(folder: str, paths: set[str]) -> bool:
    """Whether `folder` holds one of `paths`: a link on the way to a file is that file's problem too."""
    return any(path.startswith(folder + "/") for path in paths)


def relative_paths(root: Path, paths: list[Path]) -> list[str]:
    """Paths given on the command line, as repository-relative POSIX paths.

    Links inside the repository are not resolved (`teams` linked to elsewhere
    must stay `teams/...` and be reported as a link); a path outside it is an error.
    """
    resolved_root = root.resolve()
    result = []
    for path in paths:
        absolute = Path(os.path.abspath(path))
        for base in (resolved_root, Path(os.path.abspath(root))):
            if absolute.is_relative_to(base):
                relative = absolute.relative_to(base)
                break
        else:
            # The path may reach the repository through a link above it
            # (a symlinked home folder): resolve what lies above the root only.
            try:
                relative = (absolute.parent.resolve() / absolute.name).relative_to(resolved_root)
            except ValueError:
                raise UsageError(f"{path}: not inside the repository {root}") from None
        result.append(relative.as_posix())
    return result


def validate(
    source: Source, paths: list[str] | None = None, cache: DocumentCache | None = None, jobs: int = 1
) -> Validation:
    """Check the tree (over `jobs` processes), or the given paths; with a `cache`, an unchanged file is not parsed."""
    repo = Repository(source)
    repo.cache = cache
    try:
        if paths and not any(path in ("", ".") for path in paths):
            return validate_paths(repo, paths)
        return validate_repository(repo, jobs)
    finally:
        if cache is not None:
            cache.save()


def validate_tree(root: Path, paths: list[str] | None = None) -> Validation:
    return validate(WorkTree(root), paths)

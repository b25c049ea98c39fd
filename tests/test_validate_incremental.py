"""A validation that reads back what an earlier run found says what a validation afresh says.

With the cache, each release folder's problems are kept beside the hash of
every file and folder its check read (rollout_tool.derived), and read back
while none of them changed. These tests change one thing at a time, of every
sort a release's check depends on (its own records, a team, rollout.yaml,
another release, the folders' names and kinds), and compare the output with
a run that has no cache; and they count which release folders are checked
again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rollout_tool import derived
from rollout_tool.cache import DocumentCache, derived_key
from rollout_tool.commands import validate as validate_command
from rollout_tool.commands.validate import Validation, validate
from rollout_tool.repository import Reads, Repository
from rollout_tool.sources import WorkTree
from tests.support.publishing import build_rich_repo
from tests.support.repos import Repo, invoke_rollout, report_text, settle_soon

STORM = "releases/storm/1.11.22"
ARC = "releases/arc-ce/6.18.0"
OLD_ARC = "releases/arc-ce/6.17.0"


def _replace(repo: Repo, path: str, old: str, new: str) -> None:
    target = repo.root / path
    text = target.read_text()
    assert old in text, f"{old!r} is not in {path}"
    target.write_text(text.replace(old, new, 1))


def _link(repo: Repo, path: str) -> None:
    target = repo.root / path
    target.unlink()
    target.symlink_to(repo.root / "teams" / "mwt2.yaml")


def _same_size_and_time(repo: Repo) -> None:
    """An edit a cache keyed on size and mtime would miss: same length, same mtime."""
    target = repo.root / f"{STORM}/reports/praguelcg2.yaml"
    before = target.stat()
    text = target.read_text()
    assert "verdict: accept" in text
    target.write_text(text.replace("verdict: accept", "verdict: xccept", 1))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size


# Each change is made on top of those before it.
CHANGES: list[tuple[str, Callable[[Repo], None]]] = [
    ("an edit of the same size and mtime", _same_size_and_time),
    ("a team a report names removed", lambda repo: (repo.root / "teams/mwt2.yaml").unlink()),
    ("the team back", lambda repo: repo.write("teams/mwt2.yaml", (repo.root / "teams/praguelcg2.yaml").read_text())),
    ("a platform dropped from rollout.yaml", lambda repo: _replace(repo, "rollout.yaml", "el8", "el7")),
    (
        "a release supersedes another",
        lambda repo: _replace(repo, f"{ARC}/release.yaml", "type: minor", "type: minor\nsupersedes: 6.17.0"),
    ),
    ("the superseded release's record removed", lambda repo: (repo.root / f"{OLD_ARC}/release.yaml").unlink()),
    ("a misnamed file among the reports", lambda repo: repo.write(f"{STORM}/reports/Not A Team.yaml", "x: 1\n")),
    ("a report replaced by a link", lambda repo: _link(repo, f"{ARC}/reports/praguelcg2.yaml")),
    ("a new release", lambda repo: repo.write("releases/storm/1.11.23/release.yaml", "version: 1.11.23\n")),
    ("a new report", lambda repo: repo.write(f"{STORM}/reports/ncg-ingrid-pt.yaml", report_text("ncg-ingrid-pt"))),
    ("a results folder that is a file", lambda repo: repo.write(f"{STORM}/results", "not a folder\n")),
]


def _validate(repo: Repo, *args: str) -> tuple[int, str]:
    result = invoke_rollout("validate", "--format", "json", *args, cwd=repo.root)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout


@pytest.mark.parametrize("stamps", ["fresh files", "settled files"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_change_gives_what_a_validation_afresh_gives(
    tmp_path: Path, jobs: str, stamps: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Spread over two processes even for a handful of releases, so that the workers' path is the one taken.
    monkeypatch.setattr(derived, "SPREAD_THRESHOLD", 1)
    monkeypatch.setattr(derived, "SPREAD_CHUNK", 1)
    repo = build_rich_repo(tmp_path / "repo")
    if stamps == "settled files":
        settle_soon(monkeypatch)
    assert _validate(repo, "--jobs", jobs) == _validate(repo, "--no-cache")
    for what, change in CHANGES:
        change(repo)
        fresh = _validate(repo, "--no-cache", "--jobs", "1")
        assert _validate(repo, "--jobs", jobs) == fresh, what
        assert _validate(repo, "--jobs", jobs) == fresh, f"{what}, read back"
    # The changes above were found, not missed.
    code, output = fresh
    assert code == 1
    for expected in ("Not A Team.yaml", "mwt2", "el8", "supersedes", "xccept", "1.11.23"):
        assert expected in output


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each release folder this process checks (rather than reads back what was found)."""
    seen: list[str] = []
    original = validate_command._check_release_folder

    def counting(repo: Repository, kept: derived.Derived | None, product: str, version: str) -> object:
        seen.append(f"{product}/{version}")
        return original(repo, kept, product, version)

    monkeypatch.setattr(validate_command, "_check_release_folder", counting)
    return seen


def _run(repo: Repo, cache: Path, seen: list[str]) -> tuple[list[str], Validation]:
    seen.clear()
    found = validate(WorkTree(repo.root), cache=DocumentCache(cache), jobs=1)
    return sorted(seen), found


def test_only_the_release_folders_whose_reads_changed_are_checked_again(tmp_path: Path, checked: list[str]) -> None:
    repo = build_rich_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    everything, first = _run(repo, cache, checked)
    assert everything == ["arc-ce/6.17.0", "arc-ce/6.18.0", "arc-ce/6.19.0", "storm/1.11.22"]
    assert _run(repo, cache, checked) == ([], first)
    _replace(repo, f"{STORM}/reports/praguelcg2.yaml", "verdict: accept", "verdict: reject")
    assert _run(repo, cache, checked)[0] == ["storm/1.11.22"]
    # A team nobody names: no release read it, and none lists the teams (all the teams they name exist).
    repo.write("teams/newcomer.yaml", (repo.root / "teams/mwt2.yaml").read_text())
    assert _run(repo, cache, checked)[0] == []
    # A team's record: the releases whose checks read it, and only those.
    _replace(repo, "teams/mwt2.yaml", "MWT2", "MWT-2")
    readers = _run(repo, cache, checked)[0]
    assert "storm/1.11.22" in readers and "arc-ce/6.17.0" not in readers
    # rollout.yaml is read by every release's check.
    _replace(repo, "rollout.yaml", "el8", "el7")
    assert _run(repo, cache, checked)[0] == everything


def test_what_the_workers_found_current_is_marked_as_used_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hits counted in forked workers are marked in the main process, so a rewrite of the packs keeps them."""
    monkeypatch.setattr(derived, "SPREAD_THRESHOLD", 1)
    monkeypatch.setattr(derived, "SPREAD_CHUNK", 1)
    repo = build_rich_repo(tmp_path / "repo")
    validate(WorkTree(repo.root), cache=DocumentCache(tmp_path / "cache"), jobs=1)
    store = DocumentCache(tmp_path / "cache")
    kept = derived.Derived(Repository(WorkTree(repo.root)), store, "validate")
    names = ["checked arc-ce/6.18.0", "checked storm/1.11.22", "checked nothing/1.0"]
    found = list(kept.cached_many(names, jobs=2))
    assert [data is not None for data in found] == [True, True, False]
    assert (kept.hits, kept.misses) == (2, 1)
    assert [store.used(derived_key("validate", name)) for name in names] == [True, True, False]


def _reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each report, result and waiver this process reads from a work tree: files only a release folder's check
    reads (a release's own record is read by the checks of the distributions that ship it, too)."""
    read: list[str] = []
    original = WorkTree.read

    def reading(self: WorkTree, path: str) -> bytes:
        if path.startswith("releases/") and path.count("/") == 4:
            read.append(path)
        return original(self, path)

    monkeypatch.setattr(WorkTree, "read", reading)
    return read


def _validated(repo: Repo, cache: Path | None) -> Validation:
    return validate(WorkTree(repo.root), cache=None if cache is None else DocumentCache(cache), jobs=1)


def _xccept(found: Validation) -> bool:
    """Whether the validation found the edit `_same_size_and_time` makes."""
    return any("xccept" in problem.message for problem in found.problems)


def test_a_file_unchanged_since_before_the_run_is_not_read_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = build_rich_repo(tmp_path / "repo")
    settle_soon(monkeypatch)
    first = _validated(repo, tmp_path / "cache")
    read = _reading(monkeypatch)
    assert _validated(repo, tmp_path / "cache") == first
    assert read == [], read
    # The edit keeps size and mtime; the stamp's change time still moves.
    _same_size_and_time(repo)
    changed = _validated(repo, tmp_path / "cache")
    assert f"{STORM}/reports/praguelcg2.yaml" in read
    assert all(path.startswith(f"{STORM}/") for path in read), read  # only the changed release is checked
    assert _xccept(changed)
    assert changed == _validated(repo, None)


def test_a_file_changed_after_it_was_read_is_read_again_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp taken when the check is kept is newer than the bytes read: it must not stand for them."""
    repo = build_rich_repo(tmp_path / "repo")
    settle_soon(monkeypatch)
    target = f"{STORM}/reports/praguelcg2.yaml"
    changed: list[str] = []
    original = derived.Derived._depends

    def changing_first(self: derived.Derived, reads: Reads) -> bytes:
        if target in reads.documents and not changed:
            _same_size_and_time(repo)
            changed.append(target)
        return original(self, reads)

    monkeypatch.setattr(derived.Derived, "_depends", changing_first)
    before = _validated(repo, tmp_path / "cache")
    assert changed == [target]
    assert not _xccept(before)  # the bytes as they were read
    after = _validated(repo, tmp_path / "cache")
    assert _xccept(after)
    assert after == _validated(repo, None)

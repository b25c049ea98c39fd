"""The cache behind `rollout validate`: the same answers warm or cold, never a stale one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import rollout_tool
from rollout_tool import cache, repository, sources
from rollout_tool.sources import WorkTree
from tests.support.repos import Repo, invoke_rollout, report_text

R = "releases/arc-ce/6.19.0"
REPORT = f"{R}/reports/ncg-ingrid-pt.yaml"
PROJECT = Path(__file__).resolve().parent.parent


def validate(repo: Repo, *args: str) -> tuple[int, str, str]:
    result = repo.rollout("validate", *args)
    return result.returncode, result.stdout, result.stderr


def packs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pack"))


def entries(folder: Path) -> int:
    """How many files' documents the packs hold (not counting values derived from many files)."""
    return sum(line[33:34] in (b"r", b"p") for pack in packs(folder) for line in pack.read_bytes().splitlines()[1:])


def plant_problems(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", verdict="acept"))  # a schema problem
    repo.write(f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2", revision=2))  # a cross-file one
    repo.write(f"{R}/reports/mwt2.yaml", "team: mwt2\nverdict: [accept\n")  # a YAML error


def test_a_warm_run_answers_as_a_cold_one_and_parses_nothing(
    repo: Repo, rollout_cache: Path, parsed: list[str]
) -> None:
    plant_problems(repo)
    uncached = validate(repo, "--no-cache")
    assert uncached[0] == 1 and "acept" in uncached[1] and "revision 2" in uncached[1] and "mwt2.yaml:3" in uncached[1]
    files = len(parsed)
    parsed.clear()
    cold = validate(repo)
    assert len(parsed) == files == entries(rollout_cache)
    assert len(packs(rollout_cache)) == 1  # one pack per run, not one file per entry
    parsed.clear()
    warm = validate(repo)
    assert warm == cold == uncached
    assert parsed == []
    assert len(packs(rollout_cache)) == 1  # nothing new to write
    for output_format in ("json", "github"):
        assert validate(repo, "--format", output_format) == validate(repo, "--no-cache", "--format", output_format)
    assert len(parsed) == 2 * files  # by the uncached runs only


def test_the_cross_file_rules_run_on_a_warm_run(repo: Repo) -> None:
    repo.write(f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2"))
    assert validate(repo)[0] == 0
    # The report is unchanged, so cached; the release it names loses a team.
    release = repo.root / R / "release.yaml"
    release.write_text(release.read_text().replace("teams: [ncg-ingrid-pt, praguelcg2]", "teams: [ncg-ingrid-pt]"))
    warm, cold = validate(repo), validate(repo, "--no-cache")
    assert warm == cold and warm[0] == 1 and "praguelcg2" in warm[1]


def test_a_file_changed_with_the_same_size_and_mtime_unstaged_is_parsed_again(repo: Repo, parsed: list[str]) -> None:
    path = repo.root / REPORT
    before = os.stat(path)
    assert validate(repo)[0] == 0
    text = path.read_text()
    changed = text.replace("verdict: accept", "verdict: acxept")
    assert len(changed) == len(text) and changed != text
    path.write_text(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert repo.git("diff", "--cached", "--name-only") == ""  # not staged
    parsed.clear()
    code, out, _ = validate(repo)
    assert parsed == [REPORT]
    assert code == 1 and f"{REPORT}:3:10:" in out and "acxept" in out


def test_a_change_to_the_tools_code_changes_its_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = Path(rollout_tool.__file__).parent
    copy = tmp_path / "rollout_tool"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(rollout_tool, "__file__", str(copy / "__init__.py"))
    same = cache.tool_key.__wrapped__()
    rules = copy / "rules.py"
    rules.write_text(rules.read_text() + "\n# one more line\n")
    assert cache.tool_key.__wrapped__() != same
    assert same == cache.tool_key()  # the copy holds the very code that runs


def test_another_build_of_the_tool_reads_nothing_it_did_not_write(
    repo: Repo, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = validate(repo)
    files = len(parsed)
    parsed.clear()
    monkeypatch.setattr(cache, "tool_key", lambda: "another-build")
    assert validate(repo) == cold
    assert len(parsed) == files


def test_corrupt_packs_and_entries_are_misses(repo: Repo, rollout_cache: Path, parsed: list[str]) -> None:
    plant_problems(repo)
    cold = validate(repo)
    files = len(parsed)
    (pack,) = packs(rollout_cache)
    data = pack.read_bytes()
    lines = data.splitlines(keepends=True)
    assert entries(rollout_cache) == files
    folder = pack.parent
    pack.unlink()
    # A pack cut short, one with a garbled entry of the same length, foreign bytes, a folder named like a pack.
    (folder / "cut.pack").write_bytes(b"".join(lines[:3]) + lines[3][:-20])
    garbled = bytearray(lines[4])
    garbled[40:50] = b"}}}}}}}}}}"
    (folder / "garbled.pack").write_bytes(lines[0] + bytes(garbled))
    (folder / "foreign.pack").write_bytes(b"\x00\xff" * 100)
    (folder / "empty.pack").write_bytes(b"")
    (folder / "folder.pack").mkdir()
    parsed.clear()
    assert validate(repo) == cold
    assert len(parsed) == files - 2  # two entries of the cut pack read whole; the rest parsed again
    parsed.clear()
    assert validate(repo) == cold
    assert parsed == []


def test_no_cache_reads_and_writes_nothing(repo: Repo, rollout_cache: Path, parsed: list[str]) -> None:
    plant_problems(repo)
    assert validate(repo)[0] == 1
    parsed.clear()
    (pack,) = packs(rollout_cache)
    before = pack.read_bytes()
    assert validate(repo, "--no-cache")[0] == 1
    assert parsed and packs(rollout_cache) == [pack] and pack.read_bytes() == before


def test_an_unwritable_cache_is_no_error(repo: Repo, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    plant_problems(repo)
    env = {"ROLLOUT_CACHE_DIR": str(blocked / "cache")}
    assert repo.rollout("validate", env=env).stdout == repo.rollout("validate", "--no-cache").stdout


def test_packs_pile_up_to_a_bound(repo: Repo, rollout_cache: Path, parsed: list[str]) -> None:
    for run in range(cache.MAX_PACKS + 2):
        repo.write(REPORT, report_text("ncg-ingrid-pt", date=f"2026-11-{10 + run}"))
        assert validate(repo)[0] == 0
    assert len(packs(rollout_cache)) <= cache.MAX_PACKS
    parsed.clear()
    assert validate(repo)[0] == 0 and parsed == []  # what the last run used was kept


def test_the_cache_is_found_in_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ROLLOUT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "rollout"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/xdg")  # the XDG spec says to ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "rollout"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "rollout"
    monkeypatch.setenv("ROLLOUT_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


def test_every_record_of_the_projects_own_data_reads_back_as_it_was(tmp_path: Path) -> None:
    runs = [invoke_rollout("validate", *args, cwd=PROJECT) for args in ([], [], ["--no-cache"], ["--format", "json"])]
    answers = [(r.returncode, r.stdout, r.stderr) for r in runs[:3]]
    assert answers[0] == answers[1] == answers[2]
    assert runs[0].returncode == 0
    repo = repository.Repository(WorkTree(PROJECT))
    repo.load_all()
    docs = list(repo.documents())
    assert {doc.kind for doc in docs} >= {"rollout", "team", "product", "release", "report"}
    for doc in docs:
        assert cache.decode(doc.path, doc.kind, cache.encode(doc)) == doc


def test_concurrent_runs_share_one_cache(repo: Repo, rollout_cache: Path) -> None:
    plant_problems(repo)
    expected = validate(repo, "--no-cache")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_TODAY", "ROLLOUT_REPO")}
    for _ in range(2):  # cold, then warm
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "rollout_tool", "validate"],
                cwd=repo.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert (run.returncode, out, err) == expected
    assert validate(repo) == expected
    assert packs(rollout_cache) and not [p for p in rollout_cache.rglob("*") if p.name.endswith(".tmp")]


def test_the_trusted_pull_request_check_never_uses_a_cache(repo: Repo, rollout_cache: Path) -> None:
    # It runs with write permissions on what a pull request's jobs produced:
    # it must not take a cache they could have saved.
    workflows = PROJECT / ".github" / "workflows"
    assert "actions/cache" not in (workflows / "pull-request-comment.yml").read_text()
    assert "actions/cache@" in (workflows / "ci.yml").read_text()
    # The dashboard keeps the cache and its last site, on main only: no pull request's run writes what it reads.
    dashboard = yaml.safe_load((workflows / "rollout.yml").read_text())
    assert "actions/cache@" in json.dumps(dashboard["jobs"]["pages"])
    assert set(dashboard[True]) == {"push", "schedule", "workflow_dispatch"}
    assert dashboard[True]["push"] == {"branches": ["main"]}
    # Its one judgement is check-pr, which reads the records afresh: the cache stays untouched.
    repo.git("checkout", "-q", "-b", "change")
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", report_text("praguelcg2", date="2026-11-19"))
    head = repo.commit("a report")
    judged = repo.rollout("check-pr", "--base", "main", "--head", head, "--author", "jan-cz", "--today", "2026-11-20")
    assert judged.returncode in (0, 1), judged.stderr
    assert "Traceback" not in judged.stderr
    assert list(rollout_cache.rglob("*")) == []
    assert validate(repo)[0] in (0, 1) and packs(rollout_cache)  # while validate, in the same place, keeps one


def test_a_run_over_a_few_files_keeps_the_others_when_it_rewrites_the_packs(
    repo: Repo, rollout_cache: Path, parsed: list[str]
) -> None:
    for run in range(cache.MAX_PACKS):
        repo.write(REPORT, report_text("ncg-ingrid-pt", date=f"2026-11-{10 + run}"))
        assert validate(repo)[0] == 0
    assert len(packs(rollout_cache)) == cache.MAX_PACKS
    assert validate(repo, "teams/mwt2.yaml")[0] == 0
    assert len(packs(rollout_cache)) == 1
    parsed.clear()
    assert validate(repo)[0] == 0 and parsed == []


def test_an_entry_that_does_not_read_back_as_its_document_is_not_kept(
    repo: Repo, rollout_cache: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_problems(repo)
    expected = validate(repo, "--no-cache")
    original = cache.encode

    def lossy(doc: repository.Document) -> bytes:
        return b"r{}" if doc.kind == "team" else original(doc)

    monkeypatch.setattr(cache, "encode", lossy)
    assert validate(repo) == expected
    parsed.clear()
    assert validate(repo) == expected
    assert len(parsed) == 3 and all(path.startswith("teams/") for path in parsed)  # the teams only, again


def test_the_folders_of_other_builds_are_removed_but_the_two_used_last(repo: Repo, rollout_cache: Path) -> None:
    builds = [f"{n:032x}" for n in range(5)]
    for age, name in enumerate(builds):
        folder = rollout_cache / name
        folder.mkdir()
        (folder / "old.pack").write_bytes(b"rollout-cache-pack 1\n")
        os.utime(folder, (1_000_000 - age * 1_000, 1_000_000 - age * 1_000))  # builds[0] used last
    (rollout_cache / "notes.txt").write_text("mine")
    (rollout_cache / ("f" * 32)).symlink_to(rollout_cache / builds[4])  # a link named like a build: left alone
    assert validate(repo)[0] == 0
    left = sorted(path.name for path in rollout_cache.iterdir())
    assert left == sorted([cache.tool_key(), builds[0], builds[1], "notes.txt", "f" * 32])
    assert validate(repo)[0] == 0  # the build that runs is never removed, even as the oldest
    assert (rollout_cache / cache.tool_key()).is_dir()


def test_a_run_reads_back_what_it_wrote_but_its_forked_workers_do_not(repo: Repo, tmp_path: Path) -> None:
    from rollout_tool import parallel

    path = "teams/praguelcg2.yaml"
    data = (repo.root / path).read_bytes()
    content = sources.digest(data)
    store = cache.DocumentCache(tmp_path / "cache")
    key, found = store.lookup(path, "team", content)
    assert found is None
    parsed = repository.parse_document(path, "team", data)
    store.add(key, cache.encode(parsed))
    assert store.lookup(path, "team", content)[1] == parsed  # a release read again later in the run: not parsed

    def look(items: list[int]) -> list[bool]:
        return [store.lookup(path, "team", content)[1] is not None for _ in items]

    # A worker must never flush its copy of the parent's unwritten pack: it reads none of it.
    assert set(parallel.spread(look, list(range(300)), 2, 50, 10)) == {False}
    store.save()
    assert cache.DocumentCache(tmp_path / "cache").lookup(path, "team", content)[1] == parsed
    assert entries(tmp_path / "cache") == 1


@pytest.fixture
def blobs_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths whose bytes this process reads from a git revision."""
    seen: list[str] = []
    original = sources.GitRevision.read

    def counting(self: sources.GitRevision, path: str) -> bytes:
        seen.append(path)
        return original(self, path)

    monkeypatch.setattr(sources.GitRevision, "read", counting)
    return seen


def test_a_revision_is_known_by_git_s_object_ids_so_a_warm_run_reads_no_blob(
    repo: Repo, parsed: list[str], blobs_read: list[str]
) -> None:
    for jobs in ("1", "2"):
        repo.write(
            f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2", verdict="acept" if jobs == "1" else "accept")
        )
        repo.commit(f"a report, {jobs}")
        uncached = validate(repo, "--rev", "HEAD", "--no-cache")
        parsed.clear()
        blobs_read.clear()
        cold = validate(repo, "--rev", "HEAD", "--jobs", jobs)
        assert cold == uncached
        assert "praguelcg2.yaml" in " ".join(blobs_read) and parsed
        blobs_read.clear()
        parsed.clear()
        assert validate(repo, "--rev", "HEAD", "--jobs", jobs) == uncached
        assert blobs_read == [] and parsed == []
    # A revision that changed one report reads that report's blob alone.
    repo.write(f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2", revision=1, verdict="reject"))
    repo.commit("another verdict")
    blobs_read.clear()
    cached = validate(repo, "--rev", "HEAD")
    assert blobs_read == [f"{R}/reports/praguelcg2.yaml"]
    assert cached == validate(repo, "--rev", "HEAD", "--no-cache")


def test_a_pack_scanned_in_windows_it_lets_go_of_still_finds_every_entry(
    tmp_path: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch, rollout_cache: Path
) -> None:
    import mmap

    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from synthetic import generate

    generate(tmp_path / "tree", releases=10, reports=60, seed=5)
    monkeypatch.setattr(cache, "_WINDOW", mmap.PAGESIZE)  # pages let go every few entries
    cold = invoke_rollout("validate", "--jobs", "1", cwd=tmp_path / "tree")
    (pack,) = packs(rollout_cache)
    assert pack.stat().st_size > 8 * mmap.PAGESIZE
    parsed.clear()
    assert invoke_rollout("validate", "--jobs", "1", cwd=tmp_path / "tree").stdout == cold.stdout
    assert parsed == []

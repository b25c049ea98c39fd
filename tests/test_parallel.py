"""Validation over several processes answers exactly as one process does."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from rollout_tool import parallel
from rollout_tool.commands import validate as validate_command
from tests.support.repos import invoke_rollout

# benchmarks/ is not a package: the generator is imported from its folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic import generate


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated tree of a few hundred files, with problems of every sort in it."""
    root = tmp_path_factory.mktemp("tree")
    generate(root, releases=30, reports=300, seed=3)
    reports = sorted(root.glob("releases/*/*/reports/*.yaml"))
    assert len(reports) > 200
    reports[3].write_text("team: [unclosed\n")  # YAML
    reports[50].write_text(reports[50].read_text().replace("verdict: accept", "verdict: acept", 1))  # schema
    reports[51].write_text(reports[51].read_text() + "team: again\n")  # duplicate key
    reports[120].write_text(reports[120].read_text().replace("revision: 1", "revision: 9", 1))  # cross-file
    (reports[200].parent / "Not A Team.yaml").write_text("team: x\n")  # placement
    reports[201].unlink()
    reports[201].symlink_to(reports[202])  # a link is reported, never read
    (root / "teams" / "empty.yaml").write_text("")
    return root


def spread_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over processes however few the files (or release folders) are."""
    monkeypatch.setattr(parallel, "THRESHOLD", 1)
    monkeypatch.setattr(validate_command, "SPREAD_THRESHOLD", 1)
    monkeypatch.setattr(validate_command, "SPREAD_CHUNK", 2)


def answer(tree: Path, *args: str) -> tuple[int, str, str]:
    result = invoke_rollout("validate", *args, cwd=tree)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_two_processes_answer_as_one_byte_for_byte(
    tree: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    spread_always(monkeypatch)
    one = answer(tree, "--no-cache", "--jobs", "1", "--format", output_format)
    files = len(parsed)
    assert one[0] == 1 and files > 300
    for rule in ("yaml-syntax", "duplicate-key", "empty", "symlink"):
        assert rule in one[1]
    parsed.clear()
    two = answer(tree, "--no-cache", "--jobs", "2", "--format", output_format)
    assert two == one
    # The reports were parsed by the workers, in their own processes (the main process reads the few
    # records outside release folders, and the releases the distributions ship).
    assert parsed and not [path for path in parsed if "/reports/" in path]


def test_the_cache_filled_by_workers_serves_one_process(
    tree: Path, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spread_always(monkeypatch)
    expected = answer(tree, "--no-cache", "--jobs", "1")
    assert answer(tree, "--jobs", "2") == expected  # cold: the workers' documents are stored
    parsed.clear()
    assert answer(tree, "--jobs", "1") == expected
    assert answer(tree, "--jobs", "2") == expected
    assert parsed == []


def test_a_small_tree_starts_no_process(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", refuse)
    assert answer(tree, "--no-cache", "--jobs", "4")[0] == 1
    spread_always(monkeypatch)
    assert "a pool was started" in answer(tree, "--no-cache", "--jobs", "4")[2]


def test_jobs_must_be_a_positive_number(tree: Path) -> None:
    code, _, err = answer(tree, "--jobs", "0")
    assert code == 2 and "--jobs" in err


_MAIN = os.getpid()
_CHECK = validate_command._check_release_folder


def _dying(*args: object) -> object:
    if os.getpid() != _MAIN:
        os._exit(9)  # as the kernel's out-of-memory killer would end a worker
    return _CHECK(*args)  # type: ignore[arg-type]


def test_a_worker_that_dies_costs_time_not_the_answer(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spread_always(monkeypatch)
    expected = answer(tree, "--no-cache", "--jobs", "1")
    monkeypatch.setattr(validate_command, "_check_release_folder", _dying)
    assert answer(tree, "--no-cache", "--jobs", "2") == expected


def test_a_warm_cache_starts_no_process_and_a_mostly_cold_one_does(
    tree: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tree = Path(shutil.copytree(tree, tmp_path / "tree", symlinks=True))  # its own, to change
    spread_always(monkeypatch)
    monkeypatch.setenv("ROLLOUT_CACHE_DIR", str(tmp_path / "cache"))
    expected = answer(tree, "--jobs", "2")  # cold: fills the cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", refuse)
    assert answer(tree, "--jobs", "2") == expected  # warm: the workers would only cost memory
    for report in sorted(tree.glob("releases/*/*/reports/*.yaml"))[::5]:  # a fifth of the reports changed
        if report.is_file() and not report.is_symlink():
            os.utime(report)
            report.write_bytes(report.read_bytes() + b"# changed\n")
    assert "a pool was started" in answer(tree, "--jobs", "2")[2]

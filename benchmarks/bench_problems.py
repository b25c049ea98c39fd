"""How the cost of a file's problems grows with their number: linearly, one parse per file.

    python benchmarks/bench_problems.py [--sizes 1000,4000,8000] [--runs 3]

Builds a small synthetic repository (`benchmarks/synthetic.py`) in real git,
then for each size N commits a change holding N problems in each of two
files: a new EA report whose N `tests:` entries each have an invalid `result`
(N schema errors) and a team file naming N unknown platforms (N errors from
the cross-file rules). Times the real `rollout validate` and `rollout
check-pr` commands on it (best of --runs: other work only ever adds time),
and prints the ratio of the largest size to the smallest. Locating each
problem by parsing its file again made this quadratic: 4,000 entries took
101 s and 8,000 took 711 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import generate

from rollout_tool.repository import Repository, report_path, team_path
from rollout_tool.sources import WorkTree

TODAY = "2026-11-25"
AUTHOR = "carla-coord"


def git(root: Path, *args: str) -> str:
    env_args = ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "-c", "gc.auto=0"]
    result = subprocess.run(["git", *env_args, *args], cwd=root, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def targets(root: Path) -> tuple[str, str, str]:
    """A report a team may file (its release in rollout, no report yet), and that team's file."""
    repo = Repository(WorkTree(root))
    for product, version, release in repo.releases():
        if release.state.value == "rollout":
            missing = [t for t in release.teams if t not in repo.report_teams(product, version)]
            if missing:
                return report_path(product, version, missing[0]), team_path(missing[0]), release.platforms[0]
    raise SystemExit("the synthetic repository has no release in rollout waiting for a report")


def write_problems(root: Path, report: str, team: str, platform: str, count: int, team_text: str) -> None:
    name = Path(report).stem
    tests = "".join(f"  - {{name: check {i}, result: maybe}}\n" for i in range(count))
    (root / report).parent.mkdir(parents=True, exist_ok=True)
    (root / report).write_text(
        f"team: {name}\nrevision: 1\nverdict: accept\ndate: {TODAY}\n"
        f"environment:\n  platform: {platform}\n  arch: x86_64\n  install: fresh\ntests:\n{tests}"
    )
    unknown = ", ".join(f"os-{i}" for i in range(count))
    kept = [line for line in team_text.splitlines() if not line.startswith("platforms:")]
    (root / team).write_text("\n".join([*kept, f"platforms: [{unknown}]"]) + "\n")


def timed(command: list[str], runs: int) -> tuple[float, int]:
    best = float("inf")
    problems = 0
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        best = min(best, time.perf_counter() - started)
        problems = len(json.loads(result.stdout)["problems"])
    return best, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,4000,8000", help="problems per file, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="bench-problems-"))
    try:
        root = scratch / "repo"
        generate(root, releases=40, reports=100)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "synthetic repository")
        base = git(root, "rev-parse", "HEAD")
        report, team, platform = targets(root)
        team_text = (root / team).read_text()
        rollout = [sys.executable, "-m", "rollout_tool"]
        seconds: dict[int, tuple[float, float]] = {}
        print(f"{'problems per file':>17} {'validate s':>11} {'check-pr s':>11} {'problems found':>15}")
        for count in sizes:
            write_problems(root, report, team, platform, count, team_text)
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", f"{count} problems in a report and in a team")
            head = git(root, "rev-parse", "HEAD")
            validate, found = timed([*rollout, "validate", "--repo", str(root), "--format", "json"], args.runs)
            check = [*rollout, "check-pr", "--repo", str(root), "--base", base, "--head", head]
            check_pr, _ = timed([*check, "--author", AUTHOR, "--format", "json", "--today", TODAY], args.runs)
            seconds[count] = (validate, check_pr)
            print(f"{count:>17,} {validate:>11.2f} {check_pr:>11.2f} {found:>15,}")
            git(root, "reset", "-q", "--hard", base)
        small, large = min(sizes), max(sizes)
        ratios = [seconds[large][i] / seconds[small][i] for i in (0, 1)]
        print(
            f"ratio {large:,} / {small:,} problems: validate {ratios[0]:.2f}, check-pr {ratios[1]:.2f}"
            f" (linear at most {large / small:.0f}; quadratic {(large / small) ** 2:.0f})"
        )
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""How the cost of a file's problems grows with their number: linearly, one parse per file.

    python benchmarks/bench_problems.py [--sizes 1000,4000,8000] [--runs 3]

Builds a small synthetic repository (`benchmarks/synthetic.py`) in real git,
then for each size N commits, one at a time, a change holding N problems in
one file: a new EA report whose N `tests:` entries each have an invalid
`result` (N schema errors), or a team file naming N unknown platforms (N
errors from the cross-file rules). Times the real `rollout validate` and
`rollout check-pr` commands on each (best of --runs, wall and CPU time: other
work only ever adds time), and prints the ratio of the largest size to the smallest. Locating each
problem by parsing its file again made this quadratic: 4,000 entries took
101 s and 8,000 took 711 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_check_pr import AUTHOR, TODAY, git
from synthetic import generate

from rollout_tool.repository import Repository, report_path, team_path
from rollout_tool.sources import WorkTree


def targets(root: Path) -> tuple[str, str, str]:
    """A report a team may file (its release in rollout, no report yet), and that team's file."""
    repo = Repository(WorkTree(root))
    for product, version, release in repo.releases():
        if release.state.value == "rollout":
            missing = [t for t in release.teams if t not in repo.report_teams(product, version)]
            if missing:
                return report_path(product, version, missing[0]), team_path(missing[0]), release.platforms[0]
    raise SystemExit("the synthetic repository has no release in rollout waiting for a report")


def bad_report(root: Path, report: str, platform: str, count: int) -> None:
    """A new report whose `count` test entries each have an invalid result: schema errors."""
    tests = "".join(f"  - {{name: check {i}, result: maybe}}\n" for i in range(count))
    (root / report).parent.mkdir(parents=True, exist_ok=True)
    (root / report).write_text(
        f"team: {Path(report).stem}\nrevision: 1\nverdict: accept\ndate: {TODAY}\n"
        f"environments:\n  - platform: {platform}\n    arch: x86_64\n    install: fresh\ntests:\n{tests}"
    )


def bad_team(root: Path, team: str, count: int) -> None:
    """A team file naming `count` unknown platforms: problems found by the cross-file rules."""
    unknown = ", ".join(f"os-{i}" for i in range(count))
    kept = [line for line in (root / team).read_text().splitlines() if not line.startswith("platforms:")]
    (root / team).write_text("\n".join([*kept, f"platforms: [{unknown}]"]) + "\n")


def timed(command: list[str], runs: int) -> tuple[float, float, int]:
    """Best wall time and best CPU time (user + system) of `runs` runs, and the problems found."""
    best_wall = best_cpu = float("inf")
    problems = 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
        best_wall = min(best_wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        problems = len(json.loads(result.stdout)["problems"])
    return best_wall, best_cpu, problems


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
        rollout = [sys.executable, "-m", "rollout_tool"]
        cases = {
            "report": lambda count: bad_report(root, report, platform, count),
            "team": lambda count: bad_team(root, team, count),
        }
        seconds: dict[tuple[str, int], tuple[float, float]] = {}
        print(f"{'file':>6} {'problems':>9} {'validate s (cpu)':>17} {'check-pr s (cpu)':>17} {'found':>7}")
        for case, plant in cases.items():
            for count in sizes:
                plant(count)
                git(root, "add", "-A")
                git(root, "commit", "-q", "-m", f"{count} problems in a {case}")
                head = git(root, "rev-parse", "HEAD")
                validate = timed([*rollout, "validate", "--repo", str(root), "--format", "json"], args.runs)
                check = [*rollout, "check-pr", "--repo", str(root), "--base", base, "--head", head]
                check_pr = timed([*check, "--author", AUTHOR, "--format", "json", "--today", TODAY], args.runs)
                seconds[case, count] = (validate[0], check_pr[0])
                print(
                    f"{case:>6} {count:>9,} {validate[0]:>9.2f} ({validate[1]:.2f})"
                    f" {check_pr[0]:>9.2f} ({check_pr[1]:.2f}) {validate[2]:>7,}"
                )
                git(root, "reset", "-q", "--hard", base)
        small, large = min(sizes), max(sizes)
        for case in cases:
            ratios = [seconds[case, large][i] / seconds[case, small][i] for i in (0, 1)]
            print(
                f"{case}: {large:,} / {small:,} problems took validate {ratios[0]:.2f}x, check-pr {ratios[1]:.2f}x"
                f" (linear: at most {large / small:.0f}x; quadratic: {(large / small) ** 2:.0f}x)"
            )
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

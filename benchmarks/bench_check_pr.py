"""How the cost of `rollout check-pr` grows with the repository: it should not.

    python benchmarks/bench_check_pr.py [--runs 7] [--small 1000] [--large 100000]

Builds two synthetic repositories (`benchmarks/synthetic.py`, ten reports per
release), commits each in real git, then commits the same kind of change on
both: a new EA report on a release in rollout and a candidate entering
rollout. Times the real command (median of several runs) and the check
itself in-process, at both sizes, and prints the ratio large / small.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import generate

from rollout_tool.commands.check_pr import check_pr
from rollout_tool.repository import Repository, report_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import edit_yaml

TODAY = "2026-11-25"
AUTHOR = "carla-coord"


def git(root: Path, *args: str) -> str:
    env_args = ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "-c", "gc.auto=0"]
    result = subprocess.run(["git", *env_args, *args], cwd=root, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def report_text(team: str, revision: int, platform: str, arch: str) -> str:
    return (
        f"team: {team}\nrevision: {revision}\nverdict: accept\ndate: {TODAY}\n"
        f"environment:\n  platform: {platform}\n  arch: {arch}\n  install: fresh\n"
    )


def make_change(root: Path) -> None:
    """A new report on the first release in rollout, and the first candidate put into rollout."""
    repo = Repository(WorkTree(root))
    config = repo.config()
    assert config is not None
    reported = started = False
    for product, version, release in repo.releases():
        if not reported and release.state.value == "rollout":
            missing = [t for t in release.teams if t not in repo.report_teams(product, version)]
            if missing:
                platform = release.platforms[0]
                path = root / report_path(product, version, missing[0])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(
                    report_text(missing[0], release.revision, platform, config.platforms[platform].arches[0])
                )
                reported = True
        if not started and release.state.value == "candidate":

            def start(document: Any) -> None:
                document["state"] = "rollout"
                document["teams"] = ["site-000", "site-001"]
                document["history"].append({"state": "rollout", "date": dt.date.fromisoformat(TODAY), "by": AUTHOR})

            edit_yaml(root / f"releases/{product}/{version}/release.yaml", start)
            started = True
        if reported and started:
            return
    raise SystemExit("the synthetic repository has no release in rollout or no candidate")


def build(root: Path, reports: int) -> tuple[str, str, float]:
    started = time.perf_counter()
    generate(root, releases=max(1, reports // 10), reports=reports)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "synthetic repository")
    base = git(root, "rev-parse", "HEAD")
    make_change(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a report and a rollout start")
    return base, git(root, "rev-parse", "HEAD"), time.perf_counter() - started


def time_command(root: Path, base: str, head: str, runs: int) -> tuple[float, dict[str, Any]]:
    command = [
        sys.executable, "-m", "rollout_tool", "check-pr", "--repo", str(root), "--base", base, "--head", head,
        "--author", AUTHOR, "--format", "json", "--today", TODAY,
    ]  # fmt: skip
    times, payload = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - started)
        payload = json.loads(result.stdout)
    return statistics.median(times), payload


def time_function(root: Path, base: str, head: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        check_pr(root, base, head, AUTHOR, dt.date.fromisoformat(TODAY))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--small", type=int, default=1_000, help="reports in the small repository")
    parser.add_argument("--large", type=int, default=100_000, help="reports in the large repository")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-check-pr-"))
    try:
        results = {}
        for reports in (args.small, args.large):
            root = scratch / f"repo-{reports}"
            base, head, setup = build(root, reports)
            gc.collect()  # the records read to make the change must not weigh on the timed runs
            command, payload = time_command(root, base, head, args.runs)
            function = time_function(root, base, head, args.runs)
            kinds = sorted(c["kind"] for c in payload["changes"])
            print(
                f"{reports:>7} reports: check-pr {command * 1000:7.1f} ms (command), {function * 1000:6.1f} ms"
                f" (in-process); allowed={payload['allowed']} changes={kinds} (setup {setup:.0f} s)"
            )
            if not payload["allowed"]:
                print(json.dumps(payload["problems"], indent=2))
                return 1
            results[reports] = (command, function)
        (small_cmd, small_fn), (large_cmd, large_fn) = results[args.small], results[args.large]
        print(
            f"ratio {args.large} / {args.small}: {large_cmd / small_cmd:.2f} (command),"
            f" {large_fn / small_fn:.2f} (in-process); goal <= 1.5"
        )
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

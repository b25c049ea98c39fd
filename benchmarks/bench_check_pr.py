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


def command_for(root: Path, base: str, head: str) -> list[str]:
    return [
        sys.executable, "-m", "rollout_tool", "check-pr", "--repo", str(root), "--base", base, "--head", head,
        "--author", AUTHOR, "--format", "json", "--today", TODAY,
    ]  # fmt: skip


def run_command(command: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(result.stdout)


def run_function(root: Path, base: str, head: str) -> float:
    started = time.perf_counter()
    check_pr(root, base, head, AUTHOR, dt.date.fromisoformat(TODAY))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--small", type=int, default=1_000, help="reports in the small repository")
    parser.add_argument("--large", type=int, default=100_000, help="reports in the large repository")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-check-pr-"))
    sizes = (args.small, args.large)
    try:
        built = {}
        for reports in sizes:
            root = scratch / f"repo-{reports}"
            base, head, setup = build(root, reports)
            built[reports] = (root, base, head)
            print(f"{reports:>7} reports: built and committed in {setup:.0f} s")
        gc.collect()  # the records read to make the changes must not weigh on the timed runs
        commands: dict[int, list[float]] = {n: [] for n in sizes}
        functions: dict[int, list[float]] = {n: [] for n in sizes}
        payloads: dict[int, dict[str, Any]] = {}
        # Alternate the sizes run by run: a busy machine then slows both alike.
        for _ in range(args.runs):
            for reports in sizes:
                root, base, head = built[reports]
                elapsed, payloads[reports] = run_command(command_for(root, base, head))
                commands[reports].append(elapsed)
                functions[reports].append(run_function(root, base, head))
        for reports in sizes:
            payload = payloads[reports]
            kinds = sorted(c["kind"] for c in payload["changes"])
            print(
                f"{reports:>7} reports: check-pr {statistics.median(commands[reports]) * 1000:7.1f} ms (command),"
                f" {statistics.median(functions[reports]) * 1000:6.1f} ms (in-process, median of {args.runs});"
                f" allowed={payload['allowed']} changes={kinds}"
            )
            if not payload["allowed"]:
                print(json.dumps(payload["problems"], indent=2))
                return 1
        small, large = sizes
        ratio_command = statistics.median(commands[large]) / statistics.median(commands[small])
        ratio_function = statistics.median(functions[large]) / statistics.median(functions[small])
        print(f"ratio {large} / {small}: {ratio_command:.2f} (command), {ratio_function:.2f} (in-process); goal <= 1.5")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

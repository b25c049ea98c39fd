"""How the cost of `rollout check-pr` grows with the repository: it should not.

    python benchmarks/bench_check_pr.py [--runs 7] [--small 1000] [--large 100000] [--config-runs 3]

Builds two synthetic repositories (`benchmarks/synthetic.py`, ten reports per
release) in real git, and on each a branch adding one EA report (by a
member of its team, on the release's current revision, on a platform both
the release and the team have). Times the real command (median of several
runs) and the check itself in-process, at both sizes, and prints the ratio
large / small (goal: at most 2). Then times two changes to rollout.yaml in
the large repository: a policy setting no record names (rollout.yaml alone is
validated again) and a platform's arches, which every team, release and report
names (check-pr validates them all).
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
        f"environments:\n  - platform: {platform}\n    arch: {arch}\n    install: fresh\n"
    )


def add_report(root: Path) -> str:
    """A new report on the first release in rollout that misses one; the login of a member of its team."""
    repo = Repository(WorkTree(root))
    config = repo.config()
    assert config is not None
    for product, version, release in repo.releases():
        if release.state.value != "rollout":
            continue
        for team in release.teams:
            record = repo.team(team)
            shared = [p for p in release.platforms if record is not None and p in record.platforms]
            if record is None or not shared or team in repo.report_teams(product, version):
                continue
            path = root / report_path(product, version, team)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(report_text(team, release.revision, shared[0], config.platforms[shared[0]].arches[0]))
            return record.members[0]
    raise SystemExit("the synthetic repository has no release in rollout missing a report")


def longer_soak(root: Path) -> str:
    """A coordinator's edit of rollout.yaml that no record refers to: a longer soak."""

    def soak(document: Any) -> None:
        document["policy"]["soak_days"] = document["policy"].get("soak_days", 7) + 1

    edit_yaml(root / "rollout.yaml", soak)
    return AUTHOR


def another_arch(root: Path) -> str:
    """A coordinator's edit of rollout.yaml's platforms, which every team, release and report names."""

    def arch(document: Any) -> None:
        first = next(iter(document["platforms"].values()))
        first["arches"].append("riscv64")

    edit_yaml(root / "rollout.yaml", arch)
    return AUTHOR


CONFIG_CHANGES = {"a rollout.yaml policy setting": longer_soak, "rollout.yaml's platforms": another_arch}


def build(root: Path, reports: int) -> tuple[str, dict[str, tuple[str, str]], float]:
    """The repository at `root`: its tip, and per change its branch and author."""
    started = time.perf_counter()
    generate(root, releases=max(1, reports // 10), reports=reports)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "synthetic repository")
    base = git(root, "rev-parse", "HEAD")
    branches: dict[str, tuple[str, str]] = {}
    for name, change in (("report", add_report), *CONFIG_CHANGES.items()):
        git(root, "checkout", "-q", "-b", f"change-{len(branches)}", base)
        author = change(root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", name)
        branches[name] = (git(root, "rev-parse", "HEAD"), author)
    git(root, "checkout", "-q", "main")
    return base, branches, time.perf_counter() - started


def command_for(root: Path, base: str, head: str, author: str) -> list[str]:
    return [
        sys.executable, "-m", "rollout_tool", "check-pr", "--repo", str(root), "--base", base, "--head", head,
        "--author", author, "--format", "json", "--today", TODAY,
    ]  # fmt: skip


def run_command(command: list[str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(result.stdout)


def run_function(root: Path, base: str, head: str, author: str) -> float:
    started = time.perf_counter()
    check_pr(root, base, head, author, dt.date.fromisoformat(TODAY))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--config-runs", type=int, default=3, help="runs of the rollout.yaml change (0: skip it)")
    parser.add_argument("--small", type=int, default=1_000, help="reports in the small repository")
    parser.add_argument("--large", type=int, default=100_000, help="reports in the large repository")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-check-pr-"))
    sizes = (args.small, args.large)
    try:
        built = {}
        for reports in sizes:
            root = scratch / f"repo-{reports}"
            base, branches, setup = build(root, reports)
            built[reports] = (root, base, branches)
            print(f"{reports:>7} reports: built and committed in {setup:.0f} s")
        gc.collect()  # the records read to make the changes must not weigh on the timed runs
        commands: dict[int, list[float]] = {n: [] for n in sizes}
        functions: dict[int, list[float]] = {n: [] for n in sizes}
        payloads: dict[int, dict[str, Any]] = {}
        # Alternate the sizes run by run: a busy machine then slows both alike.
        for _ in range(args.runs):
            for reports in sizes:
                root, base, branches = built[reports]
                head, author = branches["report"]
                elapsed, payloads[reports] = run_command(command_for(root, base, head, author))
                commands[reports].append(elapsed)
                functions[reports].append(run_function(root, base, head, author))
        for reports in sizes:
            payload = payloads[reports]
            kinds = sorted(c["kind"] for c in payload["changes"])
            print(
                f"{reports:>7} reports: check-pr of one report {statistics.median(commands[reports]) * 1000:7.1f} ms"
                f" (command), {statistics.median(functions[reports]) * 1000:6.1f} ms (in-process, median of"
                f" {args.runs}); allowed={payload['allowed']} changes={kinds}"
            )
            if not payload["allowed"]:
                print(json.dumps(payload["problems"], indent=2))
                return 1
        small, large = sizes
        ratio_command = statistics.median(commands[large]) / statistics.median(commands[small])
        ratio_function = statistics.median(functions[large]) / statistics.median(functions[small])
        print(f"ratio {large} / {small}: {ratio_command:.2f} (command), {ratio_function:.2f} (in-process); goal <= 2")
        root, base, branches = built[large]
        for name in CONFIG_CHANGES if args.config_runs else ():
            head, author = branches[name]
            timed = []
            for _ in range(args.config_runs):
                elapsed, payload = run_command(command_for(root, base, head, author))
                timed.append(elapsed)
            print(
                f"{large:>7} reports: check-pr of a change to {name}: {statistics.median(timed):.1f} s (command, median of {args.config_runs});"
                f" allowed={payload['allowed']} problems={len(payload['problems'])}"
            )
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

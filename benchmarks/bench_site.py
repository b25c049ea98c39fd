"""How long the dashboard and the notes take to build, from scratch and over an earlier build.

    python benchmarks/bench_site.py [--releases 10000] [--reports 100000] [--keep DIR] [--browser]

Generates a synthetic repository (`benchmarks/synthetic.py`), then times the
real commands (wall time, and the peak memory of the largest of the
processes, workers included): `rollout validate`; `rollout site --out` as a full build (an empty
cache, no earlier site, both cores), as the single-process build without a
cache, over its own output with nothing changed, and after one report
changed; `rollout notes --all` the same ways. Then the site build's phases
in-process (gather, render, write), the size of what it wrote and, with
--browser, how long the board takes to open in headless Chromium. The
changed report is put back as it was at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import generate

from rollout_tool import site
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree

TODAY = "2026-11-25"

# Runs one command and prints its wall time and peak memory, measured in its own process.
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(elapsed, peak, result.returncode)
sys.stderr.write(result.stderr.decode()[-2000:] if result.returncode > 1 else "")
"""


def timed(root: Path, *args: str, cache: Path | None = None) -> tuple[float, int]:
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "rollout_tool", *args]
    env = {**os.environ, "ROLLOUT_CACHE_DIR": str(cache)} if cache is not None else None
    output = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True, env=env)
    elapsed, peak, code = output.stdout.split()
    if int(code) > 1:
        raise SystemExit(f"rollout {' '.join(args)} failed ({code}): {output.stderr}")
    return float(elapsed), int(peak) // 1024


def folder_size(folder: Path) -> tuple[int, int]:
    files = size = 0
    for path in folder.rglob("*"):
        if path.is_file():
            files += 1
            size += path.stat().st_size
    return files, size


def phases(root: Path, out: Path) -> dict[str, float]:
    """The site build's own phases, in this process."""
    today = dt.date.fromisoformat(TODAY)
    start = time.perf_counter()
    repo = Repository(WorkTree(root))
    gathered = site.gather(repo, today)
    after_gather = time.perf_counter()
    rendered = list(site.render(repo, gathered))
    after_render = time.perf_counter()
    for path, data in rendered:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    done = time.perf_counter()
    return {
        "gather (load records, evaluate policy)": after_gather - start,
        "render pages": after_render - after_gather,
        "write files": done - after_render,
    }


def board_load(out: Path) -> float:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    args += ["--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        start = time.perf_counter()
        page.goto((out / "index.html").as_uri(), wait_until="load")
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="generate into (or reuse) this folder and keep it")
    parser.add_argument("--browser", action="store_true", help="also time opening the board in headless Chromium")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-site-"))
    root = args.keep or scratch / "repo"
    try:
        if not (root / "rollout.yaml").is_file():
            start = time.perf_counter()
            generate(root, args.releases, args.reports)
            print(f"generated {args.releases} releases, {args.reports} reports in {time.perf_counter() - start:.1f} s")
        print(f"repository: {root} (cores: {os.cpu_count()}, load {os.getloadavg()[0]:.2f})")
        report = sorted(root.glob("releases/*/*/reports/*.yaml"))[len(list(root.glob("releases/*"))) // 2]
        original = report.read_bytes()
        site, notes = str(scratch / "site"), str(scratch / "notes")
        day = ("--today", TODAY)
        try:
            rows = [
                ("rollout validate, empty cache", timed(root, "validate", cache=scratch / "c0")),
                ("site: full build", timed(root, "site", "--out", site, *day, cache=scratch / "c1")),
                ("site: unchanged", timed(root, "site", "--out", site, *day, cache=scratch / "c1")),
            ]
            report.write_bytes(original + b"comments: changed by bench_site\n")
            rows.append(("site: one report changed", timed(root, "site", "--out", site, *day, cache=scratch / "c1")))
            rows.append(
                (
                    "site: no cache, one core",
                    timed(root, "site", "--out", site + "-1", *day, "--no-cache", "--jobs", "1"),
                )
            )
            report.write_bytes(original)
            rows.append(
                ("notes: full build", timed(root, "notes", "--all", "--out", notes, *day, cache=scratch / "c2"))
            )
            report.write_bytes(original + b"comments: changed by bench_site\n")
            rows.append(
                ("notes: one report changed", timed(root, "notes", "--all", "--out", notes, *day, cache=scratch / "c2"))
            )
            rows.append(
                (
                    "notes: no cache, one core",
                    timed(root, "notes", "--all", "--out", notes + "-1", *day, "--no-cache", "--jobs", "1"),
                )
            )
        finally:
            report.write_bytes(original)
        full = dict(rows)
        print(f"{'command':<34}{'seconds':>10}{'x full build':>14}{'peak MiB':>10}")
        for name, (seconds, peak) in rows:
            base = full["notes: full build" if name.startswith("notes") else "site: full build"][0]
            print(f"{name:<34}{seconds:>10.2f}{seconds / base:>14.2f}{peak:>10}")
        changed = full["site: one report changed"][0] / full["site: full build"][0]
        print(
            f"goal: site after one changed report <= 0.3x a full build: {changed:.2f} ({'met' if changed <= 0.3 else 'missed'})"
        )
        files, size = folder_size(scratch / "site")
        board = (scratch / "site" / "index.html").stat().st_size
        feed = (scratch / "site" / "feed.xml").stat().st_size
        print(f"site: {files} files, {size / 2**20:.1f} MiB; board {board / 1024:.0f} KiB; feed {feed / 1024:.0f} KiB")
        for phase, seconds in phases(root, scratch / "phases").items():
            print(f"  in-process {phase:<40}{seconds:>8.2f} s")
        print(f"  in-process peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
        if args.browser:
            print(f"board opens in Chromium in {board_load(scratch / 'site'):.2f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Full validation against a bare C parse of the same files, and against check-jsonschema.

    python benchmarks/bench_validate.py [--releases 1000] [--reports 10000] [--keep DIR]
    python benchmarks/bench_validate.py --releases 10000 --reports 100000   # the full size

Generates a synthetic repository (`benchmarks/synthetic.py`; with --keep DIR
it is kept there and reused when DIR already holds one of that size), then
measures in this one run, each in its own child process so that its peak
memory (ru_maxrss) is its own:

(a) a bare C parse: read the bytes of every YAML file and
    `yaml.load(data, Loader=yaml.CSafeLoader)` it, in one process (the file
    list is made before the clock starts);
(b) `rollout validate`: the function the CLI calls (`validate_tree`), timed
    in-process, and the real CLI as a subprocess (wall time, start-up included);
(c) `check-jsonschema --schemafile schema/report.schema.json` on the report
    files only, in chunks that stay under ARG_MAX.

(a) and (b) run --runs times, alternated, and the best of each is kept: other
work on the machine only ever adds time. check-jsonschema runs once.

Goals: full validation within 1.5x the bare parse, and at least 3x faster
than check-jsonschema on the reports (which are only part of what
`rollout validate` checks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import generate  # noqa: E402

SCHEMA = PROJECT / "schema" / "report.schema.json"
MARKER = ".synthetic-size"
CHUNK_BYTES = 1_000_000  # well under ARG_MAX (2 MB here), environment included

BARE_PARSE = """
import json, sys, time, yaml
paths = sys.stdin.read().split("\\0")
started = time.perf_counter()
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    yaml.load(data, Loader=yaml.CSafeLoader)
print(json.dumps({"seconds": time.perf_counter() - started, "files": len(paths)}))
"""

IN_PROCESS = """
import json, sys, time
from pathlib import Path
from rollout_tool.commands.validate import validate_tree
started = time.perf_counter()
result = validate_tree(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "files": result.files, "problems": len(result.problems)}))
"""


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    output: str


def child(args: list[str], stdin: str = "") -> Run:
    """Run a child to the end: its wall time, its output, and its own peak memory (wait4's rusage)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as inp:
        inp.write(stdin)
        inp.seek(0)
        process = subprocess.Popen(args, stdin=inp, stdout=out, stderr=err, text=True, cwd=PROJECT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[:4])} failed ({process.returncode}): {errors[-2000:]}")
    # Linux reports ru_maxrss in KiB.
    return Run(seconds, usage.ru_maxrss / 1024, output)


def repository(keep: Path | None, releases: int, reports: int) -> tuple[Path, bool]:
    size = f"{releases} {reports}\n"
    if keep is not None:
        if (keep / MARKER).is_file() and (keep / MARKER).read_text() == size:
            return keep, False
        if keep.exists() and any(keep.iterdir()):
            raise SystemExit(f"{keep}: exists and is not a synthetic repository of this size; remove it first")
        root = keep
    else:
        root = Path(tempfile.mkdtemp(prefix="rollout-bench-")) / "repo"
    generate(root, releases=releases, reports=reports)
    (root / MARKER).write_text(size)
    return root, True


def yaml_files(root: Path) -> list[str]:
    found: list[str] = []
    for folder, _, names in os.walk(root):
        found.extend(os.path.join(folder, name) for name in names if name.endswith(".yaml"))
    return sorted(found)


def chunks(paths: list[str]) -> list[list[str]]:
    result: list[list[str]] = [[]]
    size = 0
    for path in paths:
        if size + len(path) + 1 > CHUNK_BYTES and result[-1]:
            result.append([])
            size = 0
        result[-1].append(path)
        size += len(path) + 1
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--releases", type=int, default=1_000)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it (reused next time)")
    parser.add_argument("--runs", type=int, default=3, help="runs of (a) and (b), alternated; the best is kept")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    root, generated = repository(args.keep, args.releases, args.reports)
    generation = time.perf_counter() - started
    try:
        files = yaml_files(root)
        reports = [path for path in files if "/reports/" in path]
        print(
            f"repository: {root} ({f'generated in {generation:.1f}s' if generated else 'reused'}):"
            f" {len(files):,} YAML files, {len(reports):,} reports, {args.releases:,} releases"
        )
        python = sys.executable

        # Warm the page cache so that no contender pays for the disk.
        for path in files:
            with open(path, "rb") as handle:
                handle.read()

        # Other work on the machine only ever adds time: alternate the
        # contenders and keep each one's best run.
        bares, inprocs, clis = [], [], []
        for _ in range(max(1, args.runs)):
            bares.append(child([python, "-c", BARE_PARSE], "\0".join(files)))
            inprocs.append(child([python, "-c", IN_PROCESS, str(root)]))
            clis.append(child([python, "-m", "rollout_tool", "validate", "--repo", str(root), "--format", "json"]))
        bare = min(bares, key=lambda run: json.loads(run.output)["seconds"])
        bare_seconds = json.loads(bare.output)["seconds"]
        inproc = min(inprocs, key=lambda run: json.loads(run.output)["seconds"])
        inproc_result = json.loads(inproc.output)
        cli = min(clis, key=lambda run: run.seconds)
        cli_result = json.loads(cli.output)
        if inproc_result["problems"] or cli_result["problems"]:
            print(f"warning: the synthetic repository has problems: {cli_result['problems'][:3]}", file=sys.stderr)

        cjs_seconds = 0.0
        cjs_rss = 0.0
        cjs_runs = 0
        executable = shutil.which("check-jsonschema") or "check-jsonschema"
        for chunk in chunks(reports):
            run = child([executable, "--schemafile", str(SCHEMA), *chunk])
            cjs_seconds += run.seconds
            cjs_rss = max(cjs_rss, run.max_rss_mb)
            cjs_runs += 1

        figures = {
            "files": len(files),
            "reports": len(reports),
            "bare_parse_seconds": round(bare_seconds, 3),
            "bare_parse_max_rss_mb": round(bare.max_rss_mb, 1),
            "validate_in_process_seconds": round(inproc_result["seconds"], 3),
            "validate_in_process_max_rss_mb": round(inproc.max_rss_mb, 1),
            "validate_cli_seconds": round(cli.seconds, 3),
            "validate_cli_max_rss_mb": round(cli.max_rss_mb, 1),
            "validate_files": cli_result["files"],
            "validate_problems": len(cli_result["problems"]),
            "check_jsonschema_seconds": round(cjs_seconds, 3),
            "check_jsonschema_runs": cjs_runs,
            "check_jsonschema_max_rss_mb": round(cjs_rss, 1),
            "ratio_validate_to_bare_parse": round(inproc_result["seconds"] / bare_seconds, 2),
            "ratio_cli_to_bare_parse": round(cli.seconds / bare_seconds, 2),
            "ratio_check_jsonschema_to_validate": round(cjs_seconds / inproc_result["seconds"], 2),
            "ratio_check_jsonschema_to_cli": round(cjs_seconds / cli.seconds, 2),
        }
        rows = [
            ("(a) bare C parse (read + CSafeLoader)", bare_seconds, len(files), bare.max_rss_mb),
            ("(b) rollout validate, in-process", inproc_result["seconds"], inproc_result["files"], inproc.max_rss_mb),
            ("(b) rollout validate, CLI wall time", cli.seconds, cli_result["files"], cli.max_rss_mb),
            (f"(c) check-jsonschema, reports ({cjs_runs} runs)", cjs_seconds, len(reports), cjs_rss),
        ]
        print(f"{'':44} {'seconds':>8} {'files':>9} {'files/s':>9} {'peak MB':>8}")
        for name, seconds, count, rss in rows:
            print(f"{name:44} {seconds:8.2f} {count:9,} {count / seconds:9,.0f} {rss:8.0f}")
        ok_parse = figures["ratio_validate_to_bare_parse"] <= 1.5
        ok_cjs = figures["ratio_check_jsonschema_to_validate"] >= 3
        print(
            f"validate / bare parse: {figures['ratio_validate_to_bare_parse']}x in-process,"
            f" {figures['ratio_cli_to_bare_parse']}x CLI (goal <= 1.5x: {'met' if ok_parse else 'MISSED'})"
        )
        print(
            f"check-jsonschema / validate: {figures['ratio_check_jsonschema_to_validate']}x in-process,"
            f" {figures['ratio_check_jsonschema_to_cli']}x CLI (goal >= 3x: {'met' if ok_cjs else 'MISSED'})"
        )
        if args.json:
            print(json.dumps(figures, indent=2))
        return 0 if ok_parse and ok_cjs and not figures["validate_problems"] else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

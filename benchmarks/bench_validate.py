"""Full validation against the floors below it, cold and warm, over one core and all, in one run.

    python benchmarks/bench_validate.py [--reports 100000] [--releases N] [--keep DIR] [--runs 3] [--json]

Generates a synthetic repository (`benchmarks/synthetic.py`; --releases is a
tenth of --reports unless given; with --keep DIR it is kept there and reused
when DIR already holds one of that size), then times each contender as a
whole process, start-up included, the same number of times (--runs,
alternated; the best run of each is kept, as other work on the machine only
ever adds time):

- the floors, each a Python process that walks the tree and, for every YAML
  file: reads its bytes; has libyaml hand out its events; has libyaml compose
  its node graph; loads it with PyYAML's `CSafeLoader` (C parsing with
  Python construction, not a bare C parse). The last is the baseline every
  ratio is taken to.
- `rollout validate`: cold (an empty cache, which it fills) on one core and on
  all; with no cache on one core (what it did before it had one); warm over
  an unchanged tree; warm after one report changed (a different one each run).
- check-jsonschema on the report files (in chunks under ARG_MAX), when it is
  installed.

Peak memory is the sum over the process and its children of their
proportional set size (PSS: pages shared between the processes counted once
in all), sampled every 20 ms, at its highest; "largest" is the biggest single
process's peak resident size (`wait4`'s ru_maxrss, children included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import generate  # noqa: E402

SCHEMA = PROJECT / "schema" / "report.schema.json"
MARKER = ".synthetic-size"
CHUNK_BYTES = 1_000_000  # well under ARG_MAX (2 MB here), environment included

# Every floor walks the tree as validate does, then does one thing per file.
FLOOR = """
import os, sys, yaml
paths = []
for folder, _, names in os.walk(sys.argv[1]):
    paths.extend(os.path.join(folder, name) for name in names if name.endswith(".yaml"))
paths.sort()
for path in paths:
    with open(path, "rb") as handle:
        data = handle.read()
    {work}
"""
FLOORS = {
    "read the bytes": "pass",
    "libyaml events": "for _ in yaml.parse(data, Loader=yaml.CSafeLoader): pass",
    "libyaml compose": "yaml.compose(data, Loader=yaml.CSafeLoader)",
    "CSafeLoader load": "yaml.load(data, Loader=yaml.CSafeLoader)",
}
BASELINE = "CSafeLoader load"


@dataclass
class Run:
    seconds: float
    peak_mb: float  # PSS summed over the process tree, at its highest
    largest_mb: float  # ru_maxrss: the biggest single process
    output: str = field(repr=False)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo.extend(int(child) for child in handle.read().split())
        except OSError:
            pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def child(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a process to the end: its wall time, output, and memory at its peak (see the module's note)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True, cwd=PROJECT, env=env
        )
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, sum(_pss_kb(member) for member in _tree(process.pid)))
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[:4])} failed ({process.returncode}): {errors[-2000:]}")
    # Linux reports ru_maxrss in KiB.
    return Run(seconds, peak / 1024, usage.ru_maxrss / 1024, output)


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


def environment() -> dict[str, object]:
    import pydantic
    import pydantic_core
    import yaml

    from rollout_tool.parallel import cores

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cores_usable": cores(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pyyaml": yaml.__version__,
        "libyaml": yaml._yaml.get_version_string() if yaml.__with_libyaml__ else None,
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
        "check_jsonschema": version("check-jsonschema"),
        "ruamel.yaml": version("ruamel.yaml"),
        "ruamel.yaml.clib": version("ruamel.yaml.clib"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=None, help="default: a tenth of --reports")
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it (reused next time)")
    parser.add_argument("--runs", type=int, default=3, help="runs of every contender, alternated; the best is kept")
    parser.add_argument("--no-check-jsonschema", action="store_true", help="leave check-jsonschema out")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    args = parser.parse_args(argv)
    releases = args.releases if args.releases is not None else max(1, args.reports // 10)
    started = time.perf_counter()
    root, generated = repository(args.keep, releases, args.reports)
    generation = time.perf_counter() - started
    caches = Path(tempfile.mkdtemp(prefix="rollout-bench-cache-"))
    try:
        files = yaml_files(root)
        reports = [path for path in files if "/reports/" in path]
        print(
            f"repository: {root} ({f'generated in {generation:.1f}s' if generated else 'reused'}):"
            f" {len(files):,} YAML files, {len(reports):,} reports, {releases:,} releases"
        )
        env = environment()
        python = sys.executable
        base_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_TODAY", "ROLLOUT_REPO")}
        validate = [python, "-m", "rollout_tool", "validate", "--repo", str(root), "--format", "json"]
        warm_cache = caches / "warm"
        changed = Path(reports[len(reports) // 2])
        original = changed.read_bytes()
        fresh = iter(range(1_000_000))

        def cached(folder: Path) -> dict[str, str]:
            return {**base_env, "ROLLOUT_CACHE_DIR": str(folder)}

        def cold(jobs: str) -> Run:
            return child([*validate, "--jobs", jobs], cached(caches / f"cold-{next(fresh)}"))

        def warm_after_a_change() -> Run:
            # A comment changes the bytes, not the record: a miss that validates.
            changed.write_bytes(original + f"# run {next(fresh)}\n".encode())
            try:
                return child(validate, cached(warm_cache))
            finally:
                changed.write_bytes(original)

        def floor(work: str) -> Callable[[], Run]:
            return lambda: child([python, "-c", FLOOR.format(work=work), str(root)])

        contenders: dict[str, Callable[[], Run]] = {name: floor(work) for name, work in FLOORS.items()}
        contenders["validate, no cache, 1 core"] = lambda: child([*validate, "--no-cache", "--jobs", "1"], base_env)
        contenders["validate, cold, 1 core"] = lambda: cold("1")
        contenders[f"validate, cold, {env['cores_usable']} cores"] = lambda: cold(str(env["cores_usable"]))
        contenders["validate, warm, unchanged"] = lambda: child(validate, cached(warm_cache))
        contenders["validate, warm, one report changed"] = warm_after_a_change
        checker = shutil.which("check-jsonschema")
        if checker is not None and not args.no_check_jsonschema:
            contenders["check-jsonschema, reports only"] = lambda: _check_jsonschema(checker, reports)

        # Page cache and the warm cache filled before any clock starts.
        for path in files:
            with open(path, "rb") as handle:
                handle.read()
        filled = child(validate, cached(warm_cache))
        expected = json.loads(filled.output)
        if expected["problems"]:
            print(f"warning: the synthetic repository has problems: {expected['problems'][:3]}", file=sys.stderr)

        runs: dict[str, list[Run]] = {name: [] for name in contenders}
        for _ in range(max(1, args.runs)):
            for name, contender in contenders.items():
                runs[name].append(contender())
        best = {name: min(done, key=lambda run: run.seconds) for name, done in runs.items()}
        for name, run in best.items():
            if name.startswith("validate") and json.loads(run.output) != expected:
                raise SystemExit(f"{name}: answered otherwise than a cold run")

        baseline = best[BASELINE].seconds
        print(f"{'':38} {'seconds':>8} {'files/s':>9} {'x ' + BASELINE:>18} {'peak MB':>8} {'largest':>8}")
        for name, run in best.items():
            count = len(reports) if name.startswith("check-jsonschema") else len(files)
            print(
                f"{name:38} {run.seconds:8.2f} {count / run.seconds:9,.0f} {run.seconds / baseline:18.2f}"
                f" {run.peak_mb:8.0f} {run.largest_mb:8.0f}"
            )
        cores_name = f"validate, cold, {env['cores_usable']} cores"
        goals = [
            ("cold, all cores / CSafeLoader <= 0.4", best[cores_name].seconds / baseline, 0.4),
            (
                "warm unchanged / read the bytes <= 3",
                best["validate, warm, unchanged"].seconds / best["read the bytes"].seconds,
                3.0,
            ),
            (
                "warm, one changed / warm unchanged <= 1.2",
                best["validate, warm, one report changed"].seconds / best["validate, warm, unchanged"].seconds,
                1.2,
            ),
            ("validate's peak memory (MB, all cores, cold) <= 148", best[cores_name].peak_mb, 148.0),
        ]
        for goal, value, bound in goals:
            print(f"{goal:52} {value:8.2f}  {'met' if value <= bound else 'MISSED'}")
        print("environment: " + json.dumps(env))
        if args.json:
            figures = {
                "files": len(files),
                "reports": len(reports),
                "runs": args.runs,
                "environment": env,
                "contenders": {
                    name: {
                        "seconds": round(run.seconds, 3),
                        "peak_mb": round(run.peak_mb, 1),
                        "largest_mb": round(run.largest_mb, 1),
                        "x_baseline": round(run.seconds / baseline, 3),
                    }
                    for name, run in best.items()
                },
                "goals": {goal: round(value, 3) for goal, value, _ in goals},
            }
            print(json.dumps(figures, indent=2))
        return 0 if not expected["problems"] else 1
    finally:
        shutil.rmtree(caches, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(root.parent, ignore_errors=True)


def _check_jsonschema(executable: str, reports: list[str]) -> Run:
    """check-jsonschema over every report, in as many processes as ARG_MAX needs: their times summed."""
    seconds = peak = largest = 0.0
    for chunk in chunks(reports):
        # Its ECMA regex check refuses our URL pattern's \x00 escapes (a schema
        # error, exit 1, nothing validated): they are Python patterns, so say so.
        run = child([executable, "--regex-variant", "python", "--schemafile", str(SCHEMA), *chunk])
        if "validation" not in run.output:  # "ok -- validation done" or "Schema validation errors ..."
            raise SystemExit(f"check-jsonschema validated nothing: {run.output[-500:]}")
        seconds += run.seconds
        peak, largest = max(peak, run.peak_mb), max(largest, run.largest_mb)
    return Run(seconds, peak, largest, "")


if __name__ == "__main__":
    sys.exit(main())

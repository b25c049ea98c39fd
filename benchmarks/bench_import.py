"""How long EGI's real release history takes to import, validate and publish.

    python benchmarks/bench_import.py [--source ../shared/data/umd-history] [--keep DIR] [--runs 1]

Times the real commands on the real data (981 product-release files, 132
distribution releases): `rollout import umd` into a new folder, the same
import again (every record already there: the no-op re-run), `rollout
validate`, `rollout notes --all --out` and `rollout site --out`, each as its
own process (wall time and peak memory), and the JSON-to-records mapping
alone in this process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_site import folder_size, timed

from rollout_tool.commands.import_umd import read_source
from rollout_tool.importing import umd

TODAY = "2024-06-01"
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared/data/umd-history"


def mapping_alone(source: Path) -> tuple[float, float, int]:
    """Seconds to read the JSON, seconds to map it, and how many records it makes."""
    start = time.perf_counter()
    products, distributions, catalog, _ = read_source(source)
    read = time.perf_counter()
    imported = umd.convert(products, distributions, catalog, by="rollout-bot")
    return read - start, time.perf_counter() - read, len(imported.files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=Path(os.environ.get("UMD_HISTORY") or DEFAULT_SOURCE))
    parser.add_argument("--keep", type=Path, default=None, help="import into this folder and keep it")
    parser.add_argument("--runs", type=int, default=1, help="repeat each command and keep the best time")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    if not (source / "products").is_dir():
        raise SystemExit(f"{source}: not the UMD history (no products/); give --source")

    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        raise SystemExit(f"--keep {args.keep}: give a new or empty folder")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as temporary:
        scratch = Path(temporary)
        root = (args.keep or scratch / "repo").resolve()
        rows = one_run(source, root, scratch)
        for _ in range(args.runs - 1):
            shutil.rmtree(root)
            rows = [
                min(old, new, key=lambda r: r[1][0])
                for old, new in zip(rows, one_run(source, root, scratch), strict=True)
            ]
        report(source, root, scratch, rows)
    return 0


def one_run(source: Path, root: Path, scratch: Path) -> list[tuple[str, tuple[float, int]]]:
    root.mkdir(parents=True, exist_ok=True)
    new = ("import", "umd", str(source), "--out", ".", "--coordinator", "c", "--bot", "b")
    return [
        ("rollout import umd", timed(root, *new)),
        ("rollout import umd (again)", timed(root, "import", "umd", str(source), "--out", ".")),
        ("rollout validate", timed(root, "validate")),
        ("rollout notes --all --out", timed(root, "notes", "--all", "--out", str(scratch / "notes"))),
        ("rollout site --out", timed(root, "site", "--out", str(scratch / "site"), "--today", TODAY)),
    ]


def report(source: Path, root: Path, scratch: Path, rows: list[tuple[str, tuple[float, int]]]) -> None:
    files, size = folder_size(root)
    print(f"source: {source}; repository: {root} ({files} files, {size / 2**20:.1f} MiB; cores: {os.cpu_count()})")
    print(f"{'command':<30}{'seconds':>10}{'peak MiB':>10}")
    for name, (seconds, peak) in rows:
        print(f"{name:<30}{seconds:>10.2f}{peak:>10}")
    site_files, site_size = folder_size(scratch / "site")
    print(f"site: {site_files} files, {site_size / 2**20:.1f} MiB")
    read, mapped, records = mapping_alone(source)
    print(f"  in-process: read the JSON {read:.2f} s, map {records} records {mapped:.2f} s")
    print(f"  in-process peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    sys.exit(main())

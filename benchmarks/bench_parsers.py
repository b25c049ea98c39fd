"""Other YAML parsers on our files: how fast, and what they do with what we refuse or read our own way.

    python benchmarks/bench_parsers.py DIR [--runs 3]

DIR is a tree of YAML files (e.g. one `synthetic.py` wrote). Run it with an
interpreter that has the candidates installed (`pip install rapidyaml
pyyaml-rs` in a scratch virtual environment: neither is a dependency of the
tool); a candidate that is not installed is left out. Every contender reads
the same bytes, already in memory, and its best of --runs passes is kept.

Then each is asked what our loader must answer (rollout_tool/loading.py):
a duplicate key refused, an alias and a tag refused (before an alias bomb is
expanded), YAML 1.2 core scalars (`no` and `2026-11-10` are strings, `0o17`
is 15), and a syntax error placed at its line and column.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

PROBES = {
    "duplicate key refused": "a: 1\na: 2\n",
    "alias refused": "a: &x [1]\nb: *x\n",
    "tag refused": "a: !!str 12\n",
    "`no` is a string": "a: no\n",
    "a date is a string": "a: 2026-11-10\n",
    "`0o17` is 15": "a: 0o17\n",
    "syntax error at 2:1": "a: [1, 2\nb: 3\n",
}


def _ryml(data: bytes) -> Any:
    import ryml  # type: ignore[import-not-found]

    return ryml.parse_in_arena(data)


def _pyyaml_rs(data: bytes) -> Any:
    import pyyaml_rs  # type: ignore[import-not-found]

    return pyyaml_rs.safe_load(data.decode())


def _csafe(data: bytes) -> Any:
    import yaml

    return yaml.load(data, Loader=yaml.CSafeLoader)


def _ours(data: bytes) -> Any:
    from rollout_tool.loading import load

    return load(data)


CANDIDATES: dict[str, Callable[[bytes], Any]] = {
    "PyYAML CSafeLoader (libyaml + Python objects)": _csafe,
    "rollout_tool.loading.load (libyaml, YAML 1.2, refusals)": _ours,
    "rapidyaml parse_in_arena (a C++ tree, no Python objects)": _ryml,
    "pyyaml-rs safe_load (Rust, Python objects)": _pyyaml_rs,
}


def _ryml_answer(text: str) -> str:
    """What rapidyaml's tree says: it resolves no types, so look at its flags and values."""
    import ryml

    try:
        tree = ryml.parse_in_arena(text.encode())
    except Exception as exc:
        at = getattr(getattr(exc, "errdata_parse", None), "ymlloc", None)
        return f"error: {getattr(exc, 'msg', exc)!s}" + (f" at line {at.line}, column {at.col}" if at else "")
    root = tree.root_id()
    parts = []
    for node in ryml.children(tree, root):
        key = bytes(tree.key(node)).decode()
        if tree.is_keyval(node):
            value = bytes(tree.val(node)).decode()
            flags = [name for name in ("is_val_ref", "has_val_tag", "has_val_anchor") if getattr(tree, name)(node)]
            parts.append(f"{key}={value!r} (a string; {' '.join(flags) or 'no flags'})")
        else:
            parts.append(f"{key}=<collection>")
    return ", ".join(parts)


def _answer(load: Callable[[bytes], Any], text: str) -> str:
    try:
        value = load(text.encode())
    except Exception as exc:
        return f"error: {' '.join(str(exc).split())[:90]}"
    return repr(value)[:90]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    paths = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(args.root)
        for name in names
        if name.endswith(".yaml")
    )
    blobs = []
    for path in paths:
        with open(path, "rb") as handle:
            blobs.append(handle.read())
    print(f"{len(blobs):,} files, {sum(map(len, blobs)):,} bytes; python {sys.version.split()[0]}")
    available = {}
    for name, load in CANDIDATES.items():
        try:
            load(b"a: 1\n")
        except ImportError:
            print(f"{name}: not installed")
            continue
        available[name] = load
    for name, load in available.items():
        best = min(_timed(load, blobs) for _ in range(max(1, args.runs)))
        print(f"{name:58} {best:7.2f} s {len(blobs) / best:9,.0f} files/s")
    print()
    for name, load in available.items():
        print(name)
        for probe, text in PROBES.items():
            answer = _ryml_answer(text) if load is _ryml else _answer(load, text)
            print(f"  {probe:24} {answer}")
    return 0


def _timed(load: Callable[[bytes], Any], blobs: list[bytes]) -> float:
    started = time.perf_counter()
    for data in blobs:
        load(data)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())

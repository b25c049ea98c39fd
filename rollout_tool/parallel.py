"""Work spread over the machine's cores: per-file loading, and any list of independent items.

Parsing and schema-checking a file needs nothing but its bytes, so worker
processes do it; the main process reads the files (and asks the cache first),
sends each worker a chunk of the files the cache does not know, and takes the
documents back as cache entries (`cache.encode`: compact JSON, validated again
when decoded) in the order it sent them. The cross-file rules then run in the
main process over documents identical to those it would have loaded itself.

`spread` runs a function over chunks of a list in forked processes (pages to
render, release notes to write), each chunk's results handed back in order.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Container, Generator, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

from rollout_tool.cache import DocumentCache, decode, encode
from rollout_tool.repository import Document, Repository, parse_document, place_of
from rollout_tool.sources import Kind

# Below this many files, starting processes costs more than it saves.
THRESHOLD = 2_000
CHUNK = 256
# Chunks sent ahead per worker: enough that none waits for the main process.
AHEAD = 3


def cores() -> int:
    """The cores this process may run on."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13
    if counted is not None:
        return int(counted() or 1)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


T = TypeVar("T")
R = TypeVar("R")


def _forked() -> multiprocessing.context.BaseContext:
    # fork: the workers start at once, with the tool already imported and the caller's data in memory.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return multiprocessing.get_context(method)


def _parse(items: list[tuple[str, str, bytes]]) -> list[bytes]:
    return [encode(parse_document(path, kind, data)) for path, kind, data in items]


def load_ahead(
    repo: Repository, jobs: int, only: Container[tuple[str, str]] | None = None
) -> Generator[Document] | None:
    """Have `jobs` processes load every record of a full read ahead of it (of the release folders, those
    `only` names); None when not worth it.

    The caller closes what this returns once done, which stops the processes.
    """
    if jobs <= 1:
        return None
    paths = [path for path in repo.record_paths(only) if repo.kind(path) is Kind.file]
    if len(paths) < THRESHOLD or _mostly_kept(repo, paths):
        return None
    documents = _documents(repo, paths, jobs)
    repo.load_ahead(paths, documents)
    return documents


# Below this share of misses in a sample of the files, the cache serves the run and workers would only cost
# memory (the chunks read ahead) and start-up.
WARM = 0.05
SAMPLE = 512


def _mostly_kept(repo: Repository, paths: list[str]) -> bool:
    """Whether the cache holds nearly every file of an even sample of `paths`."""
    cache = repo.cache
    if cache is None:
        return False
    sample = paths[:: max(1, len(paths) // SAMPLE)]
    misses = 0
    for path in sample:
        place = place_of(path)
        assert place is not None
        if cache.find(path, place.kind, repo.content_id(path))[1] is None:
            misses += 1
    return misses <= WARM * len(sample)


def _documents(repo: Repository, paths: list[str], jobs: int) -> Generator[Document]:
    cache = repo.cache
    pending: deque[tuple[list[_File], list[tuple[str, str, bytes]], Future[list[bytes]] | None]] = deque()
    remaining = iter(paths)
    with ProcessPoolExecutor(jobs, mp_context=_forked()) as pool:
        while True:
            while len(pending) < AHEAD * jobs:
                chunk = list(islice(remaining, CHUNK))
                if not chunk:
                    break
                pending.append(_send(repo, cache, pool, chunk))
            if not pending:
                return
            yield from _receive(repo, cache, *pending.popleft())


# A file of a chunk: its path, kind, content id, cache key and cache entry (decoded only when its turn
# comes, so the chunks sent ahead hold bytes, not records).
_File = tuple[str, str, str, bytes | None, bytes | None]


def _send(
    repo: Repository, cache: DocumentCache | None, pool: ProcessPoolExecutor, chunk: list[str]
) -> tuple[list[_File], list[tuple[str, str, bytes]], Future[list[bytes]] | None]:
    files: list[_File] = []
    misses = []
    for path in chunk:
        place = place_of(path)
        assert place is not None
        data, content = repo.identified(path)
        key, entry = (None, None) if cache is None else cache.find(path, place.kind, content)
        files.append((path, place.kind, content, key, entry))
        if entry is None:
            misses.append((path, place.kind, repo.source.read(path) if data is None else data))
    future = None
    if misses:
        with contextlib.suppress(BrokenExecutor):  # a worker died: the main process parses them
            future = pool.submit(_parse, misses)
    return files, misses, future


def _receive(
    repo: Repository,
    cache: DocumentCache | None,
    files: list[_File],
    misses: list[tuple[str, str, bytes]],
    future: Future[list[bytes]] | None,
) -> Iterator[Document]:
    try:
        entries = iter(future.result() if future is not None else _parse(misses))
    except BrokenExecutor:  # a worker died (killed, out of memory): parse here instead
        entries = iter(_parse(misses))
    sent = iter(misses)
    for path, kind, content, key, kept in files:
        doc = None
        if kept is not None and cache is not None and key is not None:
            doc = cache.take(key, path, kind, kept)
            if doc is None:  # a kept entry that does not read: parsed here
                doc = parse_document(path, kind, repo.source.read(path))
        if doc is None:
            entry, (_, _, data) = next(entries), next(sent)
            try:
                doc = decode(path, kind, entry)
            except ValueError:  # a record its own JSON does not give back: never trusted to the cache
                doc = parse_document(path, kind, data)
            else:
                if cache is not None and key is not None:
                    cache.add(key, entry)
        doc.content = content
        yield doc


# What the forked workers of `spread` run: set before they start, so they inherit it and nothing is pickled
# but the chunks' bounds and results.
_SPREAD: list[tuple[Callable[[list[Any]], list[Any]], list[Any]]] = []


def _run_chunk(start: int, end: int) -> list[Any]:
    work, items = _SPREAD[-1]
    return work(items[start:end])


def spread(work: Callable[[list[T]], list[R]], items: list[T], jobs: int, chunk: int, threshold: int) -> Iterator[R]:
    """`work` over consecutive chunks of `items`, in `jobs` forked processes when there are at least
    `threshold` items; the results in the order of the items.

    `work` runs in a copy of this process: what it changes in memory stays
    there, and what it returns is pickled back. A chunk whose worker died is
    done here; an error `work` raises is raised here.
    """
    if jobs <= 1 or len(items) < max(threshold, 2):
        yield from work(items)
        return
    _SPREAD.append((work, items))
    try:
        bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
        with ProcessPoolExecutor(jobs, mp_context=_forked()) as pool:
            # A few chunks ahead per worker, not all of them: results not yet taken wait in this process.
            pending: deque[tuple[int, int, Future[list[Any]] | None]] = deque()
            waiting = iter(bounds)
            while True:
                for start, end in islice(waiting, AHEAD * jobs - len(pending)):
                    try:
                        pending.append((start, end, pool.submit(_run_chunk, start, end)))
                    except BrokenExecutor:
                        pending.append((start, end, None))
                if not pending:
                    break
                start, end, future = pending.popleft()
                try:
                    done = future.result() if future is not None else None
                except BrokenExecutor:  # a worker died (killed, out of memory): its chunk is done here
                    done = None
                yield from work(items[start:end]) if done is None else done
    finally:
        _SPREAD.pop()

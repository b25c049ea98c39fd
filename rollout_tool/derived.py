"""Values worked out from many records (a release's facts, its figures), kept between runs with what they read.

Working out a release's facts reads its release, reports, results and
waivers, rollout.yaml, its teams and product, and sometimes other releases.
`Derived.get` records every document and folder the work reads
(`Repository.recording`), and keeps the value beside the hash of each of
them in the document cache (rollout_tool.cache). The next run checks those
hashes against the files as they are now: when every one still matches, the
value is read back; when any differs, or a folder lists other names, it is
worked out again. A file whose stamp (`Source.stamp`) is as noted is not read
to be hashed: its stamp is noted only when the file had not changed since
before the run began, so no write since the bytes were read can leave it
as it was. So a value is never served for files that changed, and a
build after one changed report works out one release again, not all of them.

The key also holds the day (the facts say how late a team is) and the tool's
own code (the cache folder is named by it). A value is kept as JSON and
validated again when read: an entry is data, never code, and one that does
not read back as the value it was made from is not kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import TypeVar

import pydantic
import pydantic_core

from rollout_tool import parallel
from rollout_tool.cache import DocumentCache, derived_key
from rollout_tool.repository import Reads, Repository
from rollout_tool.sources import Kind

T = TypeVar("T")

_TAG = b"d"
# Below this many values, one process checks what is kept; above, chunks of this many go to each process.
SPREAD_THRESHOLD = 200
SPREAD_CHUNK = 256
_SEPARATOR = b"\0"  # never in JSON, which escapes it
# A file changed less than this long before the repository was opened has a stamp that is not trusted:
# some file systems keep times to the second (or two).
SETTLED_NS = 3_000_000_000


class Derived:
    """Derived values of one repository on one day, kept in `store`."""

    def __init__(self, repo: Repository, store: DocumentCache, *key: str) -> None:
        self.repo = repo
        self.store = store
        self.key = key
        # Each file's hash as this run finds it: a file many values read is read once. Those in a
        # release's folder are kept only while values of that release are checked, so that a run over
        # 100,000 reports does not hold a hash of each.
        self._hashes: dict[str, str] = {}
        self._folder = ""
        self._in_folder: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    def cached(self, name: str, adapter: pydantic.TypeAdapter[T]) -> tuple[T, bytes] | None:
        """The value kept as `name` and its JSON, when nothing it read has changed since; else None."""
        return self.read(self.cached_json(name), adapter)

    def cached_json(self, name: str) -> bytes | None:
        """The JSON of the value kept as `name`, not yet validated, when nothing it read has changed since."""
        entry = self.store.get(derived_key(*self.key, name))
        data = None if entry is None else self._current(entry)
        if data is None:
            self.misses += 1
        else:
            self.hits += 1
        return data

    def cached_many(self, names: list[str], jobs: int = 1) -> Iterator[bytes | None]:
        """`cached_json` of each of `names`, in order, as they come; the files behind them are hashed over
        `jobs` processes, while the caller takes what is done.

        Names with nothing kept cost nothing here (a cold run starts no
        process); the entries found are marked as used in this process, so
        that a rewrite of the cache keeps them.
        """
        keys = [derived_key(*self.key, name) for name in names]
        held = [index for index, key in enumerate(keys) if self.store.holds(key)]
        elsewhere = jobs > 1 and len(held) >= SPREAD_THRESHOLD  # counted in the workers, which are gone

        def current(chunk: list[int]) -> list[bytes | None]:
            return [self.cached_json(names[index]) for index in chunk]

        found = zip(held, parallel.spread(current, held, jobs, SPREAD_CHUNK, SPREAD_THRESHOLD), strict=True)
        next_held, data = next(found, (len(names), None))
        for index in range(len(names)):
            if index < next_held:
                self.misses += 1  # nothing kept
                yield None
                continue
            if elsewhere:
                if data is None:
                    self.misses += 1
                else:
                    self.hits += 1
                    self.store.mark(keys[index])
            yield data
            next_held, data = next(found, (len(names), None))

    def read(self, data: bytes | None, adapter: pydantic.TypeAdapter[T]) -> tuple[T, bytes] | None:
        """The value `cached_json` gave, validated; None when there is none or it is not a valid value."""
        if data is None:
            return None
        try:
            return adapter.validate_json(data), data
        except ValueError:  # a ValidationError is a ValueError
            return None

    def get(self, name: str, adapter: pydantic.TypeAdapter[T], work: Callable[[], T]) -> tuple[T, bytes]:
        """The value `work` gives, from the cache when nothing it read changed; and its JSON."""
        found = self.cached(name, adapter)
        return found if found is not None else self.work_out(name, adapter, work)

    def work_out(self, name: str, adapter: pydantic.TypeAdapter[T], work: Callable[[], T]) -> tuple[T, bytes]:
        """The value `work` gives and its JSON, kept as `name` with the hashes of what it read."""
        key = derived_key(*self.key, name)
        with self.repo.recording() as reads:
            value = work()
        try:
            data = adapter.dump_json(value)
        except pydantic_core.PydanticSerializationError:  # a name that is not UTF-8: worked out every time
            return value, repr(value).encode("utf-8", "surrogateescape")
        try:
            kept = adapter.validate_json(data) == value
        except pydantic.ValidationError:
            kept = False
        if kept:
            self.store.add(key, _TAG + self._depends(reads) + _SEPARATOR + data)
        return value, data

    def _depends(self, reads: Reads) -> bytes:
        # A file loaded while recording is named by the content it was loaded from, not read again.
        documents = []
        for path in sorted(reads.documents):
            depends = [path, reads.contents.get(path) or self.document_hash(path)]
            stamp = self._settled_stamp(path)
            if stamp is not None:
                depends.append(stamp)
            documents.append(depends)
        folders = [[folder, self.folder_hash(folder)] for folder in sorted(reads.folders)]
        # ASCII: a name that is not UTF-8 (a lone surrogate) is escaped, and read back as it was.
        return json.dumps([documents, folders], separators=(",", ":")).encode()

    def _current(self, entry: bytes) -> bytes | None:
        """The JSON an entry holds when every file and folder it depends on is as it was; else None."""
        if not entry.startswith(_TAG) or _SEPARATOR not in entry:
            return None
        depends, _, data = entry[1:].partition(_SEPARATOR)
        try:
            documents, folders = json.loads(depends)
            for path, digest, *stamp in documents:
                if not isinstance(path, str):
                    return None
                if stamp and stamp[0] == self.document_stamp(path):
                    continue  # unchanged since it was hashed: not read again
                if self.document_hash(path) != digest:
                    return None
            for folder, digest in folders:
                if not isinstance(folder, str) or self.folder_hash(folder) != digest:
                    return None
        except (ValueError, TypeError):  # malformed: a miss
            return None
        return data

    def _memo(self, path: str) -> dict[str, str]:
        """Where the hash of `path` (a file's, or a folder's with a trailing slash) is kept this run."""
        folder = _release_folder(path)
        if folder is None:
            return self._hashes
        if folder != self._folder:
            self._folder, self._in_folder = folder, {}
        return self._in_folder

    def document_hash(self, path: str) -> str:
        """A hash of the file at `path` as it is now, or what is there instead of a file."""
        memo = self._memo(path)
        found = memo.get(path)
        if found is None:
            kind = self.repo.kind(path)
            if kind is Kind.file:
                try:
                    found = self.repo.content_id(path)
                except OSError:
                    found = "unreadable"
            else:
                found = "none" if kind is None else kind.value
            memo[path] = found
        return found

    def document_stamp(self, path: str) -> str | None:
        """The stamp of the file at `path` as it is now (`Source.stamp`), or None."""
        memo = self._memo(path)
        key = path + "\0stamp"
        if key not in memo:
            memo[key] = self.repo.source.stamp(path) or ""
        return memo[key] or None

    def _settled_stamp(self, path: str) -> str | None:
        """The file's stamp, when it can stand for the bytes this run read: when neither its bytes nor its
        inode changed since a little before the repository was opened, the bytes read since are those
        it holds now, and any later write changes the stamp. A file changed during the run, or just
        before it (a file system may keep times to the second), is read again by the next run."""
        stamp = self.document_stamp(path)
        if stamp is None:
            return None
        settled = self.repo.opened_ns - SETTLED_NS
        mtime, ctime = (int(part) for part in stamp.rsplit(":", 2)[1:])
        return stamp if 0 < mtime < settled and 0 < ctime < settled else None

    def folder_hash(self, folder: str) -> str:
        """A hash of the names and kinds a folder lists now."""
        memo = self._memo(folder + "/")
        found = memo.get(folder + "/")
        if found is None:
            digest = hashlib.blake2b(digest_size=16)
            for entry in self.repo.listing(folder):
                name = entry.name.encode("utf-8", "surrogateescape")
                digest.update(len(name).to_bytes(8, "big") + name + entry.kind.value.encode() + b"\0")
            found = memo[folder + "/"] = digest.hexdigest()
        return found


def _release_folder(path: str) -> str | None:
    """The release folder (`releases/<product>/<version>`) of a path in one of its folders of reports, results
    or waivers (or of one of those folders, given with a trailing slash); None for any other path.

    A release's own record stays with the paths kept all run: other values read it (the distributions
    that ship it, the release that supersedes it), and there is one per release, not ten.
    """
    if not path.startswith("releases/"):
        return None
    parts = path.split("/", 4)
    return None if len(parts) < 5 else "/".join(parts[:3])

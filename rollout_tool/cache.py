"""Each file's loaded document (its validated record, or its problems), kept between runs.

An entry is found by a hash of the file's kind, path and content id (git's
object id in a revision, else a hash of its bytes), under a
folder named by a hash of the tool's own code and of the libraries that load
and validate: a file whose content changed is never served, whatever its size
and mtime, and a changed tool never trusts what another one wrote.

Entries are data, not code: a record is stored as the JSON of its model and
validated again when read (`model_validate_json`), problems as JSON lists,
and so are the values derived from many files (rollout_tool.derived), among
them what checking a release's folder found. Whoever can write to the cache
folder can never run anything, but can make a validation report what the
entries say: the cache is trusted as the tool is. It lives in the user's own
cache folder; in CI, a pull request's job restores the default branch's
cache and saves only to its own scope, and the trusted pull-request check
runs without one.

A run reads every pack of its folder (one index of key to offset each; an
entry is read when asked for), and writes what it had to parse into one new
pack, renamed into place whole: concurrent runs see a pack or nothing, and
anything unreadable or malformed is a miss. When packs pile up, a run writes
one pack of every entry it used and removes the packs it read. The folders of
other builds of the tool are removed but for the two used last.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import mmap
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pydantic
import pydantic_core
import yaml

import rollout_tool
from rollout_tool.problems import Level, Problem
from rollout_tool.records import KINDS
from rollout_tool.repository import Document, parse_document

_HEADER = b"rollout-cache-pack 1\n"
_SUFFIX = ".pack"
_KEY_HEX = 32
# Beyond this many packs in a folder, a run rewrites what it used as one.
MAX_PACKS = 8


def cache_dir() -> Path:
    """$ROLLOUT_CACHE_DIR, else $XDG_CACHE_HOME/rollout, else ~/.cache/rollout."""
    if explicit := os.environ.get("ROLLOUT_CACHE_DIR"):
        return Path(explicit)
    if (xdg := os.environ.get("XDG_CACHE_HOME")) and os.path.isabs(xdg):
        return Path(xdg) / "rollout"
    return Path.home() / ".cache" / "rollout"


@functools.cache
def tool_key() -> str:
    """A hash of this package's files and of what loading and validating depend on, once per process."""
    digest = hashlib.blake2b(_HEADER, digest_size=16)
    libyaml = yaml._yaml.get_version_string() if yaml.__with_libyaml__ else "none"
    for part in (sys.version, pydantic.VERSION, pydantic_core.__version__, yaml.__version__, libyaml):
        digest.update(part.encode() + b"\0")
    package = Path(rollout_tool.__file__).parent
    for source in sorted(package.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            data = source.read_bytes()
            name = source.relative_to(package).as_posix().encode()
            digest.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def entry_key(path: str, kind: str, content: str) -> bytes:
    """The key of the document of a file by its path, kind and content id (`Repository.content_id`)."""
    digest = hashlib.blake2b(digest_size=_KEY_HEX // 2)
    for part in (kind.encode(), path.encode("utf-8", "surrogateescape"), content.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest().encode()


def derived_key(*parts: str) -> bytes:
    """The key of a value derived from many files (rollout_tool.derived), named by `parts`."""
    digest = hashlib.blake2b(b"derived", digest_size=_KEY_HEX // 2)
    for part in parts:
        data = part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest().encode()


def encode(doc: Document) -> bytes:
    """A document as one line of JSON (JSON escapes every line break), its path left out."""
    if doc.record is not None:
        return b"r" + doc.record.model_dump_json().encode()
    problems = [[p.line, p.column, p.rule, p.message, p.level.value] for p in doc.problems]
    return b"p" + json.dumps(problems, ensure_ascii=False, separators=(",", ":")).encode()


def decode(path: str, kind: str, entry: bytes) -> Document:
    """The document an entry holds; ValueError when it holds anything else."""
    tag, body = entry[:1], entry[1:]
    if tag == b"r":
        return Document(path, kind, KINDS[kind].model_validate_json(body))  # a ValidationError is a ValueError
    if tag == b"p":
        problems = json.loads(body)
        if not isinstance(problems, list) or not problems:
            raise ValueError("not a list of problems")
        found = []
        for item in problems:
            match item:
                case [int() as line, int() as column, str() as rule, str() as message, str() as level]:
                    found.append(Problem(path, line, column, rule, message, Level(level)))
                case _:
                    raise ValueError("not a problem")
        return Document(path, kind, None, found)
    raise ValueError("not an entry")


class DocumentCache:
    """The entries of one cache folder for this build of the tool, and those this run adds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = os.path.join(root, tool_key())
        # Each key's place, one int (`_place`): its pack's number in _descriptors, offset and length;
        # a key this run read is marked by inverting its place (`~place` < 0), which is what a rewrite keeps.
        self._index: dict[bytes, int] = {}
        self._descriptors: list[int] = []
        self._read: list[str] = []
        self._hit_count = 0
        # What this run parsed goes straight to its pack, not held in memory; None until the first.
        # Its entries are placed in the index as pack number _OWN, so this run reads back what it wrote.
        self._pack: tuple[IO[bytes], str] | None = None
        self._unflushed = False
        self._unwritable = False
        self._collected: list[tuple[bytes, bytes]] | None = None
        self.hits = 0
        self.misses = 0
        # A forked worker reads this cache but never writes the pack its parent holds open.
        self._pid = os.getpid()
        self._open()

    def _open(self) -> None:
        try:
            with os.scandir(self.folder) as listed:
                # The newest last, so that where packs disagree the newest entry is the one read.
                names = sorted(
                    (entry.stat(follow_symlinks=False).st_mtime_ns, entry.name)
                    for entry in listed
                    if entry.name.endswith(_SUFFIX)
                )
        except OSError:
            return
        # Packs beyond those a place can number are not read (misses), but removed by the next rewrite.
        self._read.extend(os.path.join(self.folder, name) for _, name in names[:-_MAX_READ])
        for _, name in names[-_MAX_READ:]:
            path = os.path.join(self.folder, name)
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue  # removed by a concurrent run since listed: its entries are misses
            pack = len(self._descriptors)
            try:
                added = _index(fd, pack, self._index)
            except (OSError, ValueError):
                added = False
            if not added:
                os.close(fd)
                continue
            self._descriptors.append(fd)
            self._read.append(path)

    def close(self) -> None:
        for fd in self._descriptors:
            os.close(fd)
        self._descriptors.clear()

    def lookup(self, path: str, kind: str, content: str) -> tuple[bytes, Document | None]:
        """The key of this content and its cached document, or None (a miss) when there is none that reads."""
        key, entry = self.find(path, kind, content)
        return key, self.take(key, path, kind, entry)

    def find(self, path: str, kind: str, content: str) -> tuple[bytes, bytes | None]:
        """The key of this content and the entry kept under it, not yet decoded (`take` does)."""
        key = entry_key(path, kind, content)
        return key, self._entry(key)

    def take(self, key: bytes, path: str, kind: str, entry: bytes | None) -> Document | None:
        """The document an entry `find` gave holds (a hit), or None (a miss) when it has none that reads."""
        doc = None
        if entry is not None:
            try:
                doc = decode(path, kind, entry)
            except (ValueError, KeyError):
                doc = None
        if doc is None:
            self.misses += 1
            return None
        self.hits += 1
        self._mark(key)
        return doc

    def get(self, key: bytes) -> bytes | None:
        """The entry kept under `key` (from `derived_key`), or None."""
        entry = self._entry(key)
        if entry is not None:
            self._mark(key)
        return entry

    def holds(self, key: bytes) -> bool:
        """Whether an entry is kept under `key` (it may still not read)."""
        return key in self._index

    def mark(self, key: bytes) -> None:
        """Count the entry under `key` as used by this run (read in a worker), so a rewrite keeps it."""
        if key in self._index:
            self._mark(key)

    def used(self, key: bytes) -> bool:
        """Whether this run has used the entry under `key` (what a rewrite of the packs keeps)."""
        return self._index.get(key, 0) < 0

    def _entry(self, key: bytes) -> bytes | None:
        place = self._index.get(key)
        if place is None:
            return None
        pack, offset, length = _unplace(place)
        try:
            if pack != _OWN:
                entry = os.pread(self._descriptors[pack], length, offset)
            elif self._pack is None or os.getpid() != self._pid:
                return None  # not readable once saved, nor from a forked worker (it must never flush it)
            else:
                if self._unflushed:
                    self._pack[0].flush()
                    self._unflushed = False
                entry = os.pread(self._pack[0].fileno(), length, offset)
        except OSError:
            return None
        return entry if len(entry) == length else None

    def _mark(self, key: bytes) -> None:
        place = self._index[key]
        if place >= 0:
            self._index[key] = ~place
            self._hit_count += 1

    @contextlib.contextmanager
    def collecting(self) -> Iterator[list[tuple[bytes, bytes]]]:
        """What `add` is given until the block ends, collected instead of written: a forked worker hands
        it back for its parent to add."""
        collected: list[tuple[bytes, bytes]] = []
        outer, self._collected = self._collected, collected
        try:
            yield collected
        finally:
            self._collected = outer

    def add(self, key: bytes, entry: bytes) -> None:
        """Keep a document this run parsed (as `encode` gave it) for the next runs."""
        if self._collected is not None:
            self._collected.append((key, entry))
            return
        if self._unwritable or os.getpid() != self._pid or self._own(key):
            return
        try:
            if self._pack is None:
                os.makedirs(self.folder, exist_ok=True)
                fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
                self._pack = (os.fdopen(fd, "wb"), temporary)
                self._pack[0].write(_HEADER)
            handle = self._pack[0]
            offset = handle.tell() + len(key) + 1
            handle.write(b"%s %s\n" % (key, entry))
        except OSError:
            self._unwritable = True
            self._discard()
            return
        self._unflushed = True
        if offset >> _OFFSET_BITS == 0 and len(entry) >> _LENGTH_BITS == 0:
            self._index[key] = _place(_OWN, offset, len(entry))

    def _own(self, key: bytes) -> bool:
        """Whether this run wrote `key` to its pack."""
        place = self._index.get(key)
        return place is not None and _unplace(place)[0] == _OWN

    def document(self, path: str, kind: str, content: str, read: Callable[[], bytes]) -> Document:
        """The document of the file whose content id is `content`: from the cache, else parsed from what
        `read` gives (and kept for the next run)."""
        key, doc = self.lookup(path, kind, content)
        if doc is None:
            doc = parse_document(path, kind, read())
            entry = encode(doc)
            with contextlib.suppress(ValueError):  # kept only when it reads back as the same document
                if decode(path, kind, entry) == doc:
                    self.add(key, entry)
        return doc

    def save(self) -> None:
        """Put what this run parsed in place as one new pack; a cache that cannot be written is not written.

        When packs have piled up, the new pack also holds the entries worth
        keeping of those read, and the packs read are removed.
        """
        if os.getpid() != self._pid:
            return
        rewrite = len(self._read) >= MAX_PACKS and not self._unwritable
        try:
            if rewrite:
                # A run over most of the tree keeps what it read, so entries of
                # files gone or changed are let go; a run over a few files keeps all.
                everything = 2 * self._hit_count < len(self._index)
                for key, place in list(self._index.items()):
                    pack, offset, length = _unplace(place)
                    if (everything or place < 0) and pack != _OWN:
                        self.add(key, os.pread(self._descriptors[pack], length, offset))
            if self._pack is not None and not self._unwritable:
                handle, temporary = self._pack
                handle.close()
                # A name no other run picks: a pack is never overwritten, only added or removed.
                os.replace(temporary, os.path.join(self.folder, os.path.basename(temporary)[1:-4] + _SUFFIX))
                self._pack = None
        except OSError:
            rewrite = False
        finally:
            self._discard()
            self.close()
        if rewrite:
            for path in self._read:
                with contextlib.suppress(OSError):  # already removed by a concurrent run
                    os.unlink(path)
        prune(self.root, os.path.basename(self.folder))

    def _discard(self) -> None:
        if self._pack is not None:
            handle, temporary = self._pack
            self._pack = None
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(temporary)


# Besides the folder of the tool that runs, the folders of this many other builds are kept (the most
# recently used): two installed versions used in turn each keep their cache.
OTHER_BUILDS_KEPT = 2
_TOOL_KEY = re.compile(r"[0-9a-f]{32}")


def prune(root: Path, current: str) -> None:
    """Mark the folder of this build as used, and remove those of other builds but the few used last.

    Only folders named like a build's key are touched; links and anything
    else in the cache are left as they are.
    """
    with contextlib.suppress(OSError):
        os.utime(os.path.join(root, current))
    try:
        with os.scandir(root) as listed:
            others = sorted(
                (
                    (entry.stat(follow_symlinks=False).st_mtime_ns, entry.path)
                    for entry in listed
                    if entry.name != current and _TOOL_KEY.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                ),
                reverse=True,
            )
    except OSError:
        return
    for _, path in others[OTHER_BUILDS_KEPT:]:
        shutil.rmtree(path, ignore_errors=True)  # a concurrent run of that build reads what it opened


# A place packs a pack's number, an offset and a length into one int below 2**60 (a small int object).
_LENGTH_BITS = 24
_OFFSET_BITS = 32
_MAX_READ = 16  # packs a place can number
_WINDOW = 8 << 20  # bytes of a pack scanned before its pages are let go
_OWN = _MAX_READ  # the number of the pack this run writes


def _place(pack: int, offset: int, length: int) -> int:
    return (pack << (_OFFSET_BITS + _LENGTH_BITS)) | (offset << _LENGTH_BITS) | length


def _unplace(place: int) -> tuple[int, int, int]:
    if place < 0:
        place = ~place
    length = place & ((1 << _LENGTH_BITS) - 1)
    offset = (place >> _LENGTH_BITS) & ((1 << _OFFSET_BITS) - 1)
    return place >> (_OFFSET_BITS + _LENGTH_BITS), offset, length


def _index(fd: int, pack: int, index: dict[bytes, int]) -> bool:
    """Put each entry of a pack in `index` by its key (as the pack numbered `pack`): False when it is not a pack.

    An entry too long or too far in to be placed is left out: a miss.
    """
    size = os.fstat(fd).st_size
    if size < len(_HEADER):
        return False
    with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as data:
        if data[: len(_HEADER)] != _HEADER:
            return False
        at = len(_HEADER)
        start = _KEY_HEX + 1
        # The pages already read are let go as the scan goes: a 100 MB pack never adds 100 MB to the
        # process's memory (they are read again, from the page cache, only if an entry is asked for).
        released = 0
        while at < size:
            if at - released >= _WINDOW and hasattr(data, "madvise"):
                upto = at - at % mmap.PAGESIZE
                data.madvise(mmap.MADV_DONTNEED, released, upto - released)
                released = upto
            end = data.find(b"\n", at)
            if end < 0:
                break  # a last line without its end: cut short, so left out
            length = end - at - start
            if (
                length > 0
                and data[at + _KEY_HEX] == 0x20
                and length >> _LENGTH_BITS == 0
                and (at + start) >> _OFFSET_BITS == 0
            ):
                index[data[at : at + _KEY_HEX]] = _place(pack, at + start, length)
            at = end + 1
        return True

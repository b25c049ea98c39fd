"""Each file's loaded document (its validated record, or its problems), kept between runs.

An entry is found by a hash of the file's kind, path and bytes, under a
folder named by a hash of the tool's own code and of the libraries that load
and validate: a file whose content changed is never served, whatever its size
and mtime, and a changed tool never trusts what another one wrote.

Entries are data, not code: a record is stored as the JSON of its model and
validated again when read (`model_validate_json`), problems as JSON lists. So
whoever can write to the cache folder can at worst make a record pass that
the schema accepts anyway, never run anything.

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


def entry_key(path: str, kind: str, data: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=_KEY_HEX // 2)
    for part in (kind.encode(), path.encode("utf-8", "surrogateescape")):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(data)
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
        self._index: dict[bytes, tuple[int, int, int]] = {}  # key: (pack descriptor, offset, length)
        self._descriptors: list[int] = []
        self._read: list[str] = []
        # The keys this run read: what a rewrite keeps (their entries are read again from their packs).
        self._hit: set[bytes] = set()
        # What this run parsed goes straight to its pack, not held in memory; None until the first.
        self._pack: tuple[IO[bytes], str] | None = None
        self._added: set[bytes] = set()
        self._unwritable = False
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
        for _, name in names:
            path = os.path.join(self.folder, name)
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue  # removed by a concurrent run since listed: its entries are misses
            try:
                found = _index(fd)
            except (OSError, ValueError):
                found = None
            if found is None:
                os.close(fd)
                continue
            self._descriptors.append(fd)
            self._read.append(path)
            for key, (offset, length) in found.items():
                self._index[key] = (fd, offset, length)

    def close(self) -> None:
        for fd in self._descriptors:
            os.close(fd)
        self._descriptors.clear()

    def lookup(self, path: str, kind: str, data: bytes) -> tuple[bytes, Document | None]:
        """The key of these bytes and their cached document, or None (a miss) when there is none that reads."""
        key = entry_key(path, kind, data)
        where = self._index.get(key)
        if where is not None:
            fd, offset, length = where
            try:
                entry = os.pread(fd, length, offset)
                doc = decode(path, kind, entry) if len(entry) == length else None
            except (OSError, ValueError, KeyError):
                doc = None
            if doc is not None:
                self.hits += 1
                self._hit.add(key)
                return key, doc
        self.misses += 1
        return key, None

    def get(self, key: bytes) -> bytes | None:
        """The entry kept under `key` (from `derived_key`), or None."""
        where = self._index.get(key)
        if where is None:
            return None
        fd, offset, length = where
        try:
            entry = os.pread(fd, length, offset)
        except OSError:
            return None
        if len(entry) != length:
            return None
        self._hit.add(key)
        return entry

    def add(self, key: bytes, entry: bytes) -> None:
        """Keep a document this run parsed (as `encode` gave it) for the next runs."""
        if key in self._added or self._unwritable or os.getpid() != self._pid:
            return
        try:
            if self._pack is None:
                os.makedirs(self.folder, exist_ok=True)
                fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
                self._pack = (os.fdopen(fd, "wb"), temporary)
                self._pack[0].write(_HEADER)
            self._pack[0].write(b"%s %s\n" % (key, entry))
        except OSError:
            self._unwritable = True
            self._discard()
            return
        self._added.add(key)

    def document(self, path: str, kind: str, data: bytes) -> Document:
        """The document of these bytes: from the cache, else parsed (and kept for the next run)."""
        key, doc = self.lookup(path, kind, data)
        if doc is None:
            doc = parse_document(path, kind, data)
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
                kept = self._hit if 2 * len(self._hit) >= len(self._index) else set(self._index)
                for key in kept - self._added:
                    fd, offset, length = self._index[key]
                    self.add(key, os.pread(fd, length, offset))
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
                    if entry.name != current
                    and _TOOL_KEY.fullmatch(entry.name)
                    and entry.is_dir(follow_symlinks=False)
                ),
                reverse=True,
            )
    except OSError:
        return
    for _, path in others[OTHER_BUILDS_KEPT:]:
        shutil.rmtree(path, ignore_errors=True)  # a concurrent run of that build reads what it opened


def _index(fd: int) -> dict[bytes, tuple[int, int]] | None:
    """Each entry's place in a pack (offset and length of its document): None when it is not a pack."""
    size = os.fstat(fd).st_size
    if size < len(_HEADER):
        return None
    with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as data:
        if data[: len(_HEADER)] != _HEADER:
            return None
        found: dict[bytes, tuple[int, int]] = {}
        at = len(_HEADER)
        start = _KEY_HEX + 1
        while at < size:
            end = data.find(b"\n", at)
            if end < 0:
                break  # a last line without its end: cut short, so left out
            if end - at > start and data[at + _KEY_HEX] == 0x20:
                found[data[at : at + _KEY_HEX]] = (at + start, end - at - start)
            at = end + 1
        return found

"""Where the bytes of a repository come from: a work tree, or a git revision.

Both answer the same two questions (what is in this folder, what does this
file hold) without ever following a symbolic link, so the same validation runs
on a checkout and on the two sides of a pull request.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from rollout_tool.errors import FatalError, UsageError
from rollout_tool.loading import MAX_BYTES


class Kind(Enum):
    file = "file"
    directory = "directory"
    symlink = "symlink"
    other = "other"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: Kind
    size: int = 0


def digest(data: bytes) -> str:
    """What a file's bytes are known by where git does not name them: a 128-bit BLAKE2b hash."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Source(Protocol):
    def content_id(self, path: str) -> str | None:
        """A name of the regular file's content that changes whenever its bytes do, when known without
        reading them (git's object id); None when the bytes must be read and hashed."""

    def stamp(self, path: str) -> str | None:
        """What the regular file at `path` is known by without reading it, when changing its bytes changes it
        (see `WorkTree.stamp`); None when there is nothing such."""

    def listdir(self, path: str) -> list[Entry]:
        """The entries of the folder at `path` ("" is the top), or [] when there is none."""

    def read(self, path: str) -> bytes:
        """The bytes of the regular file at `path`."""

    def kind(self, path: str) -> Kind | None:
        """What is at `path`, without following a link; None when nothing is."""


class WorkTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def content_id(self, path: str) -> str | None:
        # Never git's index: an edit that keeps a file's size and mtime would go unseen. Nor a SHA-1 of
        # the bytes computed here: unlike git's own (collision-detecting) SHA-1, it would let a crafted
        # colliding file pass for a valid one the cache holds.
        return None

    def _full(self, path: str) -> str:
        return os.path.join(self.root, path) if path else str(self.root)

    def stamp(self, path: str) -> str | None:
        """The file's device, inode, size, and the times its bytes and its inode last changed.

        Any write to the file sets its change time (ctime) to the clock's
        time, and no one but the system's owner can set it back: an edit that
        keeps size and mtime still changes the stamp, and so does a file put
        in its place. The stamp holds for the bytes read only when the file had
        not changed since before they were read (rollout_tool.derived).
        """
        try:
            found = os.lstat(self._full(path))
        except OSError:
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        return f"{found.st_dev}:{found.st_ino}:{found.st_size}:{found.st_mtime_ns}:{found.st_ctime_ns}"

    def listdir(self, path: str) -> list[Entry]:
        try:
            with os.scandir(self._full(path)) as it:
                entries = []
                for item in it:
                    if item.is_symlink():
                        kind = Kind.symlink
                    elif item.is_dir(follow_symlinks=False):
                        kind = Kind.directory
                    elif item.is_file(follow_symlinks=False):
                        kind = Kind.file
                    else:
                        kind = Kind.other
                    entries.append(Entry(item.name, kind))
                return entries
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as exc:
            raise FatalError(f"{path or '.'}: cannot list the folder: {exc.strerror}") from None

    def read(self, path: str) -> bytes:
        # O_NOFOLLOW: a file swapped for a link after listing is still not followed.
        fd = os.open(self._full(path), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            return _read_bounded(fd)
        finally:
            os.close(fd)

    def kind(self, path: str) -> Kind | None:
        try:
            mode = os.lstat(self._full(path)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(mode):
            return Kind.symlink
        if stat.S_ISDIR(mode):
            return Kind.directory
        if stat.S_ISREG(mode):
            return Kind.file
        return Kind.other


def _read_bounded(fd: int) -> bytes:
    # Read at most one byte past the limit: the loader reports the size,
    # and a 10 GB file costs nothing more than a 1 MB one. The first read asks
    # for the size the file has (and a byte more, to find its end): a buffer of
    # a megabyte for each small file costs more than reading it.
    chunks = []
    remaining = MAX_BYTES + 1
    size = os.fstat(fd).st_size + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, size))
        size = 1 << 16
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


_GIT_KINDS = {b"40000": Kind.directory, b"100644": Kind.file, b"100755": Kind.file, b"120000": Kind.symlink}


def _tree_entries(data: bytes, oid_length: int) -> list[tuple[Entry, str]]:
    """A raw tree object: `<mode> <name>\\0<object id>` over and over; each entry with its object id."""
    entries = []
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode, name = data[at:space], data[space + 1 : nul]
        oid = data[nul + 1 : nul + 1 + oid_length].hex()
        entries.append((Entry(name.decode("utf-8", "surrogateescape"), _GIT_KINDS.get(mode, Kind.other)), oid))
        at = nul + 1 + oid_length
    return entries


class GitRevision:
    """A read-only view of one commit; cost grows with what is asked, not with the repository."""

    def __init__(self, root: Path, revision: str) -> None:
        self.root = root
        self.revision = revision
        self._listings: dict[str, list[Entry]] = {}
        # Every listed path's object id: a name git's batch cannot be asked for
        # by path (a line break, a trailing carriage return) is asked for by id.
        self._oids: dict[str, str] = {}
        self._batch: subprocess.Popen[bytes] | None = None

    def _git(self, *args: str) -> bytes:
        result = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True)
        if result.returncode != 0:
            raise FatalError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def listdir(self, path: str) -> list[Entry]:
        # Trees are read over the same `cat-file --batch` pipe as files: one
        # git process however many folders are listed.
        if path not in self._listings:
            entries = []
            answer = self._request(path)
            if answer is not None:
                kind, size, oid_length = answer
                data = self._body(size, None if kind == "tree" else 0)
                if kind == "tree":
                    for entry, oid in _tree_entries(data, oid_length):
                        entries.append(entry)
                        self._oids[f"{path}/{entry.name}" if path else entry.name] = oid
            self._listings[path] = entries
        return self._listings[path]

    def stamp(self, path: str) -> str | None:
        return None  # git names every blob: there is nothing to spare

    def content_id(self, path: str) -> str | None:
        """The object id of the blob at `path` in this commit ("git:" and its hex), from its folder's listing."""
        self.listdir(path.rpartition("/")[0])
        oid = self._oids.get(path)
        return None if oid is None else f"git:{oid}"

    def kind(self, path: str) -> Kind | None:
        parent, _, name = path.rpartition("/")
        for entry in self.listdir(parent):
            if entry.name == name:
                return entry.kind
        return None

    def read(self, path: str) -> bytes:
        answer = self._request(path)
        if answer is None:
            raise FileNotFoundError(path)
        kind, size, _ = answer
        # Keep at most one byte past the limit (the loader reports the size).
        data = self._body(size, MAX_BYTES + 1 if kind == "blob" else 0)
        if kind != "blob":
            raise FileNotFoundError(path)
        return data

    def _request(self, path: str) -> tuple[str, int, int] | None:
        """Ask the batch for `revision:path`: its type, size and object-id length in bytes, or None."""
        if path:
            self.listdir(path.rpartition("/")[0])
            if path not in self._oids:
                return None
            request = self._oids[path]
        else:
            request = f"{self.revision}:"
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._batch.stdin is not None and self._batch.stdout is not None
        # By object id: the batch reads one request a line, and strips a
        # carriage return before the line break.
        self._batch.stdin.write(f"{request}\n".encode())
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) != 3:
            return None  # "<name> missing" or "ambiguous": no body follows
        return header[1].decode(), int(header[2]), len(header[0]) // 2

    def _body(self, size: int, limit: int | None) -> bytes:
        """The object's bytes, up to `limit`; the rest is drained to keep the batch in step."""
        assert self._batch is not None and self._batch.stdout is not None
        data = self._batch.stdout.read(size if limit is None else min(size, limit))
        remaining = size - len(data) + 1  # and the newline after the object
        while remaining > 0:
            chunk = self._batch.stdout.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return data

    def close(self) -> None:
        if self._batch is not None:
            assert self._batch.stdin is not None
            self._batch.stdin.close()
            self._batch.wait()
            self._batch = None

    def __del__(self) -> None:
        self.close()


def open_source(root: Path, revision: str | None) -> Source:
    """The work tree at `root`, or the commit `revision` of the git repository there."""
    if revision is None:
        return WorkTree(root)
    found = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise UsageError(f"--rev {revision}: not a commit of the git repository at {root}")
    return GitRevision(root, found.stdout.strip())

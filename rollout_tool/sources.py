"""Where the bytes of a repository come from: a work tree, or a git revision.

Both answer the same two questions (what is in this folder, what does this
file hold) without ever following a symbolic link, so the same validation runs
on a checkout and on the two sides of a pull request.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from rollout_tool.errors import FatalError
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


class Source(Protocol):
    def listdir(self, path: str) -> list[Entry]:
        """The entries of the folder at `path` ("" is the top), or [] when there is none."""

    def read(self, path: str) -> bytes:
        """The bytes of the regular file at `path`."""

    def kind(self, path: str) -> Kind | None:
        """What is at `path`, without following a link; None when nothing is."""


class WorkTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _full(self, path: str) -> str:
        return os.path.join(self.root, path) if path else str(self.root)

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
    # and a 10 GB file costs nothing more than a 1 MB one.
    chunks = []
    remaining = MAX_BYTES + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


_GIT_KINDS = {"040000": Kind.directory, "100644": Kind.file, "100755": Kind.file, "120000": Kind.symlink}


class GitRevision:
    """A read-only view of one commit; cost grows with what is asked, not with the repository."""

    def __init__(self, root: Path, revision: str) -> None:
        self.root = root
        self.revision = revision
        self._listings: dict[str, list[Entry]] = {}
        self._batch: subprocess.Popen[bytes] | None = None

    def _git(self, *args: str) -> bytes:
        result = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True)
        if result.returncode != 0:
            raise FatalError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def listdir(self, path: str) -> list[Entry]:
        if path not in self._listings:
            spec = f"{self.revision}:{path}" if path else f"{self.revision}:"
            result = subprocess.run(["git", "-C", str(self.root), "ls-tree", "-z", "--long", spec], capture_output=True)
            entries = []
            if result.returncode == 0:
                for record in result.stdout.split(b"\0"):
                    if not record:
                        continue
                    meta, name = record.split(b"\t", 1)
                    mode, _type, _oid, size = meta.split()
                    kind = _GIT_KINDS.get(mode.decode(), Kind.other)
                    entries.append(
                        Entry(name.decode("utf-8", "surrogateescape"), kind, int(size) if size != b"-" else 0)
                    )
            self._listings[path] = entries
        return self._listings[path]

    def kind(self, path: str) -> Kind | None:
        parent, _, name = path.rpartition("/")
        for entry in self.listdir(parent):
            if entry.name == name:
                return entry.kind
        return None

    def read(self, path: str) -> bytes:
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(f"{self.revision}:{path}\n".encode())
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise FileNotFoundError(path)
        size = int(header[2])
        # Keep at most one byte past the limit (the loader reports the size);
        # the rest must still be drained to keep the batch in step.
        data = self._batch.stdout.read(min(size, MAX_BYTES + 1))
        remaining = size - len(data) + 1  # and the newline after the blob
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

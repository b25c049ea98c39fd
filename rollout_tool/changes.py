"""What a change between two revisions touches: the files added, modified and deleted.

Read from git's own tree diff, whose cost follows the size of the change and
not the size of the repository. A rename is a deletion and an addition: both
ends are checked, and moving a record is never a way around a rule.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rollout_tool.errors import FatalError, UsageError


class Status(StrEnum):
    added = "added"
    modified = "modified"
    deleted = "deleted"


@dataclass(frozen=True, order=True)
class FileChange:
    path: str
    status: Status


def _git(root: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=300)
    except FileNotFoundError:
        raise FatalError("git is not installed") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise FatalError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return result.stdout


def commit_of(root: Path, revision: str, option: str) -> str:
    """The commit `revision` names, or a usage error saying which option was wrong."""
    if revision.startswith("-"):
        raise UsageError(f"{option} {revision}: not a revision")
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
        capture_output=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise UsageError(f"{option} {revision}: no such commit in {root}")
    return result.stdout.decode().strip()


def merge_base(root: Path, base: str, head: str) -> str:
    """Where `head` branched from `base`: what the change is measured against."""
    result = subprocess.run(["git", "-C", str(root), "merge-base", base, head], capture_output=True, timeout=60)
    if result.returncode != 0:
        raise UsageError(f"--base {base} and --head {head} share no history")
    return result.stdout.decode().strip()


_STATUS = {"A": Status.added, "M": Status.modified, "T": Status.modified, "D": Status.deleted}


def changed_files(root: Path, base: str, head: str) -> list[FileChange]:
    fields = _git(root, "diff", "--no-ext-diff", "--name-status", "-z", "-M", base, head, "--").split(b"\0")
    changes: list[FileChange] = []
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index].decode()
        if code[0] in "RC":
            old, new = (f.decode("utf-8", "surrogateescape") for f in fields[index + 1 : index + 3])
            if code[0] == "R":
                changes.append(FileChange(old, Status.deleted))
            changes.append(FileChange(new, Status.added))
            index += 3
        else:
            path = fields[index + 1].decode("utf-8", "surrogateescape")
            changes.append(FileChange(path, _STATUS.get(code[0], Status.modified)))
            index += 2
    return sorted(changes)

"""What a change does to the tip of its target branch: the tree merging it produces, and the files it touches.

A change is never measured from an old merge base: a branch cut long ago, or
a head that merges commits of the target branch in odd ways (a criss-cross
merge with `-s ours`), would look unchanged from there while the real merge
deletes or undoes what the target branch gained since. Instead the head is
merged into the tip as GitHub's test merge does (`git merge-tree`), and the
resulting tree is diffed against the tip.

The diff is git's own tree diff, whose cost follows the size of the change
and not the size of the repository. A rename is a deletion and an addition:
both ends are checked, and moving a record is never a way around a rule.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rollout_tool.errors import FatalError, UsageError


class ChangeKind(StrEnum):
    added = "added"
    modified = "modified"
    deleted = "deleted"


@dataclass(frozen=True, order=True)
class FileChange:
    path: str
    status: ChangeKind


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


@dataclass(frozen=True)
class Merge:
    """The tree merging a head into a tip gives, or the paths that conflict (then `tree` is None)."""

    tree: str | None
    conflicts: tuple[str, ...] = ()


def merge(root: Path, tip: str, head: str) -> Merge:
    """Merge `head` into `tip` in git's object store only, as `git merge` would (no work tree, no refs)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "merge-tree", "--write-tree", "-z", "--name-only", tip, head],
            capture_output=True,
            timeout=300,
        )
    except FileNotFoundError:
        raise FatalError("git is not installed") from None
    if result.returncode not in (0, 1):
        message = result.stderr.decode(errors="replace").strip()
        if "unrelated histories" in message:
            raise UsageError(f"{tip} and {head} share no history")
        raise FatalError(f"git merge-tree: {message.splitlines()[-1] if message else 'failed'}")
    fields = result.stdout.split(b"\0")
    tree = fields[0].decode()
    if result.returncode == 0:
        return Merge(tree)
    conflicts: dict[str, None] = {}
    for name in fields[1:]:
        if not name:
            break
        conflicts[name.decode("utf-8", "surrogateescape")] = None
    return Merge(None, tuple(conflicts))


@contextmanager
def exported(root: Path, tree: str) -> Iterator[Path]:
    """The files of `tree` written to a temporary folder, for reading all of them at once.

    Through a private index, so the repository's own index and work tree stay
    as they are. Writing the files costs one git process; reading 100,000 of
    them one request at a time from git costs one round trip each.
    """
    with tempfile.TemporaryDirectory(prefix="rollout-merged-") as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(scratch, "index")}
        folder = Path(scratch) / "tree"
        for args in (["read-tree", tree], ["checkout-index", "--all", f"--prefix={folder}/"]):
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, env=env, timeout=3600)
            if done.returncode != 0:
                message = done.stderr.decode(errors="replace").strip()
                raise FatalError(f"git {args[0]}: {message.splitlines()[-1] if message else 'failed'}")
        folder.mkdir(exist_ok=True)  # an empty tree writes nothing
        yield folder


def tree_of(root: Path, commit: str) -> str:
    return _git(root, "rev-parse", "--verify", f"{commit}^{{tree}}").decode().strip()


@dataclass(frozen=True)
class Step:
    """One pull request of a merge group: the tree before it, the tree after it, and who wrote it."""

    before: str
    after: str
    author: str
    head: str


def queue_steps(root: Path, tip: str, group: str, entries: list[tuple[str, str]]) -> list[Step] | str:
    """The steps of a merge-group commit, in queue order, or why the commit is not what the queue says.

    GitHub's merge queue builds one commit per pull request on top of the
    tip, each the previous one with that pull request merged in. Each step is
    judged as that pull request's change, by its author, against the tree
    the earlier pull requests leave; each must be exactly the merge of its
    head, so no step carries anything its pull request does not.
    """
    if not _is_ancestor(root, tip, group):
        return f"the merge-group commit {group} is not built on the tip {tip}"
    listed = _git(root, "rev-list", "--first-parent", "--reverse", f"{tip}..{group}").decode().split()
    if len(listed) != len(entries):
        return (
            f"the merge-group commit holds {len(listed)} commit{'s' if len(listed) != 1 else ''} on the tip,"
            f" but {len(entries)} pull request{'s are' if len(entries) != 1 else ' is'} queued"
        )
    steps: list[Step] = []
    previous = tip
    for commit, (head, author) in zip(listed, entries, strict=True):
        merged = merge(root, previous, head)
        after = tree_of(root, commit)
        if merged.tree != after:
            return f"queue commit {commit} is not the merge of {head} into the commit before it"
        steps.append(Step(tree_of(root, previous), after, author, head))
        previous = commit
    return steps


def _is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(root), "merge-base", "--is-ancestor", ancestor, descendant], capture_output=True, timeout=60
    )
    return result.returncode == 0


_STATUS = {"A": ChangeKind.added, "M": ChangeKind.modified, "T": ChangeKind.modified, "D": ChangeKind.deleted}


def changed_files(root: Path, base: str, head: str) -> list[FileChange]:
    fields = _git(root, "diff", "--no-ext-diff", "--name-status", "-z", "-M", base, head, "--").split(b"\0")
    changes: list[FileChange] = []
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index].decode()
        if code[0] in "RC":
            old, new = (f.decode("utf-8", "surrogateescape") for f in fields[index + 1 : index + 3])
            if code[0] == "R":
                changes.append(FileChange(old, ChangeKind.deleted))
            changes.append(FileChange(new, ChangeKind.added))
            index += 3
        else:
            path = fields[index + 1].decode("utf-8", "surrogateescape")
            changes.append(FileChange(path, _STATUS.get(code[0], ChangeKind.modified)))
            index += 2
    return sorted(changes)

"""The `rollout bot` commands as plain functions: settings from the environment, then the bot."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from rollout_tool.errors import FatalError, UsageError
from rollout_tool.github import bot
from rollout_tool.github.client import Client, Settings
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree


def pull_request_number(settings: Settings, given: int | None) -> int:
    """--pr, else the pull request of the event that started the workflow."""
    if given is not None:
        return given
    event = settings.event()
    for candidate in (event.get("pull_request"), event.get("issue"), event):
        if isinstance(candidate, dict) and isinstance(candidate.get("number"), int):
            return int(candidate["number"])
    raise UsageError("which pull request? give --pr N (the event has no pull request number)")


def comment(root: Path, env: Mapping[str, str], pr: int | None, body_file: Path, labels: list[str]) -> Iterator[str]:
    try:
        body = body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--body-file {body_file}: cannot read it ({exc})") from None
    settings = Settings.from_env(env)
    number = pull_request_number(settings, pr)
    return bot.comment(Client(settings), Repository(WorkTree(root)), number, body, labels)


def sync(root: Path, env: Mapping[str, str], today: dt.date) -> Iterator[str]:
    settings = Settings.from_env(env)
    return bot.sync(Client(settings), Repository(WorkTree(root)), today, settings.sha)


def remind(root: Path, env: Mapping[str, str], today: dt.date) -> Iterator[str]:
    settings = Settings.from_env(env)
    return bot.remind(Client(settings), Repository(WorkTree(root)), today)


def digest(root: Path, env: Mapping[str, str], today: dt.date) -> Iterator[str]:
    settings = Settings.from_env(env)
    return bot.digest(Client(settings), Repository(WorkTree(root)), today)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FatalError(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def push_branch(root: Path, remote: str, branch: str, rev: str = "HEAD") -> str | None:
    """Put `rev` on `branch` of `remote`, unless that branch already holds the same files."""
    ref = f"refs/heads/{branch}"
    if _git(root, "ls-remote", remote, ref).strip():
        _git(root, "fetch", "--quiet", remote, ref)
        if _git(root, "rev-parse", "FETCH_HEAD^{tree}") == _git(root, "rev-parse", f"{rev}^{{tree}}"):
            return None
    # The branch is the bot's own: each run proposes the default branch plus all of today's transitions.
    _git(root, "push", "--quiet", "--force", remote, f"{rev}:{ref}")
    return f"pushed {_git(root, 'rev-parse', '--short=12', rev).strip()} to {branch}"


def propose(root: Path, env: Mapping[str, str], branch: str, remote: str) -> Iterator[str]:
    if subprocess.run(["git", "check-ref-format", f"refs/heads/{branch}"], check=False).returncode != 0:
        raise UsageError(f"--branch {branch!r} is not a valid branch name")
    settings = Settings.from_env(env)
    # The remote's HEAD is its default branch: when HEAD holds the same files, `advance` changed nothing.
    _git(root, "fetch", "--quiet", remote, "HEAD")
    if _git(root, "rev-parse", "FETCH_HEAD^{tree}") == _git(root, "rev-parse", "HEAD^{tree}"):
        return iter(())
    message = _git(root, "log", "-1", "--format=%B", "HEAD")
    return bot.propose(
        Client(settings), Repository(WorkTree(root)), branch, message, lambda: push_branch(root, remote, branch)
    )

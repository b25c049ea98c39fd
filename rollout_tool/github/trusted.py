"""The trusted check of a pull request or a merge group: one `rollout check-pr`, its comment and labels,
and the bot app's status.

    rollout bot check-pull-request --artifact DIR --head-sha SHA
    rollout bot check-merge-group --head-sha SHA --head-ref REF

They run in pull-request-comment.yml: a checkout of the default branch, with
the head fetched as git data (never checked out, never run). Nothing the
pull request wrote is believed: the artifact of its own run gives only its
number, checked against the API; author, opening day and head come from the
API; the base is the tip of the target branch now.

`check-pull-request` judges merging the head into that tip, posts the comment and
labels with the workflow's token, and the verdict as the commit status
`rollout / check` on the head with the bot's GitHub App token
(ROLLOUT_STATUS_TOKEN, the app's slug in ROLLOUT_STATUS_APP): branch protection
requires that context from that app, which no workflow of a pull request can write as.

`check-merge-group` judges a merge queue's commit: one pull request per commit on
the tip, in queue order, each by its own author (`--queue`), and posts the
status on the merge-group commit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONTEXT = "rollout / check"
MAX_BODY = 60_000  # GitHub refuses comments over 65,536 characters
QUEUE_REF = re.compile(r"^(?:refs/heads/)?gh-readonly-queue/(?P<base>.+)/pr-\d+-[0-9a-f]{40}$")
QUEUED_PULL = re.compile(r"#(\d+)\b")


class CheckError(Exception):
    """The check cannot go on; the message says why, as a workflow error."""


def api(method: str, path: str, token: str, body: object = None) -> Any:
    base = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    request = urllib.request.Request(
        f"{base}/repos/{os.environ['GITHUB_REPOSITORY']}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except (urllib.error.URLError, ValueError) as exc:
        detail = exc.read().decode(errors="replace") if isinstance(exc, urllib.error.HTTPError) else str(exc)
        raise CheckError(f"{method} {path}: {detail}") from None


def pull_request(number: int) -> dict[str, Any]:
    found = api("GET", f"/pulls/{number}", os.environ["GITHUB_TOKEN"])
    try:
        for value in (found["head"]["sha"], found["base"]["ref"], found["user"]["login"], found["created_at"]):
            if not isinstance(value, str):
                raise TypeError(value)
    except (KeyError, TypeError):
        raise CheckError(f"pull request #{number}: the API gave no head, base, author or opening date") from None
    return dict(found)


def author_of(pull: dict[str, Any]) -> str:
    """Whose rights judge the change: its opener's, except for the bot app's pull request of a submitted report form.

    That one (branch `ea-report/N` of this repository, opened by the app) holds what issue N's author
    asked for, so it is judged with that author's rights, as the API names the issue's author; a fork's
    branch of the same name, or anyone else's pull request, is judged as its opener.
    """
    from rollout_tool.github.form import BRANCH_PREFIX

    login = str(pull["user"]["login"])
    app = os.environ.get("ROLLOUT_STATUS_APP", "")
    head = pull["head"]
    ref = str(head.get("ref", ""))
    same_repository = (head.get("repo") or {}).get("full_name") == os.environ["GITHUB_REPOSITORY"]
    issue = ref.removeprefix(BRANCH_PREFIX)
    if not (app and login == f"{app}[bot]" and same_repository and ref.startswith(BRANCH_PREFIX)):
        return login
    if not re.fullmatch(r"[1-9][0-9]{0,9}", issue):
        raise CheckError(f"pull request #{pull['number']}: {ref} names no issue")
    found = api("GET", f"/issues/{issue}", os.environ["GITHUB_TOKEN"])
    author = (found.get("user") or {}).get("login") if isinstance(found, dict) else None
    if not isinstance(author, str) or "pull_request" in found:
        raise CheckError(f"pull request #{pull['number']}: #{issue}, the form it was made from, is not an issue")
    return author


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CheckError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def tip_of(branch: str) -> str:
    """The target branch's tip as the checkout fetched it (moments ago)."""
    return git("rev-parse", "--verify", f"refs/remotes/origin/{branch}^{{commit}}")


def check_pr(*args: str) -> tuple[str, dict[str, Any]]:
    """One `rollout check-pr` call: the comment (markdown) and the same result as JSON."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "check.json"
        done = subprocess.run(
            [sys.executable, "-m", "rollout_tool", "check-pr", *args, "--format", "markdown", "--also", f"json={data}"],
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stderr.write(done.stderr)
        try:
            result = json.loads(data.read_text(encoding="utf-8")) if done.returncode in (0, 1) else None
        except (OSError, ValueError):
            result = None
    if not isinstance(result, dict) or not isinstance(result.get("allowed"), bool):
        body = "### Rollout check: could not run\n\n`rollout check-pr` gave no result; see the workflow's log.\n"
        return body, {"allowed": False, "labels": ["rollout: refused"], "problems": []}
    return done.stdout, result


def post_status(sha: str, result: dict[str, Any]) -> None:
    """The verdict on `sha`, as the bot's GitHub App: the check branch protection requires."""
    errors = sum(1 for p in result.get("problems", []) if isinstance(p, dict) and p.get("level") == "error")
    allowed = result["allowed"] is True
    description = "allowed" if allowed else f"refused: {errors} problem{'s' if errors != 1 else ''}"
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    run = f"{server}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"
    body = {"state": "success" if allowed else "failure", "context": CONTEXT, "description": description}
    token = os.environ["ROLLOUT_STATUS_TOKEN"]
    # A re-run that reaches the same verdict posts nothing: the app's newest status already says it.
    app = f"{os.environ.get('ROLLOUT_STATUS_APP', '')}[bot]"
    posted = api("GET", f"/commits/{sha}/statuses?per_page=100", token)
    ours = [s for s in posted if isinstance(s, dict) and s.get("context") == CONTEXT and _creator(s) == app]
    if ours and (ours[0].get("state"), ours[0].get("description")) == (body["state"], description):
        print(f"{CONTEXT} on {sha}: already {body['state']} ({description})")
        return
    api("POST", f"/statuses/{sha}", token, {**body, "target_url": run})
    print(f"{CONTEXT} on {sha}: {body['state']} ({description})")


def _creator(status: dict[str, Any]) -> object:
    creator = status.get("creator")
    return creator.get("login") if isinstance(creator, dict) else None


def summarise(body: str) -> None:
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(body)


def command_pull_request(artifact: Path, head_sha: str) -> int:
    try:
        target = json.loads((artifact / "pull-request.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        target = None
    number = target.get("number") if isinstance(target, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise CheckError("the artifact names no pull request")
    pull = pull_request(number)
    head = str(pull["head"]["sha"])
    if head != head_sha:
        # The artifact names another pull request, or a newer push made this run stale: the newer run checks.
        print(f"::warning::pull request #{number} is at {head}, not at the checked {head_sha}: not checking")
        return 0
    if pull.get("state") != "open":
        # Merged or closed: a verdict against today's tip would say nothing about what landed.
        print(f"pull request #{number} is {pull.get('state')}: not checking")
        return 0
    git("cat-file", "-e", f"{head}^{{commit}}")
    tip = tip_of(str(pull["base"]["ref"]))
    author, opened = author_of(pull), str(pull["created_at"])[:10]
    body, result = check_pr("--base", tip, "--head", head, "--author", author, "--opened", opened)
    summarise(body)
    post_status(head, result)
    if len(body) > MAX_BODY:
        raise CheckError(f"the comment body is over {MAX_BODY} characters")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".md", delete=False) as written:
        written.write(body)
    command = [sys.executable, "-m", "rollout_tool", "bot", "comment", "--pr", str(number), "--body-file", written.name]
    for label in result.get("labels", []):
        command += ["--label", str(label)]
    return subprocess.run(command, check=False, env=bot_environment()).returncode


def bot_environment() -> dict[str, str]:
    """The bot writes as the one identity rollout.yaml names: its app when it names the app, else the workflow's token."""
    from rollout_tool.repository import Repository
    from rollout_tool.sources import WorkTree

    app = os.environ.get("ROLLOUT_STATUS_APP", "")
    config = Repository(WorkTree(Path.cwd())).config()
    if app and config is not None and config.bot == f"{app}[bot]":
        return {**os.environ, "GITHUB_TOKEN": os.environ["ROLLOUT_STATUS_TOKEN"], "ROLLOUT_BOT_APP": app}
    return dict(os.environ)


def command_merge_group(head_sha: str, head_ref: str) -> int:
    ref = QUEUE_REF.match(head_ref)
    if ref is None:
        raise CheckError(f"{head_ref} is not a merge queue's branch")
    head = head_sha
    # The tip the queue built the group on; the queue itself drops a group whose base moved.
    base = git("merge-base", tip_of(ref.group("base")), head)
    queue = []
    for commit in git("rev-list", "--first-parent", "--reverse", f"{base}..{head}").split():
        found = QUEUED_PULL.search(git("log", "-1", "--format=%s", commit))
        if found is None:
            raise CheckError(f"merge-group commit {commit} names no pull request")
        pull = pull_request(int(found.group(1)))
        # check-pr verifies that each commit is exactly the merge of this head into the one before.
        queue += ["--queue", f"{pull['head']['sha']}:{author_of(pull)}:{str(pull['created_at'])[:10]}"]
    if not queue:
        raise CheckError(f"the merge group {head} holds no commit on {base}")
    body, result = check_pr("--base", base, "--head", head, *queue)
    print(body)
    summarise(body)
    post_status(head, result)
    return 0


def _exit_code(check: Callable[[], int]) -> int:
    """What a check returns, or 1 with its reason as a workflow error when it cannot go on."""
    try:
        return check()
    except CheckError as error:
        print(f"::error::{error}")
        return 1


def check_pull_request(artifact: Path, head_sha: str) -> int:
    """The exit code of the trusted check of the pull request the artifact names, at `head_sha`."""
    return _exit_code(lambda: command_pull_request(artifact, head_sha))


def check_merge_group(head_sha: str, head_ref: str) -> int:
    """The exit code of the trusted check of a merge queue's commit `head_sha` on its branch `head_ref`."""
    return _exit_code(lambda: command_merge_group(head_sha, head_ref))

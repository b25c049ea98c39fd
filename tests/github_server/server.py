"""A stateful GitHub-compatible REST server for tests, on 127.0.0.1.

It implements the endpoints the bot uses with GitHub's semantics (numbers
shared by issues and pull requests, labels created on first use, one release
per tag, refs that cannot be created twice, pagination with Link headers,
rate-limit headers, tokens with or without write access) and answers with the
shapes of GitHub's REST description. Faults can be queued by method and path:
a server error or a rate limit before the request is carried out, a server
error after it was carried out, or an answer slower than the client waits.

Commit statuses remember the app that posted them; branch protection
(required status checks, each from an app, and `strict`) decides whether
`PUT .../pulls/{n}/merge` merges or refuses (405). A repository whose state
names `"git_dir"` (a bare repository the tests push to) is served from it:
branches are read there, a merge is a real merge commit, and a protected
branch refuses pushes through an `update` hook.

The whole state is plain JSON: tests seed it and read it back. Admin
endpoints (no token; the server listens on 127.0.0.1 only):

    GET /_state    everything: repositories, issues, comments, labels, refs, releases, tokens
                   (a token {"login": "github-actions[bot]", "app": "github-actions", "write": true}
                   is an installation token: it acts as the app's account and has no user; with
                   "permissions" it may write only what they grant, as a workflow's token)
    PUT /_state    replace it (seed a scenario)
    GET /_log      every request: method, path, status
    POST /_app_tokens  an installation token of a GitHub App in the state's "apps":
                   {"client_id": ..., "private_key": ..., "permissions": {"statuses": "write"}}
                   (what actions/create-github-app-token's stand-in asks for)
    POST /_tokens  add tokens: {"<token>": {"login": ..., "app": ..., "permissions": {"issues": "write"}}}
    POST /_faults  queue faults: [{"method": "POST", "path": "/repos/*/issues",
                   "status": 502, "when": "after", "times": 1}, ...]; see `Fault`
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fnmatch
import hashlib
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.github_server import objects

Json = dict[str, Any]
DOCS = "https://docs.github.com/rest"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
    "Please retry your request again later."
)


APP_CLIENT_ID = "Iv23li-rollout-bot"
APP_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nthe test server's key of rollout-bot\n-----END RSA PRIVATE KEY-----"
BOT_APP: Json = {
    "slug": "rollout-bot",
    "id": 424242,
    "installation_id": 4242,
    "private_key": APP_PRIVATE_KEY,
    # What the README asks the app to be granted.
    "permissions": {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "statuses": "write",
        "checks": "read",
    },
}


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_state(
    repository: str = "egi/rollout",
    *,
    tokens: dict[str, Json] | None = None,
    head_sha: str = "0" * 40,
) -> Json:
    """A fresh server state holding one empty repository with a `main` branch."""
    created = now()
    return {
        "next_id": 1000,
        "tokens": tokens
        if tokens is not None
        else {
            # An installation token of the bot's GitHub App, and a person's read-only one.
            "bot-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": True},
            "read-token": {"login": "reader", "write": False},
        },
        # The bot's GitHub App: actions/create-github-app-token (or its stand-in) trades
        # the client id and private key for an installation token (POST /_app_tokens).
        "apps": {APP_CLIENT_ID: dict(BOT_APP)},
        "rate": {"limit": 5000, "remaining": 5000, "reset": int(time.time()) + 3600},
        "repos": {repository: new_repository(1, created, head_sha)},
    }


def new_repository(repo_id: int, created: str, head_sha: str) -> Json:
    return {
        "id": repo_id,
        "created_at": created,
        "default_branch": "main",
        "private": False,
        "description": None,
        "next_number": 1,
        "issues": {},
        "comments": {},
        "labels": {},
        "releases": {},
        "refs": {"refs/heads/main": {"sha": head_sha, "type": "commit"}},
    }


@dataclass
class Fault:
    """One queued fault; `path` is a glob over the request path, without the query."""

    method: str = "*"
    path: str = "*"
    status: int | None = 502
    # before: answer without carrying out the request; after: carry it out, then fail
    when: str = "before"
    retry_after: int | None = None
    # secondary (403/429 with a message) or primary (403, x-ratelimit-remaining: 0)
    rate_limit: str | None = None
    reset_in: int = 1
    delay: float = 0.0
    times: int = 1
    # Let this many matching requests through first: `{"method": "WRITE", "skip": 3}`
    # fails the fourth write, whatever it is (a cut between two writes).
    skip: int = 0

    def matches(self, method: str, path: str) -> bool:
        method_matches = self.method in ("*", method) or (self.method == "WRITE" and method != "GET")
        return method_matches and fnmatch.fnmatchcase(path, self.path)


class HttpError(Exception):
    def __init__(self, status: int, message: str, errors: list[Json] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors:
            self.body["errors"] = errors


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    login: str
    base: str
    params: dict[str, str] = field(default_factory=dict)
    # The GitHub App an installation token was made for ("github-actions" for a workflow's token).
    app: str | None = None


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


_GROUPS = {"number": r"\d+", "comment_id": r"\d+", "release_id": r"\d+", "rest": r".+"}
Handler = Callable[["GitHubState", Request], Answer]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        def group(match: re.Match[str]) -> str:
            name = match.group(1)
            return f"(?P<{name}>{_GROUPS.get(name, '[^/]+')})"

        regex = re.sub(r"\{(\w+)\}", group, pattern)
        ROUTES.append((method, re.compile(f"^{regex}$"), handler))
        return handler

    return register


class GitHubState:
    """The data and the faults, behind one lock."""

    def __init__(self, data: Json | None = None) -> None:
        self.data = data if data is not None else new_state()
        self.faults: list[Fault] = []
        self.log: list[Json] = []
        # Tests that check the answers against GitHub's description keep them in the log.
        self.keep_bodies = False
        self.lock = threading.RLock()

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def next_id(self) -> int:
        self.data["next_id"] += 1
        return int(self.data["next_id"])

    def repo(self, request: Request) -> tuple[str, Json]:
        full_name = f"{request.params['owner']}/{request.params['repo']}"
        repo = self.data["repos"].get(full_name)
        if repo is None:
            raise HttpError(404, "Not Found")
        return full_name, repo

    def stored(self, request: Request, collection: str, param: str) -> tuple[str, Json, Json]:
        """The object a path parameter names in one of the repository's collections, or 404."""
        full_name, repo = self.repo(request)
        record = repo[collection].get(request.params[param])
        if record is None:
            raise HttpError(404, "Not Found")
        return full_name, repo, record

    def issue(self, request: Request) -> tuple[str, Json, Json]:
        return self.stored(request, "issues", "number")

    def ensure_label(self, repo: Json, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise HttpError(422, "Validation Failed", [{"resource": "Label", "code": "invalid", "field": "name"}])
        if name not in repo["labels"]:
            repo["labels"][name] = {"id": self.next_id(), "name": name, "color": "ededed", "description": None}


# ------------------------------------------------------------------ helpers


def _body_dict(request: Request) -> Json:
    if not isinstance(request.body, dict):
        raise HttpError(400, "Problems parsing JSON")
    return request.body


def _require_string(body: Json, key: str, resource: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise HttpError(422, "Validation Failed", [{"resource": resource, "code": "missing_field", "field": key}])
    return value


def _require_ref_name(ref: str) -> None:
    """GitHub refuses a ref name git refuses (`git check-ref-format`)."""
    checked = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False)
    if checked.returncode != 0:
        raise HttpError(422, f"{ref} is not a valid ref name.")


def _label_names(body: Any) -> list[str]:
    names = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(names, list):
        raise HttpError(422, "Invalid request.\n\nFor 'links/0/schema', nil is not an array.")
    return [n["name"] if isinstance(n, dict) else n for n in names]


def paginate(request: Request, items: list[Json]) -> Answer:
    try:
        per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
    except ValueError as exc:
        raise HttpError(422, "Validation Failed: per_page and page are numbers") from exc
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []

    def link(number: int, rel: str) -> str:
        query = {**request.query, "per_page": str(per_page), "page": str(number)}
        return f'<{request.base}{request.path}?{urllib.parse.urlencode(query)}>; rel="{rel}"'

    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    return Answer(200, chunk, {"Link": ", ".join(links)} if links else {})


# ------------------------------------------------------------------ users and repositories


@route("GET", "/user")
def get_authenticated_user(state: GitHubState, request: Request) -> Answer:
    if request.app is not None:
        # As GitHub answers an installation token: it acts as an app, not as a user.
        raise HttpError(403, "Resource not accessible by integration")
    return Answer(200, objects.public_user(request.base, request.login, "2020-01-01T00:00:00Z"))


@route("GET", "/users/{login}")
def get_user(state: GitHubState, request: Request) -> Answer:
    return Answer(200, objects.public_user(request.base, request.params["login"], "2020-01-01T00:00:00Z"))


@route("GET", "/rate_limit")
def get_rate_limit(state: GitHubState, request: Request) -> Answer:
    rate = state.data["rate"]
    core = {
        "limit": rate["limit"],
        "remaining": rate["remaining"],
        "reset": rate["reset"],
        "used": rate["limit"] - rate["remaining"],
    }
    return Answer(200, {"resources": {"core": core, "search": core}, "rate": core})


@route("GET", "/repos/{owner}/{repo}")
def get_repository(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    return Answer(200, objects.repository(request.base, full_name, repo))


# ------------------------------------------------------------------ issues


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    wanted_state = request.query.get("state", "open")
    if wanted_state not in ("open", "closed", "all"):
        raise HttpError(422, "Validation Failed", [{"resource": "Issue", "code": "invalid", "field": "state"}])
    labels = {n for n in request.query.get("labels", "").split(",") if n}
    creator = request.query.get("creator")
    found = [
        issue
        for issue in repo["issues"].values()
        if wanted_state in ("all", issue["state"])
        and labels <= set(issue["labels"])
        and (creator is None or issue["user"] == creator)
    ]
    key = "updated_at" if request.query.get("sort") == "updated" else "created_at"
    found.sort(key=lambda i: (i[key], i["number"]), reverse=request.query.get("direction", "desc") == "desc")
    return paginate(request, [objects.issue(request.base, full_name, repo, issue) for issue in found])


def _new_issue(state: GitHubState, repo: Json, title: str, body: Any, user: str, labels: list[str]) -> Json:
    """An open issue with the repository's next number, stored."""
    number = repo["next_number"]
    repo["next_number"] += 1
    created = now()
    record = {
        "number": number,
        "id": state.next_id(),
        "title": title,
        "body": body,
        "user": user,
        "labels": labels,
        "state": "open",
        "state_reason": None,
        "created_at": created,
        "updated_at": created,
        "closed_at": None,
        "closed_by": None,
    }
    repo["issues"][str(number)] = record
    return record


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    body = _body_dict(request)
    title = _require_string(body, "title", "Issue")
    labels = _label_names(body)
    for name in labels:
        state.ensure_label(repo, name)
    record = _new_issue(state, repo, title, body.get("body"), request.login, list(dict.fromkeys(labels)))
    return Answer(201, objects.issue(request.base, full_name, repo, record))


@route("GET", "/repos/{owner}/{repo}/issues/{number}")
def get_issue(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    return Answer(200, objects.issue(request.base, full_name, repo, record))


@route("PATCH", "/repos/{owner}/{repo}/issues/{number}")
def update_issue(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    body = _body_dict(request)
    if "title" in body:
        record["title"] = _require_string(body, "title", "Issue")
    if "body" in body:
        record["body"] = body["body"]
    if "labels" in body:
        names = _label_names(body)
        for name in names:
            state.ensure_label(repo, name)
        record["labels"] = list(dict.fromkeys(names))
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise HttpError(422, "Validation Failed", [{"resource": "Issue", "code": "invalid", "field": "state"}])
        if body["state"] != record["state"]:
            record["state"] = body["state"]
            closed = body["state"] == "closed"
            record["closed_at"] = now() if closed else None
            record["closed_by"] = request.login if closed else None
            record["state_reason"] = body.get("state_reason") or "completed" if closed else "reopened"
    record["updated_at"] = now()
    return Answer(200, objects.issue(request.base, full_name, repo, record))


# ------------------------------------------------------------------ comments


@route("GET", "/repos/{owner}/{repo}/issues/{number}/comments")
def list_comments(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    found = sorted((c for c in repo["comments"].values() if c["issue"] == record["number"]), key=lambda c: c["id"])
    return paginate(request, [objects.comment(request.base, full_name, repo, c) for c in found])


@route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
def create_comment(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    text = _require_string(_body_dict(request), "body", "IssueComment")
    created = now()
    comment = {
        "id": state.next_id(),
        "issue": record["number"],
        "body": text,
        "user": request.login,
        "created_at": created,
        "updated_at": created,
    }
    repo["comments"][str(comment["id"])] = comment
    return Answer(201, objects.comment(request.base, full_name, repo, comment))


def _comment(state: GitHubState, request: Request) -> tuple[str, Json, Json]:
    return state.stored(request, "comments", "comment_id")


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(state: GitHubState, request: Request) -> Answer:
    full_name, repo, comment = _comment(state, request)
    return Answer(200, objects.comment(request.base, full_name, repo, comment))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(state: GitHubState, request: Request) -> Answer:
    full_name, repo, comment = _comment(state, request)
    if comment["user"] != request.login:
        raise HttpError(403, "Resource not accessible by integration")
    comment["body"] = _require_string(_body_dict(request), "body", "IssueComment")
    comment["updated_at"] = now()
    return Answer(200, objects.comment(request.base, full_name, repo, comment))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(state: GitHubState, request: Request) -> Answer:
    _, repo, comment = _comment(state, request)
    del repo["comments"][str(comment["id"])]
    return Answer(204, None)


# ------------------------------------------------------------------ labels


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    found = sorted(repo["labels"].values(), key=lambda label: label["name"].lower())
    return paginate(request, [objects.label(request.base, full_name, label) for label in found])


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    body = _body_dict(request)
    name = _require_string(body, "name", "Label")
    if name in repo["labels"]:
        raise HttpError(422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}])
    repo["labels"][name] = {
        "id": state.next_id(),
        "name": name,
        "color": str(body.get("color", "ededed")).lstrip("#"),
        "description": body.get("description"),
    }
    return Answer(201, objects.label(request.base, full_name, repo["labels"][name]))


@route("GET", "/repos/{owner}/{repo}/labels/{name}")
def get_label(state: GitHubState, request: Request) -> Answer:
    full_name, _, label = state.stored(request, "labels", "name")
    return Answer(200, objects.label(request.base, full_name, label))


def _issue_labels(request: Request, full_name: str, repo: Json, record: Json) -> list[Json]:
    return [objects.label(request.base, full_name, repo["labels"][name]) for name in record["labels"]]


@route("GET", "/repos/{owner}/{repo}/issues/{number}/labels")
def list_issue_labels(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    return paginate(request, _issue_labels(request, full_name, repo, record))


@route("POST", "/repos/{owner}/{repo}/issues/{number}/labels")
def add_issue_labels(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    for name in _label_names(request.body):
        state.ensure_label(repo, name)
        if name not in record["labels"]:
            record["labels"].append(name)
            record["updated_at"] = now()
    return Answer(200, _issue_labels(request, full_name, repo, record))


@route("PUT", "/repos/{owner}/{repo}/issues/{number}/labels")
def set_issue_labels(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    names = _label_names(request.body)
    for name in names:
        state.ensure_label(repo, name)
    record["labels"] = list(dict.fromkeys(names))
    record["updated_at"] = now()
    return Answer(200, _issue_labels(request, full_name, repo, record))


@route("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels/{name}")
def remove_issue_label(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    name = request.params["name"]
    if name not in record["labels"]:
        raise HttpError(404, "Label does not exist")
    record["labels"].remove(name)
    record["updated_at"] = now()
    return Answer(200, _issue_labels(request, full_name, repo, record))


@route("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels")
def remove_all_issue_labels(state: GitHubState, request: Request) -> Answer:
    _, _, record = state.issue(request)
    record["labels"] = []
    record["updated_at"] = now()
    return Answer(204, None)


# ------------------------------------------------------------------ pull requests


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    wanted = request.query.get("state", "open")
    found = [i for i in repo["issues"].values() if i.get("pull") and wanted in ("all", i["state"])]
    owner = full_name.split("/")[0]
    if "head" in request.query:  # owner:branch, as GitHub filters
        found = [i for i in found if f"{owner}:{i['pull']['head']['ref']}" == request.query["head"]]
    if "base" in request.query:
        found = [i for i in found if i["pull"]["base"]["ref"] == request.query["base"]]
    found.sort(key=lambda i: i["number"], reverse=request.query.get("direction", "desc") == "desc")
    return paginate(request, [objects.pull(request.base, full_name, repo, i) for i in found])


@route("GET", "/repos/{owner}/{repo}/pulls/{number}")
def get_pull(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    if not record.get("pull"):
        raise HttpError(404, "Not Found")
    return Answer(200, objects.pull(request.base, full_name, repo, record))


def _branch_sha(repo: Json, branch: str) -> str:
    # Without git serving the repository, pushes go to a git remote, not to this server: a branch
    # it does not hold has the default branch's sha.
    found = branch_tip(repo, branch) or branch_tip(repo, repo["default_branch"])
    if found is None:
        raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid", "field": "head"}])
    return found


@route("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    body = _body_dict(request)
    title = _require_string(body, "title", "PullRequest")
    head = _require_string(body, "head", "PullRequest").removeprefix(f"{full_name.split('/')[0]}:")
    base = _require_string(body, "base", "PullRequest")
    _require_ref_name(f"refs/heads/{head}")
    if f"refs/heads/{base}" not in repo["refs"]:
        raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid", "field": "base"}])
    for other in repo["issues"].values():
        if other.get("pull") and other["state"] == "open" and other["pull"]["head"]["ref"] == head:
            message = f"A pull request already exists for {full_name.split('/')[0]}:{head}."
            raise HttpError(
                422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": message}]
            )
    record = _new_issue(state, repo, title, body.get("body"), request.login, [])
    record["pull"] = {
        "head": {"ref": head, "sha": _branch_sha(repo, head)},
        "base": {"ref": base, "sha": _branch_sha(repo, base)},
        "draft": bool(body.get("draft", False)),
    }
    return Answer(201, objects.pull(request.base, full_name, repo, record))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{number}")
def update_pull(state: GitHubState, request: Request) -> Answer:
    full_name, repo, record = state.issue(request)
    if not record.get("pull"):
        raise HttpError(404, "Not Found")
    body = _body_dict(request)
    for key in ("title", "body"):
        if key in body:
            record[key] = body[key]
    if body.get("state") in ("open", "closed"):
        record["state"] = body["state"]
        record["closed_at"] = now() if body["state"] == "closed" else None
    record["updated_at"] = now()
    return Answer(200, objects.pull(request.base, full_name, repo, record))


@route("POST", "/graphql")
def graphql(state: GitHubState, request: Request) -> Answer:
    """Only the mutation that turns on a pull request's auto-merge, answered as GitHub's GraphQL API does."""
    body = _body_dict(request)
    query = str(body.get("query", ""))
    if "enablePullRequestAutoMerge" not in query:
        return Answer(200, {"errors": [{"message": "this test server answers only enablePullRequestAutoMerge"}]})
    given = (body.get("variables") or {}).get("input") or {}
    for repo in state.data["repos"].values():
        for record in repo["issues"].values():
            if record.get("pull") and objects.node_id("PullRequest", record["id"]) == given.get("pullRequestId"):
                if not repo.get("allow_auto_merge", True):
                    message = "Pull request Auto merge is not allowed for this repository"
                    return Answer(200, {"data": {"enablePullRequestAutoMerge": None}, "errors": [{"message": message}]})
                if record["state"] != "open":
                    message = "Pull request Pull request is in clean status"
                    return Answer(200, {"data": {"enablePullRequestAutoMerge": None}, "errors": [{"message": message}]})
                record["pull"]["auto_merge"] = {
                    "enabled_by": request.login,
                    "merge_method": str(given.get("mergeMethod", "MERGE")).lower(),
                    "commit_title": given.get("commitHeadline"),
                    "commit_message": given.get("commitBody"),
                }
                actor = {"login": request.login, "avatarUrl": "", "resourcePath": f"/{request.login}", "url": ""}
                return Answer(200, {"data": {"enablePullRequestAutoMerge": {"actor": actor, "clientMutationId": None}}})
    message = f"Could not resolve to a node with the global id of '{given.get('pullRequestId')}'"
    return Answer(
        200, {"data": {"enablePullRequestAutoMerge": None}, "errors": [{"type": "NOT_FOUND", "message": message}]}
    )


# ------------------------------------------------------------------ releases


def _release(state: GitHubState, request: Request) -> tuple[str, Json, Json]:
    return state.stored(request, "releases", "release_id")


@route("GET", "/repos/{owner}/{repo}/releases")
def list_releases(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    found = sorted(repo["releases"].values(), key=lambda r: r["id"], reverse=True)
    return paginate(request, [objects.release(request.base, full_name, r) for r in found])


@route("POST", "/repos/{owner}/{repo}/releases")
def create_release(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    body = _body_dict(request)
    tag = _require_string(body, "tag_name", "Release")
    if any(r["tag_name"] == tag for r in repo["releases"].values()):
        raise HttpError(
            422, "Validation Failed", [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]
        )
    target = body.get("target_commitish") or repo["default_branch"]
    ref = f"refs/tags/{tag}"
    _require_ref_name(ref)
    if ref not in repo["refs"] and not body.get("draft"):
        branch = repo["refs"].get(f"refs/heads/{target}")
        sha = branch["sha"] if branch else target
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise HttpError(
                422, "Validation Failed", [{"resource": "Release", "code": "invalid", "field": "target_commitish"}]
            )
        repo["refs"][ref] = {"sha": sha, "type": "commit"}
    created = now()
    release = {
        "id": state.next_id(),
        "tag_name": tag,
        "target_commitish": target,
        "name": body.get("name"),
        "body": body.get("body"),
        "draft": bool(body.get("draft", False)),
        "prerelease": bool(body.get("prerelease", False)),
        "author": request.login,
        "created_at": created,
        "updated_at": created,
    }
    repo["releases"][str(release["id"])] = release
    return Answer(201, objects.release(request.base, full_name, release))


@route("GET", "/repos/{owner}/{repo}/releases/tags/{rest}")
def get_release_by_tag(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    for release in repo["releases"].values():
        if release["tag_name"] == request.params["rest"]:
            return Answer(200, objects.release(request.base, full_name, release))
    raise HttpError(404, "Not Found")


@route("GET", "/repos/{owner}/{repo}/releases/{release_id}")
def get_release(state: GitHubState, request: Request) -> Answer:
    full_name, _, release = _release(state, request)
    return Answer(200, objects.release(request.base, full_name, release))


@route("PATCH", "/repos/{owner}/{repo}/releases/{release_id}")
def update_release(state: GitHubState, request: Request) -> Answer:
    full_name, _, release = _release(state, request)
    body = _body_dict(request)
    for key in ("tag_name", "target_commitish", "name", "body", "draft", "prerelease"):
        if key in body:
            release[key] = body[key]
    release["updated_at"] = now()
    return Answer(200, objects.release(request.base, full_name, release))


# ------------------------------------------------------------------ git refs


def _find_ref(repo: Json, ref: str) -> Json:
    record: Json | None = repo["refs"].get(f"refs/{ref}")
    if record is None:
        raise HttpError(404, "Not Found")
    return record


@route("GET", "/repos/{owner}/{repo}/git/ref/{rest}")
def get_ref(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    ref = request.params["rest"]
    return Answer(200, objects.git_ref(request.base, full_name, f"refs/{ref}", _find_ref(repo, ref)))


@route("GET", "/repos/{owner}/{repo}/git/refs/{rest}")
def get_ref_legacy(state: GitHubState, request: Request) -> Answer:
    return get_ref(state, request)


@route("GET", "/repos/{owner}/{repo}/git/matching-refs/{rest}")
def matching_refs(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    prefix = f"refs/{request.params['rest']}"
    found = [
        objects.git_ref(request.base, full_name, r, v) for r, v in sorted(repo["refs"].items()) if r.startswith(prefix)
    ]
    return paginate(request, found)


@route("POST", "/repos/{owner}/{repo}/git/refs")
def create_ref(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    body = _body_dict(request)
    ref = _require_string(body, "ref", "Reference")
    sha = _require_string(body, "sha", "Reference")
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise HttpError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    _require_ref_name(ref)
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise HttpError(422, "Object does not exist")
    if ref in repo["refs"]:
        raise HttpError(422, "Reference already exists")
    repo["refs"][ref] = {"sha": sha, "type": "commit"}
    return Answer(201, objects.git_ref(request.base, full_name, ref, repo["refs"][ref]))


@route("DELETE", "/repos/{owner}/{repo}/git/refs/{rest}")
def delete_ref(state: GitHubState, request: Request) -> Answer:
    _, repo = state.repo(request)
    _find_ref(repo, request.params["rest"])
    del repo["refs"][f"refs/{request.params['rest']}"]
    return Answer(204, None)


# ------------------------------------------------------------------ commit statuses, branch protection, merges
#
# A repository may name the bare git repository that serves it (`"git_dir"`): then
# its branches are read from git, a merge is a real merge commit there, and a
# protected branch refuses pushes through an `update` hook, as GitHub's "protected
# branch hook declined". Without one, branches are the state's `refs`.

STATUS_STATES = ("error", "failure", "pending", "success")
# The GitHub App of a workflow's own token (GITHUB_TOKEN) on github.com.
ACTIONS_APP_ID = 15368
PROTECTED_HOOK = """\
#!/bin/sh
# Written by the test server: a protected branch changes only by merging a pull request.
if grep -qxF "$1" "$GIT_DIR/protected-branches" 2> /dev/null; then
  echo "error: GH006: Protected branch update failed for $1." >&2
  echo "error: Changes must be made through a pull request." >&2
  exit 1
fi
"""


def app_id(state: GitHubState, slug: str | None) -> int | None:
    """The id of the GitHub App a token was made for (None for a person's token)."""
    if slug is None:
        return None
    if slug == "github-actions":
        return ACTIONS_APP_ID
    for app in state.data.get("apps", {}).values():
        if app["slug"] == slug:
            return int(app["id"])
    return None


def _git(repo: Json, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "--git-dir", repo["git_dir"], *args], capture_output=True, text=True, check=False, env=env
    )


def branch_tip(repo: Json, branch: str) -> str | None:
    if repo.get("git_dir"):
        found = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        return found.stdout.strip() if found.returncode == 0 else None
    ref = repo["refs"].get(f"refs/heads/{branch}")
    return str(ref["sha"]) if ref else None


def _resolve(repo: Json, ref: str) -> str:
    sha = ref if re.fullmatch(r"[0-9a-f]{40}", ref) else branch_tip(repo, ref)
    if sha is None:
        raise HttpError(422, f"No commit found for SHA: {ref}")
    return sha


def _latest_by_context(statuses: list[Json]) -> list[Json]:
    latest: dict[str, Json] = {}
    for record in sorted(statuses, key=lambda s: s["id"]):
        latest[record["context"]] = record
    return sorted(latest.values(), key=lambda s: s["id"], reverse=True)


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    sha = request.params["sha"]
    body = _body_dict(request)
    if body.get("state") not in STATUS_STATES:
        raise HttpError(422, "Validation Failed", [{"resource": "Status", "code": "custom", "field": "state"}])
    known = _git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0 if repo.get("git_dir") else True
    if not re.fullmatch(r"[0-9a-f]{40}", sha) or not known:
        raise HttpError(422, f"No commit found for SHA: {sha}")
    record = {
        "id": state.next_id(),
        "sha": sha,
        "state": body["state"],
        "context": str(body.get("context") or "default"),
        "description": body.get("description"),
        "target_url": body.get("target_url"),
        "creator": request.login,
        "app_id": app_id(state, request.app),
        "created_at": now(),
    }
    repo.setdefault("statuses", []).append(record)
    return Answer(201, objects.status(request.base, full_name, record))


def _statuses_of(repo: Json, sha: str) -> list[Json]:
    return [s for s in repo.get("statuses", []) if s["sha"] == sha]


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    found = sorted(_statuses_of(repo, _resolve(repo, request.params["ref"])), key=lambda s: s["id"], reverse=True)
    return paginate(request, [objects.status(request.base, full_name, s) for s in found])


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/status")
def combined_status(state: GitHubState, request: Request) -> Answer:
    full_name, repo = state.repo(request)
    sha = _resolve(repo, request.params["ref"])
    latest = _latest_by_context(_statuses_of(repo, sha))
    states = {s["state"] for s in latest}
    combined = (
        "failure" if states & {"failure", "error"} else "pending" if not latest or "pending" in states else "success"
    )
    return Answer(200, objects.combined_status(request.base, full_name, repo, sha, latest, combined))


def _write_protected_hook(repo: Json) -> None:
    if not repo.get("git_dir"):
        return
    git_dir = Path(repo["git_dir"])
    (git_dir / "protected-branches").write_text("".join(f"refs/heads/{b}\n" for b in repo.get("protection", {})))
    hook = git_dir / "hooks" / "update"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(PROTECTED_HOOK)
    hook.chmod(0o755)


def _protected(state: GitHubState, request: Request) -> tuple[str, Json, str]:
    full_name, repo = state.repo(request)
    branch = request.params["branch"]
    if branch_tip(repo, branch) is None:
        raise HttpError(404, "Branch not found")
    return full_name, repo, branch


@route("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection")
def update_protection(state: GitHubState, request: Request) -> Answer:
    full_name, repo, branch = _protected(state, request)
    body = _body_dict(request)
    checks_given = body.get("required_status_checks")
    checks = None
    if checks_given is not None:
        if not isinstance(checks_given, dict) or not isinstance(checks_given.get("strict"), bool):
            raise HttpError(422, 'Invalid request.\n\nNo subschema in "anyOf" matched.')
        listed = checks_given.get("checks") or [{"context": c} for c in checks_given.get("contexts") or []]
        if not all(isinstance(c, dict) and isinstance(c.get("context"), str) for c in listed):
            raise HttpError(422, 'Invalid request.\n\n"context" is a required property.')
        # app_id -1 (or none given) accepts the context from any app.
        checks = {
            "strict": checks_given["strict"],
            "checks": [
                {"context": c["context"], "app_id": c["app_id"] if c.get("app_id", -1) != -1 else None} for c in listed
            ],
        }
    repo.setdefault("protection", {})[branch] = {
        "required_status_checks": checks,
        "enforce_admins": bool(body.get("enforce_admins")),
    }
    _write_protected_hook(repo)
    return Answer(200, objects.protection(request.base, full_name, branch, repo["protection"][branch]))


@route("GET", "/repos/{owner}/{repo}/branches/{branch}/protection")
def get_protection(state: GitHubState, request: Request) -> Answer:
    full_name, repo, branch = _protected(state, request)
    record = repo.get("protection", {}).get(branch)
    if record is None:
        raise HttpError(404, "Branch not protected")
    return Answer(200, objects.protection(request.base, full_name, branch, record))


@route("DELETE", "/repos/{owner}/{repo}/branches/{branch}/protection")
def delete_protection(state: GitHubState, request: Request) -> Answer:
    _, repo, branch = _protected(state, request)
    if repo.get("protection", {}).pop(branch, None) is None:
        raise HttpError(404, "Branch not protected")
    _write_protected_hook(repo)
    return Answer(204, None)


def merge_refusal(repo: Json, pull: Json) -> str | None:
    """Why branch protection refuses to merge `pull` now, in GitHub's words; None when it may merge."""
    record = repo.get("protection", {}).get(pull["base"]["ref"])
    required = (record or {}).get("required_status_checks")
    if required is None:
        return None
    statuses = _statuses_of(repo, pull["head"]["sha"])
    for check in required["checks"]:
        posted = [
            s
            for s in statuses
            if s["context"] == check["context"] and (check["app_id"] is None or s["app_id"] == check["app_id"])
        ]
        if not posted:
            return f'Required status check "{check["context"]}" is expected.'
        latest = max(posted, key=lambda s: s["id"])
        if latest["state"] != "success":
            return f'Required status check "{check["context"]}" is {"in progress" if latest["state"] == "pending" else "failing"}.'
    if required["strict"] and not _contains_tip(repo, pull):
        return "Head branch is out of date with the base branch."
    return None


def _contains_tip(repo: Json, pull: Json) -> bool:
    tip = branch_tip(repo, pull["base"]["ref"])
    if repo.get("git_dir"):
        return _git(repo, "merge-base", "--is-ancestor", str(tip), pull["head"]["sha"]).returncode == 0
    return tip == pull["base"]["sha"]


def _merge_commit(repo: Json, pull: Json, number: int, title: str) -> str:
    """Merge the head into the base branch: a real merge commit when git serves the repository."""
    base = pull["base"]["ref"]
    tip = str(branch_tip(repo, base))
    if not repo.get("git_dir"):
        sha = hashlib.sha1(f"{tip}{pull['head']['sha']}{number}".encode()).hexdigest()
        repo["refs"][f"refs/heads/{base}"] = {"sha": sha, "type": "commit"}
        return sha
    tree = _git(repo, "merge-tree", "--write-tree", tip, pull["head"]["sha"])
    if tree.returncode != 0:
        raise HttpError(405, "Pull Request is not mergeable")
    who = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com"}
    who |= {"GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com"}
    env = {**os.environ, **who}
    made = _git(repo, "commit-tree", tree.stdout.split()[0], "-p", tip, "-p", pull["head"]["sha"], "-m", title, env=env)
    sha = made.stdout.strip()
    # update-ref runs no hook: the server's own merge is how a protected branch changes.
    if made.returncode != 0 or _git(repo, "update-ref", f"refs/heads/{base}", sha, tip).returncode != 0:
        raise HttpError(409, "Base branch was modified. Review and try the merge again.")
    return sha


@route("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge")
def merge_pull(state: GitHubState, request: Request) -> Answer:
    _, repo, record = state.issue(request)
    pull = record.get("pull")
    if not pull:
        raise HttpError(404, "Not Found")
    body = _body_dict(request)
    if record["state"] != "open" or pull.get("merged_at"):
        raise HttpError(405, "Pull Request is not mergeable")
    if body.get("sha") not in (None, pull["head"]["sha"]):
        raise HttpError(409, "Head branch was modified. Review and try the merge again.")
    refusal = merge_refusal(repo, pull)
    if refusal is not None:
        raise HttpError(405, refusal)
    title = str(body.get("commit_title") or f"Merge pull request #{record['number']} from {pull['head']['ref']}")
    sha = _merge_commit(repo, pull, record["number"], title)
    pull.update(merged_at=now(), merge_commit_sha=sha, merged_by=request.login)
    record.update(state="closed", closed_at=pull["merged_at"], updated_at=pull["merged_at"])
    return Answer(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


# ------------------------------------------------------------------ the HTTP side


class GitHubHandler(BaseHTTPRequestHandler):
    server: GitHubHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log lives in the state

    def do_GET(self) -> None:
        self.handle_method("GET")

    def do_POST(self) -> None:
        self.handle_method("POST")

    def do_PATCH(self) -> None:
        self.handle_method("PATCH")

    def do_PUT(self) -> None:
        self.handle_method("PUT")

    def do_DELETE(self) -> None:
        self.handle_method("DELETE")

    def send(self, answer: Answer) -> None:
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_method(self, method: str) -> None:
        self.server.touch()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/_"):
            self.send(self.server.admin(method, path, raw))
            return
        answer, delay = self.server.answer(method, path, query, raw, self.headers.get("Authorization", ""))
        if delay:
            time.sleep(delay)
        # The client may have given up waiting (a slow-response fault).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send(answer)


class GitHubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GitHubState, port: int = 0, state_file: Path | None = None) -> None:
        super().__init__(("127.0.0.1", port), GitHubHandler)
        self.state = state
        self.state_file = state_file
        self.last_request = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def touch(self) -> None:
        self.last_request = time.monotonic()

    def save(self) -> None:
        if self.state_file is not None:
            with self.state.lock:
                text = json.dumps(self.state.data, indent=1, sort_keys=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.state_file)

    def admin(self, method: str, path: str, raw: bytes) -> Answer:
        with self.state.lock:
            if (method, path) == ("GET", "/_state"):
                return Answer(200, self.state.data)
            if (method, path) == ("PUT", "/_state"):
                self.state.data = json.loads(raw)
                self.save()
                return Answer(204, None)
            if (method, path) == ("GET", "/_log"):
                return Answer(200, self.state.log)
            if (method, path) == ("POST", "/_tokens"):
                self.state.data["tokens"].update(json.loads(raw))
                return Answer(204, None)
            if (method, path) == ("POST", "/_app_tokens"):
                return self.app_token(json.loads(raw))
            if (method, path) == ("POST", "/_faults"):
                for fault in json.loads(raw):
                    self.state.faults.append(Fault(**fault))
                return Answer(204, None)
            if (method, path) == ("GET", "/_faults"):
                return Answer(200, [asdict(f) for f in self.state.faults])
        return Answer(404, {"message": "Not Found"})

    def app_token(self, asked: Json) -> Answer:
        """An installation token of the app `client_id` names, for its private key, as GitHub mints one."""
        app = self.state.data.get("apps", {}).get(asked.get("client_id"))
        if app is None or asked.get("private_key") != app["private_key"]:
            return Answer(401, {"message": "A JSON web token could not be decoded", "documentation_url": DOCS})
        granted: dict[str, str] = app["permissions"]
        wanted: dict[str, str] = asked.get("permissions") or granted
        levels = {"none": 0, "read": 1, "write": 2}
        if any(levels.get(level, 3) > levels[granted.get(scope, "none")] for scope, level in wanted.items()):
            message = "The permissions requested are not granted to this installation."
            return Answer(422, {"message": message, "documentation_url": DOCS})
        # A fresh name that moves no other counter: minting a token changes nothing but the tokens.
        token = f"ghs_{app['slug']}_{secrets.token_hex(8)}"
        self.state.data["tokens"][token] = {
            "login": f"{app['slug']}[bot]",
            "app": app["slug"],
            "write": True,
            "permissions": dict(wanted),
        }
        return Answer(201, {"token": token, "app_slug": app["slug"], "installation_id": app["installation_id"]})

    def rate_headers(self) -> dict[str, str]:
        rate = self.state.data["rate"]
        return {
            "X-RateLimit-Limit": str(rate["limit"]),
            "X-RateLimit-Remaining": str(rate["remaining"]),
            "X-RateLimit-Reset": str(rate["reset"]),
            "X-RateLimit-Used": str(rate["limit"] - rate["remaining"]),
            "X-RateLimit-Resource": "core",
        }

    def answer(self, method: str, path: str, query: dict[str, str], raw: bytes, auth: str) -> tuple[Answer, float]:
        with self.state.lock:
            answer, delay = self._answer(method, path, query, raw, auth)
            entry: Json = {"method": method, "path": path, "status": answer.status}
            if self.state.keep_bodies:
                entry["body"] = copy.deepcopy(answer.body)
            self.state.log.append(entry)
            if method != "GET" and answer.status < 400:
                self.save()
            return answer, delay

    def _answer(self, method: str, path: str, query: dict[str, str], raw: bytes, auth: str) -> tuple[Answer, float]:
        state = self.state
        scheme, _, token = auth.partition(" ")
        account = state.data["tokens"].get(token) if scheme.lower() in ("token", "bearer") else None
        if account is None:
            return Answer(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}), 0.0
        rate = state.data["rate"]
        if time.time() >= rate["reset"]:
            rate.update(remaining=rate["limit"], reset=int(time.time()) + 3600)
        fault = state.take_fault(method, path)
        if rate["remaining"] <= 0:
            message = f"API rate limit exceeded for user ID {objects.user_id(account['login'])}."
            return Answer(403, {"message": message, "documentation_url": DOCS}, self.rate_headers()), 0.0
        rate["remaining"] -= 1
        if fault is not None and fault.when == "before":
            refused = self._fault_answer(fault)
            if refused is not None:
                return refused, fault.delay
        answer = self._route(method, path, query, raw, account)
        if fault is not None and fault.when == "after" and fault.status is not None:
            failed = self._fault_answer(fault)
            assert failed is not None
            return failed, fault.delay
        return answer, fault.delay if fault is not None else 0.0

    def _fault_answer(self, fault: Fault) -> Answer | None:
        headers = self.rate_headers()
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.rate_limit == "primary":
            reset = int(time.time()) + fault.reset_in
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
            message = "API rate limit exceeded for user ID 1."
            return Answer(fault.status or 403, {"message": message, "documentation_url": DOCS}, headers)
        if fault.rate_limit == "secondary":
            return Answer(fault.status or 403, {"message": SECONDARY_MESSAGE, "documentation_url": DOCS}, headers)
        if fault.status is None:
            return None
        return Answer(fault.status, {"message": "Server Error", "documentation_url": DOCS}, headers)

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes, account: Json) -> Answer:
        headers = self.rate_headers()
        matched_path = False
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            matched_path = True
            if route_method != method:
                continue
            if method != "GET" and not (account.get("write", False) and _granted(account, method, path)):
                return Answer(403, {"message": "Resource not accessible by integration", "documentation_url": DOCS})
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return Answer(400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, headers)
            params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            request = Request(method, path, query, body, account["login"], self.url, params, account.get("app"))
            # Handlers work on a copy: a request that fails halfway changes nothing.
            before = copy.deepcopy(self.state.data)
            try:
                answer = handler(self.state, request)
            except HttpError as exc:
                self.state.data = before
                return Answer(exc.status, exc.body, headers)
            answer.headers = {**headers, **answer.headers}
            return answer
        status = 405 if matched_path else 404
        return Answer(status, {"message": "Not Found", "documentation_url": DOCS}, headers)


# Which permission of a workflow's token (its job's `permissions:`) a write needs,
# by the first path segment after /repos/{owner}/{repo}/. Reads of a public
# repository need none. Comments and labels on a pull request take either.
_SCOPES = {
    "issues": ("issues", "pull-requests"),
    "labels": ("issues", "pull-requests"),
    "git": ("contents",),
    "releases": ("contents",),
    "pulls": ("pull-requests",),
    "statuses": ("statuses",),
    "check-runs": ("checks",),
}


def _granted(account: Json, method: str, path: str) -> bool:
    permissions = account.get("permissions")
    if permissions is None:
        return True  # a token without declared permissions: a person's, or an app's with every one
    if path == "/graphql":  # enablePullRequestAutoMerge, the only mutation served
        return all(permissions.get(scope) == "write" for scope in ("contents", "pull-requests"))
    parts = path.split("/")
    if len(parts) < 5 or parts[1] != "repos":
        return False
    if parts[4] == "pulls" and parts[-1] == "merge":
        return permissions.get("contents") == "write"  # merging writes the base branch
    return any(permissions.get(scope) == "write" for scope in _SCOPES.get(parts[4], ("administration",)))


class GitHubServer:
    """The server on a free port in a background thread; a context manager."""

    def __init__(self, data: Json | None = None, *, port: int = 0, state_file: Path | None = None) -> None:
        self.state = GitHubState(data)
        self.http = GitHubHTTPServer(self.state, port, state_file)
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return self.http.url

    def start(self) -> GitHubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        # shutdown() waits for serve_forever(): it would wait for ever on a server never started.
        if self.thread.is_alive():
            self.http.shutdown()
            self.thread.join(timeout=5)
        self.http.server_close()

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(self, **fields: Any) -> Fault:
        fault = Fault(**fields)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def snapshot(self) -> Json:
        """A deep copy of the data, without the rate-limit counters that every request moves."""
        with self.state.lock:
            data = copy.deepcopy(self.state.data)
        data.pop("rate", None)
        return data

    def repo(self, full_name: str | None = None) -> Json:
        with self.state.lock:
            repos = self.state.data["repos"]
            return copy.deepcopy(repos[full_name] if full_name else next(iter(repos.values())))

    def requests(self) -> list[Json]:
        with self.state.lock:
            return list(self.state.log)

    def writes(self) -> list[str]:
        """The requests that asked for a change, as `METHOD path status`."""
        return [f"{r['method']} {r['path']} {r['status']}" for r in self.requests() if r["method"] != "GET"]

    def add_pull(
        self, title: str, user: str, *, head_sha: str = "1" * 40, full_name: str | None = None, body: str = ""
    ) -> int:
        with self.state.lock:
            repos = self.state.data["repos"]
            repo = repos[full_name] if full_name else next(iter(repos.values()))
            record = _new_issue(self.state, repo, title, body, user, [])
            record["pull"] = {
                "head": {"ref": f"{user}-patch", "sha": head_sha},
                "base": {"ref": repo["default_branch"], "sha": repo["refs"]["refs/heads/main"]["sha"]},
                "draft": False,
            }
            return int(record["number"])

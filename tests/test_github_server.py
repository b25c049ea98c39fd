"""The test server speaks GitHub's REST API: its answers are checked against GitHub's own description.

`@octokit/openapi` (npm, pinned in package.json, installed by `npm ci`) ships
`generated/api.github.com.json`. Every answer the server gives during a real
PyGithub session and real `rollout bot` runs is validated against the response
schema of the operation it answers, so the server cannot drift into a toy.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from github import Auth, Github, GithubException

from tests.act_support.tools import unavailable
from tests.github_server import APP_CLIENT_ID, APP_PRIVATE_KEY, GitHubServer, new_state
from tests.support.repos import Repo

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
SHA = "ab" * 20

# The operations the bot uses; each must be seen and checked at least once.
BOT_OPERATIONS = {
    "GET /repos/{owner}/{repo}",
    "GET /repos/{owner}/{repo}/issues",
    "POST /repos/{owner}/{repo}/issues",
    "GET /repos/{owner}/{repo}/issues/{issue_number}",
    "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    "GET /repos/{owner}/{repo}/git/ref/{ref}",
    "POST /repos/{owner}/{repo}/git/refs",
    "GET /repos/{owner}/{repo}/releases/tags/{tag}",
    "POST /repos/{owner}/{repo}/releases",
    "PATCH /repos/{owner}/{repo}/releases/{release_id}",
}
# More the server offers, for the workflows and for people poking at it.
OTHER_OPERATIONS = {
    "GET /user",
    "GET /users/{username}",
    "GET /rate_limit",
    "GET /repos/{owner}/{repo}/labels",
    "POST /repos/{owner}/{repo}/labels",
    "GET /repos/{owner}/{repo}/labels/{name}",
    "GET /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "PUT /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "GET /repos/{owner}/{repo}/issues/comments/{comment_id}",
    "GET /repos/{owner}/{repo}/releases",
    "GET /repos/{owner}/{repo}/releases/{release_id}",
    "GET /repos/{owner}/{repo}/git/matching-refs/{ref}",
    "GET /repos/{owner}/{repo}/pulls",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    "POST /repos/{owner}/{repo}/pulls",
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
}


@pytest.fixture(autouse=True)
def _description() -> None:
    if not DESCRIPTION.exists():
        unavailable("GitHub's REST description is missing: run `npm ci`")


# ------------------------------------------------------------------ GitHub's description as JSON Schema


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: _json_schema(value) for key, value in node.items() if key not in ("nullable", "discriminator", "example")
    }
    if node.get("nullable") is True:
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            return {"anyOf": [{"type": "null"}, converted]}
    return converted


@functools.cache
def description() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DESCRIPTION.read_text())
    return loaded


@functools.cache
def components() -> dict[str, Any]:
    return {"schemas": _json_schema(description()["components"]["schemas"])}


@functools.cache
def operations() -> list[tuple[str, str, re.Pattern[str], int]]:
    found = []
    for template, methods in description()["paths"].items():
        # ref and tag may hold slashes (tags/arc-ce/6.19.0)
        regex = re.sub(r"\{(ref|tag)\}", "[^?]+", template)
        regex = re.sub(r"\{\w+\}", "[^/]+", regex)
        literal = len(re.sub(r"\{\w+\}", "", template))
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), template, re.compile(f"^{regex}$"), literal))
    return found


def operation_of(method: str, path: str) -> str | None:
    matches = [(literal, template) for m, template, regex, literal in operations() if m == method and regex.match(path)]
    return f"{method} {max(matches)[1]}" if matches else None


def response_schema(operation: str, status: int) -> dict[str, Any] | None:
    method, template = operation.split(" ", 1)
    responses = description()["paths"][template][method.lower()]["responses"]
    response = responses.get(str(status))
    if response is None:
        raise AssertionError(f"{operation} does not answer {status} on GitHub; it answers {sorted(responses)}")
    if "$ref" in response:
        response = description()["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    return {**_json_schema(content["schema"]), "components": components()}


@functools.cache
def validator(operation: str, status: int) -> jsonschema.Draft4Validator | None:
    schema = response_schema(operation, status)
    return None if schema is None else jsonschema.Draft4Validator(schema)


def check_log(server: GitHubServer) -> set[str]:
    """Validate every answer in the server's log; return the operations seen."""
    seen = set()
    for entry in server.requests():
        operation = operation_of(entry["method"], entry["path"])
        assert operation is not None, f"{entry['method']} {entry['path']} is not a GitHub REST operation"
        checker = validator(operation, entry["status"])
        if checker is None:
            assert entry["body"] is None, f"{operation} {entry['status']} has no body on GitHub"
        else:
            try:
                checker.validate(entry["body"])
            except jsonschema.ValidationError as exc:
                where = "/".join(str(p) for p in exc.absolute_path)
                raise AssertionError(f"{operation} {entry['status']} at /{where}: {exc.message}") from None
        seen.add(operation)
    return seen


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    tokens = {
        "bot-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": True},
        "read-token": {"login": "reader", "write": False},
        "person-token": {"login": "ana-pt", "write": True},
    }
    with GitHubServer(new_state("egi/rollout", tokens=tokens, head_sha=SHA)) as server:
        server.state.keep_bodies = True
        yield server


def client(server: GitHubServer, token: str = "bot-token") -> Github:
    return Github(
        auth=Auth.Token(token),
        base_url=server.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def http(server: GitHubServer | str, method: str, path: str, body: Any = None, token: str | None = "bot-token") -> Any:
    """One raw request: (status, headers, JSON body)."""
    base = server if isinstance(server, str) else server.url
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode()
    )
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
            return response.status, dict(response.headers), json.loads(data) if data else None
    except urllib.error.HTTPError as exc:
        data = exc.read()
        return exc.code, dict(exc.headers), json.loads(data) if data else None


# ------------------------------------------------------------------ the schema checks


def test_answers_during_the_bot_runs_match_githubs_description(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    env = {
        "GITHUB_TOKEN": "bot-token",
        "GITHUB_REPOSITORY": "egi/rollout",
        "GITHUB_API_URL": github.url,
        "GITHUB_SHA": SHA,
        "ROLLOUT_BOT_BACKOFF": "0.01",
        "ROLLOUT_BOT_WRITE_INTERVAL": "0",
        "ROLLOUT_BOT_APP": "rollout-bot",
    }
    pull = github.add_pull("Report of praguelcg2", "jan-cz")
    body = tmp_path / "comment.md"
    body.write_text("Adds a report.\n")
    runs = [
        ["sync", "--today", "2026-11-05"],
        ["remind", "--today", "2026-11-20"],
        ["comment", "--pr", str(pull), "--body-file", str(body), "--label", "a", "--label", "b"],
        ["comment", "--pr", str(pull), "--body-file", str(body), "--label", "b"],
    ]
    for args in runs:
        result = repo.rollout("bot", *args, env=env)
        assert result.returncode == 0, result.stderr
    body.write_text("Changed.\n")
    assert repo.rollout("bot", "comment", "--pr", str(pull), "--body-file", str(body), env=env).returncode == 0
    # Release, then leave rollout: tag, GitHub Release, closing the issue; then a stale body to update.
    release = (repo.root / "releases/arc-ce/6.19.0/release.yaml").read_text()
    release = release.replace("state: rollout", "state: released") + (
        "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n"
        "  - {state: released, date: 2026-11-21, by: carla-coord}\n"
        "decisions: [{action: accept, by: carla-coord, date: 2026-11-20, reason: enough}]\n"
    )
    repo.write("releases/arc-ce/6.19.0/release.yaml", release)
    repo.commit("release")
    assert repo.rollout("bot", "sync", "--today", "2026-11-21", env=env).returncode == 0
    with github.state.lock:
        for record in github.state.data["repos"]["egi/rollout"]["releases"].values():
            record["body"] = "notes will follow"
    assert repo.rollout("bot", "sync", "--today", "2026-11-21", env=env).returncode == 0

    seen = check_log(github)
    assert seen >= BOT_OPERATIONS, f"not exercised: {sorted(BOT_OPERATIONS - seen)}"


def test_every_other_answer_matches_githubs_description(github: GitHubServer) -> None:
    gh = client(github)
    assert client(github, "person-token").get_user().login == "ana-pt"
    # An installation token acts as its app's account and has no user, as on GitHub.
    status, _, answer = http(github, "GET", "/user")
    assert (status, answer["message"]) == (403, "Resource not accessible by integration")
    assert gh.get_user("ana-pt").login == "ana-pt"
    assert gh.get_rate_limit().resources.core.limit == 5000
    repo = gh.get_repo("egi/rollout")
    label = repo.create_label("rollout", "0e8a16", "tracking issues")
    assert repo.get_label("rollout").description == "tracking issues"
    assert [x.name for x in repo.get_labels()] == [label.name]
    issue = repo.create_issue("An issue", body="text", labels=["rollout"])
    issue.set_labels("x", "y")
    assert [x.name for x in issue.get_labels()] == ["x", "y"]
    comment = issue.create_comment("hello")
    assert issue.get_comment(comment.id).body == "hello"
    created = repo.create_git_release("v1", name="v1", message="first", target_commitish="main")
    assert repo.get_release(created.id).tag_name == "v1"
    assert [r.tag_name for r in repo.get_releases()] == ["v1"]
    assert [r.ref for r in repo.get_git_matching_refs("tags/")] == ["refs/tags/v1"]
    with pytest.raises(GithubException) as refused:
        repo.create_git_ref("refs/tags/v1", SHA)
    assert refused.value.status == 422
    number = github.add_pull("A change", "jan-cz")
    assert repo.get_pull(number).head.sha == "1" * 40
    assert [p.number for p in repo.get_pulls()] == [number]
    proposed = repo.create_pull(base="main", head="rollout-bot/advance", title="Transitions", body="one")
    proposed.edit(body="two")
    assert [p.body for p in repo.get_pulls(head="egi:rollout-bot/advance")] == ["two"]
    with pytest.raises(GithubException) as twice:
        repo.create_pull(base="main", head="rollout-bot/advance", title="Transitions", body="again")
    assert twice.value.status == 422
    with pytest.raises(GithubException) as missing:
        repo.get_issue(99)
    assert missing.value.status == 404

    seen = check_log(github)
    assert seen >= OTHER_OPERATIONS, f"not exercised: {sorted(OTHER_OPERATIONS - seen)}"


def test_a_wrong_answer_fails_the_check(github: GitHubServer) -> None:
    """The check must be able to fail: a label without its required `color` does not pass."""
    schema = response_schema("GET /repos/{owner}/{repo}/labels/{name}", 200)
    assert schema is not None
    label = {"id": 1, "node_id": "x", "url": f"{github.url}/l", "name": "a", "description": None, "default": False}
    with pytest.raises(jsonschema.ValidationError, match="'color' is a required property"):
        jsonschema.Draft4Validator(schema).validate(label)
    jsonschema.Draft4Validator(schema).validate({**label, "color": "ededed"})


# ------------------------------------------------------------------ GitHub's semantics


def test_tokens_are_required_and_read_only_tokens_cannot_write(github: GitHubServer) -> None:
    status, _, body = http(github, "GET", "/repos/egi/rollout", token=None)
    assert (status, body["message"]) == (401, "Bad credentials")
    status, _, body = http(github, "POST", "/repos/egi/rollout/issues", {"title": "x"}, token="read-token")
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    status, _, _ = http(github, "GET", "/repos/egi/rollout/issues", token="read-token")
    assert status == 200
    assert github.repo()["issues"] == {}


def test_lists_are_paginated_with_link_headers_on_the_servers_own_address(github: GitHubServer) -> None:
    for n in range(5):
        http(github, "POST", "/repos/egi/rollout/issues", {"title": f"issue {n}"})
    status, headers, page = http(github, "GET", "/repos/egi/rollout/issues?per_page=2&page=2")
    assert status == 200
    assert [i["number"] for i in page] == [3, 2]
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', headers["Link"])
    )  # newest first, as GitHub sorts by default
    assert links == {
        "next": f"{github.url}/repos/egi/rollout/issues?per_page=2&page=3",
        "last": f"{github.url}/repos/egi/rollout/issues?per_page=2&page=3",
        "first": f"{github.url}/repos/egi/rollout/issues?per_page=2&page=1",
        "prev": f"{github.url}/repos/egi/rollout/issues?per_page=2&page=1",
    }
    assert len(list(client(github).get_repo("egi/rollout").get_issues(state="all"))) == 5


def test_issue_filters_by_state_label_and_creator(github: GitHubServer) -> None:
    http(github, "POST", "/repos/egi/rollout/issues", {"title": "a", "labels": ["rollout"]})
    http(github, "POST", "/repos/egi/rollout/issues", {"title": "b", "labels": ["rollout", "late"]})
    http(github, "PATCH", "/repos/egi/rollout/issues/1", {"state": "closed"})
    number = github.add_pull("c", "jan-cz")

    def numbers(query: str) -> list[int]:
        return [i["number"] for i in http(github, "GET", f"/repos/egi/rollout/issues?{query}")[2]]

    assert numbers("") == [number, 2]
    assert numbers("state=all&labels=rollout") == [2, 1]
    assert numbers("state=all&labels=rollout,late") == [2]
    assert numbers("state=closed") == [1]
    assert numbers("state=all&creator=jan-cz") == [number]
    assert http(github, "GET", "/repos/egi/rollout/issues?state=every")[0] == 422


def test_refs_releases_and_labels_cannot_be_made_twice(github: GitHubServer) -> None:
    assert http(github, "POST", "/repos/egi/rollout/git/refs", {"ref": "refs/tags/a/1", "sha": SHA})[0] == 201
    status, _, body = http(github, "POST", "/repos/egi/rollout/git/refs", {"ref": "refs/tags/a/1", "sha": SHA})
    assert (status, body["message"]) == (422, "Reference already exists")
    assert http(github, "POST", "/repos/egi/rollout/git/refs", {"ref": "tags/b", "sha": SHA})[0] == 422
    assert http(github, "GET", "/repos/egi/rollout/git/ref/tags/a/1")[2]["object"]["sha"] == SHA
    assert http(github, "GET", "/repos/egi/rollout/git/ref/tags/a/2")[0] == 404

    assert http(github, "POST", "/repos/egi/rollout/releases", {"tag_name": "a/2", "name": "a 2"})[0] == 201
    # Publishing a release tags the default branch's head when the tag is new.
    assert github.repo()["refs"]["refs/tags/a/2"]["sha"] == SHA
    status, _, body = http(github, "POST", "/repos/egi/rollout/releases", {"tag_name": "a/2"})
    assert (status, body["errors"][0]["code"]) == (422, "already_exists")
    assert http(github, "GET", "/repos/egi/rollout/releases/tags/a%2F2")[2]["name"] == "a 2"

    assert http(github, "POST", "/repos/egi/rollout/labels", {"name": "x"})[0] == 201
    assert http(github, "POST", "/repos/egi/rollout/labels", {"name": "x"})[0] == 422


def test_labels_on_issues_are_created_on_first_use_and_removed_once(github: GitHubServer) -> None:
    http(github, "POST", "/repos/egi/rollout/issues", {"title": "a"})
    status, _, labels = http(github, "POST", "/repos/egi/rollout/issues/1/labels", {"labels": ["new", "new"]})
    assert (status, [x["name"] for x in labels]) == (200, ["new"])
    assert "new" in github.repo()["labels"]
    assert http(github, "DELETE", "/repos/egi/rollout/issues/1/labels/new")[0] == 200
    status, _, body = http(github, "DELETE", "/repos/egi/rollout/issues/1/labels/new")
    assert (status, body["message"]) == (404, "Label does not exist")


def test_a_failed_request_changes_nothing(github: GitHubServer) -> None:
    http(github, "POST", "/repos/egi/rollout/issues", {"title": "a"})
    before = github.snapshot()
    # Valid labels first, then an invalid one: GitHub refuses the whole request.
    assert http(github, "PATCH", "/repos/egi/rollout/issues/1", {"labels": ["ok", ""]})[0] == 422
    assert github.snapshot() == before


def test_rate_limit_headers_count_down_and_the_primary_limit_refuses(github: GitHubServer) -> None:
    _, first, _ = http(github, "GET", "/repos/egi/rollout")
    _, second, _ = http(github, "GET", "/repos/egi/rollout")
    assert int(first["X-RateLimit-Remaining"]) - int(second["X-RateLimit-Remaining"]) == 1
    assert first["X-RateLimit-Limit"] == "5000"
    with github.state.lock:
        github.state.data["rate"].update(remaining=0, reset=int(time.time()) + 1)
    status, headers, body = http(github, "GET", "/repos/egi/rollout")
    assert (status, headers["X-RateLimit-Remaining"]) == (403, "0")
    assert body["message"].startswith("API rate limit exceeded")
    time.sleep(1.1)
    assert http(github, "GET", "/repos/egi/rollout")[0] == 200


def test_faults_match_by_method_and_path_and_are_used_up(github: GitHubServer) -> None:
    github.add_fault(method="POST", path="/repos/*/issues", status=502, times=2)
    github.add_fault(method="GET", path="/repos/egi/rollout", status=429, rate_limit="secondary", retry_after=7)
    status, headers, body = http(github, "GET", "/repos/egi/rollout")
    assert (status, headers["Retry-After"]) == (429, "7")
    assert "secondary rate limit" in body["message"]
    assert http(github, "GET", "/repos/egi/rollout")[0] == 200
    assert [http(github, "POST", "/repos/egi/rollout/issues", {"title": "a"})[0] for _ in range(3)] == [502, 502, 201]
    assert len(github.repo()["issues"]) == 1

    github.add_fault(method="POST", path="/repos/*/issues", status=500, when="after")
    assert http(github, "POST", "/repos/egi/rollout/issues", {"title": "b"})[0] == 500
    assert len(github.repo()["issues"]) == 2  # carried out, then failed


IDLE = ("--idle-timeout", "1.5")


def test_standalone_server_serves_saves_its_state_and_exits_when_idle(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    seeded = new_state("egi/rollout", tokens={"t": {"login": "rollout-bot", "write": True}})
    state_file.write_text(json.dumps(seeded))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.github_server", "--port", "0", "--state-file", str(state_file), *IDLE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert url, line
        base = url.group(1)
        assert http(base, "POST", "/_faults", [{"method": "POST", "path": "/repos/*/issues", "status": 503}])[0] == 204
        assert http(base, "POST", "/repos/egi/rollout/issues", {"title": "refused"}, token="t")[0] == 503
        assert http(base, "POST", "/repos/egi/rollout/issues", {"title": "from outside"}, token="t")[0] == 201
        state = http(base, "GET", "/_state")[2]
        assert [i["title"] for i in state["repos"]["egi/rollout"]["issues"].values()] == ["from outside"]
        assert [(r["method"], r["status"]) for r in http(base, "GET", "/_log")[2]] == [("POST", 503), ("POST", 201)]
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    saved = json.loads(state_file.read_text())
    assert saved["repos"]["egi/rollout"]["issues"]["1"]["user"] == "rollout-bot"


# ------------------------------------------------------------------ statuses, protection, merges, app tokens

PROTECTION_OPERATIONS = {
    "POST /repos/{owner}/{repo}/statuses/{sha}",
    "GET /repos/{owner}/{repo}/commits/{ref}/status",
    "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
    "PUT /repos/{owner}/{repo}/branches/{branch}/protection",
    "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
    "DELETE /repos/{owner}/{repo}/branches/{branch}/protection",
}
CHECK = "rollout / check"


def served(tmp_path: Path, github: GitHubServer) -> tuple[Path, Repo]:
    """A bare repository served as egi/rollout, with main, and a work tree that pushes to it."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    work = Repo(tmp_path / "work")
    work.root.mkdir()
    work.git("init", "-q", "-b", "main")
    work.git("config", "user.email", "t@example.org")
    work.git("config", "user.name", "t")
    work.write("a.txt", "a\n")
    work.commit("first")
    work.git("remote", "add", "origin", str(origin))
    work.git("push", "-q", "origin", "main")
    with github.state.lock:
        github.state.data["repos"]["egi/rollout"]["git_dir"] = str(origin)
    return origin, work


def pull_from(github: GitHubServer, work: Repo, branch: str, path: str, author: str = "ana-pt") -> int:
    work.git("checkout", "-q", "-b", branch, "main")
    work.write(path, f"{branch}\n")
    head = work.commit(branch)
    work.git("push", "-q", "origin", branch)
    work.git("checkout", "-q", "main")
    number = github.add_pull(branch, author, head_sha=head)
    with github.state.lock:
        pull = github.state.data["repos"]["egi/rollout"]["issues"][str(number)]["pull"]
        pull["base"]["sha"] = work.git("rev-parse", "main")
    return number


def app_token(github: GitHubServer, **asked: Any) -> Any:
    ask = {"client_id": APP_CLIENT_ID, "private_key": APP_PRIVATE_KEY, **asked}
    request = urllib.request.Request(f"{github.url}/_app_tokens", method="POST", data=json.dumps(ask).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def protect(github: GitHubServer, app_id: int | None, *, strict: bool = True) -> Any:
    checks = {
        "strict": strict,
        "contexts": [],
        "checks": [{"context": CHECK, **({"app_id": app_id} if app_id else {})}],
    }
    return http(
        github,
        "PUT",
        "/repos/egi/rollout/branches/main/protection",
        {
            "required_status_checks": checks,
            "enforce_admins": True,
            "required_pull_request_reviews": None,
            "restrictions": None,
        },
        token="admin-token",
    )


def test_a_required_check_is_satisfied_only_by_the_app_branch_protection_names(
    github: GitHubServer, tmp_path: Path
) -> None:
    origin, work = served(tmp_path, github)
    tokens = {
        "admin-token": {"login": "carla-coord", "write": True},
        # A workflow's own token that declares `statuses: write`, as a pull request's rewritten workflow can.
        "workflow-token": {
            "login": "github-actions[bot]",
            "app": "github-actions",
            "write": True,
            "permissions": {"statuses": "write", "contents": "write"},
        },
    }
    http(github, "GET", "/rate_limit")  # the admin endpoint below needs no token; this one does
    with github.state.lock:
        github.state.data["tokens"].update(tokens)
    status, minted = app_token(github, permissions={"statuses": "write", "contents": "write"})
    assert status == 201 and minted["app_slug"] == "rollout-bot"
    bot = minted["token"]
    number = pull_from(github, work, "ana-pt/report", "b.txt")
    head = github.repo()["issues"][str(number)]["pull"]["head"]["sha"]
    status, _, protection = protect(github, 424242)
    assert status == 200
    assert protection["required_status_checks"]["checks"] == [{"context": CHECK, "app_id": 424242}]
    assert http(github, "GET", "/repos/egi/rollout/branches/main/protection")[2] == {**protection}

    def merge() -> tuple[int, str]:
        status, _, answer = http(github, "PUT", f"/repos/egi/rollout/pulls/{number}/merge", {}, token="workflow-token")
        return status, answer["message"]

    def post(state: str, token: str) -> None:
        body = {"state": state, "context": CHECK, "description": "rollout check-pr"}
        assert http(github, "POST", f"/repos/egi/rollout/statuses/{head}", body, token=token)[0] == 201

    assert merge() == (405, f'Required status check "{CHECK}" is expected.')
    # Success posted with the workflow's token is another app's: it does not count.
    post("success", "workflow-token")
    assert merge() == (405, f'Required status check "{CHECK}" is expected.')
    post("failure", bot)
    post("success", "workflow-token")  # the newest status, still not the app's
    assert merge() == (405, f'Required status check "{CHECK}" is failing.')
    combined = http(github, "GET", f"/repos/egi/rollout/commits/{head}/status")[2]
    assert (combined["state"], combined["total_count"]) == ("success", 1)  # the newest of the context
    listed = http(github, "GET", f"/repos/egi/rollout/commits/{head}/statuses")[2]
    assert [(s["state"], s["creator"]["login"]) for s in listed] == [
        ("success", "github-actions[bot]"),
        ("failure", "rollout-bot[bot]"),
        ("success", "github-actions[bot]"),
    ]
    post("success", bot)
    # main moves: with `strict` the verdict was judged on a tip that is gone.
    work.write("c.txt", "c\n")
    work.commit("another change")
    assert http(github, "DELETE", "/repos/egi/rollout/branches/main/protection", token="admin-token")[0] == 204
    work.git("push", "-q", "origin", "main")
    assert protect(github, 424242)[0] == 200
    assert merge() == (405, "Head branch is out of date with the base branch.")
    # Not strict: the same verdict merges, as a real merge commit of tip and head.
    assert protect(github, 424242, strict=False)[0] == 200
    tip = work.git("rev-parse", "main")
    status, _, merged = http(github, "PUT", f"/repos/egi/rollout/pulls/{number}/merge", {}, token="workflow-token")
    assert (status, merged["merged"]) == (200, True)
    parents = subprocess.run(
        ["git", "--git-dir", str(origin), "rev-parse", f"{merged['sha']}^1", f"{merged['sha']}^2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert parents == [tip, head]
    assert github.repo()["issues"][str(number)]["state"] == "closed"
    assert merge() == (405, "Pull Request is not mergeable")

    seen = check_log(github)
    assert seen >= PROTECTION_OPERATIONS, f"not exercised: {sorted(PROTECTION_OPERATIONS - seen)}"


def test_a_protected_branch_refuses_pushes_and_takes_merges(github: GitHubServer, tmp_path: Path) -> None:
    _, work = served(tmp_path, github)
    with github.state.lock:
        github.state.data["tokens"]["admin-token"] = {"login": "carla-coord", "write": True}
    assert protect(github, None)[0] == 200
    work.write("d.txt", "d\n")
    work.commit("straight to main")
    pushed = subprocess.run(["git", "push", "origin", "main"], cwd=work.root, capture_output=True, text=True)
    assert pushed.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/main." in pushed.stderr
    assert "[remote rejected] main -> main (hook declined)" in pushed.stderr
    # Other branches take pushes: the bot proposes its changes from one.
    assert subprocess.run(["git", "push", "-q", "origin", "main:rollout-bot/advance"], cwd=work.root).returncode == 0


def test_app_tokens_need_the_key_and_hold_only_what_the_installation_grants(github: GitHubServer) -> None:
    assert app_token(github, private_key="a guess")[0] == 401
    assert app_token(github, client_id="another-app")[0] == 401
    status, answer = app_token(github, permissions={"administration": "write"})
    assert (status, answer["message"]) == (422, "The permissions requested are not granted to this installation.")
    before = github.snapshot()
    status, minted = app_token(github, permissions={"statuses": "write"})
    assert status == 201
    # A re-run of a workflow mints a token again: nothing but the tokens may differ.
    after = github.snapshot()
    assert {k: v for k, v in before.items() if k != "tokens"} == {k: v for k, v in after.items() if k != "tokens"}
    account = github.snapshot()["tokens"][minted["token"]]
    assert (account["login"], account["app"]) == ("rollout-bot[bot]", "rollout-bot")
    # Narrowed to statuses: it cannot open an issue.
    status, _, body = http(github, "POST", "/repos/egi/rollout/issues", {"title": "x"}, token=minted["token"])
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    _, full = app_token(github)
    assert http(github, "POST", "/repos/egi/rollout/issues", {"title": "x"}, token=full["token"])[0] == 201

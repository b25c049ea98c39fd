"""Reporting without YAML, end to end: the real ea-report.yml run by act on an `issues` event against the test server.

An EA team member submits the issue form; the workflow turns it into a pull
request holding the report, opened as the bot's app, and answers on the issue.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.act_support import payloads
from tests.act_support.runner import Runner
from tests.github_server import GitHubServer, new_state
from tests.support.repos import Repo, build_repo
from tests.test_form import BODY, PRAGUE
from tests.test_story import copy_project

pytestmark = pytest.mark.runner

FULL_NAME = "egi/rollout"


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    tokens = {"jan-token": {"login": "jan-cz", "write": True}}
    # The workflow makes the bot app's installation token from the app's key, as on GitHub.
    with GitHubServer(new_state(FULL_NAME, tokens=tokens)) as github:
        yield github


def file_issue(server: GitHubServer, body: str) -> dict[str, object]:
    answer = requests.post(
        f"{server.url}/repos/{FULL_NAME}/issues",
        headers={"Authorization": "token jan-token"},
        json={"title": "EA report: praguelcg2 on arc-ce 6.19.0", "body": body, "labels": ["ea-report"]},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    issue: dict[str, object] = answer.json()
    return issue


def test_a_submitted_form_becomes_the_bots_pull_request_and_an_answer_on_the_issue(
    tmp_path: Path, server: GitHubServer
) -> None:
    repo: Repo = build_repo(tmp_path / "repo")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(origin)], check=True)
    copy_project(repo.root)  # the workflow, and the tool it installs, are this checkout's
    repo.commit("The tool and its workflows")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "origin", "main")
    main = repo.git("rev-parse", "HEAD")

    issue = file_issue(server, BODY)
    label = {**payloads.minimal({"$ref": "#/definitions/label"}), "name": "ea-report"}
    payload = payloads.event(
        "issues$opened",
        action="opened",
        issue={
            "number": issue["number"],
            "title": issue["title"],
            "body": BODY,
            "state": "open",
            "labels": [label],
            "user": payloads.user("jan-cz"),
        },
        repository=payloads.repository(FULL_NAME),
        sender=payloads.user("jan-cz"),
    )
    act = Runner(origin, tmp_path / "act", server.url, today="2026-11-12")
    run = act.run("ea-report.yml", "issues", payload, sha=main, actor="jan-cz")
    assert run.returncode == 0, run.output[-6000:]

    shown = subprocess.run(
        ["git", "show", f"ea-report/1:{PRAGUE}"], cwd=origin, capture_output=True, text=True, check=True
    ).stdout
    report = yaml.safe_load(shown)
    assert report["team"] == "praguelcg2" and report["verdict"] == "accept"
    pulls = [i for i in server.repo()["issues"].values() if i.get("pull")]
    [pull] = pulls
    assert pull["user"] == "rollout-bot[bot]"  # the app's: its pull request starts the required check
    assert "Closes #1" in str(pull["body"])
    assert json.dumps(pull["pull"]).count('"ref": "ea-report/1"') == 1
    comments = [c for c in server.repo()["comments"].values() if c["issue"] == 1]
    assert [c["user"] for c in comments] == ["rollout-bot[bot]"]
    assert f"pull request #{pull['number']}" in str(comments[0]["body"])

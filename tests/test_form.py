"""Reporting without YAML: the issue form, its parser, and `rollout bot report-from-issue` against the test server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from rollout_tool.github.form import FORM_PATH, new_report_url, parse
from rollout_tool.records import Environment, Report
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.github_server import GitHubServer, new_state
from tests.support.repos import Repo, invoke_rollout

ROOT = Path(__file__).resolve().parent.parent
PRAGUE = "releases/arc-ce/6.19.0/reports/praguelcg2.yaml"
BRANCH = "ea-report/1"

# What GitHub writes into the issue for a submitted form: `### Label`, a blank line, the answer.
BODY = """\
### Product

arc-ce

### Version

6.19.0

### EA team

praguelcg2

### Verdict

accept

### Revision tested

_No response_

### Platforms

el8, el9

### Architecture

x86_64

### Installation

upgrade

### Upgraded from

6.18.0

### Services

A-REX, nordugridmap

### Batch system

HTCondor

### VO workflows

_No response_

### In production since

2026-11-03

### Known issues

- high: the A-REX cache fills /var on the first start
the information system restarts twice

### Notes

Ran on two CEs. @everyone <b>hello</b>
"""


# ------------------------------------------------------------------ the form


def test_the_committed_form_is_current_and_asks_for_every_report_field() -> None:
    result = invoke_rollout("form", "--check", "--repo", str(ROOT), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    form = yaml.safe_load((ROOT / FORM_PATH).read_text(encoding="utf-8"))
    assert form["labels"] == ["ea-report"]
    elements = {e["id"]: e for e in form["body"] if "id" in e}
    required = {i for i, e in elements.items() if e.get("validations", {}).get("required")}
    # Every field a report or its environment must have is asked for, and required.
    must = {n for n, f in Report.model_fields.items() if f.is_required()} - {"revision", "date", "environments"}
    must |= {n for n, f in Environment.model_fields.items() if f.is_required()} - {"platform"}
    assert must | {"product", "version", "platforms"} <= required
    asked = set(elements) - {"product", "version", "platforms"}
    assert asked <= set(Report.model_fields) | set(Environment.model_fields)
    config = Repository(WorkTree(ROOT)).config()
    assert config is not None
    assert elements["platforms"]["attributes"]["options"] == list(config.platforms)
    assert elements["workflows"]["attributes"]["options"] == list(config.workflows)
    arches = {a for p in config.platforms.values() for a in p.arches}
    assert set(elements["arch"]["attributes"]["options"]) == arches


def test_form_check_fails_once_rollout_yaml_has_another_platform(repo: Repo) -> None:
    assert repo.rollout("form").stdout == f"wrote {FORM_PATH}\n"
    assert repo.rollout("form", "--check").returncode == 0
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("groups:", "  el10: {name: EL 10, arches: [x86_64]}\ngroups:", 1))
    stale = repo.rollout("form", "--check")
    assert (stale.returncode, stale.stdout) == (1, "")
    assert f"{FORM_PATH}: stale; run `rollout form` and commit the result" in stale.stderr + stale.stdout
    assert repo.rollout("form").stdout == f"wrote {FORM_PATH}\n"
    form = yaml.safe_load((repo.root / FORM_PATH).read_text())
    [platforms] = [e for e in form["body"] if e.get("id") == "platforms"]
    assert platforms["attributes"]["options"] == ["el8", "el9", "el10"]


def test_init_writes_the_form_and_its_workflow(tmp_path: Path) -> None:
    result = invoke_rollout(
        "init", str(tmp_path / "new"), "--name", "Test", "--coordinator", "carla-coord", "--bot", "rollout-bot[bot]",
        "--platform", "el9", "--group", "arc", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert FORM_PATH in result.stdout and ".github/workflows/ea-report.yml" in result.stdout
    assert invoke_rollout("form", "--check", "--repo", str(tmp_path / "new"), cwd=tmp_path).returncode == 0


# ------------------------------------------------------------------ the parser


def test_a_rendered_form_is_read_by_label() -> None:
    found = parse(BODY)
    assert found.problems == []
    assert found.values["team"] == "praguelcg2"
    assert found.values["platforms"] == "el8, el9"
    assert found.values["revision"] == ""  # _No response_
    assert found.values["comments"] == "Ran on two CEs. @everyone <b>hello</b>"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (BODY.replace("### Product\n\narc-ce", "### Product\n\n_No response_"), "Product is missing"),
        (BODY + "\n### EA team\n\nncg-ingrid-pt\n", "the section EA team appears twice: keep one"),
        (BODY.replace("### Version\n\n6.19.0\n\n", "") + "### Version\n\n6.19.0\n", "the section Version is out of the form's order"),
        (BODY.replace("praguelcg2", "praguelcg2\nncg-ingrid-pt"), "EA team must be one line"),
        (BODY.replace("HTCondor", "x" * 201), "Batch system is longer than 200 characters"),
        ("### Product\n\n" + "a" * 70_000, "the issue is longer than 65536 characters"),
    ],
    ids=["missing", "repeated", "reordered", "two-lines", "too-long", "huge"],
)  # fmt: skip
def test_a_body_that_is_not_the_form_is_refused_with_the_reason(body: str, problem: str) -> None:
    assert problem in parse(body).problems


def test_a_heading_inside_a_textarea_that_is_no_label_stays_text() -> None:
    body = BODY.replace("Ran on two CEs.", "### Not a label\n\nRan on two CEs.")
    found = parse(body)
    assert found.problems == []
    assert found.values["comments"].startswith("### Not a label")


# ------------------------------------------------------------------ the bot, against the test server


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    tokens = {
        "bot-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": True},
        "jan-token": {"login": "jan-cz", "write": True},
        "ana-token": {"login": "ana-pt", "write": True},
    }
    with GitHubServer(new_state("egi/rollout", tokens=tokens)) as server:
        yield server


@pytest.fixture
def remote(repo: Repo, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "HEAD:refs/heads/main")
    return bare


def file_issue(server: GitHubServer, token: str, body: str) -> dict[str, object]:
    answer = requests.post(
        f"{server.url}/repos/egi/rollout/issues",
        headers={"Authorization": f"token {token}"},
        json={"title": "EA report: praguelcg2", "body": body, "labels": ["ea-report"]},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    issue: dict[str, object] = answer.json()
    return issue


def edit_issue(server: GitHubServer, token: str, number: int, body: str) -> dict[str, object]:
    answer = requests.patch(
        f"{server.url}/repos/egi/rollout/issues/{number}",
        headers={"Authorization": f"token {token}"},
        json={"body": body},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    issue: dict[str, object] = answer.json()
    return issue


def run_bot(
    repo: Repo, server: GitHubServer, tmp_path: Path, issue: dict[str, object], action: str = "opened", by: str = ""
) -> str:
    event = tmp_path / "event.json"
    sender = {"login": by or issue["user"]["login"]}  # type: ignore[index]
    event.write_text(json.dumps({"action": action, "issue": issue, "sender": sender}), encoding="utf-8")
    env = {
        "ROLLOUT_BOT_APP": "rollout-bot",
        "GITHUB_TOKEN": "bot-token",
        "GITHUB_REPOSITORY": "egi/rollout",
        "GITHUB_API_URL": server.url,
        "GITHUB_EVENT_PATH": str(event),
        "ROLLOUT_BOT_BACKOFF": "0.01",
        "ROLLOUT_BOT_WRITE_INTERVAL": "0",
        "ROLLOUT_BOT_TIMEOUT": "5",
    }
    result = repo.rollout("bot", "report-from-issue", "--today", "2026-11-12", env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def remote_file(remote: Path, branch: str, path: str) -> str | None:
    done = subprocess.run(["git", "show", f"{branch}:{path}"], cwd=remote, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def pulls(server: GitHubServer) -> list[dict[str, object]]:
    return [i for i in server.repo()["issues"].values() if i.get("pull")]


def comments_on(server: GitHubServer, number: int) -> list[dict[str, object]]:
    found = [c for c in server.repo()["comments"].values() if c["issue"] == number]
    return sorted(found, key=lambda c: int(str(c["id"])))


def test_a_team_members_form_becomes_one_pull_request_and_one_comment(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    issue = file_issue(github, "jan-token", BODY)
    out = run_bot(repo, github, tmp_path, issue)
    assert out.splitlines()[0].startswith("pushed "), comments_on(github, 1)
    assert f"opened pull request #2 from {BRANCH}" in out
    report = remote_file(remote, BRANCH, PRAGUE)
    assert report is not None
    data = yaml.safe_load(report)
    assert data["team"] == "praguelcg2"
    assert [e["platform"] for e in data["environments"]] == ["el8", "el9"]
    assert data["environments"][0]["services"] == ["A-REX", "nordugridmap"]
    assert (str(data["in_production_since"]), str(data["date"])) == ("2026-11-03", "2026-11-12")
    assert data["issues"] == [
        {"summary": "the A-REX cache fills /var on the first start", "severity": "high", "known_issue": True},
        {"summary": "the information system restarts twice", "severity": "medium", "known_issue": True},
    ]
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae> / %cn", BRANCH], cwd=remote, capture_output=True, text=True
    ).stdout.strip()
    assert author.startswith("jan-cz <") and author.endswith("/ rollout-bot[bot]")
    assert remote_file(remote, "main", PRAGUE) is None  # main is left to the merge
    [pull] = pulls(github)
    assert pull["user"] == "rollout-bot[bot]"
    assert "Closes #1" in str(pull["body"]) and "@jan-cz" in str(pull["body"])
    [comment] = comments_on(github, 1)
    assert comment["user"] == "rollout-bot[bot]"
    assert "pull request #2" in str(comment["body"]) and "@jan-cz" in str(comment["body"])
    # Idempotent: the same event again changes nothing.
    before = github.snapshot()
    assert run_bot(repo, github, tmp_path, issue) == "nothing to change\n"
    assert github.snapshot() == before


def test_an_edited_form_updates_the_same_branch_and_pull_request(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    issue = file_issue(github, "jan-token", BODY)
    run_bot(repo, github, tmp_path, issue)
    edited = edit_issue(github, "jan-token", 1, BODY.replace("### Verdict\n\naccept", "### Verdict\n\nreject"))
    out = run_bot(repo, github, tmp_path, edited, "edited")
    assert out.startswith("pushed ") and "opened" not in out
    assert yaml.safe_load(remote_file(remote, BRANCH, PRAGUE) or "")["verdict"] == "reject"
    assert len(pulls(github)) == 1 and len(comments_on(github, 1)) == 1


def test_the_author_comes_from_the_event_and_a_non_member_is_refused_on_the_issue(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    # ana-pt is in ncg-ingrid-pt, not praguelcg2: the body's team grants nothing.
    issue = file_issue(github, "ana-token", BODY)
    out = run_bot(repo, github, tmp_path, issue)
    assert out.startswith("#1: refused (")
    assert pulls(github) == []
    assert remote_file(remote, BRANCH, PRAGUE) is None
    [comment] = comments_on(github, 1)
    assert "could not become a report" in str(comment["body"])
    assert "ana-pt" in str(comment["body"]) and "praguelcg2" in str(comment["body"])


def test_an_answer_that_names_nothing_is_a_problem_not_a_crash(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    issue = file_issue(github, "jan-token", BODY.replace("### Platforms\n\nel8, el9", "### Platforms\n\n , ,"))
    assert run_bot(repo, github, tmp_path, issue).startswith("#1: refused (1 problem)\n#1: posted comment ")
    [comment] = comments_on(github, 1)
    assert "Platforms names no platform" in str(comment["body"])


def test_problems_are_listed_as_inert_text_and_nothing_is_pushed(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    body = BODY.replace("### EA team\n\npraguelcg2", "### EA team\n\n../@everyone<img src=x>").replace(
        "2026-11-03", "2026-13-03"
    )
    issue = file_issue(github, "jan-token", body)
    out = run_bot(repo, github, tmp_path, issue)
    assert out.startswith("#1: refused (2 problems)")
    [comment] = comments_on(github, 1)
    text = str(comment["body"])
    assert "<img" not in text and "@everyone" not in text
    assert "is not a team name" in text and "is not a date such as 2026-11-20" in text
    assert pulls(github) == []
    # Fixed by an edit: the same comment now names the pull request.
    edited = edit_issue(github, "jan-token", 1, BODY)
    run_bot(repo, github, tmp_path, edited, "edited")
    [comment] = comments_on(github, 1)
    assert "pull request #2" in str(comment["body"])


def test_a_report_for_a_closed_release_is_refused_with_new_reports_sentence(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    issue = file_issue(
        github, "jan-token", BODY.replace("### Revision tested\n\n_No response_", "### Revision tested\n\n3")
    )
    run_bot(repo, github, tmp_path, issue)
    [comment] = comments_on(github, 1)
    assert "is at revision 1, not 3" in str(comment["body"])
    assert pulls(github) == []


def test_an_issue_without_the_label_is_left_alone(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    issue = file_issue(github, "jan-token", BODY)
    issue["labels"] = []
    assert run_bot(repo, github, tmp_path, issue) == "#1: not an open issue labelled ea-report; nothing to do\n"
    assert comments_on(github, 1) == []


# ------------------------------------------------------------------ the dashboard's link to the form


def test_a_release_page_in_rollout_links_to_the_form_prefilled(repo: Repo, tmp_path: Path) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config + "url: https://github.com/egi/rollout.git\n")
    result = repo.rollout("site", "--out", str(tmp_path / "site"), "--today", "2026-11-12")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site/releases/arc-ce/6.19.0.html").read_text()
    assert (
        'href="https://github.com/egi/rollout/issues/new?template=ea-report.yml&amp;product=arc-ce&amp;version=6.19.0"'
        in page
    )
    # Out of rollout, no report is taken: no link.
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(
        release.read_text().replace("state: rollout", "state: accepted")
        + "  - {state: accepted, date: 2026-11-11, by: carla-coord}\n"
    )
    assert repo.rollout("site", "--out", str(tmp_path / "site"), "--today", "2026-11-12").returncode == 0
    assert "issues/new" not in (tmp_path / "site/releases/arc-ce/6.19.0.html").read_text()


def test_the_form_link_encodes_the_version_and_needs_the_repositorys_url(repo: Repo) -> None:
    config = Repository(WorkTree(repo.root)).config()
    assert config is not None
    assert new_report_url(config, "xrootd", "5.4.2") is None  # rollout.yaml names no repository
    named = config.model_copy(update={"url": "https://github.com/egi/rollout/"})
    assert new_report_url(named, "dcache", "9.2.1+rc1~el9") == (
        "https://github.com/egi/rollout/issues/new?template=ea-report.yml&product=dcache&version=9.2.1%2Brc1~el9"
    )


def test_an_edit_into_a_refused_form_closes_the_earlier_pull_request(
    repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path
) -> None:
    run_bot(repo, github, tmp_path, file_issue(github, "jan-token", BODY))
    edited = edit_issue(github, "jan-token", 1, BODY.replace("### Platforms\n\nel8, el9", "### Platforms\n\nel7"))
    out = run_bot(repo, github, tmp_path, edited, "edited")
    assert out.splitlines()[:2] == [
        "#1: refused (1 problem)",
        "#2: closed (the form was edited into one that is refused)",
    ]
    [pull] = pulls(github)
    assert pull["state"] == "closed"
    [comment] = comments_on(github, 1)
    assert "el7" in str(comment["body"]) and "pull request #2" not in str(comment["body"])


def test_only_the_authors_own_edits_are_read(repo: Repo, github: GitHubServer, remote: Path, tmp_path: Path) -> None:
    # Someone with the right to edit others' issues rewrites a team member's form.
    issue = file_issue(github, "jan-token", BODY)
    edited = edit_issue(github, "ana-token", 1, BODY.replace("### Verdict\n\naccept", "### Verdict\n\nreject"))
    assert run_bot(repo, github, tmp_path, edited, "edited", by="ana-pt").startswith("#1: refused (1 problem)")
    [comment] = comments_on(github, 1)
    assert "ana-pt edited the form of jan-cz: only its author" in str(comment["body"])
    assert pulls(github) == [] and remote_file(remote, BRANCH, PRAGUE) is None
    assert issue["number"] == 1

"""`rollout bot ...`: the real command against the GitHub-compatible server, with faults injected."""

from __future__ import annotations

import ast
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from github import GithubException

from rollout_tool.github.client import Settings, classify
from tests.github_server import GitHubServer, new_state
from tests.support.lifecycle import RELEASE_PATH, entry, release_text, walk
from tests.support.repos import Repo, report_text

SHA = "ab" * 20
ACCEPTED = """\
version: 6.19.0
type: minor
state: {state}
revision: 1
platforms: [el8, el9]
summary: ARC CE 6.19.0 with token support
teams: [ncg-ingrid-pt, praguelcg2]
history:
  - {{state: candidate, date: 2026-11-01, by: nordu-maint}}
  - {{state: rollout, date: 2026-11-02, by: carla-coord}}
  - {{state: accepted, date: 2026-11-20, by: carla-coord}}
{released}decisions: [{{action: accept, by: carla-coord, date: 2026-11-20, reason: quorum met}}]
"""


def release_in(state: str) -> str:
    released = "  - {state: released, date: 2026-11-21, by: carla-coord}\n" if state == "released" else ""
    return ACCEPTED.format(state=state, released=released)


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    tokens = {
        # Installation tokens of the bot's GitHub App, as actions/create-github-app-token makes them.
        "bot-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": True},
        "read-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": False},
        # The workflow's own token, and a person's.
        "workflow-token": {"login": "github-actions[bot]", "app": "github-actions", "write": True},
        "other-token": {"login": "someone-else", "write": True},
    }
    with GitHubServer(new_state("egi/rollout", tokens=tokens, head_sha=SHA)) as server:
        yield server


BOT_ENV = {"ROLLOUT_BOT_APP": "rollout-bot"}


def bot_env(server: GitHubServer, **extra: str) -> dict[str, str]:
    env = {
        **BOT_ENV,
        "GITHUB_TOKEN": "bot-token",
        "GITHUB_REPOSITORY": "egi/rollout",
        "GITHUB_API_URL": server.url,
        "GITHUB_SHA": SHA,
        "ROLLOUT_BOT_BACKOFF": "0.01",
        "ROLLOUT_BOT_WRITE_INTERVAL": "0",
        "ROLLOUT_BOT_TIMEOUT": "5",
    }
    env.update(extra)
    return env


def run_bot(repo: Repo, server: GitHubServer, *args: str, **env: str) -> str:
    result = repo.rollout("bot", *args, env=bot_env(server, **env))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def assert_rerun_changes_nothing(repo: Repo, server: GitHubServer, *args: str) -> None:
    before = server.snapshot()
    writes = len(server.writes())
    assert run_bot(repo, server, *args) == "nothing to change\n"
    assert server.writes()[writes:] == []
    assert server.snapshot() == before


def issues(server: GitHubServer) -> list[dict[str, object]]:
    return sorted(server.repo()["issues"].values(), key=lambda i: int(str(i["number"])))


def comments_on(server: GitHubServer, number: int) -> list[str]:
    found = [c for c in server.repo()["comments"].values() if c["issue"] == number]
    return [c["body"] for c in sorted(found, key=lambda c: c["id"])]


# ------------------------------------------------------------------ sync


def test_sync_opens_one_tracking_issue_with_a_checklist_then_changes_nothing(repo: Repo, github: GitHubServer) -> None:
    assert run_bot(repo, github, "sync", "--today", "2026-11-05") == "arc-ce/6.19.0: opened tracking issue #1\n"
    [issue] = issues(github)
    assert issue["title"] == "Staged rollout: ARC CE 6.19.0"
    assert issue["labels"] == ["rollout"]
    assert issue["user"] == "rollout-bot[bot]"
    body = str(issue["body"])
    assert body.startswith("<!-- rollout-as-code:tracking arc-ce/6.19.0 -->\n")
    assert "- [x] `ncg-ingrid-pt` (NCG-INGRID-PT): @ana-pt: accept (revision 1, 2026-11-10, el9)\n" in body
    assert "- [ ] `praguelcg2` (praguelcg2): @jan-cz @eva-cz\n" in body
    assert "In staged rollout since 2026-11-02." in body
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-05")


def test_sync_ticks_a_new_report_and_closes_the_issue_when_the_release_leaves_rollout(
    repo: Repo, github: GitHubServer
) -> None:
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", report_text("praguelcg2", platform="el8"))
    repo.commit("praguelcg2 reports")
    assert run_bot(repo, github, "sync", "--today", "2026-11-05") == "arc-ce/6.19.0: updated tracking issue #1\n"
    body = str(issues(github)[0]["body"])
    assert "- [x] `praguelcg2` (praguelcg2): @jan-cz @eva-cz: accept (revision 1, 2026-11-10, el8)\n" in body
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-05")

    repo.write("releases/arc-ce/6.19.0/release.yaml", release_in("accepted"))
    repo.commit("accept")
    out = run_bot(repo, github, "sync", "--today", "2026-11-21")
    assert out == "arc-ce/6.19.0: closed tracking issue #1 (accepted)\n"
    [issue] = issues(github)
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert "This release has left staged rollout: it is now **accepted**." in str(issue["body"])
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-21")


def test_sync_tags_and_publishes_a_released_release_once(repo: Repo, github: GitHubServer) -> None:
    repo.write("releases/arc-ce/6.19.0/release.yaml", release_in("released"))
    repo.commit("release")
    out = run_bot(repo, github, "sync", "--today", "2026-11-21")
    state = github.repo()
    [release] = state["releases"].values()
    assert out.splitlines() == [
        f"arc-ce/6.19.0: tagged arc-ce/6.19.0 at {SHA[:12]}",
        f"arc-ce/6.19.0: published GitHub Release {github.url}/egi/rollout/releases/tag/arc-ce/6.19.0",
    ]
    assert state["refs"]["refs/tags/arc-ce/6.19.0"] == {"sha": SHA, "type": "commit"}
    assert release["name"] == "arc-ce 6.19.0"
    assert release["tag_name"] == "arc-ce/6.19.0"
    notes = repo.rollout("notes", "arc-ce/6.19.0", "--today", "2026-11-21")
    assert notes.returncode == 0, notes.stderr
    assert release["body"] == notes.stdout
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-21")


def test_sync_replaces_a_stale_release_body_and_keeps_an_existing_tag(repo: Repo, github: GitHubServer) -> None:
    repo.write("releases/arc-ce/6.19.0/release.yaml", release_in("released"))
    repo.commit("release")
    with github.state.lock:
        refs = github.state.data["repos"]["egi/rollout"]["refs"]
        refs["refs/tags/arc-ce/6.19.0"] = {"sha": "cd" * 20, "type": "commit"}
        github.state.data["repos"]["egi/rollout"]["releases"]["7"] = {
            "id": 7,
            "tag_name": "arc-ce/6.19.0",
            "target_commitish": "main",
            "name": "arc-ce 6.19.0",
            "body": "Release notes will follow.",
            "draft": False,
            "prerelease": False,
            "author": "rollout-bot[bot]",
            "created_at": "2026-11-21T10:00:00Z",
            "updated_at": "2026-11-21T10:00:00Z",
        }
    out = run_bot(repo, github, "sync", "--today", "2026-11-21")
    assert out == f"arc-ce/6.19.0: updated GitHub Release {github.url}/egi/rollout/releases/tag/arc-ce/6.19.0\n"
    state = github.repo()
    assert state["refs"]["refs/tags/arc-ce/6.19.0"]["sha"] == "cd" * 20
    assert state["releases"]["7"]["body"].startswith("# ")
    assert list(state["releases"]) == ["7"]


# ------------------------------------------------------------------ remind


def test_remind_posts_once_per_late_team_per_day_and_escalates_late_enough(repo: Repo, github: GitHubServer) -> None:
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    # report_days 14 from 2026-11-02: due 2026-11-16; escalate_days 7.
    out = run_bot(repo, github, "remind", "--today", "2026-11-18")
    assert out.splitlines() == [
        "arc-ce/6.19.0: updated tracking issue #1",
        "arc-ce/6.19.0: reminded team praguelcg2 on #1",
    ]
    [reminder] = comments_on(github, 1)
    assert reminder == (
        "<!-- rollout-as-code:reminder praguelcg2 2026-11-18 -->\n"
        "@jan-cz @eva-cz: the Early Adopter report of team `praguelcg2` on ARC CE 6.19.0 was due on 2026-11-16 "
        "and is 2 days late. Please install it and open a pull request adding "
        "`releases/arc-ce/6.19.0/reports/praguelcg2.yaml`.\n"
    )
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-18")

    out = run_bot(repo, github, "remind", "--today", "2026-11-25")
    assert "arc-ce/6.19.0: reminded team praguelcg2 on #1 (escalated to the coordinators)" in out.splitlines()
    later = comments_on(github, 1)
    assert len(later) == 2
    assert later[1].endswith("\n\n@carla-coord @dmitri-coord: escalated to the coordinators (9 days late).\n")
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-25")


def test_remind_mentions_the_federation_s_and_the_family_s_contacts(repo: Repo, github: GitHubServer) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    config = config.replace(
        "  arc: {name: ARC, contacts: [early-adopters-arc@example.org]}",
        "  arc: {name: ARC, contacts: [early-adopters-arc@example.org], mention: [arc-leads]}",
    )
    config += "federations:\n  EGI: {name: EGI Federation, mention: [egi-ops]}\n  OSG: {name: OSG Consortium}\n"
    repo.write("rollout.yaml", config)
    repo.commit("contacts")
    run_bot(repo, github, "remind", "--today", "2026-11-18")
    [reminder] = comments_on(github, 1)
    assert reminder.endswith("\n\n@egi-ops @arc-leads: for your federation or product family, a team is late.\n")


def test_remind_opens_the_tracking_issue_when_sync_has_not(repo: Repo, github: GitHubServer) -> None:
    out = run_bot(repo, github, "remind", "--today", "2026-11-18")
    assert out.splitlines() == [
        "arc-ce/6.19.0: opened tracking issue #1",
        "arc-ce/6.19.0: reminded team praguelcg2 on #1",
    ]


def test_remind_with_nobody_late_does_nothing(repo: Repo, github: GitHubServer) -> None:
    assert run_bot(repo, github, "remind", "--today", "2026-11-10") == "nothing to change\n"
    assert github.writes() == []


# ------------------------------------------------------------------ the pull request comment


@pytest.fixture
def pull(github: GitHubServer) -> int:
    return github.add_pull("Report of praguelcg2", "jan-cz")


def comment_args(tmp_path: Path, pull: int, text: str, *labels: str) -> list[str]:
    body = tmp_path / "comment.md"
    body.write_text(text)
    return [
        "comment",
        "--pr",
        str(pull),
        "--body-file",
        str(body),
        *(a for label in labels for a in ("--label", label)),
    ]


def test_comment_is_sticky_and_labels_change_only_our_own(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path
) -> None:
    with github.state.lock:
        github.state.ensure_label(github.state.data["repos"]["egi/rollout"], "needs-review")
        github.state.data["repos"]["egi/rollout"]["issues"][str(pull)]["labels"] = ["needs-review"]
    args = comment_args(tmp_path, pull, "Adds a report.\n", "report", "verdict: accept")
    out = run_bot(repo, github, *args)
    [comment] = comments_on(github, pull)
    assert out.splitlines() == [
        "#1: added labels report, verdict: accept",
        f"#1: posted comment {github.url}/egi/rollout/pull/1#issuecomment-{max(github.repo()['comments'])}",
    ]
    assert comment == (
        "<!-- rollout-as-code:pull-request -->\n"
        '<!-- rollout-as-code:labels ["report", "verdict: accept"] -->\n'
        "Adds a report.\n"
    )
    assert_rerun_changes_nothing(repo, github, *args)

    args = comment_args(tmp_path, pull, "Adds a report that rejects.\n", "report", "verdict: reject")
    out = run_bot(repo, github, *args)
    assert out.splitlines()[:2] == ["#1: added label verdict: reject", "#1: removed label verdict: accept"]
    assert len(comments_on(github, pull)) == 1
    assert comments_on(github, pull)[0].endswith("Adds a report that rejects.\n")
    assert github.repo()["issues"][str(pull)]["labels"] == ["needs-review", "report", "verdict: reject"]
    assert_rerun_changes_nothing(repo, github, *args)


def test_comment_leaves_a_copied_marker_in_someone_elses_comment_alone(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path
) -> None:
    with github.state.lock:
        github.state.data["repos"]["egi/rollout"]["comments"]["5"] = {
            "id": 5,
            "issue": pull,
            "body": "quoting the bot: <!-- rollout-as-code:pull-request -->",
            "user": "jan-cz",
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-20T10:00:00Z",
        }
    run_bot(repo, github, *comment_args(tmp_path, pull, "Adds a report.\n"))
    bodies = comments_on(github, pull)
    assert bodies[0] == "quoting the bot: <!-- rollout-as-code:pull-request -->"
    assert len(bodies) == 2


def test_comment_on_an_issue_is_a_usage_error(repo: Repo, github: GitHubServer, tmp_path: Path) -> None:
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    result = repo.rollout("bot", *comment_args(tmp_path, 1, "x"), env=bot_env(github))
    assert result.returncode == 2
    assert result.stderr == "rollout: #1 is an issue, not a pull request\n"


def test_comment_takes_the_pull_request_from_the_event(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(f'{{"action": "opened", "number": {pull}, "pull_request": {{"number": {pull}}}}}')
    args = [a for a in comment_args(tmp_path, pull, "Adds a report.\n") if a not in ("--pr", str(pull))]
    run_bot(repo, github, *args, GITHUB_EVENT_PATH=str(event))
    assert len(comments_on(github, pull)) == 1


# ------------------------------------------------------------------ faults


def test_a_502_after_the_comment_was_created_does_not_make_a_second_one(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path
) -> None:
    github.add_fault(method="POST", path="/repos/*/issues/*/comments", status=502, when="after")
    run_bot(repo, github, *comment_args(tmp_path, pull, "Adds a report.\n"))
    assert len(comments_on(github, pull)) == 1
    posts = [w for w in github.writes() if w.startswith("POST /repos/egi/rollout/issues/1/comments")]
    assert posts == ["POST /repos/egi/rollout/issues/1/comments 502"]


def test_a_502_before_the_issue_was_created_is_retried(repo: Repo, github: GitHubServer) -> None:
    github.add_fault(method="POST", path="/repos/egi/rollout/issues", status=502, times=2)
    assert run_bot(repo, github, "sync", "--today", "2026-11-05") == "arc-ce/6.19.0: opened tracking issue #1\n"
    assert len(issues(github)) == 1
    assert [w for w in github.writes() if w.startswith("POST")] == [
        "POST /repos/egi/rollout/issues 502",
        "POST /repos/egi/rollout/issues 502",
        "POST /repos/egi/rollout/issues 201",
    ]


def test_a_lost_tag_and_release_answer_creates_neither_twice(repo: Repo, github: GitHubServer) -> None:
    repo.write("releases/arc-ce/6.19.0/release.yaml", release_in("released"))
    repo.commit("release")
    github.add_fault(method="POST", path="/repos/*/git/refs", status=500, when="after")
    github.add_fault(method="POST", path="/repos/*/releases", status=503, when="after")
    run_bot(repo, github, "sync", "--today", "2026-11-21")
    state = github.repo()
    assert len(state["releases"]) == 1
    # One POST each, answered with the injected error: the retry found what it had made.
    assert github.writes() == ["POST /repos/egi/rollout/git/refs 500", "POST /repos/egi/rollout/releases 503"]
    assert state["refs"]["refs/tags/arc-ce/6.19.0"]["sha"] == SHA
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-21")


def test_a_slow_answer_past_the_timeout_is_found_instead_of_repeated(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path
) -> None:
    github.add_fault(method="POST", path="/repos/*/issues/*/comments", status=None, when="after", delay=2.5)
    run_bot(repo, github, *comment_args(tmp_path, pull, "Adds a report.\n"), ROLLOUT_BOT_TIMEOUT="1")
    assert len(comments_on(github, pull)) == 1


@pytest.mark.parametrize(
    ("fault", "waited"),
    [
        ({"status": 403, "rate_limit": "secondary", "retry_after": 1}, 1.0),
        ({"status": 429, "rate_limit": "secondary", "retry_after": 1}, 1.0),
        ({"status": 403, "rate_limit": "primary", "reset_in": 1}, 1.0),
    ],
    ids=["secondary-403", "secondary-429", "primary-403"],
)
def test_rate_limits_are_waited_out_then_retried(
    repo: Repo, github: GitHubServer, fault: dict[str, object], waited: float
) -> None:
    github.add_fault(method="POST", path="/repos/egi/rollout/issues", **fault)
    started = time.monotonic()
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    assert time.monotonic() - started >= waited
    assert len(issues(github)) == 1
    assert [w.split()[-1] for w in github.writes()] == [str(fault["status"]), "201"]


def test_a_secondary_rate_limit_without_retry_after_waits_the_configured_minute(
    repo: Repo, github: GitHubServer
) -> None:
    github.add_fault(method="POST", path="/repos/egi/rollout/issues", status=403, rate_limit="secondary")
    started = time.monotonic()
    run_bot(repo, github, "sync", "--today", "2026-11-05", ROLLOUT_BOT_SECONDARY_WAIT="0.7")
    assert time.monotonic() - started >= 0.7
    assert len(issues(github)) == 1


def test_a_rate_limit_longer_than_the_longest_wait_fails_at_once(repo: Repo, github: GitHubServer) -> None:
    github.add_fault(method="GET", path="/repos/egi/rollout", status=429, rate_limit="secondary", retry_after=3600)
    started = time.monotonic()
    result = repo.rollout("bot", "sync", "--today", "2026-11-05", env=bot_env(github, ROLLOUT_BOT_MAX_WAIT="60"))
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert re.fullmatch(
        r"rollout: GitHub rate limit: cannot read the repository before \S+ \S+ UTC \(429 You have exceeded .*\)\n",
        result.stderr,
    )


def test_server_errors_that_never_stop_end_with_a_readable_error(repo: Repo, github: GitHubServer) -> None:
    github.add_fault(method="GET", path="/repos/egi/rollout/issues", status=502, times=100)
    result = repo.rollout("bot", "sync", "--today", "2026-11-05", env=bot_env(github, ROLLOUT_BOT_ATTEMPTS="3"))
    assert result.returncode == 2
    assert result.stderr == "rollout: could not list the tracking issues after 3 attempts: 502 Server Error\n"
    assert github.writes() == []


def test_a_read_only_token_is_a_fatal_error_not_a_traceback(repo: Repo, github: GitHubServer) -> None:
    result = repo.rollout("bot", "sync", "--today", "2026-11-05", env=bot_env(github, GITHUB_TOKEN="read-token"))
    assert result.returncode == 2
    assert result.stderr == (
        "rollout: GitHub refused to create the tracking issue of arc-ce/6.19.0: "
        "403 Resource not accessible by integration\n"
    )
    assert issues(github) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_TOKEN": ""}, "rollout: GITHUB_TOKEN is not set: the bot needs a token to talk to GitHub\n"),
        ({"GITHUB_REPOSITORY": "rollout"}, "rollout: GITHUB_REPOSITORY must be owner/name, not 'rollout'\n"),
        ({"ROLLOUT_BOT_BACKOFF": "soon"}, "rollout: ROLLOUT_BOT_BACKOFF must be a number, not 'soon'\n"),
        ({"GITHUB_TOKEN": "wrong"}, "rollout: GitHub refused to say whom the token acts as: 401 Bad credentials\n"),
    ],
    ids=["no-token", "bad-repository", "bad-backoff", "bad-token"],
)
def test_bad_settings_are_usage_errors(repo: Repo, github: GitHubServer, env: dict[str, str], message: str) -> None:
    result = repo.rollout("bot", "sync", env=bot_env(github, **env))
    assert result.returncode == 2
    assert result.stderr == message


@pytest.mark.parametrize("command", ["sync", "remind", "comment"])
@pytest.mark.parametrize(
    ("env", "acts_as"),
    [
        ({"GITHUB_TOKEN": "other-token", "ROLLOUT_BOT_APP": ""}, "someone-else"),
        ({"GITHUB_TOKEN": "workflow-token", "ROLLOUT_BOT_APP": ""}, "github-actions[bot]"),
        ({"GITHUB_TOKEN": "workflow-token", "ROLLOUT_BOT_APP": "another-app"}, "another-app[bot]"),
    ],
    ids=["a-person", "the-workflow-token", "another-app"],
)
def test_a_token_acting_as_another_login_is_refused_before_any_write(
    repo: Repo, github: GitHubServer, pull: int, tmp_path: Path, command: str, env: dict[str, str], acts_as: str
) -> None:
    args = comment_args(tmp_path, pull, "hello") if command == "comment" else [command, "--today", "2026-11-30"]
    result = repo.rollout("bot", *args, env=bot_env(github, **env))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"rollout: the token acts as {acts_as}, but rollout.yaml names the bot rollout-bot[bot]: nothing was written"
        f" (set `bot: {acts_as}` in rollout.yaml, or give the bot its own token)\n"
    )
    assert [write for write in github.writes() if not write.startswith("POST /_")] == []


def test_the_workflow_token_acts_as_github_actions(repo: Repo, github: GitHubServer) -> None:
    repo.write(
        "rollout.yaml", (repo.root / "rollout.yaml").read_text().replace("rollout-bot[bot]", "github-actions[bot]")
    )
    repo.commit("the workflow's token is the bot")
    out = run_bot(repo, github, "sync", "--today", "2026-11-05", GITHUB_TOKEN="workflow-token", ROLLOUT_BOT_APP="")
    assert out == "arc-ce/6.19.0: opened tracking issue #1\n"
    assert issues(github)[0]["user"] == "github-actions[bot]"


def test_an_app_named_for_a_persons_token_is_refused(repo: Repo, github: GitHubServer) -> None:
    result = repo.rollout("bot", "sync", env=bot_env(github, GITHUB_TOKEN="other-token"))
    assert (result.returncode, result.stderr) == (
        1,
        "rollout: ROLLOUT_BOT_APP names the app rollout-bot, but the token is someone-else's\n",
    )


def test_an_app_token_that_is_not_the_named_app_stops_at_its_first_write(repo: Repo, github: GitHubServer) -> None:
    state = github.snapshot()
    # A token of another app, passed off as the bot's: GitHub cannot say so before it writes.
    state["tokens"]["bot-token"] = {"login": "impostor[bot]", "app": "impostor", "write": True}
    github.state.data = {**state, "rate": github.state.data["rate"]}
    result = repo.rollout("bot", "sync", "--today", "2026-11-05", env=bot_env(github))
    assert result.returncode == 1
    assert "was written as impostor[bot], not as the bot rollout-bot[bot]" in result.stderr
    assert len(issues(github)) == 1


@pytest.mark.parametrize(
    ("bot", "author", "allowed"),
    [
        ("rollout-bot[bot]", "rollout-bot[bot]", True),
        ("rollout-bot[bot]", "rollout-bot", False),  # a person who registered the app's name
        ("rollout-bot", "rollout-bot", False),  # a plain login named as the bot: anyone could own it
        ("github-actions[bot]", "github-actions[bot]", True),
    ],
)
def test_check_pr_hands_the_bots_role_only_to_an_apps_account(repo: Repo, bot: str, author: str, allowed: bool) -> None:
    config = (repo.root / "rollout.yaml").read_text().replace("bot: rollout-bot[bot]", f"bot: {bot}")
    repo.write("rollout.yaml", config)
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), release_type="emergency"))
    base = repo.commit("an emergency release in rollout")
    accepted = walk("candidate", "rollout") + entry("accepted", f'"{author}"')
    repo.write(RELEASE_PATH, release_text("accepted", accepted, release_type="emergency"))
    repo.commit("accepted")
    result = repo.rollout("check-pr", "--base", base, "--author", author, "--today", "2026-11-20", "--format", "json")
    assert result.returncode == (0 if allowed else 1), result.stdout


def test_a_rejected_release_closes_its_issue_as_not_planned(repo: Repo, github: GitHubServer) -> None:
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    rejected = (
        release_in("accepted").replace("state: accepted", "state: rejected").replace("action: accept", "action: reject")
    )
    repo.write("releases/arc-ce/6.19.0/release.yaml", rejected.replace("{state: accepted,", "{state: rejected,"))
    repo.commit("reject")
    assert (
        run_bot(repo, github, "sync", "--today", "2026-11-21") == "arc-ce/6.19.0: closed tracking issue #1 (rejected)\n"
    )
    [issue] = issues(github)
    assert (issue["state"], issue["state_reason"]) == ("closed", "not_planned")


def test_sync_asks_for_the_same_few_listings_however_many_releases_are_published(
    repo: Repo, github: GitHubServer
) -> None:
    for version in ("6.19.0", "6.20.0", "6.21.0"):
        repo.write(f"releases/arc-ce/{version}/release.yaml", release_in("released").replace("6.19.0", version))
    repo.commit("three releases")
    assert len(run_bot(repo, github, "sync", "--today", "2026-11-21").splitlines()) == 6
    before = len(github.requests())
    assert run_bot(repo, github, "sync", "--today", "2026-11-21") == "nothing to change\n"
    assert [f"{r['method']} {r['path']}" for r in github.requests()[before:]] == [
        "GET /user",
        "GET /repos/egi/rollout",
        "GET /repos/egi/rollout/issues",
        "GET /repos/egi/rollout/git/matching-refs/tags%2F",
        "GET /repos/egi/rollout/releases",
    ]


# ------------------------------------------------------------------ what a failure means


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        (403, {"Retry-After": "30"}, "You have exceeded a secondary rate limit", ("rate-limit", 30.0)),
        (429, {"retry-after": "5"}, "", ("rate-limit", 5.0)),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"},
            "API rate limit exceeded",
            ("rate-limit", 41.0),
        ),
        (403, {}, "You have exceeded a secondary rate limit", ("rate-limit", 60.0)),
        (429, {}, "", ("rate-limit", 60.0)),
        (403, {"x-ratelimit-remaining": "12"}, "Resource not accessible by integration", ("fatal", 0.0)),
        (502, {}, "Server Error", ("transient", 0.0)),
        (404, {}, "Not Found", ("fatal", 0.0)),
        (422, {}, "Validation Failed", ("fatal", 0.0)),
    ],
)
def test_failures_are_classified_as_github_documents_them(
    status: int, headers: dict[str, str], message: str, expected: tuple[str, float]
) -> None:
    settings = Settings(token="t", repository="o/r")
    failure = classify(GithubException(status, {"message": message}, headers), settings, clock=lambda: 960.0)
    assert (failure.kind, failure.wait) == expected


def test_timeouts_are_transient() -> None:
    failure = classify(requests.ReadTimeout("slow"), Settings(token="t", repository="o/r"))
    assert failure.kind == "transient"


def test_a_run_that_fails_halfway_says_what_it_did_and_a_rerun_finishes_the_rest(
    repo: Repo, github: GitHubServer
) -> None:
    repo.write("releases/arc-ce/6.19.0/release.yaml", release_in("released"))
    repo.commit("release")
    github.add_fault(method="POST", path="/repos/egi/rollout/releases", status=502, times=2)
    failed = repo.rollout("bot", "sync", "--today", "2026-11-21", env=bot_env(github, ROLLOUT_BOT_ATTEMPTS="2"))
    assert failed.returncode == 2
    assert failed.stdout == f"arc-ce/6.19.0: tagged arc-ce/6.19.0 at {SHA[:12]}\n"
    assert failed.stderr == "rollout: could not create the GitHub Release arc-ce/6.19.0 after 2 attempts\n"
    assert github.repo()["releases"] == {}

    out = run_bot(repo, github, "sync", "--today", "2026-11-21")
    assert out == f"arc-ce/6.19.0: published GitHub Release {github.url}/egi/rollout/releases/tag/arc-ce/6.19.0\n"
    assert [w for w in github.writes() if "git/refs" in w] == ["POST /repos/egi/rollout/git/refs 201"]
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-21")


def test_the_repositorys_own_data_set_is_synced_and_reminded_once(
    tmp_path: Path, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every state, many teams and products: a first run acts, a second one changes nothing."""
    own = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "archive", "HEAD", "rollout.yaml", "teams", "releases"], cwd=own, capture_output=True, check=True
    )
    root = tmp_path / "own"
    root.mkdir()
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    data = Repo(root)
    in_rollout = sum("\nstate: rollout\n" in f"\n{p.read_text()}" for p in root.glob("releases/*/*/release.yaml"))
    released = sum("\nstate: released\n" in f"\n{p.read_text()}" for p in root.glob("releases/*/*/release.yaml"))
    assert in_rollout and released

    # rollout.yaml names the identity the workflows act as: the workflow's own token.
    github.state.data["tokens"]["bot-token"] = {"login": "github-actions[bot]", "app": "github-actions", "write": True}
    monkeypatch.setitem(BOT_ENV, "ROLLOUT_BOT_APP", "")
    out = run_bot(data, github, "sync", "--today", "2026-11-25").splitlines()
    assert sum(": opened tracking issue #" in line for line in out) == in_rollout
    assert sum(": published GitHub Release " in line for line in out) == released
    assert len(github.repo()["releases"]) == released
    assert_rerun_changes_nothing(data, github, "sync", "--today", "2026-11-25")

    reminded = run_bot(data, github, "remind", "--today", "2026-12-31").splitlines()
    assert any(": reminded team " in line for line in reminded)
    assert_rerun_changes_nothing(data, github, "remind", "--today", "2026-12-31")


def test_only_the_bot_imports_pygithub() -> None:
    package = Path(__file__).resolve().parent.parent / "rollout_tool"
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name == "github" or name.startswith("github.") for name in names):
                importers.add(path.relative_to(package).parts[0])
    assert importers == {"github"}


# ------------------------------------------------------------------ tags


def ref_is_valid(ref: str) -> bool:
    return subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False).returncode == 0


HOSTILE_VERSIONS = ["1.9.1~rc1", "1..2", "a.lock", "2.0.", "1...2", "x.lock.lock", "1.0+b~1", "0-a_b", "V..lock"]
HOSTILE_PARTS = ["@{x}", "-a", ".a", "a b", "a:b", "a^b", "a?*[b", "a\\b", "a%7Eb", "é", "a\x01", "@", "a//b"]


@pytest.mark.parametrize("version", HOSTILE_VERSIONS + HOSTILE_PARTS)
def test_a_tag_is_a_valid_ref_that_gives_its_version_back(version: str) -> None:
    from urllib.parse import unquote

    from rollout_tool.identifiers import tag_name

    tag = tag_name("arc-ce", version)
    assert ref_is_valid(f"refs/tags/{tag}"), tag
    product, _, escaped = tag.partition("/")
    assert (product, unquote(escaped)) == ("arc-ce", version)


def test_the_repositorys_versions_keep_their_names_as_tags() -> None:
    from rollout_tool.identifiers import tag_name

    own = Path(__file__).resolve().parent.parent
    for path in own.glob("releases/*/*/release.yaml"):
        product, version = path.parent.parent.name, path.parent.name
        assert tag_name(product, version) == f"{product}/{version}"
        assert ref_is_valid(f"refs/tags/{product}/{version}")


@pytest.mark.parametrize("products", [("a..b", "a.lock"), ("x", "x.")])
def test_products_git_refuses_get_valid_distinct_tags(products: tuple[str, str]) -> None:
    from rollout_tool.identifiers import tag_name

    tags = {tag_name(product, "1.0") for product in products}
    assert len(tags) == 2
    assert all(ref_is_valid(f"refs/tags/{tag}") for tag in tags)


def test_sync_tags_and_publishes_versions_git_would_refuse_as_names(repo: Repo, github: GitHubServer) -> None:
    for version in HOSTILE_VERSIONS[:3]:
        repo.write(f"releases/arc-ce/{version}/release.yaml", release_in("released").replace("6.19.0", f'"{version}"'))
    repo.commit("three released versions with names git refuses")
    assert repo.rollout("validate").returncode == 0
    out = run_bot(repo, github, "sync", "--today", "2026-11-21")
    assert "arc-ce/1.9.1~rc1: tagged arc-ce/1.9.1%7Erc1 at " in out
    assert "arc-ce/1..2: tagged arc-ce/1.%2E2 at " in out
    assert "arc-ce/a.lock: tagged arc-ce/a%2Elock at " in out
    assert sorted(r["tag_name"] for r in github.repo()["releases"].values()) == [
        "arc-ce/1.%2E2",
        "arc-ce/1.9.1%7Erc1",
        "arc-ce/a%2Elock",
    ]
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-21")


# ------------------------------------------------------------------ cut between any two writes


def published_state(server: GitHubServer) -> dict[str, object]:
    """What the bot made, without the ids and times that differ from one run to another."""
    repo = server.repo()
    return {
        "issues": {
            n: (i["title"], i["body"], i["state"], i["state_reason"], sorted(i["labels"]), i["user"])
            for n, i in repo["issues"].items()
        },
        "comments": sorted((c["issue"], c["body"], c["user"]) for c in repo["comments"].values()),
        "refs": repo["refs"],
        "releases": sorted((r["tag_name"], r["name"], r["body"]) for r in repo["releases"].values()),
    }


def run_everything(repo: Repo, server: GitHubServer, **env: str) -> list[int]:
    codes = []
    for args in (["sync", "--today", "2026-11-30"], ["remind", "--today", "2026-11-30"]):
        result = repo.rollout("bot", *args, env=bot_env(server, **env))
        assert "Traceback" not in result.stderr
        codes.append(result.returncode)
    return codes


def test_killed_between_any_two_writes_a_rerun_duplicates_nothing_and_loses_nothing(repo: Repo) -> None:
    repo.write("releases/arc-ce/6.18.0/release.yaml", release_in("released").replace("6.19.0", "6.18.0"))
    repo.commit("a released release beside the one in rollout")
    tokens = {"bot-token": {"login": "rollout-bot[bot]", "app": "rollout-bot", "write": True}}

    def fresh() -> GitHubServer:
        return GitHubServer(new_state("egi/rollout", tokens=tokens, head_sha=SHA)).start()

    clean = fresh()
    try:
        assert run_everything(repo, clean) == [0, 0]
        wanted = published_state(clean)
        writes = len(clean.writes())
    finally:
        clean.stop()
    assert writes >= 4  # an issue, a tag, a GitHub Release, reminders
    for cut in range(writes):
        server = fresh()
        try:
            # The write is carried out, its answer lost, and the run dies there.
            server.add_fault(method="WRITE", path="/repos/*", status=502, when="after", skip=cut)
            assert 2 in run_everything(repo, server, ROLLOUT_BOT_ATTEMPTS="1"), f"cut {cut} did not cut"
            assert run_everything(repo, server) == [0, 0]
            assert published_state(server) == wanted, f"cut after write {cut + 1} of {writes}"
        finally:
            server.stop()


# ------------------------------------------------------------------ propose (bot_changes: pull-request)

BRANCH = "rollout-bot/advance"


def with_remote(repo: Repo, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    with (repo.root / "rollout.yaml").open("a", encoding="utf-8") as config:
        config.write("bot_changes: pull-request\n")
    repo.commit("Propose the bot's transitions by pull request")
    repo.git("push", "-q", "origin", "HEAD:refs/heads/main")
    return remote


def remote_sha(remote: Path, branch: str) -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", f"refs/heads/{branch}"],
        cwd=remote,
        text=True,
        capture_output=True,
        check=False,
    )
    return done.stdout.strip() or None


def transitions_commit(repo: Repo, *lines: str) -> str:
    """A commit as the workflow makes it after `rollout advance`: the transitions in its message."""
    repo.write("releases/arc-ce/6.19.0/notes.md", "\n".join(lines) + "\n")
    return repo.commit("\n".join(["Apply the transitions the policy hands to the bot", "", *lines]))


def pulls(server: GitHubServer) -> list[dict[str, object]]:
    return [issue for issue in issues(server) if issue.get("pull")]


def test_propose_opens_one_pull_request_set_to_auto_merge_then_changes_nothing(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    remote = with_remote(repo, tmp_path)
    head = transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    out = run_bot(repo, github, "propose")
    assert out == (f"pushed {head[:12]} to {BRANCH}\nopened pull request #1 from {BRANCH}\n#1: auto-merge enabled\n")
    assert remote_sha(remote, BRANCH) == head
    assert remote_sha(remote, "main") != head  # the default branch is left to the merge
    [pull] = pulls(github)
    assert pull["title"] == "Apply the transitions the policy hands to the bot"
    assert "arc-ce/6.19.0: rollout -> accepted" in str(pull["body"])
    assert pull["user"] == "rollout-bot[bot]"
    details = pull["pull"]
    assert isinstance(details, dict)
    assert details["head"]["ref"] == BRANCH
    assert details["base"]["ref"] == "main"
    assert details["auto_merge"]["enabled_by"] == "rollout-bot[bot]"
    assert_rerun_changes_nothing(repo, github, "propose")
    assert remote_sha(remote, BRANCH) == head


def test_propose_with_new_transitions_updates_the_branch_and_the_same_pull_request(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    remote = with_remote(repo, tmp_path)
    transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    run_bot(repo, github, "propose")
    # The next run starts again from main and finds one more transition.
    repo.git("reset", "-q", "--hard", "origin/main")
    head = transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted", "arc-ce/6.19.0: accepted -> released")
    out = run_bot(repo, github, "propose")
    assert out == f"pushed {head[:12]} to {BRANCH}\n#1: updated the description\n"
    assert remote_sha(remote, BRANCH) == head
    [pull] = pulls(github)
    assert "arc-ce/6.19.0: accepted -> released" in str(pull["body"])
    assert_rerun_changes_nothing(repo, github, "propose")


def test_propose_enables_auto_merge_again_on_the_existing_pull_request(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    with_remote(repo, tmp_path)
    transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    run_bot(repo, github, "propose")
    # A person turned auto-merge off (GitHub also does when someone else pushes to the branch).
    github.state.data["repos"]["egi/rollout"]["issues"]["1"]["pull"]["auto_merge"] = None
    assert run_bot(repo, github, "propose") == "#1: auto-merge enabled\n"
    assert len(pulls(github)) == 1


def test_propose_refuses_a_token_that_is_not_the_bot_before_it_pushes(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    remote = with_remote(repo, tmp_path)
    transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    result = repo.rollout("bot", "propose", env=bot_env(github, GITHUB_TOKEN="other-token", ROLLOUT_BOT_APP=""))
    assert result.returncode == 1, result.stderr
    assert "rollout.yaml names the bot rollout-bot[bot]" in result.stderr
    assert "Traceback" not in result.stderr
    assert remote_sha(remote, BRANCH) is None
    assert pulls(github) == []


def test_propose_fails_clearly_when_the_repository_does_not_allow_auto_merge(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    with_remote(repo, tmp_path)
    transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    github.state.data["repos"]["egi/rollout"]["allow_auto_merge"] = False
    result = repo.rollout("bot", "propose", env=bot_env(github))
    assert result.returncode != 0
    assert "Auto merge is not allowed" in result.stderr
    assert "Traceback" not in result.stderr
    assert "opened pull request #1" in result.stdout  # what was done is still said


def test_propose_refuses_while_rollout_yaml_says_the_bot_pushes(
    repo: Repo, github: GitHubServer, tmp_path: Path
) -> None:
    remote = with_remote(repo, tmp_path)
    repo.write("rollout.yaml", (repo.root / "rollout.yaml").read_text().replace("bot_changes: pull-request\n", ""))
    transitions_commit(repo, "arc-ce/6.19.0: rollout -> accepted")
    result = repo.rollout("bot", "propose", env=bot_env(github))
    assert result.returncode == 2, result.stderr
    assert "rollout.yaml's bot_changes is push" in result.stderr
    assert remote_sha(remote, BRANCH) is None
    assert github.writes() == []


def test_propose_does_nothing_when_advance_committed_nothing(repo: Repo, github: GitHubServer, tmp_path: Path) -> None:
    remote = with_remote(repo, tmp_path)
    assert run_bot(repo, github, "propose") == "nothing to change\n"
    assert remote_sha(remote, BRANCH) is None
    assert github.writes() == []

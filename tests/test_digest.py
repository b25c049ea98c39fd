"""The weekly digest: `rollout digest` locally and `rollout bot digest`'s one issue per ISO week."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.act_support import payloads
from tests.github_server import GitHubServer
from tests.support.lifecycle import PRAGUE_REPORT, RELEASE_PATH
from tests.support.repos import Repo, report_text, run_rollout
from tests.test_bot import assert_rerun_changes_nothing, github, issues, release_in, run_bot
from tests.test_story import FULL_NAME, IN_ROLLOUT, TODAY, Story, assert_succeeded, files_under, story
from tests.test_subscriptions import mentioned

__all__ = ["github", "story"]  # the fixtures, shared with the bot's tests and the story's

ACCEPTED_EARLIER = """\
version: 6.18.0
type: minor
state: accepted
revision: 1
platforms: [el8, el9]
summary: ARC CE 6.18.0
teams: [ncg-ingrid-pt, praguelcg2]
history:
  - {state: candidate, date: 2026-10-01, by: nordu-maint}
  - {state: rollout, date: 2026-10-02, by: carla-coord}
  - {state: accepted, date: 2026-11-10, by: carla-coord}
decisions: [{action: accept, by: carla-coord, date: 2026-11-10, reason: quorum met}]
"""


def with_two_waiting(repo: Repo) -> None:
    """6.18.0 accepted on 2026-11-10; 6.19.0 in rollout since 2026-11-02, praguelcg2's report due 2026-11-16."""
    repo.write("releases/arc-ce/6.18.0/release.yaml", ACCEPTED_EARLIER)
    repo.commit("6.18.0 accepted")


def digest(repo: Repo, today: str, output_format: str) -> str:
    result = repo.rollout("digest", "--today", today, "--format", output_format)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_lists_only_what_needs_action_oldest_first_with_who_acts(repo: Repo) -> None:
    with_two_waiting(repo)
    payload = json.loads(digest(repo, "2026-11-18", "json"))
    assert payload == {
        "week": "2026-W47",
        "generated": "2026-11-18",
        "items": [
            {
                "kind": "releasable",
                "product": "arc-ce",
                "version": "6.18.0",
                "since": "2026-11-10",
                "days_waiting": 8,
                "what": "accepted: publish it to production",
                "who": {"role": "coordinators", "logins": ["carla-coord", "dmitri-coord"]},
                "days_late": None,
                "escalated": False,
            },
            {
                "kind": "late",
                "product": "arc-ce",
                "version": "6.19.0",
                "since": "2026-11-16",
                "days_waiting": 2,
                "what": "its report on the current revision is overdue",
                "who": {"role": "team", "team": "praguelcg2", "logins": ["jan-cz", "eva-cz"]},
                "days_late": 2,
                "escalated": False,
            },
        ],
    }


def test_a_release_that_waits_only_for_time_is_not_listed(repo: Repo) -> None:
    # On 2026-11-05 praguelcg2's report is not due yet: nobody has to act.
    assert json.loads(digest(repo, "2026-11-05", "json"))["items"] == []
    assert digest(repo, "2026-11-05", "text") == ""


def test_text_and_markdown_say_the_same_and_mention_nobody(repo: Repo) -> None:
    with_two_waiting(repo)
    assert digest(repo, "2026-11-18", "text") == (
        "2026-11-10 releasable: arc-ce/6.18.0: accepted: publish it to production;"
        " who acts: coordinators (carla-coord, dmitri-coord)\n"
        "2026-11-16 late: arc-ce/6.19.0: its report on the current revision is overdue;"
        " who acts: team praguelcg2 (jan-cz, eva-cz)\n"
    )
    text = digest(repo, "2026-11-18", "markdown")
    assert text == (
        "### What needs action, week 2026-W47\n\n"
        "Oldest first, as of 2026-11-18.\n\n"
        "- **releasable** since 2026-11-10 (8 days): ARC CE 6.18.0: accepted: publish it to production."
        " Who acts: coordinators (`carla-coord`, `dmitri-coord`).\n"
        "- **late** since 2026-11-16 (2 days): ARC CE 6.19.0: its report on the current revision is overdue"
        " (2 days late). Who acts: team `praguelcg2` (`jan-cz`, `eva-cz`).\n"
    )
    assert mentioned(text) == set()


def test_markdown_links_each_release_to_the_dashboard(repo: Repo) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config + "site_url: https://rollout.example.org/site/\n")
    with_two_waiting(repo)
    text = digest(repo, "2026-11-18", "markdown")
    assert "[ARC CE 6.18.0](<https://rollout.example.org/site/releases/arc-ce/6.18.0.html>)" in text


def test_the_bot_keeps_one_issue_a_week_and_closes_the_last_weeks(repo: Repo, github: GitHubServer) -> None:
    with_two_waiting(repo)
    assert run_bot(repo, github, "digest", "--today", "2026-11-18") == "2026-W47: opened digest issue #1\n"
    [issue] = issues(github)
    assert issue["title"] == "Needs action: week 2026-W47"
    assert issue["labels"] == ["digest"]
    assert issue["body"] == "<!-- rollout-as-code:digest 2026-W47 -->\n" + digest(repo, "2026-11-18", "markdown")
    assert_rerun_changes_nothing(repo, github, "digest", "--today", "2026-11-18")
    # Later the same week: the same issue, brought up to date.
    assert run_bot(repo, github, "digest", "--today", "2026-11-20") == "2026-W47: updated digest issue #1\n"
    assert "(4 days late)" in str(issues(github)[0]["body"])
    # A new week: a new issue, and last week's is closed.
    assert run_bot(repo, github, "digest", "--today", "2026-11-23").splitlines() == [
        "2026-W48: opened digest issue #2",
        "2026-W47: closed digest issue #1: #2 replaces it",
    ]
    first, second = issues(github)
    assert (first["state"], second["state"]) == ("closed", "open")
    assert "(7 days late, escalated)" in str(second["body"])
    assert_rerun_changes_nothing(repo, github, "digest", "--today", "2026-11-23")


def test_an_empty_week_opens_nothing_and_an_emptied_digest_is_closed(repo: Repo, github: GitHubServer) -> None:
    assert_rerun_changes_nothing(repo, github, "digest", "--today", "2026-11-05")
    assert issues(github) == []
    run_bot(repo, github, "digest", "--today", "2026-11-17")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.write(RELEASE_PATH, release_in("released"))
    repo.commit("reported and released")
    assert run_bot(repo, github, "digest", "--today", "2026-11-21") == "2026-W47: closed digest issue #1\n"
    [issue] = issues(github)
    assert issue["state"] == "closed"
    assert "Nothing needs action." in str(issue["body"])
    assert_rerun_changes_nothing(repo, github, "digest", "--today", "2026-11-21")


def test_a_digest_someone_else_wrote_is_not_the_bots(repo: Repo, github: GitHubServer) -> None:
    with github.state.lock:
        repo_state = github.state.data["repos"]["egi/rollout"]
        github.state.ensure_label(repo_state, "digest")
        repo_state["issues"]["1"] = {
            "number": 1,
            "id": 9001,
            "title": "Needs action: week 2026-W47",
            "body": "<!-- rollout-as-code:digest 2026-W47 -->\nforged",
            "user": "someone-else",
            "labels": ["digest"],
            "state": "open",
            "state_reason": None,
            "created_at": "2026-11-16T08:00:00Z",
            "updated_at": "2026-11-16T08:00:00Z",
            "closed_at": None,
            "closed_by": None,
        }
        repo_state["next_number"] = 2
    assert run_bot(repo, github, "digest", "--today", "2026-11-18") == "2026-W47: opened digest issue #2\n"
    assert issues(github)[0]["body"] == "<!-- rollout-as-code:digest 2026-W47 -->\nforged"


# ---------------------------------------------------------------- the real workflows, run by act


@pytest.mark.runner
def test_the_digest_workflow_opens_the_weeks_issue(story: Story) -> None:
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    story.push_main()
    # Emergency policy: reports were due on 2026-11-19, two days after the rollout started.
    payload = {"schedule": "47 6 * * 1", "repository": payloads.repository(FULL_NAME)}
    run = story.runner.run("digest.yml", "schedule", payload, sha=story.main_sha(), actor="rollout-bot")
    assert_succeeded(run)
    [digest_issue] = story.issues().values()
    assert digest_issue["title"] == "Needs action: week 2026-W47"
    assert digest_issue["labels"] == ["digest"]
    assert "- **late** since 2026-11-19 (1 day): ARC CE 6.19.0:" in digest_issue["body"]


@pytest.mark.runner
def test_the_daily_run_rebuilds_and_deploys_the_dashboard(story: Story) -> None:
    payload = {"schedule": "23 5 * * *", "repository": payloads.repository(FULL_NAME)}
    run = story.runner.run("rollout.yml", "schedule", payload, sha=story.main_sha(), actor="rollout-bot")
    assert_succeeded(run)
    clone = story.runner.scratch / "clone"
    subprocess.run(["git", "clone", "-q", str(story.origin), str(clone)], check=True)
    site = story.runner.scratch / "site"
    built = run_rollout("site", "--out", str(site), cwd=clone, env={"ROLLOUT_TODAY": TODAY})
    assert built.returncode == 0, built.stderr
    deployed = files_under(story.runner.artifacts / "pages")
    assert "index.html" in deployed
    assert deployed == {path: data for path, data in files_under(site).items() if "/." not in f"/{path}"}

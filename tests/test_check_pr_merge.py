"""check-pr judges the merge from the tip: crafted merge bases, stale branches, test merges, conflicts, merge queues."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from tests.support.lifecycle import (
    NCG_REPORT,
    PRAGUE_REPORT,
    RELEASE_PATH,
    check_pr,
    entry,
    messages,
    release_text,
    walk,
)
from tests.support.repos import Repo, report_text

MWT2_REPORT = "releases/arc-ce/6.19.0/reports/mwt2.yaml"
THREE_TEAMS = "[ncg-ingrid-pt, praguelcg2, mwt2]"


def check_queue(repo: Repo, tip: str, *queued: str) -> tuple[int, dict[str, Any]]:
    """check-pr of the merge group at HEAD, each queued pull request as HEAD:AUTHOR."""
    options = [arg for item in queued for arg in ("--queue", item)]
    result = repo.rollout(
        "check-pr", "--base", tip, "--head", "HEAD", "--format", "json", "--today", "2026-11-20", *options
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def commit_at(repo: Repo, message: str, date: str, *extra: str) -> str:
    """A commit (or, with extra arguments, a git command that commits) at a fixed time, so git's choices are fixed."""
    env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    command = ["git", *extra] if extra else ["git", "commit", "-q", "-m", message]
    if not extra:
        subprocess.run(["git", "add", "-A"], cwd=repo.root, check=True)
    subprocess.run(command, cwd=repo.root, check=True, env=env, capture_output=True)
    return repo.git("rev-parse", "HEAD")


def test_a_head_merging_both_parents_of_a_merge_with_ours_cannot_hide_a_deletion(repo: Repo) -> None:
    # A reject report reaches main through a merge commit M of `side` (P2) and main's own P1.
    repo.git("checkout", "-q", "-b", "side")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    commit_at(repo, "prague rejects", "2026-11-03T10:00:00")
    repo.git("checkout", "-q", "main")
    repo.write("teams/mwt2.yaml", (repo.root / "teams/mwt2.yaml").read_text() + "contact: mwt2@example.org\n")
    p1 = commit_at(repo, "mwt2 contact", "2026-11-04T10:00:00")
    commit_at(repo, "", "2026-11-05T10:00:00", "merge", "-q", "--no-ff", "side", "-m", "merge side")
    # The attacker merges both parents of M, keeping P1's tree: seen from P1, nothing changed.
    repo.git("checkout", "-q", "-b", "evil", p1)
    commit_at(repo, "", "2026-11-06T10:00:00", "merge", "-q", "-s", "ours", "side", "-m", "harmless")
    assert repo.git("merge-base", "main", "evil") == p1  # the base an old-style check measured from
    code, payload = check_pr(repo, "main", "bob-osg", head="evil")
    assert code == 1
    assert payload["changes"] == [
        {
            "kind": "report-deleted",
            "path": PRAGUE_REPORT,
            "summary": "report of team `praguelcg2` on arc-ce/6.19.0 deleted",
        }
    ]
    assert messages(payload) == ["only coordinators may delete a report; bob-osg is not a coordinator"]


def test_a_stale_maintainer_branch_may_not_edit_a_release_main_has_accepted(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "pr")
    repo.write(
        RELEASE_PATH,
        release_text("rollout", walk("candidate", "rollout"), extra="repository: https://example.org/arc-6.19\n"),
    )
    repo.commit("point the release at another repository")
    repo.git("checkout", "-q", "main")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.write(RELEASE_PATH, release_text("accepted", walk("candidate", "rollout", "accepted")))
    repo.commit("prague accepts; a coordinator accepts the release")
    code, payload = check_pr(repo, "main", "nordu-maint", head="pr")
    assert code == 1
    assert payload["changes"] == [
        {
            "kind": "release-modified",
            "path": RELEASE_PATH,
            "summary": "release arc-ce/6.19.0 changed (repository)",
        }
    ]
    assert messages(payload) == ["a accepted release is edited by coordinators only"]


def stale_accept(repo: Repo) -> None:
    """A coordinator's branch accepts the release; meanwhile a reject reaches main."""
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=THREE_TEAMS))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("quorum on both platforms")
    repo.git("checkout", "-q", "-b", "pr")
    history = walk("candidate", "rollout") + entry("accepted", "carla-coord")
    repo.write(RELEASE_PATH, release_text("accepted", history, teams=THREE_TEAMS))
    repo.commit("accept")
    repo.git("checkout", "-q", "main")
    repo.write(MWT2_REPORT, report_text("mwt2", verdict="reject"))
    repo.commit("mwt2 rejects")


def test_a_stale_accept_does_not_pass_over_a_reject_that_reached_main_since(repo: Repo) -> None:
    stale_accept(repo)
    code, payload = check_pr(repo, "main", "carla-coord", head="pr")
    assert code == 1
    assert messages(payload) == [
        "arc-ce/6.19.0 cannot become accepted: team `mwt2` rejects revision 1: a coordinator must decide"
        " (reject the release, or accept it with a reason)"
    ]


def test_github_test_merge_is_judged_against_the_current_tip(repo: Repo) -> None:
    stale_accept(repo)
    # refs/pull/N/merge: GitHub's merge of the head into the base as it was when the pull request was pushed.
    before_reject = repo.git("rev-parse", "main~1")
    repo.git("checkout", "-q", "--detach", before_reject)
    repo.git("merge", "-q", "--no-ff", "pr", "-m", "test merge")
    repo.git("update-ref", "refs/pull/7/merge", "HEAD")
    repo.git("checkout", "-q", "main")
    assert check_pr(repo, before_reject, "carla-coord", head="refs/pull/7/merge")[0] == 0
    code, payload = check_pr(repo, "main", "carla-coord", head="refs/pull/7/merge")
    assert code == 1
    assert [c["kind"] for c in payload["changes"]] == ["transition"]
    assert messages(payload) == [
        "arc-ce/6.19.0 cannot become accepted: team `mwt2` rejects revision 1: a coordinator must decide"
        " (reject the release, or accept it with a reason)"
    ]


def test_a_head_that_does_not_merge_cleanly_is_refused_with_the_conflicting_paths(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "pr")
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", date="2026-11-11"))
    repo.commit("ncg redates its report")
    repo.git("checkout", "-q", "main")
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", date="2026-11-12"))
    repo.commit("and on main too")
    code, payload = check_pr(repo, "main", "ana-pt", head="pr")
    assert code == 1
    assert payload["changes"] == []
    assert [(p["path"], p["rule"], p["message"]) for p in payload["problems"]] == [
        (
            NCG_REPORT,
            "merge-conflict",
            "the change does not merge cleanly into main: merge main into it and resolve the conflict",
        )
    ]


def queue(repo: Repo) -> tuple[str, str, str]:
    """Two pull requests, then a merge group holding both in order: prague's report, then a coordinator's accept."""
    tip = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "-b", "pr1")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague accepts")
    repo.git("checkout", "-q", "-b", "pr2", tip)
    accepted = walk("candidate", "rollout") + entry("accepted", "carla-coord", "2026-11-18")
    repo.write(RELEASE_PATH, release_text("accepted", accepted))
    repo.commit("accept, in a pull request opened on 2026-11-18")
    repo.git("checkout", "-q", "-b", "gh-readonly-queue/main/pr-2", tip)
    repo.git("merge", "-q", "--no-ff", "pr1", "-m", "merge group: #1")
    repo.git("merge", "-q", "--no-ff", "pr2", "-m", "merge group: #2")
    return tip, repo.git("rev-parse", "pr1"), repo.git("rev-parse", "pr2")


def test_a_merge_group_is_judged_in_queue_order_each_by_its_author(repo: Repo) -> None:
    tip, pr1, pr2 = queue(repo)
    # Alone, the accept lacks prague's report; after it in the queue, it has it.
    assert check_pr(repo, tip, "carla-coord", "--opened", "2026-11-18", head="pr2")[0] == 1
    code, payload = check_queue(repo, tip, f"{pr1}:jan-cz", f"{pr2}:carla-coord:2026-11-18")
    assert code == 0, payload
    assert [c["kind"] for c in payload["changes"]] == ["report-added", "transition"]
    assert payload["queue"] == [
        {"head": pr1, "author": "jan-cz", "allowed": True},
        {"head": pr2, "author": "carla-coord", "allowed": True},
    ]
    # Each pull request is judged as its own author's: a coordinator may write the report, jan-cz may not accept.
    code, payload = check_queue(repo, tip, f"{pr1}:carla-coord", f"{pr2}:jan-cz:2026-11-18")
    assert code == 1
    assert messages(payload) == [
        "rollout -> accepted is for coordinators or the bot where the policy sets auto_accept; jan-cz may not make it",
        "the new history entry says by carla-coord, but the change is by jan-cz",
    ]
    assert [q["allowed"] for q in payload["queue"]] == [True, False]
    # Each pull request's own opening day: the accept's entry is older than a pull request opened today.
    code, payload = check_queue(repo, tip, f"{pr1}:jan-cz", f"{pr2}:carla-coord")
    assert messages(payload) == [
        "the new history entry is dated 2026-11-18, before the pull request was opened (2026-11-20)"
    ]


def test_a_merge_group_must_be_the_merges_of_the_queued_heads(repo: Repo) -> None:
    tip, pr1, pr2 = queue(repo)
    # The queue in the other order is not what the commit holds.
    code, payload = check_queue(repo, tip, f"{pr2}:carla-coord", f"{pr1}:jan-cz")
    assert code == 1
    first = repo.git("rev-parse", "HEAD~1")
    assert messages(payload) == [f"queue commit {first} is not the merge of {pr2} into the commit before it"]
    code, payload = check_queue(repo, tip, f"{pr1}:jan-cz")
    assert messages(payload) == ["the merge-group commit holds 2 commits on the tip, but 1 pull request is queued"]
    # Something slipped into the group beside the queued pull requests.
    repo.write("teams/mwt2.yaml", (repo.root / "teams/mwt2.yaml").read_text().replace("[el9]", "[el8, el9]"))
    repo.git("commit", "-q", "-a", "--amend", "--no-edit")
    code, payload = check_queue(repo, tip, f"{pr1}:jan-cz", f"{pr2}:carla-coord")
    head = repo.git("rev-parse", "HEAD")
    assert messages(payload) == [f"queue commit {head} is not the merge of {pr2} into the commit before it"]


def test_queue_and_author_are_usage_errors_together_or_malformed(repo: Repo) -> None:
    result = repo.rollout("check-pr", "--base", "HEAD", "--author", "x", "--queue", "HEAD:y")
    assert result.returncode == 2
    assert "a merge group's authors come with --queue" in result.stderr
    result = repo.rollout("check-pr", "--base", "HEAD", "--queue", "HEAD")
    assert result.returncode == 2
    assert result.stderr == (
        "rollout: --queue HEAD: name each pull request of the group as HEAD:AUTHOR, or HEAD:AUTHOR:OPENED"
        " with the day it was opened (YYYY-MM-DD)\n"
    )
    result = repo.rollout("check-pr", "--base", "HEAD", "--queue", "HEAD:y:2026-13-01")
    assert (result.returncode, result.stderr) == (2, "rollout: '2026-13-01' is not a date: write YYYY-MM-DD\n")
    result = repo.rollout("check-pr", "--base", "HEAD")
    assert result.returncode == 2

"""Subscriptions: who may be subscribed, who may subscribe them, and whom the bot mentions (and whom never)."""

from __future__ import annotations

import json
import re

import pytest

from rollout_tool import subscriptions
from rollout_tool.github import messages
from rollout_tool.records import Event
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.github_server import GitHubServer
from tests.support.lifecycle import PRAGUE_REPORT, RELEASE_PATH, check_pr, release_text, walk
from tests.support.lifecycle import messages as refusals
from tests.support.repos import Repo, report_text
from tests.test_bot import assert_rerun_changes_nothing, comments_on, github, run_bot

__all__ = ["github"]  # the fixture, shared with the bot's own tests

SUBSCRIPTIONS = """\
subscriptions:
  - who: arc-lead
    groups: [arc]
  - who: "@egi/arc-experts"
    groups: [arc]
    events: [reject]
  - who: ops-lead
    groups: [opstools]
  - who: check-watcher
    groups: [arc, opstools]
    events: [failing-check]
"""


def subscribe(repo: Repo, text: str = SUBSCRIPTIONS) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config + text)
    repo.commit("subscriptions")


def validate(repo: Repo) -> tuple[int, list[dict[str, object]]]:
    result = repo.rollout("validate", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["problems"]


# Mentions as GitHub reads them: an @ that no word character, zero-width joiner or backtick precedes.
MENTION = re.compile(r"(?<![\w\u200d`])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][\w-]*)?)")


def mentioned(text: str) -> set[str]:
    return set(MENTION.findall(text))


# ---------------------------------------------------------------- the record


def test_logins_and_team_handles_to_declared_families_are_valid(repo: Repo) -> None:
    subscribe(repo)
    assert validate(repo) == (0, [])


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (
            "early-adopters-arc@mailman.egi.eu",
            "who: 'early-adopters-arc@mailman.egi.eu' is an e-mail address: GitHub cannot mention a mailing list;"
            " subscribe GitHub logins or an @org/team handle (a group's list address belongs in its `contacts`)",
        ),
        ('"@arc-lead"', "who: write a person's login without its @ ('arc-lead'); @ starts an @org/team handle"),
        (
            '"rollout-bot[bot]"',
            "who: 'rollout-bot[bot]' is an app's account: only people and teams are told what needs action",
        ),
        (
            '"@egi/arc experts"',
            "who: '@egi/arc experts' is neither a GitHub login (letters, digits and single hyphens)"
            " nor an @org/team handle",
        ),
        (
            "-arc-lead",
            "who: '-arc-lead' is neither a GitHub login (letters, digits and single hyphens) nor an @org/team handle",
        ),
    ],
)
def test_what_github_cannot_mention_is_refused_where_it_is_written(repo: Repo, who: str, message: str) -> None:
    subscribe(repo, f"subscriptions:\n  - who: arc-lead\n    groups: [arc]\n  - who: {who}\n    groups: [arc]\n")
    lines = (repo.root / "rollout.yaml").read_text().splitlines()
    code, problems = validate(repo)
    assert code == 1
    assert [(p["path"], p["line"], p["message"]) for p in problems] == [
        ("rollout.yaml", lines.index(f"  - who: {who}") + 1, message)
    ]


def test_families_come_from_rollout_yaml_with_a_suggestion(repo: Repo) -> None:
    subscribe(repo, "subscriptions:\n  - who: arc-lead\n    groups: [arc, opstool]\n")
    code, problems = validate(repo)
    assert code == 1
    line = len((repo.root / "rollout.yaml").read_text().splitlines())
    assert [(p["line"], p["rule"], p["message"]) for p in problems] == [
        (line, "reference", "no group 'opstool' in rollout.yaml; did you mean 'opstools'?")
    ]


def test_events_come_from_their_vocabulary_with_a_suggestion(repo: Repo) -> None:
    subscribe(repo, "subscriptions:\n  - who: arc-lead\n    groups: [arc]\n    events: [reject, stale-reports]\n")
    code, problems = validate(repo)
    assert code == 1
    line = len((repo.root / "rollout.yaml").read_text().splitlines())
    assert [(p["line"], p["rule"], p["message"]) for p in problems] == [
        (
            line,
            "vocabulary",
            "1: the string 'stale-reports' is not one of 'reject', 'stale-report', 'blocked-quorum' or"
            " 'failing-check'; did you mean 'stale-report'?",
        )
    ]


def test_a_subscriber_is_listed_once_whatever_the_case(repo: Repo) -> None:
    subscribe(repo, "subscriptions:\n  - who: arc-lead\n    groups: [arc]\n  - who: Arc-Lead\n    groups: [opstools]\n")
    code, problems = validate(repo)
    assert code == 1
    assert [p["message"] for p in problems] == [
        "Arc-Lead is subscribed twice: list all its groups and events in one entry"
    ]


def test_only_coordinators_change_subscriptions(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    subscribe(repo, "subscriptions:\n  - who: ana-pt\n    groups: [arc]\n")
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert refusals(payload) == ["only coordinators may change rollout.yaml; ana-pt is not a coordinator"]
    assert check_pr(repo, base, "carla-coord")[0] == 0


# ---------------------------------------------------------------- whom the bot mentions


def test_a_reject_mentions_the_familys_reject_subscribers_once(repo: Repo, github: GitHubServer) -> None:
    subscribe(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", verdict="reject", platform="el8"))
    repo.commit("praguelcg2 rejects")
    out = run_bot(repo, github, "sync", "--today", "2026-11-12")
    assert out.splitlines() == [
        "arc-ce/6.19.0: opened tracking issue #1",
        "arc-ce/6.19.0: told arc-lead, @egi/arc-experts on #1 (reject)",
    ]
    [notice] = comments_on(github, 1)
    assert notice.startswith("<!-- rollout-as-code:notice reject arc-ce/6.19.0 praguelcg2 r1 -->\n")
    assert mentioned(notice) == {"arc-lead", "egi/arc-experts"}  # not ops-lead, not check-watcher
    assert "team `praguelcg2` rejects ARC CE 6.19.0 (revision 1). A coordinator must decide" in notice
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-12")
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-12")
    # A coordinator's decision ends the block: nobody is told again.
    decided = release_text(
        "rollout",
        walk("candidate", "rollout"),
        extra="decisions: [{action: accept, by: carla-coord, date: 2026-11-13, reason: el8 only, fixed in 6.19.1}]\n",
    )
    repo.write(RELEASE_PATH, decided)
    repo.commit("accepted despite the reject")
    run_bot(repo, github, "sync", "--today", "2026-11-13")
    assert len(comments_on(github, 1)) == 1


def test_a_bump_tells_stale_report_subscribers_only(repo: Repo, github: GitHubServer) -> None:
    subscribe(repo)
    history = (
        walk("candidate", "rollout")
        + "  - {state: rollout, date: 2026-11-12, by: carla-coord, revision: 2, note: rebuilt}\n"
    )
    repo.write(RELEASE_PATH, release_text("rollout", history, revision=2))
    repo.commit("revision 2")
    out = run_bot(repo, github, "sync", "--today", "2026-11-13")
    assert out.splitlines()[-1] == "arc-ce/6.19.0: told arc-lead on #1 (stale-report)"
    [notice] = comments_on(github, 1)
    assert mentioned(notice) == {"arc-lead"}
    assert "the report of team `ncg-ingrid-pt` is on revision 1 and no longer counts" in notice
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-13")


def test_a_release_past_due_without_its_quorum_is_told_once_per_revision(repo: Repo, github: GitHubServer) -> None:
    subscribe(repo)
    run_bot(repo, github, "sync", "--today", "2026-11-05")
    # Due 2026-11-16 (report_days 14 from 2026-11-02): on the day nothing is posted.
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-16")
    out = run_bot(repo, github, "remind", "--today", "2026-11-17")
    assert out.splitlines()[-2:] == [
        "arc-ce/6.19.0: reminded team praguelcg2 on #1",
        "arc-ce/6.19.0: told arc-lead on #1 (blocked-quorum)",
    ]
    reminder, notice = comments_on(github, 1)
    assert "arc-lead" not in mentioned(reminder)
    assert mentioned(notice) == {"arc-lead"}
    assert (
        "was due on 2026-11-16 and still lacks the reports its policy needs:\n- needs 1 more accepting report\n"
        in notice
    )
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-17")
    # The next day's reminder goes out; the notice does not come again.
    assert run_bot(repo, github, "remind", "--today", "2026-11-18").splitlines()[-1] == (
        "arc-ce/6.19.0: reminded team praguelcg2 on #1"
    )
    assert sum("blocked-quorum" in body for body in comments_on(github, 1)) == 1


def test_nobody_is_mentioned_without_a_subscription_to_the_family(repo: Repo, github: GitHubServer) -> None:
    subscribe(repo, "subscriptions:\n  - who: ops-lead\n    groups: [opstools]\n")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", verdict="reject", platform="el8"))
    repo.commit("praguelcg2 rejects")
    assert run_bot(repo, github, "sync", "--today", "2026-11-12") == "arc-ce/6.19.0: opened tracking issue #1\n"
    assert comments_on(github, 1) == []


def test_text_from_records_mentions_nobody(repo: Repo, github: GitHubServer) -> None:
    subscribe(repo)
    product = (repo.root / "releases/arc-ce/product.yaml").read_text()
    repo.write("releases/arc-ce/product.yaml", product.replace("name: ARC CE", "name: ARC CE @evil cc @org/all #1"))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", verdict="reject", platform="el8"))
    repo.commit("a hostile name")
    run_bot(repo, github, "sync", "--today", "2026-11-12")
    [notice] = comments_on(github, 1)
    assert mentioned(notice) == {"arc-lead", "egi/arc-experts"}


def test_a_failing_check_notice_goes_to_its_subscribers(repo: Repo) -> None:
    subscribe(repo)
    records = Repository(WorkTree(repo.root))
    config = records.config()
    assert config is not None
    assert subscriptions.subscribers(config, "arc", Event.failing_check) == ["arc-lead", "check-watcher"]
    assert subscriptions.subscribers(config, "opstools", Event.failing_check) == ["ops-lead", "check-watcher"]
    notice = subscriptions.failing_check("arc-ce", "6.19.0", 1, "argo-ce-probe", "el9 praguelcg2")
    text = messages.notice(records, notice, subscriptions.subscribers(config, "arc", Event.failing_check))
    assert text.startswith(
        "<!-- rollout-as-code:notice failing-check arc-ce/6.19.0 argo-ce-probe r1 el9 praguelcg2 -->\n"
    )
    assert mentioned(text) == {"arc-lead", "check-watcher"}
    assert "the required check `argo-ce-probe` fails on ARC CE 6.19.0 (revision 1)." in text


def test_a_marker_key_cannot_end_its_comment() -> None:
    notice = subscriptions.failing_check("arc-ce", "6.19.0", 1, "x-->y <b>", "")
    marker = messages.notice_marker(notice)
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert "<b>" not in marker


def test_subscribed_events_default_to_every_event(repo: Repo) -> None:
    subscribe(repo)
    config = Repository(WorkTree(repo.root)).config()
    assert config is not None
    assert [e.value for e in config.subscriptions[0].events] == list(subscriptions.EVENTS)


def test_a_failing_required_check_tells_its_subscribers_once_and_a_waiver_ends_it(
    repo: Repo, github: GitHubServer
) -> None:
    from tests.test_results import FAILING, file_result, require_checks

    subscribe(repo)
    require_checks(repo)
    assert file_result(repo, FAILING, "el9", today="2026-11-10").returncode == 0
    repo.commit("functional fails on el9")
    out = run_bot(repo, github, "sync", "--today", "2026-11-10")
    assert out.splitlines()[-1] == "arc-ce/6.19.0: told arc-lead, check-watcher on #1 (failing-check)"
    [notice] = comments_on(github, 1)
    assert notice.startswith(
        "<!-- rollout-as-code:notice failing-check arc-ce/6.19.0 functional r1 el9 praguelcg2 -->\n"
    )
    assert mentioned(notice) == {"arc-lead", "check-watcher"}  # not @egi/arc-experts: rejects only
    assert_rerun_changes_nothing(repo, github, "sync", "--today", "2026-11-10")
    assert_rerun_changes_nothing(repo, github, "remind", "--today", "2026-11-11")
    # A coordinator's waiver: the check no longer blocks, so nobody is told anything new.
    repo.write(
        "releases/arc-ce/6.19.0/waivers/functional.yaml",
        "check: functional\nreason: the probe needs a fixed CA bundle\nby: carla-coord\n"
        "date: 2026-11-11\nexpires: 2026-11-30\n",
    )
    repo.commit("waive functional")
    run_bot(repo, github, "sync", "--today", "2026-11-11")
    assert len(comments_on(github, 1)) == 1

"""`production_days`: an accepting report counts once its site has run the release that long in production."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rollout_tool.policy import Evaluation, Verdict, evaluate
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.lifecycle import NCG_REPORT, PRAGUE_REPORT
from tests.support.repos import CONFIG, Repo, report_text

WEEK = CONFIG.replace("  soak_days: 7\n", "  soak_days: 7\n  production_days: 7\n")
ROOT = Path(__file__).resolve().parent.parent


def on(repo: Repo, day: str = "2026-11-20") -> Evaluation:
    return evaluate(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", dt.date.fromisoformat(day))


def reports(repo: Repo, ncg_since: str | None, prague_since: str | None, verdict: str = "accept") -> None:
    """Both teams report on 2026-11-12, in production since the given days (None: the field left out)."""
    for path, team, platform, since in (
        (NCG_REPORT, "ncg-ingrid-pt", "el9", ncg_since),
        (PRAGUE_REPORT, "praguelcg2", "el8", prague_since),
    ):
        text = report_text(
            team, platform=platform, date="2026-11-12", verdict=verdict if team == "praguelcg2" else "accept"
        )
        repo.write(path, text + (f"in_production_since: {since}\n" if since else ""))


def test_a_report_after_a_week_in_production_counts_and_one_day_less_does_not(repo: Repo) -> None:
    repo.write("rollout.yaml", WEEK)
    reports(repo, "2026-11-05", "2026-11-05")
    assert (on(repo).verdict, on(repo).reasons) == (Verdict.ready, [])
    reports(repo, "2026-11-05", "2026-11-06")
    found = on(repo)
    assert found.verdict is Verdict.waiting
    assert found.reasons == [
        "needs 1 more accepting report",
        "none yet on el8",
        "team `praguelcg2` reported after 6 days in production (since 2026-11-06), 1 day short of 7:"
        " its report counts when dated 2026-11-13 or later",
    ]
    # The team whose report came too early is the one that acts, not "assign more teams".
    assert found.next is not None
    assert (found.next.who, found.next.teams) == ("teams", ("praguelcg2",))


def test_a_report_that_does_not_say_since_when_does_not_count(repo: Repo) -> None:
    repo.write("rollout.yaml", WEEK)
    reports(repo, "2026-11-05", None)
    assert on(repo).reasons[-1] == (
        "team `praguelcg2`'s report does not say since when it runs in production (in_production_since);"
        " it counts after 7 days there"
    )
    assert on(repo).verdict is Verdict.waiting


def test_production_before_the_rollout_started_is_counted_from_the_start(repo: Repo) -> None:
    # The rollout started on 2026-11-02: no site ran this revision in production before.
    repo.write("rollout.yaml", WEEK)
    reports(repo, "2026-11-05", "2025-01-01")
    found = on(repo)
    # 2026-11-02 to 2026-11-12 is 10 days: it counts; one from 2026-11-07 on would not.
    assert (found.verdict, found.reasons) == (Verdict.ready, [])
    repo.write(
        PRAGUE_REPORT,
        report_text("praguelcg2", platform="el8", date="2026-11-07") + "in_production_since: 2025-01-01\n",
    )
    assert on(repo).reasons[-1] == (
        "team `praguelcg2` reported after 5 days in production (counted from the rollout's start on 2026-11-02),"
        " 2 days short of 7: its report counts when dated 2026-11-09 or later"
    )


def test_a_reject_report_blocks_however_long_it_ran(repo: Repo) -> None:
    repo.write("rollout.yaml", WEEK)
    reports(repo, "2026-11-05", "2026-11-11", verdict="reject")
    found = on(repo)
    assert found.verdict is Verdict.blocked
    assert not any("production" in reason for reason in found.reasons)


def test_without_the_setting_any_report_counts(repo: Repo) -> None:
    reports(repo, "2026-11-11", None)
    assert (on(repo).verdict, on(repo).reasons) == (Verdict.ready, [])


def test_a_named_policy_sets_its_own_days(repo: Repo) -> None:
    repo.write("rollout.yaml", WEEK.replace("report_days: 2,", "report_days: 2, production_days: 1,"))
    reports(repo, "2026-11-11", "2026-11-11")
    repo.write(
        "releases/arc-ce/6.19.0/release.yaml",
        (repo.root / "releases/arc-ce/6.19.0/release.yaml").read_text().replace("type: minor", "type: emergency"),
    )
    found = on(repo)
    assert (found.policy_name, found.policy.production_days) == ("emergency", 1)
    assert (found.verdict, found.reasons) == (Verdict.ready, [])


def test_status_prints_the_reason(repo: Repo) -> None:
    repo.write("rollout.yaml", WEEK)
    reports(repo, "2026-11-05", "2026-11-10")
    result = repo.rollout("status", "arc-ce/6.19.0", "--today", "2026-11-20")
    assert (
        "  - team `praguelcg2` reported after 2 days in production (since 2026-11-10), 5 days short of 7"
        in result.stdout
    )


def test_our_policies_hold_what_their_descriptions_promise() -> None:
    # "run it in production for a week", "two weeks in production", "after a day in production".
    config = Repository(WorkTree(ROOT)).config()
    assert config is not None
    assert config.policy.production_days == 7
    assert config.policy.overlay(config.policies["critical"]).production_days == 14
    assert config.policy.overlay(config.policies["security"]).production_days == 1

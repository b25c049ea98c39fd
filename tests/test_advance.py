"""`rollout advance`: the bot's transitions, written in place, once."""

from __future__ import annotations

from tests.support.lifecycle import NCG_REPORT, PRAGUE_REPORT, RELEASE_PATH, release_text, walk
from tests.support.repos import Repo, report_text

EMERGENCY = release_text("rollout", walk("candidate", "rollout"), release_type="emergency")

BLOCK_STYLE = """\
# the release under test
version: 6.19.0
type: emergency   # a fix for a CVE
state: rollout
revision: 1
platforms: [el8, el9]
summary: ARC CE 6.19.0 with token support
teams: [ncg-ingrid-pt, praguelcg2]
history:
  - state: candidate
    date: 2026-11-01
    by: nordu-maint
  # started by the coordinator on duty
  - state: rollout
    date: 2026-11-02
    by: carla-coord
notes: |
  Fixes the token refresh.
"""


def test_applies_accept_then_release_keeping_every_other_byte(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY)
    repo.commit("emergency")
    result = repo.rollout("advance", "--today", "2026-11-03")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("moved arc-ce/6.19.0: rollout -> accepted\nmoved arc-ce/6.19.0: accepted -> released\n")
    assert (repo.root / RELEASE_PATH).read_text() == (
        EMERGENCY.replace("state: rollout\n", "state: released\n", 1)
        + "  - {state: accepted, date: 2026-11-03, by: rollout-bot}\n"
        + "  - {state: released, date: 2026-11-03, by: rollout-bot}\n"
    )
    assert repo.rollout("validate").returncode == 0


def test_block_style_history_and_comments_stay_as_written(repo: Repo) -> None:
    repo.write(RELEASE_PATH, BLOCK_STYLE)
    repo.commit("emergency")
    assert repo.rollout("advance", "--today", "2026-11-03").returncode == 0
    added = (
        "  - state: accepted\n    date: 2026-11-03\n    by: rollout-bot\n"
        "  - state: released\n    date: 2026-11-03\n    by: rollout-bot\n"
    )
    expected = BLOCK_STYLE.replace("state: rollout\nrevision", "state: released\nrevision").replace(
        "    by: carla-coord\n", "    by: carla-coord\n" + added
    )
    assert (repo.root / RELEASE_PATH).read_text() == expected


def test_the_second_run_changes_nothing(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY)
    repo.commit("emergency")
    repo.rollout("advance", "--today", "2026-11-03")
    after_first = (repo.root / RELEASE_PATH).read_bytes()
    repo.commit("advanced")
    again = repo.rollout("advance", "--today", "2026-11-04")
    assert (again.returncode, again.stdout) == (0, "nothing to advance\n")
    assert (repo.root / RELEASE_PATH).read_bytes() == after_first
    assert repo.git("status", "--porcelain") == ""


def test_dry_run_writes_nothing(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY)
    repo.commit("emergency")
    result = repo.rollout("advance", "--dry-run", "--today", "2026-11-03")
    assert result.stdout == (
        "would move arc-ce/6.19.0: rollout -> accepted\nwould move arc-ce/6.19.0: accepted -> released\n"
    )
    assert (repo.root / RELEASE_PATH).read_text() == EMERGENCY
    assert repo.git("status", "--porcelain") == ""


def test_the_default_policy_hands_nothing_to_the_bot(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("ready for a coordinator")
    result = repo.rollout("advance", "--today", "2026-11-20")
    assert (result.returncode, result.stdout) == (0, "nothing to advance\n")
    assert repo.git("status", "--porcelain") == ""


def test_a_reject_report_stops_the_bot(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    repo.commit()
    assert repo.rollout("advance", "--today", "2026-11-03").stdout == "nothing to advance\n"
    assert (repo.root / RELEASE_PATH).read_text() == EMERGENCY


def test_an_unreadable_report_is_never_accepted_past(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY)
    repo.write(PRAGUE_REPORT, "verdict: reject\nteam: [\n")
    repo.commit()
    result = repo.rollout("advance", "--today", "2026-11-03")
    assert result.stdout == "nothing to advance\n"
    assert result.stderr == "skipped arc-ce/6.19.0: fix the reports of praguelcg2 first\n"
    assert (repo.root / RELEASE_PATH).read_text() == EMERGENCY


def test_auto_release_alone_releases_what_a_coordinator_accepted(repo: Repo) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("  escalate_days: 7\n", "  escalate_days: 7\n  auto_release: true\n"))
    accepted = release_text("accepted", walk("candidate", "rollout", "accepted"))
    repo.write(RELEASE_PATH, accepted)
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt"))
    repo.commit()
    result = repo.rollout("advance", "--today", "2026-11-21")
    assert result.stdout == "moved arc-ce/6.19.0: accepted -> released\n"
    assert (repo.root / RELEASE_PATH).read_text() == (
        accepted.replace("state: accepted\n", "state: released\n", 1)
        + "  - {state: released, date: 2026-11-21, by: rollout-bot}\n"
    )

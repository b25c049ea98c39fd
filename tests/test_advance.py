"""`rollout advance`: the bot's transitions, written in place, once."""

from __future__ import annotations

import pytest

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
        + '  - {state: accepted, date: 2026-11-03, by: "rollout-bot[bot]"}\n'
        + '  - {state: released, date: 2026-11-03, by: "rollout-bot[bot]"}\n'
    )
    assert repo.rollout("validate").returncode == 0


def test_block_style_history_and_comments_stay_as_written(repo: Repo) -> None:
    repo.write(RELEASE_PATH, BLOCK_STYLE)
    repo.commit("emergency")
    assert repo.rollout("advance", "--today", "2026-11-03").returncode == 0
    added = (
        '  - state: accepted\n    date: 2026-11-03\n    by: "rollout-bot[bot]"\n'
        '  - state: released\n    date: 2026-11-03\n    by: "rollout-bot[bot]"\n'
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
        + '  - {state: released, date: 2026-11-21, by: "rollout-bot[bot]"}\n'
    )


# ---------------------------------------------------------------- any valid file can be advanced, byte for byte


ACCEPTED_AND_RELEASED = '  - {state: accepted, date: 2026-11-03, by: "rollout-bot[bot]"}\n' + (
    '  - {state: released, date: 2026-11-03, by: "rollout-bot[bot]"}\n'
)


def _advanced(repo: Repo, text: str, newline: str = "\n") -> bytes:
    repo.write(RELEASE_PATH, "")
    (repo.root / RELEASE_PATH).write_bytes(text.replace("\n", newline).encode())
    repo.commit("emergency")
    assert repo.rollout("validate").returncode == 0
    result = repo.rollout("advance", "--today", "2026-11-03")
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    assert "moved arc-ce/6.19.0: accepted -> released" in result.stdout
    return (repo.root / RELEASE_PATH).read_bytes()


def test_a_tab_before_a_comment_is_kept(repo: Repo) -> None:
    text = EMERGENCY.replace("state: rollout\n", "state: rollout\t# tab, then a comment\n")
    after = _advanced(repo, text).decode()
    assert after == text.replace("state: rollout\t", "state: released\t") + ACCEPTED_AND_RELEASED


@pytest.mark.parametrize(
    "notes",
    [
        'notes: "a long quoted note, folded\n  onto a second line by its author"\n',
        'notes: "caf\\u00e9 \\t tab"\n',
        "notes: plain text\n  over two lines\n",
        "notes: 'it''s quoted'   # and commented\n",
    ],
    ids=["folded-double-quoted", "escapes", "plain-multi-line", "single-quoted"],
)
def test_quoted_notes_stay_as_written(repo: Repo, notes: str) -> None:
    text = EMERGENCY.replace("history:\n", notes + "history:\n")
    text = text.replace("  - {state: rollout", "  # started\n  - {state: rollout")
    after = _advanced(repo, text).decode()
    expected = text.replace("state: rollout\n", "state: released\n", 1)
    assert after == expected + ACCEPTED_AND_RELEASED


def test_crlf_line_ends_and_a_byte_order_mark_stay(repo: Repo) -> None:
    text = "\ufeff" + EMERGENCY
    after = _advanced(repo, text, newline="\r\n")
    expected = (text.replace("state: rollout\n", "state: released\n", 1) + ACCEPTED_AND_RELEASED).replace("\n", "\r\n")
    assert after == expected.encode()


def test_an_invalid_release_is_reported_and_an_unrelated_due_one_still_advances(repo: Repo) -> None:
    repo.write(RELEASE_PATH, EMERGENCY.replace("state: rollout\n", "state: rollout\t# due today\n"))
    repo.write("releases/arc-ce/6.20.0/release.yaml", "version: 6.20.0\nstate: [\n")
    repo.commit()
    result = repo.rollout("advance", "--today", "2026-11-03")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("moved arc-ce/6.19.0: rollout -> accepted\nmoved arc-ce/6.19.0: accepted -> released\n")
    assert result.stderr == "skipped releases/arc-ce/6.20.0/release.yaml is not valid: run `rollout validate`\n"
    assert (repo.root / "releases/arc-ce/6.20.0/release.yaml").read_text() == "version: 6.20.0\nstate: [\n"

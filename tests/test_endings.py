"""How a release ends: supersede, recall and reject as people expect them, in validation and in the notes."""

from __future__ import annotations

import datetime as dt

from rollout_tool import notes
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.lifecycle import NCG_REPORT, PRAGUE_REPORT, RELEASE_PATH, entry, release_text, walk
from tests.support.repos import Repo, report_text

TODAY = dt.date(2026, 11, 25)
NEWER = "releases/arc-ce/6.20.0/release.yaml"


def _notes(repo: Repo, version: str = "6.19.0") -> str:
    return notes.release_notes(Repository(WorkTree(repo.root)), "arc-ce", version, TODAY)


def _errors(repo: Repo) -> list[str]:
    result = repo.rollout("validate")
    return [line for line in result.stdout.splitlines() if "[error]" in line]


def test_a_release_supersedes_only_an_older_version_and_never_itself(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), extra="supersedes: 6.19.0\n"))
    assert _errors(repo) == [f"{RELEASE_PATH}:9:13: [error] a release cannot supersede itself (value)"]
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout")))
    repo.write(
        "releases/arc-ce/6.9.0/release.yaml",
        release_text("candidate", walk("candidate"), version="6.9.0", extra="supersedes: 6.19.0\n"),
    )
    # 6.9.0 sorts after 6.19.0 as text, but is the older version.
    assert _errors(repo) == [
        "releases/arc-ce/6.9.0/release.yaml:9:13: [error] 6.9.0 cannot supersede 6.19.0:"
        " a release supersedes an older version (value)"
    ]


def test_a_superseded_release_names_its_successor_in_its_notes(repo: Repo) -> None:
    repo.write(
        RELEASE_PATH, release_text("superseded", walk("candidate", "rollout") + entry("superseded", "carla-coord"))
    )
    repo.write(NEWER, release_text("candidate", walk("candidate"), version="6.20.0", extra="supersedes: 6.19.0\n"))
    assert _errors(repo) == []
    assert "| State | superseded since 2026-11-20, by ARC CE 6.20.0 |" in _notes(repo)


def test_a_distribution_that_shipped_a_recalled_release_stays_valid_and_shows_the_recall(repo: Repo) -> None:
    released = walk("candidate", "rollout", "accepted", "released")
    recall = "decisions: [{action: recall, by: carla-coord, date: 2026-11-22, reason: jobs hang}]\n"
    repo.write(
        RELEASE_PATH,
        release_text("recalled", released + entry("recalled", "carla-coord", "2026-11-22"), extra=recall),
    )
    repo.write(
        "distributions/umd/5.4.0.yaml",
        "version: 5.4.0\ndate: 2026-11-21\ndescription: UMD 5.4.0\nstate: released\n"
        "releases:\n  - {release: arc-ce/6.19.0, status: released}\n",
    )
    assert _errors(repo) == []
    text = notes.distribution_notes(Repository(WorkTree(repo.root)), "umd", "5.4.0", TODAY)
    assert "| ARC CE 6.19.0 | recalled (shipped released) |" in text


def test_a_rejected_release_publishes_the_issues_that_rejected_it(repo: Repo) -> None:
    rejecting = report_text("praguelcg2", verdict="reject", platform="el8") + (
        "issues:\n  - {summary: A-REX loses running jobs on restart, severity: critical}\n"
    )
    repo.write(PRAGUE_REPORT, rejecting)
    repo.write(
        NCG_REPORT, report_text("ncg-ingrid-pt") + "issues:\n  - {summary: a cosmetic log line, severity: low}\n"
    )
    decision = "decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: loses jobs}]\n"
    repo.write(
        RELEASE_PATH,
        release_text("rejected", walk("candidate", "rollout") + entry("rejected", "carla-coord"), extra=decision),
    )
    assert _errors(repo) == []
    text = _notes(repo)
    assert "### A-REX loses running jobs on restart" in text
    assert "None reported." not in text
    # The accepting team's unmarked issue is still its own business.
    assert "a cosmetic log line" not in text

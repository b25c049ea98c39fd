"""A coordinator's steps as commands: the whole story of a release, with no hand-edited YAML.

Every step runs the real `rollout` command on a real git repository; each
change it writes is then judged by the real `rollout check-pr`: allowed for
the coordinator who made it, refused for a team member who did not.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest

from tests.support.repos import PRODUCT, Repo, report_text

V = "arc-ce/6.20.0"
RELEASE = "releases/arc-ce/6.20.0/release.yaml"
CANDIDATE = """\
# ARC CE 6.20.0, as its provider submitted it: these comments stay
version: 6.20.0
type: minor
state: candidate
revision: 1
platforms: [el8, el9]
summary: ARC CE 6.20.0\twith the new REST interface   # a tab before this comment
notes: "A long quoted note that a YAML emitter would fold at eighty characters, and it must stay on one line."
history:
  - {state: candidate, date: 2026-11-01, by: nordu-maint}
"""


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [line[2:] for line in diff if line.startswith("- ")], [line[2:] for line in diff if line.startswith("+ ")]


def step(repo: Repo, *args: str, by: str = "carla-coord", today: str = "2026-11-20") -> Any:
    return repo.rollout(*args, "--by", by, "--today", today)


def judged(repo: Repo, base: str, author: str, today: str) -> tuple[int, list[str]]:
    result = repo.rollout(
        "check-pr", "--base", base, "--head", "HEAD", "--author", author, "--today", today, "--format", "json"
    )
    assert result.returncode in (0, 1), result.stderr
    payload = json.loads(result.stdout)
    return result.returncode, [p["message"] for p in payload["problems"] if p["level"] == "error"]


def landed(repo: Repo, base: str, today: str, message: str) -> str:
    """Commit the step's change; check-pr allows it for the coordinator and refuses it for a team member."""
    head = repo.commit(message)
    assert judged(repo, base, "carla-coord", today) == (0, [])
    code, problems = judged(repo, base, "jan-cz", today)
    assert code == 1 and problems, problems
    return head


def report(repo: Repo, team: str, member: str, base: str, today: str, **fields: Any) -> str:
    repo.write(f"releases/arc-ce/6.20.0/reports/{team}.yaml", report_text(team, **fields))
    head = repo.commit(f"report by {team}")
    assert judged(repo, base, member, today) == (0, [])
    return head


@pytest.fixture
def story(repo: Repo) -> Repo:
    repo.write(RELEASE, CANDIDATE)
    repo.commit("candidate")
    return repo


def test_a_whole_rollout_runs_through_the_commands_alone(story: Repo) -> None:
    repo = story
    base = repo.git("rev-parse", "HEAD")

    started = step(repo, "start", V, "--team", "ncg-ingrid-pt", "--team", "praguelcg2", today="2026-11-02")
    assert started.returncode == 0, started.stderr + started.stdout
    assert started.stdout == f"{V}: candidate -> rollout with ncg-ingrid-pt, praguelcg2 ({RELEASE})\n"
    # Only the lines the step means changed: comments, the tab, the long quoted note stay.
    removed, added = changed_lines(CANDIDATE, (repo.root / RELEASE).read_text())
    assert removed == ["state: candidate"]
    assert added[0] == "state: rollout"
    assert added[-1] == "  - {state: rollout, date: 2026-11-02, by: carla-coord}"
    assert "ncg-ingrid-pt" in "".join(added[1:-1]) and "praguelcg2" in "".join(added[1:-1])
    base = landed(repo, base, "2026-11-02", "start")

    base = report(repo, "ncg-ingrid-pt", "ana-pt", base, "2026-11-05", platform="el9", date="2026-11-05")
    base = report(repo, "praguelcg2", "jan-cz", base, "2026-11-06", platform="el8", date="2026-11-06")

    bumped = step(repo, "bump", V, "--reason", "rebuilt against the fixed library", today="2026-11-08")
    assert bumped.returncode == 0, bumped.stderr + bumped.stdout
    assert bumped.stdout == f"{V}: revision 1 -> 2 ({RELEASE})\n"
    assert "revision: 2\n" in (repo.root / RELEASE).read_text()
    base = landed(repo, base, "2026-11-08", "bump")

    base = report(repo, "ncg-ingrid-pt", "ana-pt", base, "2026-11-10", platform="el9", date="2026-11-10", revision=2)
    base = report(
        repo,
        "praguelcg2",
        "jan-cz",
        base,
        "2026-11-11",
        platform="el8",
        date="2026-11-11",
        revision=2,
        verdict="reject",
    )

    assigned = step(repo, "assign", V, "--team", "mwt2", today="2026-11-12")
    assert assigned.stdout == f"{V}: teams +mwt2 ({RELEASE})\n", assigned.stderr
    base = landed(repo, base, "2026-11-12", "assign")
    base = report(repo, "mwt2", "bob-osg", base, "2026-11-13", platform="el9", date="2026-11-13", revision=2)

    plain = step(repo, "accept", V, today="2026-11-20")
    assert (plain.returncode, plain.stdout) == (2, "")
    assert plain.stderr == (
        f"rollout: accepting {V} overrides the reject of `praguelcg2`; say why with --reason TEXT\n"
    )
    accepted = step(repo, "accept", V, "--reason", "the reject is a site firewall rule", today="2026-11-20")
    assert accepted.returncode == 0, accepted.stderr + accepted.stdout
    base = landed(repo, base, "2026-11-20", "accept")

    released = step(repo, "release", V, today="2026-11-21")
    assert released.returncode == 0, released.stderr + released.stdout
    base = landed(repo, base, "2026-11-21", "release")

    recalled = step(repo, "recall", V, "--reason", "jobs hang after a day", today="2026-11-23")
    assert recalled.returncode == 0, recalled.stderr + recalled.stdout
    base = landed(repo, base, "2026-11-23", "recall")
    final = (repo.root / RELEASE).read_text()
    assert final.endswith(
        "decisions:\n"
        "  - {action: accept, by: carla-coord, date: 2026-11-20, reason: the reject is a site firewall rule}\n"
        "  - {action: recall, by: carla-coord, date: 2026-11-23, reason: jobs hang after a day}\n"
    ) or final.endswith(
        "decisions:\n"
        "  - action: accept\n    by: carla-coord\n    date: 2026-11-20\n    reason: the reject is a site firewall rule\n"
        "  - action: recall\n    by: carla-coord\n    date: 2026-11-23\n    reason: jobs hang after a day\n"
    )
    assert repo.rollout("validate").returncode == 0


def test_supersede_and_withdraw_through_the_commands(story: Repo) -> None:
    repo = story
    base = repo.git("rev-parse", "HEAD")
    repo.write("releases/arc-ce/6.21.0/release.yaml", CANDIDATE.replace("6.20.0", "6.21.0"))
    base = repo.commit("a newer candidate")

    older = step(repo, "supersede", V, "--by-version", "6.19.0")
    assert older.returncode == 2
    assert older.stderr == "rollout: arc-ce 6.19.0 is not newer than 6.20.0: supersede by a newer version\n"

    superseded = step(repo, "supersede", V, "--by-version", "6.21.0")
    assert superseded.returncode == 0, superseded.stderr + superseded.stdout
    assert "supersedes: 6.20.0\n" in (repo.root / "releases/arc-ce/6.21.0/release.yaml").read_text()
    base = landed(repo, base, "2026-11-20", "supersede")

    no_reason = step(repo, "withdraw", "arc-ce/6.21.0")
    assert (no_reason.returncode, no_reason.stderr) == (
        2,
        "rollout: the withdraw of arc-ce/6.21.0 needs a reason: give --reason TEXT\n",
    )
    withdrawn = step(repo, "withdraw", "arc-ce/6.21.0", "--reason", "a packaging error")
    assert withdrawn.returncode == 0, withdrawn.stderr + withdrawn.stdout
    landed(repo, base, "2026-11-20", "withdraw")


def test_a_step_check_pr_would_refuse_is_refused_with_its_sentence_and_writes_nothing(story: Repo) -> None:
    repo = story
    before = (repo.root / RELEASE).read_bytes()
    # A team member may not start a rollout: the same sentence check-pr gives.
    member = step(repo, "start", V, "--team", "ncg-ingrid-pt", by="jan-cz")
    assert member.returncode == 1
    assert "candidate -> rollout is for coordinators; jan-cz may not make it (unauthorized)" in member.stdout
    assert member.stderr == f"refused: {V}: candidate -> rollout with ncg-ingrid-pt; nothing was written\n"
    # Releasing a candidate skips states.
    skipped = step(repo, "release", V)
    assert skipped.returncode == 1
    assert "candidate -> released is not a transition" in skipped.stdout
    assert (repo.root / RELEASE).read_bytes() == before


def test_start_suggests_teams_and_refuses_one_that_cannot_take_part(story: Repo) -> None:
    repo = story
    unnamed = step(repo, "start", V)
    assert unnamed.returncode == 2
    assert unnamed.stderr == (
        "rollout: name the teams that take part with --team TEAM;"
        " suggested: --team mwt2 --team ncg-ingrid-pt --team praguelcg2\n"
    )
    repo.write("teams/mwt2.yaml", (repo.root / "teams/mwt2.yaml").read_text() + "active: false\n")
    repo.commit("mwt2 pauses")
    inactive = step(repo, "start", V, "--team", "mwt2")
    assert inactive.returncode == 1
    assert (
        "team `mwt2` is inactive: it takes no new rollouts until a coordinator sets it active (assignment)"
        in inactive.stdout
    )


def test_dry_run_shows_the_diff_and_writes_nothing(story: Repo) -> None:
    repo = story
    before = (repo.root / RELEASE).read_bytes()
    result = step(repo, "start", V, "--team", "praguelcg2", "--dry-run", today="2026-11-02")
    assert result.returncode == 0, result.stderr
    assert "-state: candidate\n+state: rollout\n" in result.stdout
    assert "+  - {state: rollout, date: 2026-11-02, by: carla-coord}\n" in result.stdout
    assert (repo.root / RELEASE).read_bytes() == before


def test_the_product_file_is_not_needed_to_be_touched(story: Repo) -> None:
    # The steps edit release files only; the product keeps its bytes.
    product = (story.root / "releases/arc-ce/product.yaml").read_text()
    assert product == PRODUCT
    assert step(story, "start", V, "--team", "praguelcg2", today="2026-11-02").returncode == 0
    assert (story.root / "releases/arc-ce/product.yaml").read_text() == product


@pytest.mark.parametrize(
    "args",
    [
        ("start", V, "--team", "praguelcg2", "--by", "carla-coord", "--today", "2026-11-02", "--dry-run"),
        ("schema", "--check"),
        ("new", "report", "arc-ce/6.19.0", "--team", "praguelcg2", "--verdict", "accept", "--platform", "el8",
         "--install", "fresh", "--today", "2026-11-20"),
        ("notes", "arc-ce/6.19.0", "--today", "2026-11-20"),
        ("status", "--team", "praguelcg2", "--today", "2026-11-20"),
    ],
    ids=["step", "schema", "new", "notes", "status-team"],
)  # fmt: skip
def test_every_command_that_prints_speaks_json(story: Repo, args: tuple[str, ...]) -> None:
    if args[0] == "schema":
        assert story.rollout("schema").returncode == 0
    result = story.rollout(*args, "--format", "json")
    assert result.returncode == 0, result.stderr + result.stdout
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict) and payload


def test_a_step_in_json_says_what_it_did_and_the_diff(story: Repo) -> None:
    result = step(story, "start", V, "--team", "praguelcg2", "--format", "json", today="2026-11-02")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["summary"] == f"{V}: candidate -> rollout with praguelcg2"
    assert (payload["allowed"], payload["written"], payload["files"]) == (True, True, [RELEASE])
    assert "+state: rollout\n" in payload["diff"] and payload["problems"] == []
    refused = step(story, "release", V, "--format", "json")
    assert refused.returncode == 1
    body = json.loads(refused.stdout)
    assert (body["allowed"], body["written"]) == (False, False)
    assert [p["rule"] for p in body["problems"]] == ["illegal-transition"]

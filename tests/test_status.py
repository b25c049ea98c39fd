"""`rollout status`: states, verdicts and reasons, as text and JSON, through the real command."""

from __future__ import annotations

import json

from tests.support.lifecycle import release_text, walk
from tests.support.repos import Repo, report_text


def add_candidate(repo: Repo) -> None:
    repo.write("releases/arc-ce/6.20.0/release.yaml", release_text("candidate", walk("candidate"), version="6.20.0"))


def test_text_lists_every_release_with_its_reasons(repo: Repo) -> None:
    add_candidate(repo)
    result = repo.rollout("status", "--today", "2026-11-19")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "arc-ce/6.19.0: rollout, waiting (policy default)\n"
        "  - needs 1 more accepting report\n"
        "  - none yet on el8\n"
        "  - team `praguelcg2` is 3 days late\n"
        "  next, teams: report on revision 1: `praguelcg2`\n"
        "arc-ce/6.20.0: candidate, pending (policy default)\n"
        "  next, coordinators: start its rollout with EA teams (`rollout start arc-ce/6.20.0`)\n"
    )


def test_json_is_the_machine_readable_why_not_yet(repo: Repo) -> None:
    result = repo.rollout("status", "arc-ce/6.19.0", "--format", "json", env={"ROLLOUT_TODAY": "2026-11-05"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "today": "2026-11-05",
        "releases": [
            {
                "product": "arc-ce",
                "version": "6.19.0",
                "state": "rollout",
                "policy": "default",
                "verdict": "waiting",
                "reasons": ["needs 1 more accepting report", "none yet on el8", "soaks until 2026-11-09"],
                "late": [],
                "reports": {"current": {"ncg-ingrid-pt": "accept"}, "stale": {}},
                "soak_until": "2026-11-09",
                "next": {
                    "who": "teams",
                    "what": "report on revision 1: `praguelcg2`",
                    "teams": ["praguelcg2"],
                    "escalated": False,
                },
                "checks": [],
            }
        ],
        "invalid": [],
    }


def test_late_teams_in_json_with_escalation(repo: Repo) -> None:
    result = repo.rollout("status", "arc-ce", "--format", "json", "--today", "2026-11-30")
    release = json.loads(result.stdout)["releases"][0]
    assert release["late"] == [{"team": "praguelcg2", "due": "2026-11-16", "days_late": 14, "escalate": True}]


def test_a_product_selects_its_releases(repo: Repo) -> None:
    add_candidate(repo)
    result = repo.rollout("status", "arc-ce", "--format", "json", "--today", "2026-11-19")
    assert [r["version"] for r in json.loads(result.stdout)["releases"]] == ["6.19.0", "6.20.0"]


def test_unknown_names_and_dates_are_usage_errors(repo: Repo) -> None:
    missing = repo.rollout("status", "dcache")
    assert (missing.returncode, missing.stderr) == (2, "rollout: no product 'dcache' under releases/\n")
    version = repo.rollout("status", "arc-ce/9.9")
    assert (version.returncode, version.stderr) == (2, "rollout: no release arc-ce/9.9\n")
    date = repo.rollout("status", "--today", "tomorrow")
    assert (date.returncode, date.stderr) == (2, "rollout: 'tomorrow' is not a date: write YYYY-MM-DD\n")


def test_a_release_that_does_not_load_is_named_not_skipped(repo: Repo) -> None:
    repo.write("releases/arc-ce/6.20.0/release.yaml", "version: [\n")
    result = repo.rollout("status", "--today", "2026-11-10")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "arc-ce/6.20.0: not valid; run `rollout validate`"


def test_versions_are_listed_in_version_order_not_text_order(repo: Repo) -> None:
    for version in ("6.9.0", "6.10.0"):
        repo.write(
            f"releases/arc-ce/{version}/release.yaml", release_text("candidate", walk("candidate"), version=version)
        )
    result = repo.rollout("status", "arc-ce", "--today", "2026-11-25")
    assert result.returncode == 0, result.stderr
    listed = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert listed == ["arc-ce/6.9.0", "arc-ce/6.10.0", "arc-ce/6.19.0"]


def test_rev_reads_a_commit_not_the_work_tree(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", report_text("praguelcg2", platform="el8"))
    repo.commit("second report")
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", "not: [a report\n")  # uncommitted, broken
    now = json.loads(repo.rollout("status", "--rev", "HEAD", "--format", "json", "--today", "2026-11-25").stdout)
    then = json.loads(repo.rollout("status", "--rev", first, "--format", "json", "--today", "2026-11-25").stdout)
    assert sorted(now["releases"][0]["reports"]["current"]) == ["ncg-ingrid-pt", "praguelcg2"]
    assert sorted(then["releases"][0]["reports"]["current"]) == ["ncg-ingrid-pt"]
    missing = repo.rollout("status", "--rev", "no-such-commit")
    assert missing.returncode == 2
    assert "--rev no-such-commit: not a commit" in missing.stderr


def test_no_release_that_waits_on_someone_reads_closed_and_who_acts_is_named(repo: Repo) -> None:
    add_candidate(repo)
    accepted = walk("candidate", "rollout", "accepted")
    repo.write("releases/arc-ce/6.18.0/release.yaml", release_text("accepted", accepted, version="6.18.0"))
    released = walk("candidate", "rollout", "accepted", "released")
    repo.write("releases/arc-ce/6.17.0/release.yaml", release_text("released", released, version="6.17.0"))
    result = repo.rollout("status", "arc-ce", "--format", "json", "--today", "2026-11-30")
    found = {
        r["version"]: (r["verdict"], r["next"] and (r["next"]["who"], r["next"]["what"]))
        for r in json.loads(result.stdout)["releases"]
    }
    assert found == {
        "6.17.0": ("closed", None),
        "6.18.0": ("releasable", ("coordinators", "release it (`rollout release arc-ce/6.18.0`)")),
        "6.19.0": ("waiting", ("teams", "report on revision 1: `praguelcg2`")),
        "6.20.0": ("pending", ("coordinators", "start its rollout with EA teams (`rollout start arc-ce/6.20.0`)")),
    }


def test_escalation_shows_in_text_too(repo: Repo) -> None:
    result = repo.rollout("status", "arc-ce", "--today", "2026-11-30")
    assert "  - team `praguelcg2` is 14 days late; escalated to the coordinators\n" in result.stdout
    assert "  - team `praguelcg2` is 3 days late\n" in repo.rollout("status", "arc-ce", "--today", "2026-11-19").stdout


def test_a_team_sees_what_it_owes_oldest_first(repo: Repo) -> None:
    later = release_text(
        "rollout", walk("candidate") + "  - {state: rollout, date: 2026-11-10, by: carla-coord}\n", version="6.20.0"
    )
    repo.write("releases/arc-ce/6.20.0/release.yaml", later)
    result = repo.rollout("status", "--team", "praguelcg2", "--today", "2026-11-20")
    assert (result.returncode, result.stdout) == (
        0,
        "arc-ce/6.19.0: a report on revision 1, due 2026-11-16, 4 days late\n"
        "arc-ce/6.20.0: a report on revision 1, due 2026-11-24\n",
    )
    done = repo.rollout("status", "--team", "ncg-ingrid-pt", "--today", "2026-11-20")
    assert done.stdout == "arc-ce/6.20.0: a report on revision 1, due 2026-11-24\n"
    unknown = repo.rollout("status", "--team", "nobody")
    assert (unknown.returncode, unknown.stderr) == (2, "rollout: no team 'nobody' under teams/\n")

"""`rollout metrics`: process figures checked against numbers worked out by hand.

The repository below is fixed here, not the project's own data. Today is
2026-11-25. Default policy: report_days 14; emergency releases: report_days 2.

arc (ARC):
  arc-ce/6.18.0  rollout 2025-12-02, accepted 2025-12-20, released, recalled 2026-01-10.
                 Assigned ncg-ingrid-pt (el9, 12-05: on time), praguelcg2 (el8, 12-18: late,
                 due 12-16); prague-atlas, not assigned, reports too from the praguelcg2 site.
                 -> 18 days; 3 reports, 2 sites, 2 platforms; released and recalled; 1 late of 2.
  arc-ce/6.19.0  in rollout since 2026-11-01, revision 2 from 2026-11-10 (due 11-24).
                 ncg-ingrid-pt reported on revision 1 only (stale: late), praguelcg2 on
                 revision 2 on 11-12 (el9, on time), mwt2 never (late).
                 -> undecided; 2 reports, 2 sites, 1 platform; 2 late of 3.
  arc-ce/7.0.0   a candidate, never started: counted only in `releases` (year 2026).
opstools (Operational tools):
  apel/1.8.0     emergency, no teams; rollout 2025-06-01, accepted by the bot on 06-04 with no
                 decision recorded, released. -> 3 days; no reports; nobody judged.
  apel/1.9.0     rollout 2026-03-02, rejected 03-09 (due 03-16). mwt2 rejects (el9, 03-05),
                 praguelcg2 accepts (el8, 03-08). -> 7 days, rejected; 2 reports, 2 sites,
                 2 platforms; 0 late of 2.
  apel/2.0.0     emergency, in rollout since 2026-11-21: mwt2 was due 11-23 and has not
                 reported (late; under the default 14 days it would not be judged yet).
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rollout_tool.metrics import measure
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.repos import CONFIG, Repo

TODAY = "2026-11-25"

TEAMS = {
    "ncg-ingrid-pt": ("NCG-INGRID-PT", ["el9"]),
    "praguelcg2": ("praguelcg2", ["el8", "el9"]),
    "prague-atlas": ("praguelcg2", ["el9"]),  # a second team at the same site
    "mwt2": ("MWT2", ["el9"]),
}


def _release(version: str, state: str, history: str, *, teams: str = "[]", extra: str = "", **fields: str) -> str:
    kind = fields.get("type", "minor")
    revision = fields.get("revision", "1")
    return (
        f'version: "{version}"\ntype: {kind}\nstate: {state}\nrevision: {revision}\nplatforms: [el8, el9]\n'
        f"summary: release {version}\nteams: {teams}\nhistory:\n{textwrap.dedent(history)}{extra}"
    )


def _report(team: str, verdict: str, platform: str, date: str, revision: int = 1) -> str:
    return (
        f"team: {team}\nrevision: {revision}\nverdict: {verdict}\ndate: {date}\n"
        f"environments: [{{platform: {platform}, arch: x86_64, install: upgrade}}]\n"
    )


def build_metrics_repo(root: Path) -> Repo:
    repo = Repo(root)
    repo.write("rollout.yaml", CONFIG)
    for team, (site, platforms) in TEAMS.items():
        repo.write(
            f"teams/{team}.yaml",
            f"name: {team} team\nsite: {site}\nfederation: EGI\nmembers: [m-{team}]\n"
            f"platforms: [{', '.join(platforms)}]\n",
        )
    repo.write(
        "releases/arc-ce/product.yaml", "name: ARC CE\ngroup: arc\nprovider: NorduGrid\ndescription: The ARC CE.\n"
    )
    repo.write("releases/apel/product.yaml", "name: APEL\ngroup: opstools\nprovider: STFC\ndescription: Accounting.\n")
    repo.write(
        "releases/arc-ce/6.18.0/release.yaml",
        _release(
            "6.18.0",
            "recalled",
            """\
              - {state: candidate, date: 2025-12-01, by: nordu-maint}
              - {state: rollout, date: 2025-12-02, by: carla-coord}
              - {state: accepted, date: 2025-12-20, by: carla-coord}
              - {state: released, date: 2025-12-22, by: carla-coord}
              - {state: recalled, date: 2026-01-10, by: carla-coord}
            """,
            teams="[ncg-ingrid-pt, praguelcg2]",
            extra=(
                "decisions:\n"
                "  - {action: accept, by: carla-coord, date: 2025-12-20}\n"
                "  - {action: recall, by: carla-coord, date: 2026-01-10, reason: breaks job submission}\n"
            ),
        ),
    )
    repo.write(
        "releases/arc-ce/6.18.0/reports/ncg-ingrid-pt.yaml", _report("ncg-ingrid-pt", "accept", "el9", "2025-12-05")
    )
    repo.write("releases/arc-ce/6.18.0/reports/praguelcg2.yaml", _report("praguelcg2", "accept", "el8", "2025-12-18"))
    repo.write(
        "releases/arc-ce/6.18.0/reports/prague-atlas.yaml", _report("prague-atlas", "accept", "el9", "2025-12-06")
    )
    repo.write(
        "releases/arc-ce/6.19.0/release.yaml",
        _release(
            "6.19.0",
            "rollout",
            """\
              - {state: candidate, date: 2026-10-30, by: nordu-maint}
              - {state: rollout, date: 2026-11-01, by: carla-coord}
              - {state: rollout, date: 2026-11-10, by: carla-coord, note: revision 2}
            """,
            teams="[ncg-ingrid-pt, praguelcg2, mwt2]",
            revision="2",
        ),
    )
    repo.write(
        "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml", _report("ncg-ingrid-pt", "accept", "el9", "2026-11-05")
    )
    repo.write(
        "releases/arc-ce/6.19.0/reports/praguelcg2.yaml", _report("praguelcg2", "accept", "el9", "2026-11-12", 2)
    )
    repo.write(
        "releases/arc-ce/7.0.0/release.yaml",
        _release("7.0.0", "candidate", "  - {state: candidate, date: 2026-11-20, by: nordu-maint}\n", teams="[mwt2]"),
    )
    repo.write(
        "releases/apel/1.8.0/release.yaml",
        _release(
            "1.8.0",
            "released",
            """\
              - {state: candidate, date: 2025-06-01, by: apel-maint}
              - {state: rollout, date: 2025-06-01, by: carla-coord}
              - {state: accepted, date: 2025-06-04, by: rollout-bot}
              - {state: released, date: 2025-06-05, by: rollout-bot}
            """,
            type="emergency",
        ),
    )
    repo.write(
        "releases/apel/1.9.0/release.yaml",
        _release(
            "1.9.0",
            "rejected",
            """\
              - {state: candidate, date: 2026-03-01, by: apel-maint}
              - {state: rollout, date: 2026-03-02, by: carla-coord}
              - {state: rejected, date: 2026-03-09, by: carla-coord}
            """,
            teams="[mwt2, praguelcg2]",
            extra="decisions:\n  - {action: reject, by: carla-coord, date: 2026-03-09, reason: loses records}\n",
        ),
    )
    repo.write("releases/apel/1.9.0/reports/mwt2.yaml", _report("mwt2", "reject", "el9", "2026-03-05"))
    repo.write("releases/apel/1.9.0/reports/praguelcg2.yaml", _report("praguelcg2", "accept", "el8", "2026-03-08"))
    repo.write(
        "releases/apel/2.0.0/release.yaml",
        _release(
            "2.0.0",
            "rollout",
            """\
              - {state: candidate, date: 2026-11-20, by: apel-maint}
              - {state: rollout, date: 2026-11-21, by: carla-coord}
            """,
            teams="[mwt2]",
            type="emergency",
        ),
    )
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    repo.git("config", "user.email", "tests@example.org")
    repo.git("config", "user.name", "tests")
    repo.commit("fixed history")
    return repo


@pytest.fixture
def history(tmp_path: Path) -> Repo:
    return build_metrics_repo(tmp_path / "repo")


def _summary(**figures: Any) -> dict[str, Any]:
    return figures


OVERALL = _summary(
    releases=6,
    tested=5,
    decided=3,
    days_median=7.0,  # 3, 7, 18
    days_mean=9.33,  # 28 / 3
    reports=7,  # 3 + 2 + 2
    reports_per_release=1.4,  # 7 / 5 tested
    sites_per_release=1.2,  # (2 + 2 + 2) / 5
    platforms_per_release=1.0,  # (2 + 1 + 2) / 5
    sites=3,
    platforms=2,
    rejected=1,
    reject_rate=0.333,
    released=2,
    recalled=1,
    recall_rate=0.5,
    judged=8,  # 2 + 3 + 2 + 1
    late=4,  # praguelcg2 on 6.18.0; ncg-ingrid-pt and mwt2 on 6.19.0; mwt2 on apel 2.0.0
    late_rate=0.5,
)
ARC = _summary(
    releases=3,
    tested=2,
    decided=1,
    days_median=18.0,
    days_mean=18.0,
    reports=5,
    reports_per_release=2.5,
    sites_per_release=2.0,
    platforms_per_release=1.5,
    sites=2,
    platforms=2,
    rejected=0,
    reject_rate=0.0,
    released=1,
    recalled=1,
    recall_rate=1.0,
    judged=5,
    late=3,
    late_rate=0.6,
)
OPSTOOLS = _summary(
    releases=3,
    tested=3,
    decided=2,
    days_median=5.0,
    days_mean=5.0,
    reports=2,
    reports_per_release=0.67,
    sites_per_release=0.67,
    platforms_per_release=0.67,
    sites=2,
    platforms=2,
    rejected=1,
    reject_rate=0.5,
    released=1,
    recalled=0,
    recall_rate=0.0,
    judged=3,
    late=1,
    late_rate=0.333,
)
YEAR_2025 = _summary(
    releases=2,
    tested=2,
    decided=2,
    days_median=10.5,
    days_mean=10.5,
    reports=3,
    reports_per_release=1.5,
    sites_per_release=1.0,
    platforms_per_release=1.0,
    sites=2,
    platforms=2,
    rejected=0,
    reject_rate=0.0,
    released=2,
    recalled=1,
    recall_rate=0.5,
    judged=2,
    late=1,
    late_rate=0.5,
)
YEAR_2026 = _summary(
    releases=4,  # 7.0.0, never started, counts in the year it was submitted
    tested=3,
    decided=1,
    days_median=7.0,
    days_mean=7.0,
    reports=4,
    reports_per_release=1.33,
    sites_per_release=1.33,
    platforms_per_release=1.0,
    sites=3,
    platforms=2,
    rejected=1,
    reject_rate=1.0,
    released=0,
    recalled=0,
    recall_rate=None,  # nothing reached production: no rate, not 0
    judged=6,
    late=3,
    late_rate=0.5,
)


def _json(repo: Repo, *args: str) -> dict[str, Any]:
    result = repo.rollout("metrics", "--format", "json", "--today", TODAY, *args)
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_figures_overall_per_family_and_per_year(history: Repo) -> None:
    payload = _json(history)
    assert payload["today"] == TODAY
    assert payload["overall"] == OVERALL
    assert payload["groups"] == [
        {"group": "arc", "name": "ARC", **ARC},
        {"group": "opstools", "name": "Operational tools", **OPSTOOLS},
    ]
    assert payload["years"] == [{"year": 2025, **YEAR_2025}, {"year": 2026, **YEAR_2026}]


def test_each_release_and_its_edge_cases(history: Repo) -> None:
    releases = {f"{r['product']}/{r['version']}": r for r in _json(history)["releases"]}
    assert list(releases) == [
        "apel/1.8.0",
        "apel/1.9.0",
        "apel/2.0.0",
        "arc-ce/6.18.0",
        "arc-ce/6.19.0",
        "arc-ce/7.0.0",
    ]
    recalled = releases["arc-ce/6.18.0"]
    assert recalled["days_in_testing"] == 18
    assert (recalled["outcome"], recalled["released"], recalled["recalled"]) == ("accept", True, True)
    assert recalled["sites"] == ["NCG-INGRID-PT", "praguelcg2"]  # two teams, one site
    assert (recalled["late"], recalled["on_time"]) == (["praguelcg2"], ["ncg-ingrid-pt"])
    stale = releases["arc-ce/6.19.0"]
    assert (stale["reports"], stale["stale_reports"], stale["platforms"]) == (2, 1, ["el9"])
    assert (stale["decided"], stale["days_in_testing"]) == (None, None)
    assert (stale["late"], stale["on_time"]) == (["ncg-ingrid-pt", "mwt2"], ["praguelcg2"])
    never = releases["arc-ce/7.0.0"]
    assert (never["started"], never["year"], never["late"], never["on_time"]) == (None, 2026, [], [])
    by_bot = releases["apel/1.8.0"]  # accepted with no decision recorded, and no teams
    assert (by_bot["decided"], by_bot["outcome"], by_bot["days_in_testing"]) == ("2025-06-04", "accept", 3)
    assert (by_bot["reports"], by_bot["late"], by_bot["on_time"]) == (0, [], [])
    rejected = releases["apel/1.9.0"]  # praguelcg2 was not yet due when the release left rollout
    assert (rejected["outcome"], rejected["late"], rejected["on_time"]) == ("reject", [], ["mwt2", "praguelcg2"])
    assert releases["apel/2.0.0"]["late"] == ["mwt2"]  # the emergency policy's 2 days, not the default 14


def test_a_team_is_late_only_once_its_due_date_has_passed(history: Repo) -> None:
    # On 2026-11-24, the due date of arc-ce 6.19.0 revision 2, nobody there is late yet.
    releases = {f"{r['product']}/{r['version']}": r for r in _json(history, "--today", "2026-11-24")["releases"]}
    assert (releases["arc-ce/6.19.0"]["late"], releases["arc-ce/6.19.0"]["on_time"]) == ([], ["praguelcg2"])


def test_rev_reads_a_commit_and_text_lists_the_same_figures(history: Repo) -> None:
    history.git("rm", "-q", "-r", "releases/apel")
    history.write(
        "releases/apel/product.yaml", "name: APEL\ngroup: opstools\nprovider: STFC\ndescription: Accounting.\n"
    )
    assert _json(history)["overall"]["releases"] == 3
    assert _json(history, "--rev", "HEAD")["overall"] == OVERALL
    result = history.rollout("metrics", "--today", TODAY, "--rev", "HEAD")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Process figures as of 2026-11-25"
    family = next(line for line in lines if line.startswith("ARC "))
    assert family.split() == [
        "ARC",
        "3",
        "2",
        "18",
        "(18)",
        "2.5",
        "2",
        "1.5",
        "0/1",
        "0.0%",
        "1/1",
        "100.0%",
        "3/5",
        "60.0%",
    ]
    year = next(line for line in lines if line.startswith("2026 "))
    assert year.split() == [
        "2026",
        "4",
        "3",
        "7",
        "(7)",
        "1.33",
        "1.33",
        "1",
        "1/1",
        "100.0%",
        "0/0",
        "-",
        "3/6",
        "50.0%",
    ]


def test_bad_input_is_a_clear_error(history: Repo) -> None:
    result = history.rollout("metrics", "--rev", "no-such-commit")
    assert result.returncode == 2
    assert result.stderr.startswith("rollout: --rev no-such-commit: not a commit")
    history.write("rollout.yaml", "coordinators: []\n")
    result = history.rollout("metrics")
    assert result.returncode == 1
    assert result.stderr == "rollout: rollout.yaml is not valid: run `rollout validate` and fix it first\n"


def test_the_library_gives_what_the_command_prints(history: Repo) -> None:
    import datetime as dt

    found = measure(Repository(WorkTree(history.root)), dt.date.fromisoformat(TODAY))
    assert found.overall.as_dict() == OVERALL
    assert [g.group for g in found.groups] == ["arc", "opstools"]


def test_a_repository_without_releases_has_no_rates_rather_than_zeros(repo: Repo) -> None:
    repo.git("rm", "-q", "-r", "releases/arc-ce/6.19.0")
    payload = _json(repo)
    assert payload["overall"]["releases"] == 0
    assert [payload["overall"][k] for k in ("days_median", "reports_per_release", "reject_rate", "late_rate")] == [
        None
    ] * 4
    assert (payload["groups"], payload["years"], payload["releases"]) == ([], [], [])
    text = repo.rollout("metrics", "--today", TODAY)
    assert text.returncode == 0, text.stderr
    total = next(line for line in text.stdout.splitlines() if line.startswith("all "))
    assert total.split() == ["all", "0", "0", "-", "(-)", "-", "-", "-", "0/0", "-", "0/0", "-", "0/0", "-"]


def _metric_rows(page: str, ident: str) -> list[tuple[str, str, str]]:
    """The rows (label, value, basis) of one chart's table on the metrics page."""
    figure = page.split(f'<h3 id="h-{ident}">', 1)[1].split("</figure>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th><td class="nowrap">([^<]*)</td><td>([^<]*)</td>', figure)


def test_the_metrics_page_shows_the_cadence_of_releases_per_year(history: Repo, tmp_path: Path) -> None:
    # A history without reports (as an imported one) still has a cadence: releases that reached production.
    out = tmp_path / "site"
    built = history.rollout("site", "--out", str(out), "--today", TODAY)
    assert built.returncode == 0, built.stderr
    page = (out / "metrics.html").read_text(encoding="utf-8")
    assert _metric_rows(page, "year-released") == [
        ("2025", "2", "of 2 releases"),
        ("2026", "0", "of 4 releases"),
        ("All", "2", "of 6 releases"),
    ]
    assert ("All", "2", "of 6 releases") in _metric_rows(page, "family-released")

"""Federations and VO workflows: vocabularies checked with a did-you-mean, and coverage the policy can require."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.lifecycle import PRAGUE_REPORT, RELEASE_PATH, release_text, walk
from tests.support.repos import CONFIG, Repo, report_text

VOCABULARIES = """\
federations:
  EGI: {name: EGI Federation}
  OSG: {name: OSG Consortium, contact: help@osg-htc.org}
workflows:
  ATLAS: {name: ATLAS production}
  CMS: {name: CMS production}
"""
WLCG = "  wlcg: {quorum: 1, cover_platforms: false, cover_federations: [OSG], cover_workflows: [CMS]}\n"
THREE_TEAMS = "[ncg-ingrid-pt, praguelcg2, mwt2]"
MWT2_REPORT = "releases/arc-ce/6.19.0/reports/mwt2.yaml"


def with_policy(repo: Repo) -> None:
    config = CONFIG.replace("type_policies:", WLCG + "type_policies:") + VOCABULARIES
    repo.write("rollout.yaml", config)
    repo.write(
        RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=THREE_TEAMS, extra="policy: wlcg\n")
    )


def verdict(repo: Repo, today: str = "2026-11-12") -> tuple[str, list[str]]:
    result = repo.rollout("status", "arc-ce/6.19.0", "--format", "json", "--today", today)
    assert result.returncode == 0, result.stderr
    release = json.loads(result.stdout)["releases"][0]
    return release["verdict"], release["reasons"]


def test_a_release_is_held_by_federation_and_workflow_coverage_until_the_report_lands(repo: Repo) -> None:
    with_policy(repo)
    # ncg-ingrid-pt (EGI) accepted on el9 with no workflow: quorum met, coverage not.
    assert verdict(repo) == (
        "waiting",
        [
            "no accepting report from an OSG site yet; assigned: mwt2",
            "no accepting report has exercised CMS yet; assigned teams yet to report: praguelcg2, mwt2",
        ],
    )
    repo.write(MWT2_REPORT, report_text("mwt2").replace("from_version", "workflows: [ATLAS]\n    from_version"))
    assert verdict(repo) == (
        "waiting",
        ["no accepting report has exercised CMS yet; assigned teams yet to report: praguelcg2"],
    )
    repo.write(MWT2_REPORT, report_text("mwt2").replace("from_version", "workflows: [CMS]\n    from_version"))
    assert verdict(repo) == ("ready", [])
    assert repo.rollout("validate").returncode == 0
    repo.commit("held, then satisfied")
    # The acceptance check-pr judges uses the same coverage.
    base = repo.git("rev-parse", "HEAD")
    accepted = release_text(
        "accepted",
        walk("candidate", "rollout") + "  - {state: accepted, date: 2026-11-12, by: carla-coord}\n",
        teams=THREE_TEAMS,
        extra="policy: wlcg\n",
    )
    repo.write(RELEASE_PATH, accepted)
    repo.commit("accept")
    result = repo.rollout("check-pr", "--base", base, "--author", "carla-coord", "--today", "2026-11-12")
    assert result.returncode == 0, result.stdout


def test_an_osg_reject_does_not_cover_the_federation(repo: Repo) -> None:
    with_policy(repo)
    repo.write(
        MWT2_REPORT, report_text("mwt2", verdict="reject").replace("from_version", "workflows: [CMS]\n    from_version")
    )
    found, reasons = verdict(repo)
    assert found == "blocked"
    assert "no accepting report from an OSG site yet; no assigned team yet to report belongs to OSG" in reasons


def test_a_misspelt_workflow_and_federation_are_refused_with_a_did_you_mean(repo: Repo) -> None:
    with_policy(repo)
    repo.write(
        PRAGUE_REPORT,
        report_text("praguelcg2", platform="el8").replace("from_version", "workflows: [Atlas, CSM]\n    from_version"),
    )
    repo.write(
        "teams/mwt2.yaml", (repo.root / "teams/mwt2.yaml").read_text().replace("federation: OSG", "federation: OGS")
    )
    result = repo.rollout("validate")
    assert result.returncode == 1
    assert result.stdout == (
        f"{PRAGUE_REPORT}:9:17: [error] no workflow 'Atlas' in rollout.yaml; did you mean 'ATLAS'? (reference)\n"
        f"{PRAGUE_REPORT}:9:24: [error] no workflow 'CSM' in rollout.yaml; did you mean 'CMS'? (reference)\n"
        "teams/mwt2.yaml:3:13: [error] no federation 'OGS' in rollout.yaml; did you mean 'OSG'? (reference)\n"
    )


def test_a_policy_can_only_name_declared_federations_and_workflows(repo: Repo) -> None:
    config = CONFIG.replace("type_policies:", WLCG.replace("[OSG]", "[OGS]") + "type_policies:") + VOCABULARIES
    repo.write("rollout.yaml", config)
    result = repo.rollout("validate")
    assert result.returncode == 1
    assert "no federation 'OGS' in rollout.yaml; did you mean 'OSG'? (reference)" in result.stdout


def test_notes_show_each_team_s_federation(repo: Repo) -> None:
    with_policy(repo)
    result = repo.rollout("notes", "arc-ce/6.19.0", "--today", "2026-11-12")
    assert "| `ncg-ingrid-pt` | NCG-INGRID-PT | EGI |" in result.stdout
    assert "| `mwt2` | MWT2 | OSG |" in result.stdout


def test_the_dashboard_has_a_page_per_federation_without_javascript(repo: Repo, tmp_path: Path) -> None:
    with_policy(repo)
    repo.write("releases/arc-ce/6.20.0/release.yaml", release_text("candidate", walk("candidate"), version="6.20.0"))
    result = repo.rollout("site", "--out", str(tmp_path / "site"), "--today", "2026-11-12")
    assert result.returncode == 0, result.stderr
    osg = (tmp_path / "site/federations/OSG.html").read_text()
    egi = (tmp_path / "site/federations/EGI.html").read_text()
    assert '<h1>OSG Consortium <span class="muted">(OSG)</span></h1>' in osg
    assert 'href="mailto:help@osg-htc.org"' in osg
    # Only the releases an OSG team takes part in: 6.19.0 has mwt2 assigned, the candidate none.
    assert "releases/arc-ce/6.19.0.html" in osg and "releases/arc-ce/6.20.0.html" not in osg
    assert 'href="../teams/mwt2.html"' in osg and 'href="../teams/praguelcg2.html"' not in osg
    assert 'href="../teams/praguelcg2.html"' in egi and 'href="../teams/mwt2.html"' not in egi
    assert "<script" not in osg
    index = (tmp_path / "site/index.html").read_text()
    assert 'href="federations/EGI.html">EGI</a>' in index and 'href="federations/OSG.html">OSG</a>' in index
    release = (tmp_path / "site/releases/arc-ce/6.19.0.html").read_text()
    assert 'MWT2</a> <span class="muted">OSG</span>' in release


def test_start_names_the_teams_that_would_complete_the_federation_coverage(repo: Repo) -> None:
    with_policy(repo)
    candidate = release_text("candidate", walk("candidate"), version="6.20.0", extra="policy: wlcg\n")
    repo.write("releases/arc-ce/6.20.0/release.yaml", candidate)
    result = repo.rollout("start", "arc-ce/6.20.0", "--by", "carla-coord")
    assert result.returncode == 2
    assert result.stderr == (
        "rollout: name the teams that take part with --team TEAM;"
        " suggested: --team mwt2 --team ncg-ingrid-pt --team praguelcg2; its policy needs a site of OSG: mwt2\n"
    )

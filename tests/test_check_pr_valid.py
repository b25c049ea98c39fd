"""check-pr validates every record a change can affect: an allowed change leaves `rollout validate` clean."""

from __future__ import annotations

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

BUMP = "  - {state: rollout, date: 2026-11-10, by: nordu-maint, revision: 2, note: rebuilt against openssl 3.2}\n"


def test_dropping_a_platform_that_reports_stand_on_is_refused(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el9"))
    base = repo.commit("prague on el9 too")
    dropped = release_text("rollout", walk("candidate", "rollout")).replace("[el8, el9]", "[el8]")
    repo.write(RELEASE_PATH, dropped)
    repo.commit("ship for el8 only")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    located = [(p["path"], p["line"], p["message"]) for p in payload["problems"]]
    assert located == [
        (RELEASE_PATH, 6, "only coordinators change a release's platforms once its rollout has started"),
        (NCG_REPORT, 6, "arc-ce/6.19.0 does not ship for 'el9' (it ships for el8)"),
        (PRAGUE_REPORT, 6, "arc-ce/6.19.0 does not ship for 'el9' (it ships for el8)"),
    ]
    # A coordinator may change the platforms, but not into a tree that no longer validates.
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert [p["path"] for p in payload["problems"]] == [NCG_REPORT, PRAGUE_REPORT]
    assert payload["labels"] == ["rollout: refused", "rollout: invalid"]


def test_lowering_the_revision_below_a_report_is_refused(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + BUMP, revision=2))
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", revision=2, date="2026-11-11"))
    base = repo.commit("revision 2, reported on")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + BUMP, revision=1))
    repo.commit("back to revision 1")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    assert [(p["path"], p["message"]) for p in payload["problems"]] == [
        (RELEASE_PATH, "revision only grows: arc-ce/6.19.0 is at revision 2; a new build is revision 3"),
        (NCG_REPORT, "arc-ce/6.19.0 has no revision 2: its current revision is 1"),
    ]


def test_a_look_alike_version_folder_is_the_one_refused(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        "releases/arc-ce/6-19-0/release.yaml",
        release_text("candidate", entry("candidate", "nordu-maint"), version="6-19-0"),
    )
    repo.commit("a look-alike of 6.19.0")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    assert [(p["path"], p["rule"], p["message"]) for p in payload["problems"]] == [
        (
            "releases/arc-ce/6-19-0",
            "identifier-collision",
            "'6-19-0' differs from '6.19.0' only by look-alike characters;"
            " choose a name that cannot be mistaken for it",
        )
    ]


def test_deleting_a_team_that_releases_and_reports_name_is_refused(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("rm", "-q", "teams/ncg-ingrid-pt.yaml")
    repo.commit("ncg leaves")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert [(p["path"], p["message"]) for p in payload["problems"]] == [
        (RELEASE_PATH, "no team 'ncg-ingrid-pt' under teams/"),
        (NCG_REPORT, "no team 'ncg-ingrid-pt' under teams/"),
    ]


def test_a_change_to_rollout_yaml_validates_everything(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("  el8: {name: Enterprise Linux 8, arches: [x86_64]}\n", ""))
    repo.commit("no more el8")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert sorted({p["path"] for p in payload["problems"]}) == [
        RELEASE_PATH,
        "teams/praguelcg2.yaml",
    ]
    assert messages(payload)[0] == "no platform 'el8' in rollout.yaml; did you mean 'el9'?"


def test_what_check_pr_allows_leaves_validate_clean(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    assert check_pr(repo, base, "jan-cz")[0] == 0
    assert repo.rollout("validate").returncode == 0


def test_a_change_to_rollout_yaml_validates_the_records_naming_what_it_changed(repo: Repo) -> None:
    # A report already broken on main shows which records a change to rollout.yaml reads again.
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt").replace("arch: x86_64", "arch: ppc64le"))
    base = repo.commit("a broken report slipped in")
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("soak_days: 7", "soak_days: 10"))
    longer = repo.commit("a longer soak: no record names it")
    assert check_pr(repo, base, "carla-coord", head=longer)[0] == 0
    repo.write("rollout.yaml", config.replace("arches: [x86_64]}", "arches: [x86_64, aarch64]}"))
    repo.commit("el8 on arm too: every report names a platform")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert [p["path"] for p in payload["problems"]] == [NCG_REPORT]

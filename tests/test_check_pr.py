"""`rollout check-pr` on real commits: every rule of who may change what, both sides of each."""

from __future__ import annotations

import json

from tests.support.lifecycle import (
    NCG_REPORT,
    PRAGUE_REPORT,
    RELEASE_PATH,
    check_pr,
    entry,
    messages,
    release_text,
    summaries,
    walk,
)
from tests.support.repos import Repo, report_text

PRAGUE_TEAM = "teams/praguelcg2.yaml"
PRAGUE_TEAM_TEXT = "name: praguelcg2 EA team\nsite: praguelcg2\nfederation: EGI\nmembers: [jan-cz, eva-cz]\ngroups: [arc]\nplatforms: [el8, el9]\n"


def base_of(repo: Repo) -> str:
    return repo.git("rev-parse", "HEAD")


# ---------------------------------------------------------------- reports


def test_a_member_may_add_the_team_report_and_the_change_is_listed(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    code, payload = check_pr(repo, base, "jan-cz")
    assert code == 0
    assert payload["changes"] == [
        {
            "kind": "report-added",
            "path": PRAGUE_REPORT,
            "summary": "new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1",
        }
    ]
    assert payload["problems"] == []


def test_logins_compare_without_case_as_on_github(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit()
    assert check_pr(repo, base, "Jan-CZ")[0] == 0


def test_a_member_of_another_team_may_not_write_the_report(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit()
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert payload["problems"] == [
        {
            "path": PRAGUE_REPORT,
            "line": 1,
            "column": 1,
            "level": "error",
            "rule": "unauthorized",
            "message": "only members of team `praguelcg2` (or coordinators) may write its reports;"
            " ana-pt is not a member of `praguelcg2` at the base revision",
        }
    ]


def test_joining_a_team_and_reporting_in_one_change_is_refused(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_TEAM, PRAGUE_TEAM_TEXT.replace("[jan-cz, eva-cz]", "[jan-cz, eva-cz, mallory]"))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("join and report")
    code, payload = check_pr(repo, base, "mallory")
    assert code == 1
    assert messages(payload) == [
        "only members of team `praguelcg2` (or coordinators) may write its reports;"
        " mallory is not a member of `praguelcg2` at the base revision",
        "only members of team `praguelcg2` (or coordinators) may edit it; mallory is not one",
    ]


def test_a_coordinator_may_write_any_team_report(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit()
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_editing_a_report_after_release_is_refused_even_for_its_team(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.write(RELEASE_PATH, release_text("released", walk("candidate", "rollout", "accepted", "released")))
    base = repo.commit("released")
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", verdict="reject"))
    repo.commit("change of mind")
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert messages(payload) == ["arc-ce/6.19.0 is released: reports change only while a release is in rollout"]
    assert summaries(payload) == ["report of team `ncg-ingrid-pt` on arc-ce/6.19.0 changed: reject on revision 1"]
    # Coordinators too: the record of a finished rollout stays as it was.
    assert check_pr(repo, base, "carla-coord")[0] == 1


def test_a_report_before_the_rollout_starts_is_refused(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("back to candidate")
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt"))
    repo.commit()
    _, payload = check_pr(repo, base, "ana-pt")
    assert messages(payload) == ["arc-ce/6.19.0 is candidate: reports change only while a release is in rollout"]


def test_deleting_another_team_report_is_refused_and_a_coordinator_may(repo: Repo) -> None:
    base = base_of(repo)
    repo.git("rm", "-q", NCG_REPORT)
    repo.commit("delete")
    code, payload = check_pr(repo, base, "jan-cz")
    assert code == 1
    assert payload["changes"] == [
        {
            "kind": "report-deleted",
            "path": NCG_REPORT,
            "summary": "report of team `ncg-ingrid-pt` on arc-ce/6.19.0 deleted",
        }
    ]
    assert messages(payload) == ["only coordinators may delete a report; jan-cz is not a coordinator"]
    assert check_pr(repo, base, "dmitri-coord")[0] == 0


def test_renaming_a_report_onto_another_team_counts_as_deleting_and_adding(repo: Repo) -> None:
    base = base_of(repo)
    repo.git("mv", NCG_REPORT, PRAGUE_REPORT)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2"))
    repo.commit("rename")
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert sorted(c["kind"] for c in payload["changes"]) == ["report-added", "report-deleted"]
    assert messages(payload) == [
        "only coordinators may delete a report; ana-pt is not a coordinator",
        "only members of team `praguelcg2` (or coordinators) may write its reports;"
        " ana-pt is not a member of `praguelcg2` at the base revision",
    ]


def test_an_invalid_report_is_refused_with_the_validation_problem(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8").replace("verdict: accept", "verdict: maybe"))
    repo.commit()
    code, payload = check_pr(repo, base, "jan-cz")
    assert code == 1
    # The schema's own problem, located at the value; no authorization problem on top.
    assert [(p["path"], p["line"], p["column"], p["level"]) for p in payload["problems"]] == [
        (PRAGUE_REPORT, 3, 10, "error")
    ]
    assert "'maybe'" in payload["problems"][0]["message"]
    assert summaries(payload) == ["new report by team `praguelcg2` on arc-ce/6.19.0: invalid"]


# ---------------------------------------------------------------- teams and rollout.yaml


def test_a_member_may_edit_the_team_but_not_its_members(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_TEAM, PRAGUE_TEAM_TEXT + "contact: grid-admin@example.org\n")
    contact = repo.commit("contact")
    assert check_pr(repo, base, "eva-cz", head=contact)[0] == 0
    repo.write(PRAGUE_TEAM, PRAGUE_TEAM_TEXT.replace("[jan-cz, eva-cz]", "[jan-cz, eva-cz, friend]"))
    repo.commit("add a friend")
    code, payload = check_pr(repo, base, "eva-cz")
    assert code == 1
    assert messages(payload) == [
        "only coordinators change a team's members; ask one to add or remove members of `praguelcg2`"
    ]
    assert payload["problems"][0]["line"] == 4  # the members line
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_adding_a_team_is_for_coordinators(repo: Repo) -> None:
    base = base_of(repo)
    repo.write("teams/new-site.yaml", PRAGUE_TEAM_TEXT.replace("praguelcg2", "new-site"))
    repo.commit()
    assert messages(check_pr(repo, base, "jan-cz")[1]) == [
        "only coordinators may add teams; jan-cz is not a coordinator"
    ]
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_making_oneself_coordinator_in_rollout_yaml_is_refused(repo: Repo) -> None:
    base = base_of(repo)
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("[carla-coord, dmitri-coord]", "[carla-coord, dmitri-coord, ana-pt]"))
    repo.commit("promote myself")
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert payload["changes"] == [
        {"kind": "config-modified", "path": "rollout.yaml", "summary": "rollout.yaml modified"}
    ]
    assert messages(payload) == ["only coordinators may change rollout.yaml; ana-pt is not a coordinator"]
    assert check_pr(repo, base, "dmitri-coord")[0] == 0


def test_the_tool_and_workflows_are_for_coordinators(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(".github/workflows/x.yaml", "on: push\n")
    repo.write("rollout_tool/evil.py", "print('hi')\n")
    repo.commit()
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "only coordinators may change .github/; nordu-maint is not a coordinator",
        "only coordinators may change rollout_tool/; nordu-maint is not a coordinator",
    ]


# ---------------------------------------------------------------- releases and transitions


def test_a_maintainer_may_submit_a_candidate_and_others_may_not(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(
        "releases/arc-ce/6.20.0/release.yaml",
        release_text("candidate", entry("candidate", "nordu-maint"), version="6.20.0"),
    )
    repo.commit("candidate")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 0, payload
    assert summaries(payload) == ["new release arc-ce/6.20.0 (candidate)"]
    assert messages(check_pr(repo, base, "jan-cz")[1]) == [
        "only the maintainers of arc-ce (or coordinators) may submit its releases; jan-cz is not one at the base revision",
        "the new history entry says by nordu-maint, but the change is by jan-cz",
    ]


def test_a_new_release_must_start_as_candidate(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(
        "releases/arc-ce/6.20.0/release.yaml",
        release_text("rollout", walk("candidate", "rollout"), version="6.20.0"),
    )
    repo.commit()
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == ["a new release starts as candidate, not rollout"]


def test_starting_the_rollout_is_for_coordinators(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("candidate")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate") + entry("rollout", "carla-coord")))
    repo.commit("start")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 0, payload
    assert payload["changes"] == [
        {
            "kind": "transition",
            "path": RELEASE_PATH,
            "summary": "arc-ce/6.19.0: candidate -> rollout",
            "release": "arc-ce/6.19.0",
            "from": "candidate",
            "to": "rollout",
        }
    ]
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate") + entry("rollout", "nordu-maint")))
    repo.commit("start it myself")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert messages(payload) == ["candidate -> rollout is for coordinators; nordu-maint may not make it"]


def test_starting_a_rollout_without_teams_fails_its_precondition(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate"), teams="[]"))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("candidate")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate") + entry("rollout", "carla-coord"), teams="[]"))
    repo.commit()
    _, payload = check_pr(repo, base, "carla-coord")
    assert "arc-ce/6.19.0 cannot become rollout: assign at least one EA team in `teams` before the rollout starts" in (
        messages(payload)
    )


def test_skipping_states_is_refused(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("candidate")
    repo.write(RELEASE_PATH, release_text("accepted", walk("candidate") + entry("accepted", "carla-coord")))
    repo.commit("straight to accepted")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert messages(payload) == [
        "candidate -> accepted is not a transition; from candidate a release goes to rollout, withdrawn, superseded"
    ]


def test_accepting_without_quorum_is_refused_and_with_it_allowed(repo: Repo) -> None:
    base = base_of(repo)
    accepted = release_text("accepted", walk("candidate", "rollout") + entry("accepted", "carla-coord"))
    repo.write(RELEASE_PATH, accepted)
    repo.commit("accept")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert messages(payload) == [
        "arc-ce/6.19.0 cannot become accepted: needs 1 more accepting report",
        "arc-ce/6.19.0 cannot become accepted: none yet on el8",
    ]
    # The same acceptance once praguelcg2 has reported on el8.
    repo.git("checkout", "-q", base)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    with_quorum = repo.commit("prague")
    repo.write(RELEASE_PATH, accepted)
    repo.commit("accept")
    code, payload = check_pr(repo, with_quorum, "carla-coord")
    assert code == 0, payload


def test_a_transition_must_be_recorded_in_history_by_its_author(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    base = repo.commit("quorum")
    repo.write(RELEASE_PATH, release_text("accepted", walk("candidate", "rollout") + entry("accepted", "dmitri-coord")))
    repo.commit()
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "the new history entry says by dmitri-coord, but the change is by carla-coord"
    ]
    repo.write(
        RELEASE_PATH,
        release_text("accepted", walk("candidate", "rollout") + entry("accepted", "carla-coord", "2026-11-21")),
    )
    repo.commit("dated tomorrow")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "the new history entry is dated 2026-11-21, after today (2026-11-20)"
    ]
    repo.write(RELEASE_PATH, release_text("accepted", walk("candidate") + entry("accepted", "carla-coord")))
    repo.commit("rewrite history")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "history is append-only: keep every earlier entry as it was"
    ]


def test_a_reject_report_blocks_until_a_decision_with_a_reason(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    repo.write(
        "teams/mwt2.yaml",
        "name: MWT2 EA team\nsite: MWT2\nfederation: OSG\nmembers: [bob-osg]\ngroups: [arc]\nplatforms: [el8, el9]\n",
    )
    teams = "[ncg-ingrid-pt, praguelcg2, mwt2]"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=teams))
    repo.write("releases/arc-ce/6.19.0/reports/mwt2.yaml", report_text("mwt2", platform="el8"))
    base = repo.commit("a rejection")
    history = walk("candidate", "rollout") + entry("accepted", "carla-coord")
    repo.write(RELEASE_PATH, release_text("accepted", history, teams=teams))
    repo.commit("accept anyway")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "arc-ce/6.19.0 cannot become accepted: team `praguelcg2` rejects revision 1: a coordinator must decide"
        " (reject the release, or accept it with a reason)"
    ]
    no_reason = "decisions: [{action: accept, by: carla-coord, date: 2026-11-20}]\n"
    repo.write(RELEASE_PATH, release_text("accepted", history, teams=teams, extra=no_reason))
    repo.commit("accept without a reason")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "arc-ce/6.19.0 cannot become accepted: the decision to accept despite the rejection by team `praguelcg2`"
        " needs a reason"
    ]
    reason = "decisions: [{action: accept, by: carla-coord, date: 2026-11-20, reason: the failure is a site misconfiguration}]\n"
    repo.write(RELEASE_PATH, release_text("accepted", history, teams=teams, extra=reason))
    repo.commit("accept with a reason")
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_rejecting_needs_a_recorded_decision(repo: Repo) -> None:
    base = base_of(repo)
    history = walk("candidate", "rollout") + entry("rejected", "carla-coord")
    repo.write(RELEASE_PATH, release_text("rejected", history))
    repo.commit()
    assert (
        "arc-ce/6.19.0 cannot become rejected: record the decision first: a new last entry in decisions with action reject, by, date and a reason"
        in messages(check_pr(repo, base, "carla-coord")[1])
    )
    decision = "decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: breaks token auth}]\n"
    repo.write(RELEASE_PATH, release_text("rejected", history, extra=decision))
    repo.commit()
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_a_maintainer_may_withdraw_with_a_reason_but_not_edit_a_released_release(repo: Repo) -> None:
    base = base_of(repo)
    withdrawn = walk("candidate", "rollout") + entry("withdrawn", "nordu-maint")
    repo.write(RELEASE_PATH, release_text("withdrawn", withdrawn))
    repo.commit("withdraw without a reason")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "arc-ce/6.19.0 cannot become withdrawn: record the decision first: a new last entry in decisions"
        " with action withdraw, by, date and a reason"
    ]
    reason = "decisions: [{action: withdraw, by: nordu-maint, date: 2026-11-20, reason: a packaging error}]\n"
    repo.write(RELEASE_PATH, release_text("withdrawn", withdrawn, extra=reason))
    repo.commit("withdraw")
    assert check_pr(repo, base, "nordu-maint")[0] == 0
    assert messages(check_pr(repo, base, "jan-cz")[1]) == [
        "rollout -> withdrawn is for coordinators or the product's maintainers; jan-cz may not make it",
        "the new decision says by nordu-maint, but the change is by jan-cz",
        "the new history entry says by nordu-maint, but the change is by jan-cz",
    ]
    released = release_text("released", walk("candidate", "rollout", "accepted", "released"))
    repo.write(RELEASE_PATH, released)
    released_base = repo.commit("released")
    repo.write(RELEASE_PATH, released.replace("summary: ARC CE", "summary: The ARC CE"))
    repo.commit("retouch")
    _, payload = check_pr(repo, released_base, "nordu-maint")
    assert summaries(payload) == ["release arc-ce/6.19.0 changed (summary)"]
    assert messages(payload) == ["a released release is edited by coordinators only"]


def test_the_bot_may_accept_only_where_the_policy_hands_it_over(repo: Repo) -> None:
    emergency = release_text("rollout", walk("candidate", "rollout"), release_type="emergency")
    repo.write(RELEASE_PATH, emergency)
    base = repo.commit("an emergency release")
    history = walk("candidate", "rollout") + entry("accepted", '"rollout-bot[bot]"')
    repo.write(RELEASE_PATH, release_text("accepted", history, release_type="emergency"))
    repo.commit("bot accepts")
    code, payload = check_pr(repo, base, "rollout-bot[bot]")
    assert code == 0, payload
    # The default policy does not: the bot is refused on a minor release.
    minor_base = base_of(repo)
    repo.git("checkout", "-q", base)
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout")))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    minor_base = repo.commit("minor with quorum")
    repo.write(RELEASE_PATH, release_text("accepted", history))
    repo.commit("bot accepts")
    assert messages(check_pr(repo, minor_base, "rollout-bot[bot]")[1]) == [
        "rollout -> accepted is for coordinators or the bot where the policy sets auto_accept; rollout-bot[bot] may not make it"
    ]


def test_the_bot_may_not_change_anything_else_with_its_transition(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), release_type="emergency"))
    base = repo.commit()
    history = walk("candidate", "rollout") + entry("accepted", '"rollout-bot[bot]"')
    repo.write(RELEASE_PATH, release_text("accepted", history, release_type="emergency", teams="[ncg-ingrid-pt]"))
    repo.commit()
    assert messages(check_pr(repo, base, "rollout-bot[bot]")[1]) == [
        "the bot may change only a release's state and history"
    ]


def test_lowering_the_quorum_in_the_same_change_grants_nothing(repo: Repo) -> None:
    base = base_of(repo)
    config = (repo.root / "rollout.yaml").read_text()
    repo.write(
        "rollout.yaml",
        config.replace("quorum: 2", "quorum: 1").replace("cover_platforms: true", "cover_platforms: false"),
    )
    repo.write(RELEASE_PATH, release_text("accepted", walk("candidate", "rollout") + entry("accepted", "carla-coord")))
    repo.commit()
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "arc-ce/6.19.0 cannot become accepted: needs 1 more accepting report",
        "arc-ce/6.19.0 cannot become accepted: none yet on el8",
    ]


# ---------------------------------------------------------------- output and usage


def test_text_and_github_formats(repo: Repo) -> None:
    base = base_of(repo)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit()
    text = repo.rollout("check-pr", "--base", base, "--author", "ana-pt", "--format", "text")
    assert text.returncode == 1
    assert text.stdout == (
        f"new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1 ({PRAGUE_REPORT})\n"
        f"{PRAGUE_REPORT}:1:1: [error] only members of team `praguelcg2` (or coordinators) may write its reports;"
        " ana-pt is not a member of `praguelcg2` at the base revision (unauthorized)\n"
        "refused: 1 problem\n"
    )
    github = repo.rollout("check-pr", "--base", base, "--author", "jan-cz", env={"GITHUB_ACTIONS": "true"})
    assert github.returncode == 0
    assert github.stdout == (
        "::notice title=change::new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1\nallowed\n"
    )


def test_bad_revisions_are_usage_errors(repo: Repo) -> None:
    result = repo.rollout("check-pr", "--base", "no-such-branch", "--author", "x")
    assert result.returncode == 2
    assert result.stderr == f"rollout: --base no-such-branch: no such commit in {repo.root}\n"
    result = repo.rollout("check-pr", "--base", "--upload-pack=x", "--author", "x")
    assert result.returncode == 2
    assert "not a revision" in result.stderr


def test_an_empty_change_is_allowed(repo: Repo) -> None:
    result = repo.rollout("check-pr", "--base", "HEAD", "--author", "anyone", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "allowed": True,
        "changes": [],
        "problems": [],
        "releases": [],
        "labels": ["rollout: allowed"],
    }


def test_a_maintainer_may_not_pick_how_a_release_is_judged(repo: Repo) -> None:
    base = base_of(repo)
    rollout = walk("candidate", "rollout")
    bump = "  - {state: rollout, date: 2026-11-20, by: nordu-maint, revision: 2, note: rebuilt with the fix}\n"
    repo.write(RELEASE_PATH, release_text("rollout", rollout + bump, revision=2))
    revision = repo.commit("new revision")
    assert check_pr(repo, base, "nordu-maint", head=revision)[0] == 0
    repo.write(RELEASE_PATH, release_text("rollout", rollout, release_type="emergency", extra="policy: emergency\n"))
    repo.commit("faster please")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    assert [(p["line"], p["message"]) for p in payload["problems"]] == [
        (3, "only coordinators give a release a type that selects a policy: type emergency selects policy emergency"),
        (9, "only coordinators set a release's policy"),
    ]
    assert check_pr(repo, base, "carla-coord")[0] == 0


def test_a_maintainer_may_not_choose_the_policy_of_a_new_release_or_product(repo: Repo) -> None:
    base = base_of(repo)
    candidate = release_text("candidate", entry("candidate", "nordu-maint"), version="6.20.0", release_type="major")
    repo.write("releases/arc-ce/6.20.0/release.yaml", candidate)
    major = repo.commit("a major candidate: a type that selects no policy")
    assert check_pr(repo, base, "nordu-maint", head=major)[0] == 0
    repo.write("releases/arc-ce/6.20.0/release.yaml", candidate.replace("history:", "policy: emergency\nhistory:"))
    product = (repo.root / "releases/arc-ce/product.yaml").read_text()
    repo.write("releases/arc-ce/product.yaml", product + "policy: emergency\n")
    repo.commit("pick the policy")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "only coordinators set a release's policy",
        "only coordinators change the policy of arc-ce",
    ]


def test_an_invalid_release_edit_is_refused_by_validation_alone(repo: Repo) -> None:
    base = base_of(repo)
    text = (repo.root / RELEASE_PATH).read_text()
    repo.write(RELEASE_PATH, text.replace("revision: 1", "revision: one"))
    repo.commit("typo")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    assert summaries(payload) == ["release arc-ce/6.19.0 changed"]
    assert [(p["path"], p["line"], p["rule"] == "unauthorized") for p in payload["problems"]] == [
        (RELEASE_PATH, 5, False)
    ]


def test_several_steps_in_one_change_are_each_judged(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("candidate")
    steps = walk("candidate") + entry("rollout", "carla-coord") + entry("accepted", "carla-coord")
    repo.write(RELEASE_PATH, release_text("accepted", steps))
    repo.commit("start and accept at once")
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert summaries(payload) == ["arc-ce/6.19.0: candidate -> rollout -> accepted"]
    assert messages(payload) == [
        "arc-ce/6.19.0 cannot become accepted: needs 2 more accepting reports",
        "arc-ce/6.19.0 cannot become accepted: none yet on el8",
        "arc-ce/6.19.0 cannot become accepted: none yet on el9",
        "arc-ce/6.19.0 cannot become accepted: soaks until 2026-11-27",
    ]


def test_what_advance_commits_passes_check_pr_as_the_bot(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), release_type="emergency"))
    base = repo.commit("an emergency release")
    assert repo.rollout("advance", "--today", "2026-11-20").returncode == 0
    repo.commit("advanced by the bot")
    code, payload = check_pr(repo, base, "rollout-bot[bot]")
    assert code == 0, payload
    assert summaries(payload) == ["arc-ce/6.19.0: rollout -> accepted -> released"]
    # The same commit from anyone but the bot is refused: the history names the bot.
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "the new history entry says by rollout-bot[bot], but the change is by carla-coord",
        "the new history entry says by rollout-bot[bot], but the change is by carla-coord",
    ]


def test_a_base_branch_that_moved_on_is_not_part_of_the_change(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "pr")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    repo.git("checkout", "-q", "main")
    repo.write("teams/new-site.yaml", PRAGUE_TEAM_TEXT.replace("praguelcg2", "new-site"))
    repo.commit("a new team on main")
    code, payload = check_pr(repo, "main", "jan-cz", head="pr")
    assert code == 0, payload
    assert [c["path"] for c in payload["changes"]] == [PRAGUE_REPORT]


def test_rights_and_states_come_from_the_base_branch_as_it_is_now(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "pr")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    repo.git("checkout", "-q", "main")
    repo.write(PRAGUE_TEAM, PRAGUE_TEAM_TEXT.replace("[jan-cz, eva-cz]", "[eva-cz]"))
    repo.write(
        RELEASE_PATH,
        release_text(
            "rejected",
            walk("candidate", "rollout") + entry("rejected", "carla-coord"),
            extra="decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: broken}]\n",
        ),
    )
    repo.commit("jan left; the release was rejected")
    code, payload = check_pr(repo, "main", "jan-cz", head="pr")
    assert code == 1
    assert messages(payload) == [
        "arc-ce/6.19.0 is rejected: reports change only while a release is in rollout",
        "only members of team `praguelcg2` (or coordinators) may write its reports;"
        " jan-cz is not a member of `praguelcg2` at the base revision",
    ]


def test_deleting_rollout_yaml_is_refused_not_a_crash(repo: Repo) -> None:
    base = base_of(repo)
    config = (repo.root / "rollout.yaml").read_text()
    repo.git("rm", "-q", "rollout.yaml")
    repo.commit("no more rules")
    repo.write("rollout.yaml", config)  # the command still runs from a checkout of the base
    code, payload = check_pr(repo, base, "carla-coord")
    assert code == 1
    assert messages(payload) == ["rollout.yaml cannot be deleted"]


def test_each_environment_of_a_report_must_be_one_its_team_runs(repo: Repo) -> None:
    base = base_of(repo)
    # ncg-ingrid-pt runs el9 only: its el8 environment is refused where it is written.
    report = report_text("ncg-ingrid-pt", date="2026-11-20") + "  - {platform: el8, arch: x86_64, install: fresh}\n"
    repo.write(NCG_REPORT, report)
    repo.commit("two environments")
    code, payload = check_pr(repo, base, "ana-pt")
    assert code == 1
    assert [(p["line"], p["message"]) for p in payload["problems"] if p["rule"] == "report-platform"] == [
        (10, "team `ncg-ingrid-pt` does not run el8: its team file lists el9")
    ]

"""check-pr closes the gates: revisions, who picks the policy and the coverage, dates and authors, reports."""

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

PRAGUE_TEAM = "teams/praguelcg2.yaml"
NEW_RELEASE = "releases/arc-ce/6.20.0/release.yaml"


def bump(revision: int, by: str = "nordu-maint", date: str = "2026-11-20", note: str = "rebuilt with the fix") -> str:
    return f"  - {{state: rollout, date: {date}, by: {by}, revision: {revision}, note: {note}}}\n"


# ---------------------------------------------------------------- revisions


def test_a_revision_bump_is_recorded_in_history_with_a_reason(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), revision=2))
    repo.commit("silent bump")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "record revision 2 as a new history entry: state rollout, revision 2, by, date and a note saying why"
    ]
    no_note = "  - {state: rollout, date: 2026-11-20, by: nordu-maint, revision: 2}\n"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + no_note, revision=2))
    repo.commit("bump without a reason")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == ["say in the entry's note why revision 2 was built"]
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + bump(2), revision=2))
    repo.commit("bump")
    assert check_pr(repo, base, "nordu-maint")[0] == 0


def test_a_bump_restarts_the_soak_and_the_due_dates(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + bump(2), revision=2))
    repo.commit("bump")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 0, payload
    (release,) = payload["releases"]
    assert release["soak_until"] == "2026-11-27"
    assert "soaks until 2026-11-27" in release["reasons"]
    assert release["late"] == []  # due 14 days after the bump, not after 2026-11-02


def test_a_reject_on_an_earlier_revision_keeps_blocking(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    base = repo.commit("prague rejects revision 1")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + bump(2), revision=2))
    repo.commit("a new build to make the reject stale")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 0
    (release,) = payload["releases"]
    assert release["verdict"] == "blocked"
    assert release["reasons"][0] == (
        "team `praguelcg2` rejected revision 1 and has not reported on revision 2: a coordinator must decide"
        " (reject the release, or accept it with a reason)"
    )
    assert payload["labels"] == ["rollout: allowed", "verdict: blocked"]


def test_a_bump_of_a_released_release_is_refused(repo: Repo) -> None:
    released = walk("candidate", "rollout", "accepted", "released")
    repo.write(RELEASE_PATH, release_text("released", released))
    base = repo.commit("released")
    later = "  - {state: released, date: 2026-11-21, by: carla-coord, revision: 2, note: rebuilt}\n"
    repo.write(RELEASE_PATH, release_text("released", released + later, revision=2))
    repo.commit("a new build after the release")
    assert messages(check_pr(repo, base, "carla-coord", "--today", "2026-11-21")[1]) == [
        "only a candidate or a release in rollout gets a new revision; this one is released"
    ]


# ---------------------------------------------------------------- who picks the policy and the coverage


def test_a_maintainer_may_not_submit_a_candidate_whose_type_picks_a_faster_policy(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    product = (repo.root / "releases/arc-ce/product.yaml").read_text()
    repo.write("releases/arc-ce/product.yaml", product + "policy: careful\n")
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", config.replace("\npolicies:\n", "\npolicies:\n  careful: {quorum: 3}\n"))
    base = repo.commit("arc-ce is judged carefully")
    repo.write(
        NEW_RELEASE,
        release_text("candidate", entry("candidate", "nordu-maint"), version="6.20.0", release_type="emergency"),
    )
    repo.commit("an emergency, as the maintainer says")
    code, payload = check_pr(repo, base, "nordu-maint")
    assert code == 1
    assert messages(payload) == [
        "only coordinators give a release a type that selects a policy: type emergency selects policy emergency"
    ]
    assert check_pr(repo, base, "carla-coord", "--opened", "2026-11-20")[0] == 1  # the entry is nordu-maint's


def test_platforms_are_the_maintainers_until_the_rollout_starts(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    repo.git("rm", "-q", NCG_REPORT)
    base = repo.commit("a candidate")
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")).replace("[el8, el9]", "[el9]"))
    repo.commit("el9 only")
    assert check_pr(repo, base, "nordu-maint")[0] == 0


def test_team_members_may_not_change_what_decides_their_coverage(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    team = (repo.root / PRAGUE_TEAM).read_text()
    repo.write(PRAGUE_TEAM, team + "active: false\n")
    repo.commit("never late again")
    code, payload = check_pr(repo, base, "jan-cz")
    assert code == 1
    assert messages(payload) == [
        "only coordinators change a team's active: it decides what `praguelcg2` is asked to test;"
        " members edit its name, site, contact"
    ]
    repo.write(PRAGUE_TEAM, team.replace("platforms: [el8, el9]", "platforms: [el9]").replace("EGI", "OSG"))
    repo.commit("fewer platforms, another federation")
    assert messages(check_pr(repo, base, "jan-cz")[1]) == [
        "only coordinators change a team's federation: it decides what `praguelcg2` is asked to test;"
        " members edit its name, site, contact",
        "only coordinators change a team's platforms: it decides what `praguelcg2` is asked to test;"
        " members edit its name, site, contact",
    ]
    repo.write(PRAGUE_TEAM, team.replace("site: praguelcg2", "site: praguelcg2-new"))
    repo.commit("the site's new name")
    assert check_pr(repo, base, "jan-cz")[0] == 0


def test_maintainers_may_not_move_their_product_to_another_group(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    product = (repo.root / "releases/arc-ce/product.yaml").read_text()
    repo.write("releases/arc-ce/product.yaml", product.replace("group: arc", "group: opstools"))
    repo.commit("a group with fewer teams")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == ["only coordinators change the group of arc-ce"]


# ---------------------------------------------------------------- history and decisions


def test_a_new_release_starts_with_one_candidate_entry_of_today(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    forged = (
        entry("candidate", "nordu-maint", "2026-11-18")
        + entry("rollout", "carla-coord", "2026-11-19")
        + entry("candidate", "dmitri-coord", "2026-11-20")
    )
    repo.write(NEW_RELEASE, release_text("candidate", forged, version="6.20.0"))
    repo.commit("endorsed by three coordinators")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "a new release starts with one history entry, state candidate, by its submitter:"
        " each later entry is written by the step it records"
    ]
    repo.write(
        NEW_RELEASE, release_text("candidate", entry("candidate", "nordu-maint", "2030-01-01"), version="6.20.0")
    )
    repo.commit("from the future")
    assert messages(check_pr(repo, base, "nordu-maint")[1]) == [
        "the new history entry is dated 2030-01-01, after today (2026-11-20)"
    ]
    decided = "decisions: [{action: accept, by: carla-coord, date: 2026-11-20, reason: fine}]\n"
    repo.write(
        NEW_RELEASE, release_text("candidate", entry("candidate", "carla-coord"), version="6.20.0", extra=decided)
    )
    repo.commit("decided in advance")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "a new release has no decisions: coordinators record them later"
    ]


def test_new_entries_are_dated_from_the_opening_of_the_pull_request_to_today(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    base = repo.commit("quorum")
    accepted = release_text("accepted", walk("candidate", "rollout") + entry("accepted", "carla-coord", "2026-11-17"))
    repo.write(RELEASE_PATH, accepted)
    repo.commit("accept, dated before the pull request")
    assert messages(check_pr(repo, base, "carla-coord", "--opened", "2026-11-18")[1]) == [
        "the new history entry is dated 2026-11-17, before the pull request was opened (2026-11-18)"
    ]
    # A review that takes days does not invalidate the coordinator's change.
    assert check_pr(repo, base, "carla-coord", "--opened", "2026-11-17")[0] == 0
    # Locally the pull request is opened today.
    assert check_pr(repo, base, "carla-coord")[0] == 1


def test_decisions_are_append_only_by_the_author_and_dated(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    base = repo.commit("a reject")
    history = walk("candidate", "rollout") + entry("rejected", "carla-coord")
    by_other = "decisions: [{action: reject, by: dmitri-coord, date: 2026-11-20, reason: broken}]\n"
    repo.write(RELEASE_PATH, release_text("rejected", history, extra=by_other))
    repo.commit("reject in another's name")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "the new decision says by dmitri-coord, but the change is by carla-coord"
    ]
    back_dated = "decisions: [{action: reject, by: carla-coord, date: 2026-11-02, reason: broken}]\n"
    repo.write(RELEASE_PATH, release_text("rejected", history, extra=back_dated))
    repo.commit("reject, back-dated")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "the new decision is dated 2026-11-02, before the pull request was opened (2026-11-20)"
    ]
    mine = "decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: broken}]\n"
    repo.write(RELEASE_PATH, release_text("rejected", history, extra=mine))
    rejected = repo.commit("reject")
    assert check_pr(repo, base, "carla-coord")[0] == 0
    rewritten = "decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: not so broken}]\n"
    repo.write(RELEASE_PATH, release_text("rejected", history, extra=rewritten))
    repo.commit("a kinder reason")
    assert messages(check_pr(repo, rejected, "carla-coord")[1]) == [
        "decisions are append-only: keep every earlier decision as it was"
    ]


# ---------------------------------------------------------------- reports


def test_a_report_is_on_the_current_revision_dated_in_the_rollout_on_a_platform_its_team_runs(repo: Repo) -> None:
    repo.write(
        RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + bump(2, date="2026-11-10"), revision=2)
    )
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", revision=2, date="2026-11-12"))
    base = repo.commit("revision 2")
    cases = {
        "old revision": (
            report_text("praguelcg2", platform="el8", revision=1, date="2026-11-12"),
            "the report is on revision 1, but arc-ce/6.19.0 is at revision 2: install revision 2 and report on it",
        ),
        "future": (
            report_text("praguelcg2", platform="el8", revision=2, date="2026-11-25"),
            "the report is dated 2026-11-25, after today (2026-11-20)",
        ),
        "before the rollout of this revision": (
            report_text("praguelcg2", platform="el8", revision=2, date="2026-11-09"),
            "the report is dated 2026-11-09, before arc-ce/6.19.0 entered rollout on 2026-11-10",
        ),
    }
    for name, (text, message) in cases.items():
        repo.git("checkout", "-q", base)
        repo.write(PRAGUE_REPORT, text)
        repo.commit(name)
        assert messages(check_pr(repo, base, "jan-cz")[1]) == [message], name
    repo.git("checkout", "-q", base)
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", platform="el8", revision=2, date="2026-11-12"))
    repo.commit("ncg on a platform it does not run")
    assert messages(check_pr(repo, base, "ana-pt")[1]) == [
        "team `ncg-ingrid-pt` does not run el8: its team file lists el9"
    ]


def test_a_round_trip_through_other_states_is_judged_step_by_step(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    round_trip = entry("accepted", "carla-coord") + entry("rollout", "carla-coord")
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout") + round_trip))
    repo.commit("the soak starts again today")
    assert messages(check_pr(repo, base, "carla-coord")[1]) == [
        "accepted -> rollout is not a transition; from accepted a release goes to released",
        "arc-ce/6.19.0 cannot become accepted: needs 1 more accepting report",
        "arc-ce/6.19.0 cannot become accepted: none yet on el8",
        # Judged on the release as the change leaves it, whose last rollout entry is today's.
        "arc-ce/6.19.0 cannot become accepted: soaks until 2026-11-27",
    ]

"""The policy engine: each setting on both sides of its boundary, reasons word for word."""

from __future__ import annotations

import datetime as dt

import pytest

from rollout_tool.errors import UsageError
from rollout_tool.notes import release_facts
from rollout_tool.policy import Evaluation, LateTeam, Verdict, effective_policy, evaluate, today_from
from rollout_tool.records import Config, Product, Release
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.lifecycle import NCG_REPORT, PRAGUE_REPORT, RELEASE_PATH, release_text, walk
from tests.support.repos import CONFIG, Repo, report_text

MWT2_TEAM = (
    "name: MWT2 EA team\nsite: MWT2\nfederation: OSG\nmembers: [bob-osg]\ngroups: [arc]\nplatforms: [el8, el9]\n"
)
MWT2_REPORT = "releases/arc-ce/6.19.0/reports/mwt2.yaml"
THREE_TEAMS = "[ncg-ingrid-pt, praguelcg2, mwt2]"


def on(repo: Repo, day: str) -> Evaluation:
    return evaluate(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", dt.date.fromisoformat(day))


def test_one_report_short_of_quorum_on_one_platform_while_soaking(repo: Repo) -> None:
    found = on(repo, "2026-11-05")
    assert found.verdict is Verdict.waiting
    assert found.reasons == ["needs 1 more accepting report", "none yet on el8", "soaks until 2026-11-09"]
    assert found.policy_name == "default"
    assert list(found.current) == ["ncg-ingrid-pt"]
    assert found.soak_until == dt.date(2026, 11, 9)


def test_no_reports_at_all(repo: Repo) -> None:
    (repo.root / NCG_REPORT).unlink()
    assert on(repo, "2026-11-10").reasons == ["needs 2 more accepting reports", "none yet on el8", "none yet on el9"]


def test_quorum_reached_and_platforms_covered_is_ready(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    found = on(repo, "2026-11-10")
    assert (found.verdict, found.reasons) == (Verdict.ready, [])


def test_soak_last_day_waits_and_the_day_after_is_ready(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    last_day = on(repo, "2026-11-08")
    assert (last_day.verdict, last_day.reasons) == (Verdict.waiting, ["soaks until 2026-11-09"])
    assert on(repo, "2026-11-09").verdict is Verdict.ready


def test_two_accepting_reports_on_one_platform_do_not_cover_the_other(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el9"))
    found = on(repo, "2026-11-10")
    assert (found.verdict, found.reasons) == (Verdict.waiting, ["none yet on el8"])


def test_without_cover_platforms_one_platform_is_enough(repo: Repo) -> None:
    config = CONFIG.replace("type_policies:", "  relaxed: {cover_platforms: false}\ntype_policies:")
    repo.write("rollout.yaml", config)
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), extra="policy: relaxed\n"))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el9"))
    found = on(repo, "2026-11-10")
    assert (found.policy_name, found.verdict, found.reasons) == ("relaxed", Verdict.ready, [])
    assert found.policy.quorum == 2  # the rest comes from the defaults


def test_a_reject_report_blocks_and_only_a_reasoned_accept_decision_lifts_it(repo: Repo) -> None:
    repo.write("teams/mwt2.yaml", MWT2_TEAM)
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    repo.write(MWT2_REPORT, report_text("mwt2", platform="el8"))
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=THREE_TEAMS))
    blocked = on(repo, "2026-11-10")
    assert blocked.verdict is Verdict.blocked
    assert blocked.reasons == [
        "team `praguelcg2` rejects revision 1: a coordinator must decide (reject the release, or accept it with a reason)"
    ]
    no_reason = "decisions: [{action: accept, by: carla-coord, date: 2026-11-10}]\n"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=THREE_TEAMS, extra=no_reason))
    still = on(repo, "2026-11-10")
    assert (still.verdict, still.reasons) == (
        Verdict.blocked,
        ["the decision to accept despite the rejection by team `praguelcg2` needs a reason"],
    )
    # The notes and the policy mean the same by an override: no reason, none.
    assert overrides(repo) == []
    reason = "decisions: [{action: accept, by: carla-coord, date: 2026-11-10, reason: a local firewall rule}]\n"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), teams=THREE_TEAMS, extra=reason))
    overridden = on(repo, "2026-11-10")
    assert (overridden.verdict, overridden.reasons) == (Verdict.ready, [])
    assert overrides(repo) == ["praguelcg2"]


def overrides(repo: Repo) -> list[str]:
    facts = release_facts(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", dt.date(2026, 11, 10))
    return facts.overridden


def test_a_reject_report_does_not_count_towards_quorum(repo: Repo) -> None:
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", verdict="reject"))
    reason = "decisions: [{action: accept, by: carla-coord, date: 2026-11-10, reason: a local firewall rule}]\n"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), extra=reason))
    found = on(repo, "2026-11-10")
    # The reasoned override lifts the reject and the platform gate, never the quorum.
    assert (found.verdict, found.reasons) == (Verdict.waiting, ["needs 1 more accepting report"])


def test_late_teams_from_the_day_after_report_days(repo: Repo) -> None:
    # In rollout since 2026-11-02 with report_days 14: due 2026-11-16.
    assert on(repo, "2026-11-16").late == []
    first = on(repo, "2026-11-17")
    assert first.late == [LateTeam("praguelcg2", dt.date(2026, 11, 16), 1, False)]
    assert first.reasons[-1] == "team `praguelcg2` is 1 day late"
    three = on(repo, "2026-11-19")
    assert three.reasons == ["needs 1 more accepting report", "none yet on el8", "team `praguelcg2` is 3 days late"]
    # escalate_days 7: escalated from the seventh day late.
    assert on(repo, "2026-11-22").late[0].escalate is False
    assert on(repo, "2026-11-23").late[0].escalate is True


def test_a_stale_report_does_not_count_and_says_so(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), revision=2))
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", revision=2))
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", revision=1))
    found = on(repo, "2026-11-10")
    assert list(found.stale) == ["praguelcg2"]
    assert found.reasons == [
        "needs 1 more accepting report",
        "none yet on el8",
        "team `praguelcg2` reported on revision 1; revision 2 needs a new report",
    ]
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8", revision=2))
    assert on(repo, "2026-11-10").verdict is Verdict.ready


def test_a_candidate_is_pending_and_only_a_final_state_is_closed(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("candidate", walk("candidate")))
    found = on(repo, "2026-11-30")
    assert (found.verdict, found.reasons, found.late, found.soak_until) == (Verdict.pending, [], [], None)
    assert found.next is not None and found.next.who == "coordinators"
    repo.write(RELEASE_PATH, release_text("released", walk("candidate", "rollout", "accepted", "released")))
    found = on(repo, "2026-11-30")
    assert (found.verdict, found.reasons, found.next) == (Verdict.closed, [], None)


def test_the_emergency_type_policy_applies(repo: Repo) -> None:
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), release_type="emergency"))
    found = on(repo, "2026-11-02")
    assert (found.policy_name, found.verdict, found.reasons) == ("emergency", Verdict.ready, [])
    # report_days 2 for emergencies: praguelcg2 is late from 2026-11-05.
    assert on(repo, "2026-11-05").reasons == ["team `praguelcg2` is 1 day late"]


# ---------------------------------------------------------------- choosing the policy

_CONFIG = Config.model_validate(
    {
        "coordinators": ["c"],
        "bot": "b",
        "platforms": {"el9": {"name": "EL9", "arches": ["x86_64"]}},
        "groups": {"g": {"name": "G"}},
        "policy": {"quorum": 3},
        "policies": {"critical": {"quorum": 4}, "emergency": {"quorum": 1}, "own": {"soak_days": 1}},
        "type_policies": {"emergency": "emergency"},
    }
)


def _release(release_type: str, policy: str | None = None) -> Release:
    return Release.model_validate(
        {
            "version": "1",
            "type": release_type,
            "state": "rollout",
            "platforms": ["el9"],
            "summary": "s",
            "policy": policy,
            "history": [{"state": "candidate", "date": "2026-11-01", "by": "m"}],
        }
    )


_PRODUCT = Product(name="P", group="g", provider="p", description="d", policy="critical")


@pytest.mark.parametrize(
    ("release", "product", "name", "quorum"),
    [
        (_release("minor"), None, "default", 3),
        (_release("minor"), _PRODUCT, "critical", 4),
        (_release("emergency"), _PRODUCT, "emergency", 1),
        (_release("emergency", "own"), _PRODUCT, "own", 3),
        (_release("minor", "nonexistent"), None, "default", 3),
    ],
)
def test_release_then_type_then_product_then_defaults(
    release: Release, product: Product | None, name: str, quorum: int
) -> None:
    chosen, policy = effective_policy(_CONFIG, product, release)
    assert (chosen, policy.quorum) == (name, quorum)


def test_today_from_option_environment_and_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_TODAY", "2026-12-01")
    assert today_from("2026-11-25") == dt.date(2026, 11, 25)
    assert today_from(None) == dt.date(2026, 12, 1)
    monkeypatch.delenv("ROLLOUT_TODAY")
    assert today_from(None) == dt.date.today()
    with pytest.raises(UsageError, match="'2026-13-01' is not a date: write YYYY-MM-DD"):
        today_from("2026-13-01")


def test_an_inactive_team_is_never_late(repo: Repo) -> None:
    team = repo.root / "teams/praguelcg2.yaml"
    team.write_text(team.read_text() + "active: false\n")
    found = on(repo, "2026-11-19")
    assert found.late == []
    assert found.reasons == ["needs 1 more accepting report", "none yet on el8"]


def test_a_recorded_reject_decision_blocks_with_what_is_left_to_do(repo: Repo) -> None:
    decision = "decisions: [{action: reject, by: carla-coord, date: 2026-11-10, reason: breaks token auth}]\n"
    repo.write(RELEASE_PATH, release_text("rollout", walk("candidate", "rollout"), extra=decision))
    found = on(repo, "2026-11-10")
    assert (found.verdict, found.reasons[0]) == (
        Verdict.blocked,
        "a coordinator decided to reject it: set state rejected",
    )


def test_one_team_running_el8_and_el9_covers_both_platforms_and_counts_once(repo: Repo) -> None:
    both = report_text("praguelcg2", platform="el8") + "  - {platform: el9, arch: x86_64, install: fresh}\n"
    repo.write(PRAGUE_REPORT, both)
    found = on(repo, "2026-11-10")
    # Coverage counts platforms (both covered now); quorum counts teams (two: ncg-ingrid-pt and praguelcg2).
    assert (found.verdict, found.reasons) == (Verdict.ready, [])
    repo.write(NCG_REPORT, report_text("ncg-ingrid-pt", verdict="reject"))
    found = on(repo, "2026-11-10")
    assert found.verdict is Verdict.blocked
    assert "needs 1 more accepting report" in found.reasons


def test_a_report_lists_each_platform_and_arch_once(repo: Repo) -> None:
    twice = report_text("praguelcg2", platform="el8") + "  - {platform: el8, arch: x86_64, install: fresh}\n"
    repo.write(PRAGUE_REPORT, twice)
    result = repo.rollout("validate")
    assert result.returncode == 1
    assert "el8/x86_64 is listed twice: one entry per platform and arch" in result.stdout

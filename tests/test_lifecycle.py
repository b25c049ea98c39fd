"""The lifecycle table: its transitions, who may make each, and the sentences it answers with."""

from __future__ import annotations

import datetime as dt

import pytest

from rollout_tool.lifecycle import TRANSITIONS, Role, Situation, allowed_transitions, illegal, transition
from rollout_tool.records import Policy, Release, State
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.lifecycle import release_text, walk
from tests.support.repos import Repo

S = State
# The diagram of DESIGN §4, written out: nothing more, nothing less.
DIAGRAM = {
    (S.candidate, S.rollout),
    (S.rollout, S.accepted),
    (S.rollout, S.rejected),
    (S.accepted, S.released),
    (S.released, S.recalled),
    (S.candidate, S.withdrawn),
    (S.candidate, S.superseded),
    (S.rollout, S.withdrawn),
    (S.rollout, S.superseded),
}


def test_the_table_is_the_diagram() -> None:
    assert set(TRANSITIONS) == DIAGRAM


def test_allowed_transitions_per_state() -> None:
    assert allowed_transitions(S.candidate) == [S.rollout, S.withdrawn, S.superseded]
    assert allowed_transitions(S.rollout) == [S.accepted, S.rejected, S.withdrawn, S.superseded]
    assert allowed_transitions(S.released) == [S.recalled]
    assert allowed_transitions(S.rejected) == []


def test_illegal_sentences() -> None:
    assert illegal(S.candidate, S.released) == (
        "candidate -> released is not a transition; from candidate a release goes to rollout, withdrawn, superseded"
    )
    assert (
        illegal(S.recalled, S.released) == "recalled -> released is not a transition: a recalled release stays recalled"
    )


AUTO = Policy(auto_accept=True, auto_release=True)
MANUAL = Policy()


@pytest.mark.parametrize(
    ("source", "target", "roles", "policy", "allowed"),
    [
        (S.rollout, S.accepted, {Role.coordinator}, MANUAL, True),
        (S.rollout, S.accepted, {Role.maintainer}, AUTO, False),
        (S.rollout, S.accepted, {Role.bot}, MANUAL, False),
        (S.rollout, S.accepted, {Role.bot}, AUTO, True),
        (S.accepted, S.released, {Role.bot}, Policy(auto_release=True), True),
        (S.accepted, S.released, {Role.bot}, Policy(auto_accept=True), False),
        (S.rollout, S.rejected, {Role.bot}, AUTO, False),
        (S.candidate, S.rollout, {Role.maintainer}, MANUAL, False),
        (S.candidate, S.withdrawn, {Role.maintainer}, MANUAL, True),
        (S.rollout, S.superseded, {Role.maintainer}, MANUAL, True),
        (S.released, S.recalled, {Role.maintainer}, MANUAL, False),
        (S.released, S.recalled, set(), MANUAL, False),
    ],
)
def test_who_may_make_a_transition(
    source: State, target: State, roles: set[Role], policy: Policy, allowed: bool
) -> None:
    step = transition(source, target)
    assert step is not None
    assert step.allows(roles, policy) is allowed


def test_who_reads_as_a_sentence() -> None:
    accept = transition(S.rollout, S.accepted)
    withdraw = transition(S.candidate, S.withdrawn)
    assert accept is not None and withdraw is not None
    assert accept.who() == "coordinators or the bot where the policy sets auto_accept"
    assert withdraw.who() == "coordinators or the product's maintainers"


def _situation(repo: Repo, release: Release) -> Situation:
    return Situation(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", release, {}, Policy(), dt.date(2026, 11, 20))


def test_superseding_needs_a_newer_release_that_says_so(repo: Repo) -> None:
    step = transition(S.rollout, S.superseded)
    assert step is not None
    release = Release.model_validate(
        {
            "version": "6.19.0",
            "type": "minor",
            "state": "superseded",
            "platforms": ["el9"],
            "summary": "s",
            "history": [{"state": "candidate", "date": "2026-11-01", "by": "m"}],
        }
    )
    assert step.requires(_situation(repo, release)) == [
        "no release of arc-ce says `supersedes: 6.19.0`; add the newer release first"
    ]
    newer = release_text("candidate", walk("candidate"), version="6.20.0", extra="supersedes: 6.19.0\n")
    repo.write("releases/arc-ce/6.20.0/release.yaml", newer)
    assert step.requires(_situation(repo, release)) == []


def test_releasing_after_a_recorded_reject_decision_is_refused(repo: Repo) -> None:
    step = transition(S.accepted, S.released)
    assert step is not None
    release = Release.model_validate(
        {
            "version": "6.19.0",
            "type": "minor",
            "state": "released",
            "platforms": ["el9"],
            "summary": "s",
            "history": [{"state": "candidate", "date": "2026-11-01", "by": "m"}],
            "decisions": [{"action": "reject", "by": "c", "date": "2026-11-10", "reason": "broken"}],
        }
    )
    assert step.requires(_situation(repo, release)) == ["the recorded decision is to reject it, not to accept it"]


ROUTES = {
    S.candidate: [S.candidate],
    S.rollout: [S.candidate, S.rollout],
    S.accepted: [S.candidate, S.rollout, S.accepted],
    S.rejected: [S.candidate, S.rollout, S.rejected],
    S.released: [S.candidate, S.rollout, S.accepted, S.released],
    S.recalled: [S.candidate, S.rollout, S.accepted, S.released, S.recalled],
    S.withdrawn: [S.candidate, S.withdrawn],
    S.superseded: [S.candidate, S.superseded],
}


def test_check_pr_refuses_exactly_the_pairs_missing_from_the_table(repo: Repo) -> None:
    """Every ordered pair of states, as a coordinator's one-step change: illegal unless in the table."""
    from rollout_tool.commands.check_pr import check_pr

    assert set(ROUTES) == set(State)
    path = "releases/arc-ce/6.19.0/release.yaml"
    seen = set()
    for source, route in ROUTES.items():
        history = "".join(
            f"  - {{state: {s.value}, date: 2026-11-0{n + 1}, by: carla-coord}}\n" for n, s in enumerate(route)
        )
        repo.git("checkout", "-q", "--detach", "main")
        repo.write(path, release_text(source.value, history))
        base = repo.commit(f"in {source.value}")
        for target in State:
            if target is source:
                continue
            repo.git("checkout", "-q", "--detach", base)
            step = f"  - {{state: {target.value}, date: 2026-11-20, by: carla-coord}}\n"
            repo.write(path, release_text(target.value, history + step))
            head = repo.commit(f"{source.value} to {target.value}")
            result = check_pr(repo.root, base, head, "carla-coord", dt.date(2026, 11, 20))
            refusals = [p.message for p in result.problems if p.rule == "illegal-transition"]
            if (source, target) in TRANSITIONS:
                assert refusals == [], (source, target)
                seen.add((source, target))
            else:
                assert refusals == [illegal(source, target)], (source, target)
    assert seen == set(TRANSITIONS)

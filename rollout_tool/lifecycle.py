"""The lifecycle of a release as one table: each transition, who may make it, what must hold first.

    candidate ──> rollout ──> accepted ──> released ──> recalled
        │            │  └──> rejected
        └────────────┴──> withdrawn / superseded

A precondition is a function of the release as it will be after the change;
it returns the reasons it does not hold (none: it holds). Who may make a
transition is a set of roles; the bot may make one only when the release's
policy hands it over (`auto_accept`, `auto_release`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rollout_tool.policy import assess, decision_for, team_federations
from rollout_tool.records import Policy, Release, Report, State
from rollout_tool.repository import Repository


class Role(StrEnum):
    coordinator = "coordinator"
    maintainer = "maintainer"
    bot = "bot"


@dataclass(frozen=True)
class Situation:
    """A release as it will be after the transition, and what its precondition may look at."""

    repo: Repository
    product: str
    version: str
    release: Release
    reports: dict[str, Report]
    policy: Policy
    today: dt.date


Precondition = Callable[[Situation], list[str]]


def _nothing(_: Situation) -> list[str]:
    return []


def _teams_assigned(situation: Situation) -> list[str]:
    if situation.release.teams:
        return []
    return ["assign at least one EA team in `teams` before the rollout starts"]


def _policy_allows(situation: Situation) -> list[str]:
    repo, release = situation.repo, situation.release
    federations = team_federations(repo, release, situation.reports)
    results, waivers = (
        repo.results(situation.product, situation.version),
        repo.waivers(situation.product, situation.version),
    )
    return assess(
        situation.policy,
        release,
        situation.reports,
        situation.today,
        federations=federations,
        results=results,
        waivers=waivers,
    ).obstacles


# The states a release enters only on a recorded decision, which must be the last.
BY_DECISION = frozenset({State.rejected, State.recalled})


def required_decision(state: State) -> str | None:
    """The action of the decision a release in `state` must carry as its last, if any."""
    return decision_for(state) if state in BY_DECISION else None


def _decided(state: State) -> Precondition:
    action = decision_for(state)
    assert action is not None, state

    def check(situation: Situation) -> list[str]:
        decision = situation.release.decision
        if decision is None or decision.action != action:
            return [
                f"record the decision first: a new last entry in decisions with action {action}, by, date and a reason"
            ]
        if not decision.reason.strip():
            return [f"the {action} decision needs a reason"]
        return []

    return check


def _not_rejected(situation: Situation) -> list[str]:
    decision = situation.release.decision
    if decision is not None and decision.action != "accept":
        return [f"the recorded decision is to {decision.action} it, not to accept it"]
    return []


def successor(repo: Repository, product: str, version: str) -> str | None:
    """The release of the same product that says it supersedes this one."""
    for other in repo.versions(product):
        release = repo.release(product, other)
        if other != version and release is not None and release.supersedes == version:
            return other
    return None


def _superseded(situation: Situation) -> list[str]:
    if successor(situation.repo, situation.product, situation.version) is not None:
        return []
    return [f"no release of {situation.product} says `supersedes: {situation.version}`; add the newer release first"]


@dataclass(frozen=True)
class Transition:
    source: State
    target: State
    roles: frozenset[Role]
    requires: Precondition
    bot_setting: str | None = None  # the policy flag that hands this transition to the bot

    def allows(self, roles: set[Role], policy: Policy) -> bool:
        if Role.coordinator in roles and Role.coordinator in self.roles:
            return True
        if Role.maintainer in roles and Role.maintainer in self.roles:
            return True
        return Role.bot in roles and self.bot_setting is not None and bool(getattr(policy, self.bot_setting))

    def who(self) -> str:
        names = {Role.coordinator: "coordinators", Role.maintainer: "the product's maintainers"}
        who = [names[r] for r in (Role.coordinator, Role.maintainer) if r in self.roles]
        if self.bot_setting is not None:
            who.append(f"the bot where the policy sets {self.bot_setting}")
        return " or ".join(who)


_C = frozenset({Role.coordinator})
_CM = frozenset({Role.coordinator, Role.maintainer})

TRANSITIONS: dict[tuple[State, State], Transition] = {
    (t.source, t.target): t
    for t in (
        Transition(State.candidate, State.rollout, _C, _teams_assigned),
        Transition(State.rollout, State.accepted, _C, _policy_allows, "auto_accept"),
        Transition(State.rollout, State.rejected, _C, _decided(State.rejected)),
        Transition(State.accepted, State.released, _C, _not_rejected, "auto_release"),
        Transition(State.released, State.recalled, _C, _decided(State.recalled)),
        Transition(State.candidate, State.withdrawn, _CM, _nothing),
        Transition(State.rollout, State.withdrawn, _CM, _decided(State.withdrawn)),
        Transition(State.candidate, State.superseded, _CM, _superseded),
        Transition(State.rollout, State.superseded, _CM, _superseded),
    )
}


def allowed_transitions(state: State) -> list[State]:
    return [target for (source, target) in TRANSITIONS if source is state]


def transition(source: State, target: State) -> Transition | None:
    return TRANSITIONS.get((source, target))


def illegal(source: State, target: State) -> str:
    """Why `source` -> `target` is not a transition, and what is."""
    targets = allowed_transitions(source)
    if not targets:
        return f"{source.value} -> {target.value} is not a transition: a {source.value} release stays {source.value}"
    return f"{source.value} -> {target.value} is not a transition; from {source.value} a release goes to " + ", ".join(
        t.value for t in targets
    )

"""The policy engine: one place that answers (verdict, reasons) for a release.

A policy is the defaults of rollout.yaml overlaid with one named policy,
chosen by the release, by its type (`type_policies`) or by its product. The
reasons are sentences a person can act on, in a stable order: what blocks,
what is missing, how long it still soaks, who is late, whose report is stale.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from enum import StrEnum

from rollout_tool.errors import UsageError
from rollout_tool.records import Config, Policy, Product, Release, Report, State
from rollout_tool.records import Verdict as ReportVerdict
from rollout_tool.repository import Repository

DEFAULT_POLICY = "default"


class Verdict(StrEnum):
    ready = "ready"  # in rollout and the policy allows acceptance
    waiting = "waiting"  # in rollout, not yet
    blocked = "blocked"  # a current reject report awaits a coordinator's decision
    closed = "closed"  # not in rollout


@dataclass(frozen=True)
class LateTeam:
    team: str
    due: dt.date
    days_late: int
    escalate: bool


@dataclass(frozen=True)
class Evaluation:
    product: str
    version: str
    state: State
    policy_name: str
    policy: Policy
    verdict: Verdict
    reasons: list[str]
    late: list[LateTeam]
    current: dict[str, Report]
    stale: dict[str, Report]
    soak_until: dt.date | None

    def as_dict(self) -> dict[str, object]:
        return {
            "product": self.product,
            "version": self.version,
            "state": self.state.value,
            "policy": self.policy_name,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "late": [
                {"team": t.team, "due": t.due.isoformat(), "days_late": t.days_late, "escalate": t.escalate}
                for t in self.late
            ],
            "reports": {
                "current": {team: r.verdict.value for team, r in sorted(self.current.items())},
                "stale": {team: r.revision for team, r in sorted(self.stale.items())},
            },
            "soak_until": self.soak_until.isoformat() if self.soak_until else None,
        }


def today_from(value: str | None) -> dt.date:
    """--today, else $ROLLOUT_TODAY, else the calendar's today: results can be reproduced."""
    text = value or os.environ.get("ROLLOUT_TODAY")
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def effective_policy(config: Config, product: Product | None, release: Release) -> tuple[str, Policy]:
    """The release's own choice wins, then its type's, then its product's, then the defaults.

    The type comes before the product: an emergency release of a product with a
    careful policy must still be able to go out fast.
    """
    for name in (release.policy, config.type_policies.get(release.type), product.policy if product else None):
        if name is not None and name in config.policies:
            return name, config.policy.overlay(config.policies[name])
    return DEFAULT_POLICY, config.policy


def rollout_started(release: Release) -> dt.date | None:
    """When the release last entered rollout, from its history."""
    entered = [t.date for t in release.history if t.state is State.rollout]
    return entered[-1] if entered else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True)
class Assessment:
    """What the policy says of a release as if it were in rollout today."""

    verdict: Verdict
    reasons: list[str]
    obstacles: list[str]  # the reasons that stop acceptance; the rest are late teams and stale reports
    late: list[LateTeam]
    current: dict[str, Report]
    stale: dict[str, Report]
    soak_until: dt.date | None


def assess(
    policy: Policy,
    release: Release,
    reports: dict[str, Report],
    today: dt.date,
    inactive: frozenset[str] = frozenset(),
) -> Assessment:
    """The verdict as if the release were in rollout; `inactive` teams are never late."""
    current = {team: r for team, r in reports.items() if r.revision == release.revision}
    stale = {team: r for team, r in reports.items() if r.revision != release.revision}
    accepting = {team: r for team, r in sorted(current.items()) if r.verdict is ReportVerdict.accept}
    rejecting = sorted(team for team, r in current.items() if r.verdict is ReportVerdict.reject)
    # A new build does not clear a reject by itself: it blocks until its team reports on the new revision.
    still_rejecting = sorted(
        team for team, r in stale.items() if r.verdict is ReportVerdict.reject and r.revision < release.revision
    )

    blocking: list[str] = []
    decision = release.decision
    overridden = decision is not None and decision.action == "accept" and bool(decision.reason.strip())
    if decision is not None and decision.action in _DECIDED:
        # Decided already: what is left is the transition itself, not more reports.
        blocking.append(f"a coordinator decided to {decision.action} it: set state {_DECIDED[decision.action]}")
    elif (rejecting or still_rejecting) and not overridden:
        if decision is not None and decision.action == "accept":
            blocking.append(
                f"the decision to accept despite the rejection by {_teams(sorted(rejecting + still_rejecting))}"
                " needs a reason"
            )
        else:
            for team in rejecting:
                blocking.append(
                    f"team `{team}` rejects revision {release.revision}: a coordinator must decide"
                    " (reject the release, or accept it with a reason)"
                )
            for team in still_rejecting:
                blocking.append(
                    f"team `{team}` rejected revision {stale[team].revision} and has not reported on revision"
                    f" {release.revision}: a coordinator must decide (reject the release, or accept it with a reason)"
                )

    missing: list[str] = []
    if len(accepting) < policy.quorum:
        missing.append(f"needs {_plural(policy.quorum - len(accepting), 'more accepting report')}")
    if policy.cover_platforms:
        covered = {r.environment.platform for r in accepting.values()}
        missing.extend(f"none yet on {platform}" for platform in release.platforms if platform not in covered)

    started = rollout_started(release)
    soak_until = started + dt.timedelta(days=policy.soak_days) if started is not None else None
    if soak_until is not None and today < soak_until:
        missing.append(f"soaks until {soak_until.isoformat()}")

    late: list[LateTeam] = []
    if started is not None:
        due = started + dt.timedelta(days=policy.report_days)
        for team in release.teams:
            days_late = (today - due).days
            if team not in current and team not in inactive and days_late > 0:
                late.append(LateTeam(team, due, days_late, days_late >= policy.escalate_days))
    notes = [f"team `{t.team}` is {_plural(t.days_late, 'day')} late" for t in late]
    notes.extend(
        f"team `{team}` reported on revision {r.revision}; revision {release.revision} needs a new report"
        for team, r in sorted(stale.items())
    )

    if blocking:
        verdict = Verdict.blocked
    elif missing:
        verdict = Verdict.waiting
    else:
        verdict = Verdict.ready
    return Assessment(verdict, blocking + missing + notes, blocking + missing, late, current, stale, soak_until)


_DECIDED = {"reject": "rejected", "withdraw": "withdrawn", "recall": "recalled"}


def _teams(teams: list[str]) -> str:
    names = ", ".join(f"`{t}`" for t in teams)
    return f"team {names}" if len(teams) == 1 else f"teams {names}"


def evaluate(repo: Repository, product: str, version: str, today: dt.date) -> Evaluation:
    release = repo.release(product, version)
    config = repo.config()
    if release is None or config is None:
        raise UsageError(f"{product}/{version}: no valid release.yaml (run `rollout validate`)")
    name, policy = effective_policy(config, repo.product(product), release)
    reports = repo.reports(product, version)
    if release.state is not State.rollout:
        current = {team: r for team, r in reports.items() if r.revision == release.revision}
        stale = {team: r for team, r in reports.items() if r.revision != release.revision}
        return Evaluation(product, version, release.state, name, policy, Verdict.closed, [], [], current, stale, None)
    inactive = frozenset(t for t in release.teams if (record := repo.team(t)) is not None and not record.active)
    found = assess(policy, release, reports, today, inactive)
    return Evaluation(
        product,
        version,
        release.state,
        name,
        policy,
        found.verdict,
        found.reasons,
        found.late,
        found.current,
        found.stale,
        found.soak_until,
    )

"""The policy engine: one place that answers (verdict, reasons) for a release.

A policy is the defaults of rollout.yaml overlaid with one named policy,
chosen by the release, by its type (`type_policies`) or by its product. The
reasons are sentences a person can act on, in a stable order: what blocks,
what is missing, how long it still soaks, who is late, whose report is stale.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rollout_tool.errors import UsageError
from rollout_tool.records import (
    CheckResult,
    Config,
    Decision,
    Policy,
    Product,
    Release,
    Report,
    ReportVerdict,
    State,
    Waiver,
)
from rollout_tool.repository import Repository
from rollout_tool.results import CheckStatus, judge

DEFAULT_POLICY = "default"


class Verdict(StrEnum):
    pending = "pending"  # a candidate: a coordinator starts its rollout
    ready = "ready"  # in rollout and the policy allows acceptance
    waiting = "waiting"  # in rollout, not yet
    blocked = "blocked"  # a current reject report awaits a coordinator's decision
    releasable = "releasable"  # accepted: it waits to be released
    closed = "closed"  # a final state: nobody acts


@dataclass(frozen=True)
class NextStep:
    """Who acts next on a release, and what they do."""

    who: str  # coordinators, the bot, teams, time
    what: str
    teams: tuple[str, ...] = ()  # the teams that act, when `who` is teams
    escalated: bool = False  # a team is late past escalate_days: the coordinators are told too

    def as_dict(self) -> dict[str, object]:
        return {"who": self.who, "what": self.what, "teams": list(self.teams), "escalated": self.escalated}


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
    next: NextStep | None = None
    checks: tuple[CheckStatus, ...] = ()  # the automated checks on the current revision
    needs_reports: bool = False  # quorum or coverage still short (the verdict alone does not say)

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
            "next": self.next.as_dict() if self.next else None,
            "checks": [c.as_dict() for c in self.checks],
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


def entered(release: Release, state: State) -> dt.date | None:
    """When the release last entered `state`: the date of the last history entry in it."""
    for step in reversed(release.history):
        if step.state is state:
            return step.date
    return None


def rollout_started(release: Release) -> dt.date | None:
    """When the rollout (re)started: the soak and the teams' due dates count from here.

    A revision bump is a history entry that carries the current state, so it
    restarts both; a report dated before it tested an older artifact.
    """
    return entered(release, State.rollout)


def soak_until(policy: Policy, release: Release) -> dt.date | None:
    started = rollout_started(release)
    return started + dt.timedelta(days=policy.soak_days) if started is not None else None


def due_date(policy: Policy, release: Release) -> dt.date | None:
    """The day by which each assigned team owes a report on the current revision."""
    started = rollout_started(release)
    return started + dt.timedelta(days=policy.report_days) if started is not None else None


def is_current(release: Release, report: Report) -> bool:
    """A report counts only for the revision it tested: a new revision makes it stale."""
    return report.revision == release.revision


def split_reports(release: Release, reports: dict[str, Report]) -> tuple[dict[str, Report], dict[str, Report]]:
    """The current reports and the stale ones, by team."""
    current = {team: r for team, r in reports.items() if is_current(release, r)}
    stale = {team: r for team, r in reports.items() if not is_current(release, r)}
    return current, stale


def is_override(decision: Decision | None) -> bool:
    """An accept decision with its reason: it stands over current reject reports.

    Without a reason it overrides nothing: the rejection keeps blocking.
    """
    return decision is not None and decision.action == "accept" and bool(decision.reason.strip())


# The decisions that end a release in a state of their own; each needs a reason.
DECISION_STATES: dict[str, State] = {"reject": State.rejected, "recall": State.recalled, "withdraw": State.withdrawn}


def decision_for(state: State) -> str | None:
    """The decision action that leads to `state`, if one does."""
    return next((action for action, target in DECISION_STATES.items() if target is state), None)


def _article(name: str) -> str:
    # Federations are acronyms, read letter by letter: an EGI, an OSG, a WLCG.
    return "an" if name[:1].upper() in "AEFHILMNORSX" else "a"


def _coverage(
    policy: Policy,
    release: Release,
    accepting: Mapping[str, Report],
    current: Mapping[str, Report],
    federations: Mapping[str, str],
) -> list[str]:
    """What `cover_federations` and `cover_workflows` still miss, naming the assigned teams that could cover it."""
    missing = []
    wanted = policy.cover_federations
    if wanted is True:
        wanted = sorted({federations[t] for t in release.teams if t in federations})
    for federation in wanted or []:
        if any(federations.get(team) == federation for team in accepting):
            continue
        could = [t for t in release.teams if federations.get(t) == federation and t not in current]
        who = f"assigned: {', '.join(could)}" if could else f"no assigned team yet to report belongs to {federation}"
        missing.append(f"no accepting report from {_article(federation)} {federation} site yet; {who}")
    for workflow in policy.cover_workflows:
        if any(workflow in report.workflows for report in accepting.values()):
            continue
        could = [t for t in release.teams if t not in current]
        who = f"assigned teams yet to report: {', '.join(could)}" if could else "every assigned team has reported"
        missing.append(f"no accepting report has exercised {workflow} yet; {who}")
    return missing


def team_federations(repo: Repository, release: Release, reports: Mapping[str, Report]) -> dict[str, str]:
    """Each assigned or reporting team's federation, as the teams' files say."""
    found = {}
    for team in sorted(set(release.teams) | set(reports)):
        record = repo.team(team)
        if record is not None:
            found[team] = record.federation
    return found


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def too_early(policy: Policy, release: Release, reports: Mapping[str, Report]) -> dict[str, str]:
    """The accepting reports written before their site ran the release `production_days`, with why, by team.

    Judged at the report's own date: the team vouches for what it had seen then.
    Days count from `in_production_since`, never from before the rollout (re)started:
    nobody ran this revision in production earlier, whatever a report claims. A
    report that does not say since when it runs in production proves nothing.
    """
    days = policy.production_days
    found: dict[str, str] = {}
    if days == 0:
        return found
    started = rollout_started(release)
    for team, report in sorted(reports.items()):
        if report.verdict is not ReportVerdict.accept:
            continue
        since = report.in_production_since
        if since is None:
            found[team] = (
                f"team `{team}`'s report does not say since when it runs in production (in_production_since);"
                f" it counts after {plural(days, 'day')} there"
            )
            continue
        counted = f"since {since.isoformat()}"
        if started is not None and since < started:
            since, counted = started, f"counted from the rollout's start on {started.isoformat()}"
        ran = max(0, (report.date - since).days)
        if ran < days:
            again = since + dt.timedelta(days=days)
            found[team] = (
                f"team `{team}` reported after {plural(ran, 'day')} in production ({counted}),"
                f" {plural(days - ran, 'day')} short of {days}: its report counts when dated {again.isoformat()} or later"
            )
    return found


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
    needs_reports: bool = False  # quorum or coverage still short: the teams that owe reports act next
    inactive: frozenset[str] = frozenset()
    checks: tuple[CheckStatus, ...] = ()
    checks_block: bool = False  # what blocks is failing required checks alone: a waiver or a re-run clears it
    early: frozenset[str] = frozenset()  # teams whose accepting report came too early in production


def assess(
    policy: Policy,
    release: Release,
    reports: dict[str, Report],
    today: dt.date,
    inactive: frozenset[str] = frozenset(),
    federations: Mapping[str, str] | None = None,
    results: list[CheckResult] | None = None,
    waivers: Mapping[str, Waiver] | None = None,
) -> Assessment:
    """The verdict as if the release were in rollout; `inactive` teams are never late.

    `federations` maps each assigned or reporting team to its federation, for `cover_federations`;
    `results` and `waivers` are the release's automated results and waivers, for `required_checks`.
    """
    current, stale = split_reports(release, reports)
    early = too_early(policy, release, current)
    accepting = {
        team: r for team, r in sorted(current.items()) if r.verdict is ReportVerdict.accept and team not in early
    }
    rejecting = sorted(team for team, r in current.items() if r.verdict is ReportVerdict.reject)
    # A new build does not clear a reject by itself: it blocks until its team reports on the new revision.
    still_rejecting = sorted(
        team for team, r in stale.items() if r.verdict is ReportVerdict.reject and r.revision < release.revision
    )

    blocking: list[str] = []
    decision = release.decision
    overridden = is_override(decision)
    if decision is not None and decision.action in DECISION_STATES:
        # Decided already: what is left is the transition itself, not more reports.
        target = DECISION_STATES[decision.action].value
        blocking.append(f"a coordinator decided to {decision.action} it: set state {target}")
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
        missing.append(f"needs {plural(policy.quorum - len(accepting), 'more accepting report')}")
    if policy.cover_platforms and not overridden:
        covered = {p for r in accepting.values() for p in r.platforms}
        missing.extend(f"none yet on {platform}" for platform in release.platforms if platform not in covered)

    if not overridden:  # a coordinator's reasoned accept stands over the coverage gates, not the quorum
        missing.extend(_coverage(policy, release, accepting, current, federations or {}))

    needs_reports = bool(missing)
    checks, said = judge(policy, release, results or [], waivers or {}, today)
    only_checks_block = bool(said.blocking) and not blocking
    blocking.extend(said.blocking)
    missing.extend(said.waiting)
    soaks = soak_until(policy, release)
    if soaks is not None and today < soaks:
        missing.append(f"soaks until {soaks.isoformat()}")

    late: list[LateTeam] = []
    due = due_date(policy, release)
    if due is not None:
        for team in release.teams:
            days_late = (today - due).days
            if team not in current and team not in inactive and days_late > 0:
                late.append(LateTeam(team, due, days_late, days_late >= policy.escalate_days))
    notes = [
        f"team `{t.team}` is {plural(t.days_late, 'day')} late"
        + ("; escalated to the coordinators" if t.escalate else "")
        for t in late
    ]
    notes.extend(early[team] for team in sorted(early))
    notes.extend(
        f"team `{team}` reported on revision {r.revision}; revision {release.revision} needs a new report"
        for team, r in sorted(stale.items())
    )
    notes.extend(said.notes)

    if blocking:
        verdict = Verdict.blocked
    elif missing:
        verdict = Verdict.waiting
    else:
        verdict = Verdict.ready
    return Assessment(
        verdict,
        blocking + missing + notes,
        blocking + missing,
        late,
        current,
        stale,
        soaks,
        needs_reports,
        inactive,
        tuple(checks),
        only_checks_block,
        frozenset(early),
    )


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
    spec = f"{product}/{version}"
    results, waivers = repo.results(product, version), repo.waivers(product, version)
    if release.state is not State.rollout:
        current, stale = split_reports(release, reports)
        verdict, step = _outside_rollout(release, policy, spec)
        checks = tuple(judge(policy, release, results, waivers, today)[0]) if results else ()
        return Evaluation(
            product, version, release.state, name, policy, verdict, [], [], current, stale, None, step, checks
        )
    inactive = frozenset(t for t in release.teams if (record := repo.team(t)) is not None and not record.active)
    federations = team_federations(repo, release, reports)
    found = assess(policy, release, reports, today, inactive, federations, results, waivers)
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
        _in_rollout(found, release, policy, spec, today),
        found.checks,
        found.needs_reports,
    )


def _outside_rollout(release: Release, policy: Policy, spec: str) -> tuple[Verdict, NextStep | None]:
    if release.state is State.candidate:
        return Verdict.pending, NextStep("coordinators", f"start its rollout with EA teams (`rollout start {spec}`)")
    if release.state is State.accepted:
        if policy.auto_release:
            return Verdict.releasable, NextStep("the bot", "releases it on its next run (the policy sets auto_release)")
        return Verdict.releasable, NextStep("coordinators", f"release it (`rollout release {spec}`)")
    return Verdict.closed, None


def _in_rollout(found: Assessment, release: Release, policy: Policy, spec: str, today: dt.date) -> NextStep:
    escalated = any(t.escalate for t in found.late)
    if found.verdict is Verdict.blocked and found.checks_block:
        what = f"waive the failing checks (releases/{spec}/waivers/<check>.yaml) or reject it; teams re-run them"
        return NextStep("coordinators", what, (), escalated)
    if found.verdict is Verdict.blocked:
        what = f"decide: reject it, or accept it with a reason (`rollout accept {spec} --reason`)"
        return NextStep("coordinators", what, (), escalated)
    if found.verdict is Verdict.ready:
        if policy.auto_accept:
            return NextStep("the bot", "accepts it on its next run (the policy sets auto_accept)", (), escalated)
        return NextStep("coordinators", f"accept it (`rollout accept {spec}`)", (), escalated)
    if found.needs_reports:
        owing = tuple(
            t for t in release.teams if (t not in found.current or t in found.early) and t not in found.inactive
        )
        if owing:
            names = ", ".join(f"`{t}`" for t in owing)
            return NextStep("teams", f"report on revision {release.revision}: {names}", owing, escalated)
        return NextStep("coordinators", f"assign more EA teams (`rollout assign {spec} --team`)", (), escalated)
    if found.soak_until is not None and today < found.soak_until:
        return NextStep("time", f"it soaks until {found.soak_until.isoformat()}", (), escalated)
    return NextStep("coordinators", f"accept it (`rollout accept {spec}`)", (), escalated)

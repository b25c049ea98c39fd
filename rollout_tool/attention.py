"""What needs someone now, and who: the dashboard's first view and its `excuses.json`.

Built from the release facts the site already gathered (nothing is read
again). An item is something a person must do: decide on a blocked release,
file a late report, accept a release the policy allows, release an accepted
one. Items are listed oldest first: what has waited longest comes first.

`excuses` is the machine-readable answer for every release, as Debian's
britney publishes: its state and verdict, the policy's reasons, who must act
and when it next becomes eligible (the end of its soak, if that is still ahead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rollout_tool.notes import ReleaseFacts
from rollout_tool.policy import Verdict
from rollout_tool.records import Config, ReportVerdict, State, Team

# Same age: what blocks others first.
KIND_ORDER = {"blocked": 0, "failing": 1, "late": 2, "ready": 3, "releasable": 4}


@dataclass(frozen=True)
class Actor:
    role: str  # coordinators, team or bot
    team: str | None
    logins: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"role": self.role}
        if self.team is not None:
            found["team"] = self.team
        found["logins"] = list(self.logins)
        return found


@dataclass(frozen=True)
class Item:
    kind: str  # blocked, failing (an automated check, unwaived), late, ready or releasable
    since: dt.date
    facts: ReleaseFacts
    actor: Actor
    what: str
    days_late: int | None = None
    escalated: bool = False

    @property
    def key(self) -> tuple[dt.date, int, str, str, str]:
        return (self.since, KIND_ORDER[self.kind], self.facts.product_id, self.facts.version, self.actor.team or "")


def coordinators(config: Config) -> Actor:
    return Actor("coordinators", None, tuple(config.coordinators))


def _team(team: str, teams: dict[str, Team]) -> Actor:
    record = teams.get(team)
    return Actor("team", team, tuple(record.members) if record else ())


def blocked_since(f: ReleaseFacts) -> dt.date:
    """When the release became blocked: its oldest current reject, else the decision still to be carried out."""
    rejects = [line.date for line in f.reports if not line.stale and line.verdict == ReportVerdict.reject.value]
    if f.decision is not None and f.decision.action != "accept":
        return f.decision.date
    if rejects:
        return min(rejects)
    return f.entered.get(State.rollout.value, f.last_change)


def ready_since(f: ReleaseFacts) -> dt.date:
    """The first day the policy was met: enough current accepting reports, every platform covered, the soak over."""
    assert f.evaluation is not None
    chosen = f.evaluation.policy
    needed = set(f.platforms) if chosen.cover_platforms else set()
    accepting = sorted(
        (line for line in f.reports if not line.stale and line.verdict == ReportVerdict.accept.value),
        key=lambda line: line.date,
    )
    met = f.entered.get(State.rollout.value, f.last_change)
    covered: set[str] = set()
    for counted, line in enumerate(accepting):
        if counted >= chosen.quorum and needed <= covered:
            break
        covered.add(line.platform)
        met = line.date
    soak = f.evaluation.soak_until
    return max(met, soak) if soak is not None else met


def attention(config: Config, releases: list[ReleaseFacts], teams: dict[str, Team]) -> list[Item]:
    """Everything that needs someone now, oldest first."""
    items: list[Item] = []
    for f in releases:
        e = f.evaluation
        if f.release.state is State.accepted:
            since = f.entered.get(State.accepted.value, f.last_change)
            items.append(Item("releasable", since, f, _acts(config, f, teams)[0], "accepted: publish it to production"))
            continue
        if e is None:
            continue
        if e.verdict is Verdict.blocked:
            items.append(Item("blocked", blocked_since(f), f, coordinators(config), e.reasons[0]))
        elif e.verdict is Verdict.ready:
            items.append(Item("ready", ready_since(f), f, _acts(config, f, teams)[0], "the policy allows acceptance"))
        for check in f.failing_checks:
            if check.waiver is None and check.teams:
                what = f"check `{check.check}` fails on {check.platform}: fix it and run it again"
                if check.required:
                    what += ", or a coordinator waives it"
                since = check.since or f.last_change
                items.append(Item("failing", since, f, _team(check.teams[0], teams), what))
        for late in e.late:
            items.append(
                Item(
                    "late",
                    late.due,
                    f,
                    _team(late.team, teams),
                    "its report on the current revision is overdue",
                    days_late=late.days_late,
                    escalated=late.escalate,
                )
            )
    return sorted(items, key=lambda item: item.key)


def _acts(config: Config, f: ReleaseFacts, teams: dict[str, Team]) -> list[Actor]:
    """Who acts next on a release, as the policy's next step names them, with their logins."""
    step = f.next
    if step is None or step.who == "time":
        actors: list[Actor] = []
    elif step.who == "the bot":
        actors = [Actor("bot", None, (config.bot,))]
    elif step.who == "teams":
        actors = [_team(t, teams) for t in step.teams]
    else:
        actors = [coordinators(config)]
    if step is not None and step.escalated and coordinators(config) not in actors:
        actors.append(coordinators(config))
    return actors


def excuses(
    config: Config,
    releases: list[ReleaseFacts],
    teams: dict[str, Team],
    today: dt.date,
) -> dict[str, object]:
    """Every release's blockers, who must act and when it next becomes eligible."""
    found = []
    for f in sorted(releases, key=lambda f: (f.product_id, f.version)):
        e = f.evaluation
        eligible = e.soak_until if e is not None and e.soak_until is not None and e.soak_until > today else None
        found.append(
            {
                "product": f.product_id,
                "version": f.version,
                "state": f.release.state.value,
                "revision": f.release.revision,
                "verdict": e.verdict.value if e is not None else Verdict.closed.value,
                "policy": e.policy_name if e is not None else None,
                "blockers": list(e.reasons) if e is not None else [],
                "late": [
                    {"team": t.team, "due": t.due.isoformat(), "days_late": t.days_late, "escalate": t.escalate}
                    for t in (e.late if e is not None else [])
                ],
                "who": [actor.as_dict() for actor in _acts(config, f, teams)],
                "checks": [check.as_dict() for check in f.checks],
                "eligible": eligible.isoformat() if eligible is not None else None,
            }
        )
    return {"generated": today.isoformat(), "releases": found}

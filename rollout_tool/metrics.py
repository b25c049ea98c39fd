"""Process figures: how long EA testing takes, how many reports it gets, how often it says no.

Each release is first reduced to the facts the figures need (`ReleaseFigures`),
then summed per product family, per year and over everything (`Summary`).
Pure functions over the repository model: the command and the dashboard show
the same numbers.

What the figures mean:

- A release is *tested* once it entered `rollout`; its *year* is the year it
  first did (a release never started counts in the year it was submitted, and
  only in `releases`).
- *Time in EA testing* runs from the first entry into `rollout` to the accept
  or reject decision (the last such decision; a release accepted or rejected
  without one, as the bot accepts, ends at its history entry into that state).
  Releases still in rollout, withdrawn or superseded have none.
- *Reports*, *sites* and *platforms* count every report filed for the release,
  stale ones included: a stale report was still a site's work.
- *Reject rate*: rejected among decided releases. *Recall rate*: recalled among
  releases that reached production.
- A team *is late* on a release it is assigned to when its report on the
  release's final revision came after its due date (the last entry into
  `rollout` plus the policy's `report_days`), or when it has none and the due
  date passed while the release was still in rollout. A team whose release left
  rollout before its due date, or whose due date is still ahead, is not judged.
  Inactive teams are never late, as in the policy.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rollout_tool.errors import RefusedError
from rollout_tool.identifiers import version_key
from rollout_tool.policy import effective_policy, rollout_started
from rollout_tool.records import Config, Release, Report, State
from rollout_tool.repository import Repository

NO_GROUP = ""  # a release whose product record does not load


@dataclass(frozen=True)
class ReleaseFigures:
    product: str
    version: str
    group: str
    year: int
    state: State
    started: dt.date | None  # first entry into rollout
    decided: dt.date | None  # the accept or reject decision
    outcome: str | None  # accept or reject
    reports: int
    stale_reports: int
    sites: frozenset[str]
    platforms: frozenset[str]
    released: bool
    recalled: bool
    on_time: tuple[str, ...]  # assigned teams judged and not late
    late: tuple[str, ...]

    @property
    def days_in_testing(self) -> int | None:
        if self.started is None or self.decided is None:
            return None
        return (self.decided - self.started).days

    def as_dict(self) -> dict[str, object]:
        return {
            "product": self.product,
            "version": self.version,
            "group": self.group,
            "year": self.year,
            "state": self.state.value,
            "started": _iso(self.started),
            "decided": _iso(self.decided),
            "outcome": self.outcome,
            "days_in_testing": self.days_in_testing,
            "reports": self.reports,
            "stale_reports": self.stale_reports,
            "sites": sorted(self.sites),
            "platforms": sorted(self.platforms),
            "released": self.released,
            "recalled": self.recalled,
            "late": list(self.late),
            "on_time": list(self.on_time),
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _decision(release: Release) -> tuple[dt.date | None, str | None]:
    for decision in reversed(release.decisions):
        if decision.action in ("accept", "reject"):
            return decision.date, decision.action
    for transition in release.history:
        if transition.state in (State.accepted, State.rejected):
            return transition.date, "accept" if transition.state is State.accepted else "reject"
    return None, None


def _left_rollout(release: Release, today: dt.date) -> dt.date:
    """When the assignment ended: the first change after the last entry into rollout, or today."""
    if release.state is State.rollout:
        return today
    last = max((i for i, t in enumerate(release.history) if t.state is State.rollout), default=None)
    if last is not None and last + 1 < len(release.history):
        return release.history[last + 1].date
    return max(t.date for t in release.history)


def release_figures(
    release: Release,
    reports: dict[str, Report],
    *,
    product: str,
    version: str,
    group: str,
    report_days: int,
    sites: dict[str, str],
    inactive: frozenset[str],
    today: dt.date,
) -> ReleaseFigures:
    """One release's figures; `sites` maps a team to its site name (a team without a record counts as its id)."""
    first = next((t.date for t in release.history if t.state is State.rollout), None)
    decided, outcome = _decision(release) if first is not None else (None, None)
    submitted = release.history[0].date
    states = {t.state for t in release.history} | {release.state}
    on_time: list[str] = []
    late: list[str] = []
    started = rollout_started(release)
    if started is not None:
        due = started + dt.timedelta(days=report_days)
        ended = _left_rollout(release, today)
        for team in release.teams:
            report = reports.get(team)
            if team in inactive:
                continue
            if report is not None and report.revision == release.revision:
                (late if report.date > due else on_time).append(team)
            elif ended > due:
                late.append(team)
    return ReleaseFigures(
        product=product,
        version=version,
        group=group,
        year=(first or submitted).year,
        state=release.state,
        started=first,
        decided=decided,
        outcome=outcome,
        reports=len(reports),
        stale_reports=sum(1 for r in reports.values() if r.revision != release.revision),
        sites=frozenset(sites.get(team, team) for team in reports),
        platforms=frozenset(p for r in reports.values() for p in r.platforms),
        released=bool(states & {State.released, State.recalled}),
        recalled=State.recalled in states or any(d.action == "recall" for d in release.decisions),
        on_time=tuple(on_time),
        late=tuple(late),
    )


@dataclass(frozen=True)
class Summary:
    releases: int
    tested: int
    decided: int
    days_median: float | None
    days_mean: float | None
    reports: int
    reports_per_release: float | None
    sites_per_release: float | None
    platforms_per_release: float | None
    sites: int
    platforms: int
    rejected: int
    reject_rate: float | None
    released: int
    recalled: int
    recall_rate: float | None
    judged: int  # team assignments whose lateness is known
    late: int
    late_rate: float | None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _ratio(part: float, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None


def summarise(figures: Iterable[ReleaseFigures]) -> Summary:
    chosen = list(figures)
    tested = [f for f in chosen if f.started is not None]
    days = [d for f in tested if (d := f.days_in_testing) is not None]
    decided = [f for f in tested if f.outcome is not None]
    released = [f for f in chosen if f.released]
    judged = sum(len(f.late) + len(f.on_time) for f in chosen)
    late = sum(len(f.late) for f in chosen)
    reports = sum(f.reports for f in tested)
    rejected = sum(1 for f in decided if f.outcome == "reject")
    recalled = sum(1 for f in released if f.recalled)
    return Summary(
        releases=len(chosen),
        tested=len(tested),
        decided=len(decided),
        days_median=float(statistics.median(days)) if days else None,
        days_mean=round(statistics.fmean(days), 2) if days else None,
        reports=reports,
        reports_per_release=_ratio(reports, len(tested), 2),
        sites_per_release=_ratio(sum(len(f.sites) for f in tested), len(tested), 2),
        platforms_per_release=_ratio(sum(len(f.platforms) for f in tested), len(tested), 2),
        sites=len(frozenset().union(*(f.sites for f in tested))),
        platforms=len(frozenset().union(*(f.platforms for f in tested))),
        rejected=rejected,
        reject_rate=_ratio(rejected, len(decided), 3),
        released=len(released),
        recalled=recalled,
        recall_rate=_ratio(recalled, len(released), 3),
        judged=judged,
        late=late,
        late_rate=_ratio(late, judged, 3),
    )


@dataclass(frozen=True)
class GroupFigures:
    group: str
    name: str
    summary: Summary


@dataclass(frozen=True)
class Metrics:
    today: dt.date
    overall: Summary
    groups: list[GroupFigures]  # in rollout.yaml's order, then unknown groups
    years: list[tuple[int, Summary]]  # oldest first
    releases: list[ReleaseFigures]

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "overall": self.overall.as_dict(),
            "groups": [{"group": g.group, "name": g.name, **g.summary.as_dict()} for g in self.groups],
            "years": [{"year": year, **summary.as_dict()} for year, summary in self.years],
            "releases": [f.as_dict() for f in self.releases],
        }


class Measurer:
    """A release's figures, with what every release shares (team sites, inactive teams) worked out once."""

    def __init__(self, repo: Repository, today: dt.date) -> None:
        config = repo.config()
        if config is None:
            raise RefusedError("rollout.yaml is not valid: run `rollout validate` and fix it first")
        self.repo = repo
        self.config = config
        self.today = today
        teams = {team: record for team in repo.team_ids() if (record := repo.team(team)) is not None}
        self.sites = {team: record.site for team, record in teams.items()}
        self.inactive = frozenset(team for team, record in teams.items() if not record.active)

    def __call__(self, product_id: str, version: str) -> ReleaseFigures | None:
        """The figures of a valid release; its reports stay loaded for the caller to let go."""
        release = self.repo.release(product_id, version)
        if release is None:
            return None
        product = self.repo.product(product_id)
        _, chosen = effective_policy(self.config, product, release)
        return release_figures(
            release,
            self.repo.reports(product_id, version),
            product=product_id,
            version=version,
            group=product.group if product is not None else NO_GROUP,
            report_days=chosen.report_days,
            sites=self.sites,
            inactive=self.inactive,
            today=self.today,
        )


def collect(repo: Repository, today: dt.date) -> list[ReleaseFigures]:
    """Every valid release's figures, by product and version; one pass, reports let go as it goes."""
    measure_one = Measurer(repo, today)
    found = []
    for product_id in repo.product_ids():
        for version in sorted(repo.versions(product_id), key=version_key):
            figures = measure_one(product_id, version)
            repo.forget_reports(product_id, version)
            if figures is not None:
                found.append(figures)
    return found


def metrics(config: Config, figures: list[ReleaseFigures], today: dt.date) -> Metrics:
    by_group: dict[str, list[ReleaseFigures]] = defaultdict(list)
    by_year: dict[int, list[ReleaseFigures]] = defaultdict(list)
    for f in figures:
        by_group[f.group].append(f)
        by_year[f.year].append(f)
    order = [g for g in config.groups if g in by_group] + sorted(g for g in by_group if g not in config.groups)
    groups = [
        GroupFigures(
            g, config.groups[g].name if g in config.groups else g or "(no product record)", summarise(by_group[g])
        )
        for g in order
    ]
    years = [(year, summarise(by_year[year])) for year in sorted(by_year)]
    return Metrics(today, summarise(figures), groups, years, figures)


def measure(repo: Repository, today: dt.date) -> Metrics:
    figures = collect(repo, today)
    config = repo.config()
    assert config is not None  # collect refuses an invalid rollout.yaml
    return metrics(config, figures, today)

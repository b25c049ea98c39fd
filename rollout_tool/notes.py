"""Release notes: the facts of a release gathered and sorted here, laid out by a template.

`release_facts` and `distribution_facts` are shared by the Markdown notes, the
Atom feed and the dashboard, so all three say the same thing. Everything is
sorted by identifiers and dates, never by the order files were listed in, so
the same repository always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from rollout_tool import policy, templating
from rollout_tool.errors import UsageError
from rollout_tool.lifecycle import successor
from rollout_tool.policy import Evaluation, NextStep
from rollout_tool.records import (
    Config,
    Decision,
    Distribution,
    Environment,
    Outcome,
    Product,
    Release,
    Report,
    ReportVerdict,
    State,
    Team,
)
from rollout_tool.repository import Repository
from rollout_tool.results import CheckStatus, release_checks

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
PUBLISHED = frozenset({State.released, State.recalled})
WAITING = frozenset({State.candidate, State.rollout, State.accepted})  # someone still acts on these


@dataclass(frozen=True)
class KnownIssue:
    summary: str
    severity: str
    details: str | None
    workaround: str | None
    ticket: str | None
    team: str
    site: str
    platform: str
    revision: int
    stale: bool
    index: int = 0  # its place in the team's report: it names the issue whatever its text becomes


@dataclass(frozen=True)
class ReportLine:
    team: str
    site: str
    federation: str
    platform: str
    arch: str
    install: str
    from_version: str | None
    verdict: str
    revision: int
    date: dt.date
    stale: bool
    workflows: tuple[str, ...]
    failed_tests: tuple[str, ...]
    tests: int
    comments: str | None


@dataclass(frozen=True)
class CoverageRow:
    """One team across the release's platforms: what it reported where."""

    team: str
    site: str
    assigned: bool
    cells: tuple[str, ...]
    status: str  # accept, reject, stale or missing
    federation: str = ""


@dataclass(frozen=True)
class ReleaseFacts:
    product_id: str
    product_name: str
    provider: str
    group: str
    version: str
    release: Release
    reports: list[ReportLine]
    platforms: list[str]
    coverage: list[CoverageRow]
    uncovered: list[str]
    known_issues: list[KnownIssue]
    decisions: list[Decision]
    overridden: list[str]
    rejected_by: list[str]
    entered: dict[str, dt.date]
    evaluation: Evaluation | None = None
    late: dict[str, int] = field(default_factory=dict)
    next: NextStep | None = None  # who acts next, for every release someone still acts on
    superseded_by: str | None = None
    checks: tuple[CheckStatus, ...] = ()  # automated checks on the current revision

    @property
    def failing_checks(self) -> list[CheckStatus]:
        """The checks that fail on the current revision, waived or not."""
        return [c for c in self.checks if c.outcome is Outcome.failed]

    @property
    def name(self) -> str:
        return f"{self.product_name} {self.version}"

    @property
    def decision(self) -> Decision | None:
        return self.release.decision

    @property
    def last_change(self) -> dt.date:
        return max(t.date for t in self.release.history)

    # A team's report has a line per environment: these count teams.

    @property
    def stale_count(self) -> int:
        return len({r.team for r in self.reports if r.stale})

    @property
    def accepting(self) -> int:
        return len({r.team for r in self.reports if not r.stale and r.verdict == ReportVerdict.accept.value})

    @property
    def rejecting(self) -> int:
        return len({r.team for r in self.reports if not r.stale and r.verdict == ReportVerdict.reject.value})


@dataclass(frozen=True)
class ShippedFacts:
    release: str
    status: str
    facts: ReleaseFacts | None

    @property
    def shown_status(self) -> str:
        """As shipped, unless recalled since: the published record is never rewritten, the notes say so."""
        if self.facts is not None and self.facts.release.state is State.recalled:
            return "recalled"
        return self.status


@dataclass(frozen=True)
class DistributionFacts:
    distribution: str
    version: str
    record: Distribution
    shipped: list[ShippedFacts]

    @property
    def known_issues(self) -> list[tuple[ReleaseFacts, KnownIssue]]:
        return [(s.facts, issue) for s in self.shipped if s.facts for issue in s.facts.known_issues]


def group_name(config: Config | None, product: Product | None) -> str:
    """The display name of a product's group, or "" when it has none that rollout.yaml names."""
    if product is None or config is None or product.group not in config.groups:
        return ""
    return config.groups[product.group].name


def _team_site(teams: dict[str, Team | None], team: str) -> tuple[str, str]:
    record = teams.get(team)
    return (record.site, record.federation) if record else (team, "")


def _report_lines(team: str, report: Report, site: str, federation: str, stale: bool) -> list[ReportLine]:
    """A line for each environment the team ran the release in."""
    return [_report_line(team, report, env, site, federation, stale) for env in report.environments]


def _report_line(team: str, report: Report, env: Environment, site: str, federation: str, stale: bool) -> ReportLine:
    return ReportLine(
        team=team,
        site=site,
        federation=federation,
        platform=env.platform,
        arch=env.arch,
        install=env.install,
        from_version=env.from_version,
        verdict=report.verdict.value,
        revision=report.revision,
        date=report.date,
        stale=stale,
        workflows=tuple(env.workflows),
        failed_tests=tuple(t.name for t in report.tests if t.result == "fail"),
        tests=len(report.tests),
        comments=report.comments,
    )


def release_facts(
    repo: Repository, product: str, version: str, today: dt.date, *, with_policy: bool = True
) -> ReleaseFacts:
    release = repo.release(product, version)
    if release is None:
        raise UsageError(f"no valid release {product}/{version}: run `rollout validate` to see why")
    record: Product | None = repo.product(product)
    config = repo.config()
    reports = repo.reports(product, version)
    team_ids = sorted(set(release.teams) | set(reports))
    teams = {team: repo.team(team) for team in team_ids}

    lines = []
    issues = []
    for team in sorted(reports):
        report = reports[team]
        site, federation = _team_site(teams, team)
        mine = _report_lines(team, report, site, federation, not policy.is_current(release, report))
        lines.extend(mine)
        line = mine[0]
        # What made a release rejected is published with it, marked or not.
        rejecting = release.state is State.rejected and report.verdict is ReportVerdict.reject and not line.stale
        for index, issue in enumerate(report.issues):
            if issue.known_issue or rejecting:
                issues.append(
                    KnownIssue(
                        summary=issue.summary,
                        severity=issue.severity,
                        details=issue.details,
                        workaround=issue.workaround,
                        ticket=issue.ticket,
                        team=team,
                        site=site,
                        platform=", ".join(report.platforms),
                        revision=report.revision,
                        stale=line.stale,
                        index=index,
                    )
                )
    issues.sort(key=lambda i: (SEVERITY_ORDER[i.severity], i.stale, i.team, i.summary))

    platforms = list(release.platforms)
    by_team: dict[str, list[ReportLine]] = {}
    for line in lines:
        by_team.setdefault(line.team, []).append(line)
    coverage = []
    for team in team_ids:
        ran = by_team.get(team, [])
        found = ran[0] if ran else None
        cells = []
        for platform in platforms:
            if found is None or platform not in {line.platform for line in ran}:
                cells.append("")
            else:
                cells.append(found.verdict + (" (stale)" if found.stale else ""))
        if found is None:
            status = "missing"
        elif found.stale:
            status = "stale"
        else:
            status = found.verdict
        site, federation = _team_site(teams, team)
        coverage.append(CoverageRow(team, site, team in release.teams, tuple(cells), status, federation))
    covered = {line.platform for line in lines if not line.stale and line.verdict == ReportVerdict.accept.value}
    uncovered = [p for p in platforms if p not in covered]

    rejected_by = sorted({line.team for line in lines if not line.stale and line.verdict == ReportVerdict.reject.value})
    # An override stays on record whatever was decided after it (a later
    # recall does not erase it).
    overridden = rejected_by if any(policy.is_override(d) for d in release.decisions) else []

    entered = {state.value: date for state in State if (date := policy.entered(release, state)) is not None}

    evaluation = None
    late: dict[str, int] = {}
    next_step = None
    checks: tuple[CheckStatus, ...] = ()
    if with_policy and release.state in WAITING:
        judged = policy.evaluate(repo, product, version, today)
        next_step = judged.next
        checks = judged.checks
        if release.state is State.rollout:  # the verdict and its reasons are shown for releases in rollout
            evaluation = judged
            late = {entry.team: entry.days_late for entry in evaluation.late}
    elif config is not None:
        checks = release_checks(repo, product, version, policy.effective_policy(config, record, release)[1], today)

    return ReleaseFacts(
        product_id=product,
        product_name=record.name if record else product,
        provider=record.provider if record else "",
        group=group_name(config, record),
        version=version,
        release=release,
        reports=lines,
        platforms=platforms,
        coverage=coverage,
        uncovered=uncovered,
        known_issues=issues,
        decisions=list(release.decisions),
        overridden=overridden,
        rejected_by=rejected_by,
        entered=entered,
        evaluation=evaluation,
        late=late,
        next=next_step,
        superseded_by=successor(repo, product, version) if release.state is State.superseded else None,
        checks=checks,
    )


def distribution_facts(repo: Repository, distribution: str, version: str, today: dt.date) -> DistributionFacts:
    record = repo.distribution(distribution, version)
    if record is None:
        raise UsageError(f"no valid distribution release {distribution}/{version}: run `rollout validate` to see why")
    shipped = []
    for item in sorted(record.releases, key=lambda s: s.release):
        product, _, release_version = item.release.partition("/")
        facts = None
        if repo.release(product, release_version) is not None:
            facts = release_facts(repo, product, release_version, today, with_policy=False)
        shipped.append(ShippedFacts(item.release, item.status, facts))
    return DistributionFacts(distribution, version, record, shipped)


def _render(repo: Repository, template: str, **context: object) -> str:
    env = templating.environment(repo.source, html=False)
    text = env.get_template(template).render(**context)
    # Optional sections leave runs of blank lines; one trailing newline: same bytes, clean diffs.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def release_notes(repo: Repository, product: str, version: str, today: dt.date) -> str:
    """The Markdown release notes of one release."""
    return render_release_notes(repo, release_facts(repo, product, version, today))


def render_release_notes(repo: Repository, facts: ReleaseFacts) -> str:
    """The Markdown release notes of a release whose facts are worked out."""
    return _render(repo, "release.md.j2", r=facts, config=repo.config())


def distribution_notes(repo: Repository, distribution: str, version: str, today: dt.date) -> str:
    """The combined Markdown notes of a distribution release and the releases it ships."""
    return render_distribution_notes(repo, distribution_facts(repo, distribution, version, today))


def render_distribution_notes(repo: Repository, facts: DistributionFacts) -> str:
    """The combined Markdown notes of a distribution release whose facts are worked out."""
    return _render(repo, "distribution.md.j2", d=facts, config=repo.config())

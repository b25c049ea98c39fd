"""`rollout status`: every release with its state, verdict, reasons and late teams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rollout_tool import reporting
from rollout_tool.errors import EXIT_OK, UsageError
from rollout_tool.identifiers import version_key
from rollout_tool.policy import Evaluation, due_date, effective_policy, evaluate
from rollout_tool.problems import Problem
from rollout_tool.records import State
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


@dataclass(frozen=True)
class Status:
    releases: list[Evaluation]
    invalid: list[str]  # releases whose release.yaml does not load: no verdict without a record


def status(source: Source, selection: str | None, today: dt.date) -> Status:
    repo = Repository(source)
    product, _, version = (selection or "").partition("/")
    if product and not repo.has_product(product):
        raise UsageError(f"no product {product!r} under releases/")
    if version and not repo.has_release(product, version):
        raise UsageError(f"no release {product}/{version}")
    found, invalid = [], []
    for name in [product] if product else repo.product_ids():
        for number in [version] if version else sorted(repo.versions(name), key=version_key):
            if repo.release(name, number) is not None and repo.config() is not None:
                found.append(evaluate(repo, name, number, today))
            elif repo.has_release(name, number):
                invalid.append(f"{name}/{number}")
    return Status(found, invalid)


@dataclass(frozen=True)
class Owed:
    """A report a team owes: a release in rollout it is assigned to, with no report on its current revision."""

    release: str
    revision: int
    due: dt.date | None
    days_late: int
    stale: int | None  # the revision of the team's older report, if any

    def as_dict(self) -> dict[str, object]:
        return {
            "release": self.release,
            "revision": self.revision,
            "due": self.due.isoformat() if self.due else None,
            "days_late": self.days_late,
            "stale_report_on": self.stale,
        }


def owed(source: Source, team: str, today: dt.date) -> list[Owed]:
    """What `team` owes, oldest due first."""
    repo = Repository(source)
    if not repo.has_team(team):
        raise UsageError(f"no team {team!r} under teams/")
    config = repo.config()
    if config is None:
        raise UsageError("rollout.yaml is not valid: run `rollout validate`")
    found = []
    for product, version, release in repo.releases():
        if release.state is not State.rollout or team not in release.teams:
            continue
        report = repo.reports(product, version).get(team)
        if report is not None and report.revision == release.revision:
            continue
        _, policy = effective_policy(config, repo.product(product), release)
        due = due_date(policy, release)
        late = max(0, (today - due).days) if due is not None else 0
        stale = report.revision if report is not None else None
        found.append(Owed(f"{product}/{version}", release.revision, due, late, stale))
    return sorted(found, key=lambda o: (o.due or dt.date.max, o.release))


def owed_report(team: str, found: list[Owed], today: dt.date) -> reporting.Lines:
    """What a team owes, for the reporters."""
    lines = []
    for o in found:
        when = f"due {o.due.isoformat()}" if o.due else "no due date"
        late = f", {o.days_late} day{'s' if o.days_late != 1 else ''} late" if o.days_late else ""
        stale = f"; its report on revision {o.stale} is stale" if o.stale is not None else ""
        lines.append(f"{o.release}: a report on revision {o.revision}, {when}{late}{stale}")
    payload: dict[str, object] = {"today": today.isoformat(), "team": team, "owes": [o.as_dict() for o in found]}
    return reporting.Lines(lines or [f"team `{team}` owes no report"], payload)


@dataclass(frozen=True)
class StatusReport:
    """`rollout status`'s result for the reporters: the releases as of `today`."""

    found: Status
    today: dt.date

    @property
    def problems(self) -> list[Problem]:
        return []

    def lines(self) -> list[str]:
        lines = []
        for e in self.found.releases:
            lines.append(f"{e.product}/{e.version}: {e.state.value}, {e.verdict.value} (policy {e.policy_name})")
            lines.extend(f"  - {reason}" for reason in e.reasons)
            if e.checks:
                lines.append("  checks: " + ", ".join(check.brief for check in e.checks))
            if e.next is not None:
                lines.append(f"  next, {e.next.who}: {e.next.what}")
        lines.extend(f"{name}: not valid; run `rollout validate`" for name in self.found.invalid)
        return lines or ["no releases"]

    def notices(self) -> list[tuple[str, str]]:
        return [("status", line) for line in self.lines()]

    def closing(self) -> tuple[str, bool]:
        return "", False

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "releases": [e.as_dict() for e in self.found.releases],
            "invalid": self.found.invalid,
        }

    def exit_code(self) -> int:
        return EXIT_OK


def render(found: Status, output_format: str, today: dt.date) -> str:
    return reporting.render(StatusReport(found, today), output_format)

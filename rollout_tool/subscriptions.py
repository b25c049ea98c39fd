"""Who is told what: the `subscriptions` of rollout.yaml, and the notices that need someone to act.

A subscriber (a GitHub login or an `@org/team` handle) follows product
families and, among the events that need action, those it chooses: a report
that rejects a release, a report left stale by a new revision, a release past
its due date without enough reports, a failing required check. The bot
mentions a subscriber only in such a notice, on the release's tracking issue,
and never twice for one notice: each has a key the bot writes into the
comment's marker, so a later run finds it.

The events are read off the policy's evaluation (one home for what blocks a
release and when its reports are due); nothing here decides a verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rollout_tool import policy
from rollout_tool.records import Config, Event, Release, ReportVerdict

EVENTS = tuple(event.value for event in Event)


@dataclass(frozen=True)
class Notice:
    """One thing a release's subscribers must act on; `key` tells it apart from every other notice of the release."""

    event: Event
    product: str
    version: str
    revision: int  # the release's revision the notice is about
    key: str
    team: str | None = None  # the team whose report it is about
    report_revision: int | None = None  # the revision that report tested
    check: str | None = None  # the failing check's name
    due: dt.date | None = None  # when the reports were due
    reasons: tuple[str, ...] = ()  # the policy's reasons, for a blocked quorum


def subscribers(config: Config, group: str | None, event: Event) -> list[str]:
    """The handles subscribed to `event` for the product family `group`, in the order rollout.yaml lists them."""
    if group is None:
        return []
    return [s.who for s in config.subscriptions if group in s.groups and event in s.events]


def notices(release: Release, evaluation: policy.Evaluation, today: dt.date) -> list[Notice]:
    """What a release in rollout needs someone to act on now, from its policy evaluation; the bot posts these."""
    spec = (evaluation.product, evaluation.version, release.revision)
    found: list[Notice] = []
    decision = release.decision
    decided = decision is not None and decision.action in policy.DECISION_STATES
    if evaluation.verdict is policy.Verdict.blocked and not decided:
        # A current reject, or one on an older revision that its team has not replaced: each waits for a decision.
        for team, report in sorted({**evaluation.stale, **evaluation.current}.items()):
            if report.verdict is ReportVerdict.reject:
                found.append(Notice(Event.reject, *spec, f"{team} r{report.revision}", team, report.revision))
    for team, report in sorted(evaluation.stale.items()):
        key = f"{team} r{report.revision} r{release.revision}"
        found.append(Notice(Event.stale_report, *spec, key, team, report.revision))
    for status in evaluation.checks:
        if status.blocks:  # required, failing, not waived: a waiver or a passing re-run ends it
            scope = " ".join((status.platform, *status.teams))
            found.append(failing_check(*spec, status.check, scope))
    due = policy.due_date(evaluation.policy, release)
    if evaluation.verdict is policy.Verdict.waiting and evaluation.needs_reports and due is not None and today > due:
        reasons = tuple(evaluation.reasons)
        found.append(Notice(Event.blocked_quorum, *spec, f"r{release.revision}", due=due, reasons=reasons))
    return found


def failing_check(product: str, version: str, revision: int, check: str, scope: str = "") -> Notice:
    """A required automated check fails on the release's current revision (`scope`: its platform and teams)."""
    key = f"{check} r{revision}" + (f" {scope}" if scope else "")
    return Notice(Event.failing_check, product, version, revision, key, check=check)

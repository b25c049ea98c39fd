"""`rollout advance`: make the transitions the policy hands to the bot, and nothing twice.

The plan is worked out on the records first (the same table and
preconditions `check-pr` applies to a person's change), then each release's
steps are one in-place edit of its release.yaml (`editing`): the state line,
and one history entry by the bot dated today per step; every other byte stays.
A release whose files are not valid is skipped and reported, and the others
go on; a second run finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from rollout_tool.editing import Append, EditError, SetScalar, apply
from rollout_tool.lifecycle import TRANSITIONS, Role, Situation, allowed_transitions
from rollout_tool.loading import load
from rollout_tool.policy import effective_policy
from rollout_tool.records import Config, HistoryEntry, Policy, Release, Report, State
from rollout_tool.repository import Repository, release_path, report_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write


@dataclass(frozen=True)
class Step:
    product: str
    version: str
    source: State
    target: State


@dataclass
class Advance:
    steps: list[Step] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # releases left alone, and why


def plan(repo: Repository, today: dt.date) -> Advance:
    result = Advance()
    config = repo.config()
    if config is None:
        result.skipped.append("rollout.yaml is not valid: nothing is advanced")
        return result
    for product in repo.product_ids():
        for version in repo.versions(product):
            release = repo.release(product, version)
            if release is None:
                if repo.has_release(product, version):
                    result.skipped.append(f"{release_path(product, version)} is not valid: run `rollout validate`")
                continue
            _plan_release(repo, result, product, version, release, config, today)
    return result


def _plan_release(
    repo: Repository, result: Advance, product: str, version: str, release: Release, config: Config, today: dt.date
) -> None:
    _, policy = effective_policy(config, repo.product(product), release)
    if not (policy.auto_accept or policy.auto_release):
        return
    broken = [
        team
        for team in repo.report_teams(product, version)
        if (doc := repo.document(report_path(product, version, team))) is not None and doc.record is None
    ]
    if broken:
        # An unreadable report could be a rejection: never accept past it.
        result.skipped.append(f"{product}/{version}: fix the reports of {', '.join(broken)} first")
        return
    reports = repo.reports(product, version)
    while True:
        step = _next_step(repo, product, version, release, reports, policy, config.bot, today)
        if step is None:
            break
        result.steps.append(Step(product, version, release.state, step.state))
        release = step


def _next_step(
    repo: Repository,
    product: str,
    version: str,
    release: Release,
    reports: dict[str, Report],
    policy: Policy,
    bot: str,
    today: dt.date,
) -> Release | None:
    for target in allowed_transitions(release.state):
        transition = TRANSITIONS[(release.state, target)]
        if not transition.allows({Role.bot}, policy):
            continue
        after = release.model_copy(
            update={"state": target, "history": [*release.history, HistoryEntry(state=target, date=today, by=bot)]}
        )
        if not transition.requires(Situation(repo, product, version, after, reports, policy, today)):
            return after
    return None


def _apply(root: Path, name: str, steps: list[Step], today: dt.date, bot: str) -> None:
    path = root / name
    edits: list[SetScalar | Append] = [SetScalar("state", steps[-1].target.value)]
    edits += [Append("history", {"state": step.target.value, "date": today, "by": bot}) for step in steps]
    updated = apply(path.read_bytes(), edits, name=name)
    Release.model_validate(load(updated))  # what is written is a valid release, or nothing is
    atomic_write(path, updated)


def advance(root: Path, today: dt.date, *, dry_run: bool = False) -> Advance:
    repo = Repository(WorkTree(root))
    result = plan(repo, today)
    config = repo.config()
    if dry_run or config is None:
        return result
    by_release: dict[tuple[str, str], list[Step]] = {}
    for step in result.steps:
        by_release.setdefault((step.product, step.version), []).append(step)
    for (product, version), steps in by_release.items():
        try:
            _apply(root, release_path(product, version), steps, today, config.bot)
        except (EditError, ValidationError) as exc:
            result.skipped.append(f"{product}/{version}: {exc}")
            result.steps = [step for step in result.steps if step not in steps]
    return result

"""`rollout advance`: make the transitions the policy hands to the bot, and nothing twice.

The plan is worked out on the records first (the same table and
preconditions `check-pr` applies to a person's change), then each step is
one in-place edit of release.yaml that keeps its comments and layout: the
state, and one history entry by the bot dated today. A second run finds
nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rollout_tool.lifecycle import TRANSITIONS, Role, Situation, allowed_transitions
from rollout_tool.policy import effective_policy
from rollout_tool.records import Policy, Release, Report, State, Transition
from rollout_tool.repository import Repository, release_path, report_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import edit_yaml


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
    for product, version, release in repo.releases():
        _, policy = effective_policy(config, repo.product(product), release)
        if not (policy.auto_accept or policy.auto_release):
            continue
        broken = [
            team
            for team in repo.report_teams(product, version)
            if (doc := repo.document(report_path(product, version, team))) is not None and doc.record is None
        ]
        if broken:
            # An unreadable report could be a rejection: never accept past it.
            result.skipped.append(f"{product}/{version}: fix the reports of {', '.join(broken)} first")
            continue
        reports = repo.reports(product, version)
        while True:
            step = _next_step(repo, product, version, release, reports, policy, config.bot, today)
            if step is None:
                break
            result.steps.append(Step(product, version, release.state, step.state))
            release = step
    return result


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
            update={"state": target, "history": [*release.history, Transition(state=target, date=today, by=bot)]}
        )
        if not transition.requires(Situation(repo, product, version, after, reports, policy, today)):
            return after
    return None


def _apply(path: Path, target: State, today: dt.date, bot: str) -> None:
    def change(document: Any) -> None:
        document["state"] = target.value
        history = document["history"]
        entry = CommentedMap([("state", target.value), ("date", today), ("by", bot)])
        # Written like the entries already there: flow style `- {state: ...}` or block style.
        last = history[-1] if isinstance(history, CommentedSeq) and len(history) else None
        if isinstance(last, CommentedMap) and last.fa.flow_style():
            entry.fa.set_flow_style()
        history.append(entry)

    edit_yaml(path, change)


def advance(root: Path, today: dt.date, *, dry_run: bool = False) -> Advance:
    repo = Repository(WorkTree(root))
    result = plan(repo, today)
    config = repo.config()
    if dry_run or config is None:
        return result
    for step in result.steps:
        _apply(root / release_path(step.product, step.version), step.target, today, config.bot)
    return result

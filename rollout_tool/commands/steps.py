"""A coordinator's steps: `rollout start | assign | accept | reject | release | recall | withdraw | supersede | bump`.

Nobody hand-edits `state`, `teams`, `decisions` and `history`: each step is a
plain function that works out the edits of one or two release files, makes
them in memory with the line-preserving editor the bot uses too (comments and
layout kept), and judges the result with the pull-request check's own rules,
as a change by the acting login dated today. A refusal names the same
sentences check-pr would, and nothing is written; what a step writes,
check-pr allows for that login.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rollout_tool.assignment import why_not_assignable
from rollout_tool.authorization import authorize
from rollout_tool.changes import ChangeKind, FileChange
from rollout_tool.commands.check_pr import affected, located
from rollout_tool.commands.new import Overlay, split_release
from rollout_tool.commands.validate import validate_paths
from rollout_tool.editing import Append, Edit, ReplaceList, SetScalar, apply
from rollout_tool.errors import EXIT_OK, EXIT_PROBLEMS, UsageError
from rollout_tool.identifiers import version_key
from rollout_tool.policy import effective_policy, evaluate
from rollout_tool.problems import Problem, has_errors
from rollout_tool.records import LOGIN_PATTERN, Release, State
from rollout_tool.repository import Repository, release_path, team_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write

_LOGIN = re.compile(LOGIN_PATTERN)


@dataclass
class StepResult:
    """What a step did, or would do, and why it may not."""

    summary: str
    files: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # path -> (before, after)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False

    @property
    def allowed(self) -> bool:
        return not has_errors(self.problems)

    # What the reporters print (see reporting.Result).

    def lines(self) -> list[str]:
        if not self.allowed:
            return []
        if self.dry_run:
            return self.diff().splitlines()
        return [f"{self.summary} ({', '.join(self.files)})"]

    def notices(self) -> list[tuple[str, str]]:
        return [("rollout", line) for line in self.lines()] if not self.dry_run else [("rollout", self.summary)]

    def closing(self) -> tuple[str, bool]:
        if not self.allowed:
            return f"refused: {self.summary}; nothing was written", True
        return (f"would do: {self.summary}", True) if self.dry_run else ("", False)

    def as_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "allowed": self.allowed,
            "written": self.written,
            "files": list(self.files),
            "diff": self.diff(),
            "problems": [p.as_dict() for p in self.problems],
        }

    def exit_code(self) -> int:
        return EXIT_OK if self.allowed else EXIT_PROBLEMS

    def diff(self) -> str:
        lines: list[str] = []
        for path, (before, after) in self.files.items():
            lines.extend(
                difflib.unified_diff(
                    before.decode("utf-8").splitlines(keepends=True),
                    after.decode("utf-8").splitlines(keepends=True),
                    f"a/{path}",
                    f"b/{path}",
                )
            )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def acting_login(given: str | None, root: Path) -> str:
    """--by, else $GITHUB_ACTOR, else git's `github.user`, else git's `user.name` when it is a login."""
    candidates = [given, os.environ.get("GITHUB_ACTOR")]
    for key in ("github.user", "user.name"):
        result = subprocess.run(["git", "-C", str(root), "config", key], capture_output=True, text=True, timeout=30)
        candidates.append(result.stdout.strip() if result.returncode == 0 else None)
    for index, login in enumerate(candidates):
        if not login:
            continue
        if _LOGIN.match(login):
            return login
        if index == 0:
            raise UsageError(f"--by {login!r}: not a GitHub login")
    raise UsageError("who is acting? give --by LOGIN (or set GITHUB_ACTOR, or `git config github.user LOGIN`)")


class _Plan:
    """The edits of a step, per file, before they are made."""

    def __init__(self, repo: Repository, spec: str) -> None:
        self.repo = repo
        self.product, self.version = split_release(spec)
        self.name = f"{self.product}/{self.version}"
        release = repo.release(self.product, self.version)
        if release is None:
            if repo.has_release(self.product, self.version):
                raise UsageError(f"{self.name}: its release.yaml is not valid; run `rollout validate` and fix it first")
            raise UsageError(f"{self.name}: no such release (releases/{self.name}/release.yaml)")
        self.release = release
        self.edits: dict[str, list[Edit]] = {}

    def edit(self, *edits: Edit, version: str | None = None) -> None:
        path = release_path(self.product, version or self.version)
        self.edits.setdefault(path, []).extend(edits)

    def move(self, target: State, login: str, today: dt.date, note: str | None = None) -> None:
        entry: dict[str, str | dt.date] = {"state": target.value, "date": today, "by": login}
        if note:
            entry["note"] = note
        self.edit(SetScalar("state", target.value), Append("history", entry))

    def decide(self, action: str, login: str, today: dt.date, reason: str) -> None:
        entry: dict[str, str | dt.date] = {"action": action, "by": login, "date": today, "reason": reason}
        self.edit(Append("decisions", entry, after=("history",)))


def _require(reason: str | None, what: str) -> str:
    if reason is None or not reason.strip():
        raise UsageError(f"{what} needs a reason: give --reason TEXT")
    return reason.strip()


def suggested_teams(repo: Repository, product: str, release: Release) -> list[str]:
    """Active teams that care for the product or its group and run one of the release's platforms."""
    record = repo.product(product)
    group = record.group if record is not None else None
    found = []
    for team_id in repo.team_ids():
        team = repo.team(team_id)
        if team is None or why_not_assignable(team_id, team, release) is not None:
            continue
        if product in team.products or (group is not None and group in team.groups):
            found.append(team_id)
    return found


def _coverage_hint(repo: Repository, plan: _Plan) -> str:
    """Which teams could give the federations the release's policy asks for."""
    config = repo.config()
    if config is None:
        return ""
    _, policy = effective_policy(config, repo.product(plan.product), plan.release)
    if not isinstance(policy.cover_federations, list):
        return ""
    hints = []
    for federation in policy.cover_federations:
        able = [
            t
            for t in repo.team_ids()
            if (team := repo.team(t)) is not None
            and team.federation == federation
            and why_not_assignable(t, team, plan.release) is None
        ]
        hints.append(f"; its policy needs a site of {federation}: {', '.join(able) or 'no active team can take part'}")
    return "".join(hints)


def _teams(repo: Repository, plan: _Plan, teams: Sequence[str]) -> list[str]:
    if not teams:
        suggested = suggested_teams(repo, plan.product, plan.release)
        hint = f"; suggested: {' '.join(f'--team {t}' for t in suggested)}" if suggested else ""
        raise UsageError(f"name the teams that take part with --team TEAM{hint}{_coverage_hint(repo, plan)}")
    unknown = [t for t in teams if repo.team(t) is None and not repo.has_team(t)]
    if unknown:
        raise UsageError(f"no team {unknown[0]!r} under teams/ ({team_path(unknown[0])})")
    return list(dict.fromkeys(teams))


def plan_step(
    repo: Repository,
    step: str,
    spec: str,
    login: str,
    today: dt.date,
    *,
    teams: Sequence[str] = (),
    remove: Sequence[str] = (),
    reason: str | None = None,
    by_version: str | None = None,
) -> tuple[_Plan, str]:
    """The edits of one step and a one-line summary of it."""
    for given, option, steps in ((teams, "--team", ("start", "assign")), (remove, "--remove", ("assign",))):
        if given and step not in steps:
            raise UsageError(f"{option} is for `rollout {' | '.join(steps)}`, not `rollout {step}`")
    if by_version is not None and step != "supersede":
        raise UsageError(f"--by-version is for `rollout supersede`, not `rollout {step}`")
    plan = _Plan(repo, spec)
    release = plan.release
    state = release.state
    if step == "start":
        chosen = _teams(repo, plan, teams)
        plan.edit(ReplaceList("teams", tuple(chosen), after=("platforms",)))
        plan.move(State.rollout, login, today, reason)
        return plan, f"{plan.name}: {state.value} -> rollout with {', '.join(chosen)}"
    if step == "assign":
        if not teams and not remove:
            raise UsageError("name teams to add with --team, or to remove with --remove")
        kept = [t for t in release.teams if t not in remove]
        added = [t for t in _teams(repo, plan, teams) if t not in kept] if teams else []
        plan.edit(ReplaceList("teams", tuple(kept + added), after=("platforms",)))
        said = [f"+{t}" for t in added] + [f"-{t}" for t in remove if t in release.teams]
        return plan, f"{plan.name}: teams {' '.join(said) or 'unchanged'}"
    if step == "accept":
        if reason is None:
            overridden = _overrides(repo, plan, today)
            if overridden:
                raise UsageError(f"accepting {plan.name} overrides {overridden}; say why with --reason TEXT")
        else:
            plan.decide("accept", login, today, _require(reason, "accepting"))
        plan.move(State.accepted, login, today)
        return plan, f"{plan.name}: {state.value} -> accepted"
    if step in ("reject", "recall", "withdraw"):
        target = {"reject": State.rejected, "recall": State.recalled, "withdraw": State.withdrawn}[step]
        plan.decide(step, login, today, _require(reason, f"the {step} of {plan.name}"))
        plan.move(target, login, today)
        return plan, f"{plan.name}: {state.value} -> {target.value}"
    if step == "release":
        plan.move(State.released, login, today, reason)
        return plan, f"{plan.name}: {state.value} -> released"
    if step == "supersede":
        if by_version is None:
            raise UsageError("name the newer version with --by-version VERSION")
        newer = repo.release(plan.product, by_version)
        if newer is None:
            raise UsageError(f"no release {plan.product}/{by_version}: add the newer release first")
        if version_key(by_version) <= version_key(plan.version):
            raise UsageError(
                f"{plan.product} {by_version} is not newer than {plan.version}: supersede by a newer version"
            )
        if newer.supersedes != plan.version:
            plan.edit(SetScalar("supersedes", plan.version, after=("history", "decisions")), version=by_version)
        plan.move(State.superseded, login, today, reason)
        return plan, f"{plan.name}: {state.value} -> superseded by {by_version}"
    if step == "bump":
        text = _require(reason, f"a new revision of {plan.name}")
        revision = release.revision + 1
        entry: dict[str, str | int | dt.date] = {
            "state": state.value,
            "revision": revision,
            "date": today,
            "by": login,
            "note": text,
        }
        plan.edit(SetScalar("revision", revision, after=("state",)), Append("history", entry))
        return plan, f"{plan.name}: revision {release.revision} -> {revision}"
    raise UsageError(f"no step {step!r}")


def _overrides(repo: Repository, plan: _Plan, today: dt.date) -> str | None:
    """What accepting now would walk over: a current reject, or a platform with no accepting report."""
    if plan.release.state is not State.rollout:
        return None
    found = evaluate(repo, plan.product, plan.version, today)
    rejecting = sorted(team for team, report in found.current.items() if report.verdict.value == "reject")
    if rejecting:
        return f"the reject of {', '.join(f'`{t}`' for t in rejecting)}"
    covered = {p for r in found.current.values() if r.verdict.value == "accept" for p in r.platforms}
    uncovered = [p for p in plan.release.platforms if p not in covered]
    if found.policy.cover_platforms and uncovered:
        return f"the missing coverage of {', '.join(uncovered)}"
    return None


def _judge(root: Path, updated: Mapping[str, bytes], login: str, today: dt.date) -> list[Problem]:
    """What check-pr says of these files changed by `login` today: its authorization and its validation
    of every record the change affects."""
    tip = Repository(WorkTree(root))
    merged = Repository(Overlay(WorkTree(root), updated))
    files = [FileChange(path, ChangeKind.modified) for path in updated]
    authorization = authorize(tip, merged, files, login, today)
    validation = validate_paths(merged, affected(tip, merged, files)).problems
    return sorted({*located(merged, authorization), *(p for p in validation if p.level.value == "error")})


def run_step(
    root: Path,
    step: str,
    spec: str,
    login: str,
    today: dt.date,
    *,
    dry_run: bool = False,
    teams: Sequence[str] = (),
    remove: Sequence[str] = (),
    reason: str | None = None,
    by_version: str | None = None,
) -> StepResult:
    """Plan, make in memory, judge, then write atomically unless refused or a dry run."""
    repo = Repository(WorkTree(root))
    plan, summary = plan_step(
        repo, step, spec, login, today, teams=teams, remove=remove, reason=reason, by_version=by_version
    )
    result = StepResult(summary, dry_run=dry_run)
    for path, edits in plan.edits.items():
        before = (root / path).read_bytes()
        result.files[path] = (before, apply(before, edits, name=path))
    result.problems = _judge(root, {path: after for path, (_, after) in result.files.items()}, login, today)
    if result.allowed and not dry_run:
        for path, (_, after) in result.files.items():
            atomic_write(root / path, after)
        result.written = True
    return result

"""`rollout check-pr`: what merging a change would do to the tip of its target branch, and whether it may.

The change judged is the one that would land: the head merged into the tip
(`git merge-tree`, as GitHub's test merge), diffed against the tip. Rights,
states, reports and preconditions are read from the tip; every record the
change can affect is validated in the merged tree, so main stays valid
after any allowed merge. A merge group (a merge queue's commit) is judged
one pull request at a time, in queue order, each by its own author.

Only the changed files and the records that depend on them are read, so the
cost follows the size of the change and its dependents, not of the
repository (a change to rollout.yaml's platforms affects every team, release
and report, and reads them all).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from rollout_tool import placement
from rollout_tool.authorization import Authorization, authorize
from rollout_tool.changes import (
    ChangeKind,
    FileChange,
    changed_files,
    commit_of,
    exported,
    merge,
    queue_steps,
    tree_of,
)
from rollout_tool.commands.validate import validate_paths, validate_repository
from rollout_tool.errors import EXIT_OK, EXIT_PROBLEMS, UsageError
from rollout_tool.placement import DATA_FOLDERS
from rollout_tool.policy import Evaluation, evaluate, today_from
from rollout_tool.problems import Level, Problem, has_errors
from rollout_tool.records import Release, Report
from rollout_tool.repository import (
    CONFIG_PATH,
    Repository,
    distribution_path,
    place_of,
    release_path,
    report_path,
)
from rollout_tool.results import automated_paths, describe_automated
from rollout_tool.sources import GitRevision, WorkTree

ALLOWED, REFUSED, INVALID = "rollout: allowed", "rollout: refused", "rollout: invalid"
VERDICT_LABELS = {v: f"verdict: {v}" for v in ("ready", "waiting", "blocked")}


@dataclass(frozen=True)
class Change:
    kind: str
    path: str
    summary: str
    extra: tuple[tuple[str, str], ...] = ()  # a transition's release, from and to, for machines

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "summary": self.summary, **dict(self.extra)}


@dataclass(frozen=True)
class Queued:
    """A pull request of a merge group, as the workflow names it: its head, its author, the day it was opened."""

    head: str
    author: str
    opened: dt.date | None = None


def parse_queue(items: list[str] | tuple[str, ...]) -> list[Queued]:
    """`--queue HEAD:AUTHOR[:YYYY-MM-DD]` options (no git ref and no login holds a colon)."""
    queued = []
    for item in items:
        parts = item.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(
                f"--queue {item}: name each pull request of the group as HEAD:AUTHOR, or HEAD:AUTHOR:OPENED"
                " with the day it was opened (YYYY-MM-DD)"
            )
        queued.append(Queued(parts[0], parts[1], today_from(parts[2]) if len(parts) == 3 else None))
    return queued


@dataclass(frozen=True)
class QueuedChange:
    """One pull request of a merge group, as judged in queue order."""

    head: str
    author: str
    allowed: bool

    def as_dict(self) -> dict[str, object]:
        return {"head": self.head, "author": self.author, "allowed": self.allowed}


@dataclass
class PullRequestCheck:
    """One result: what the change does, what is invalid, what is refused, the verdicts it leads to."""

    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid: bool = False  # some record would not validate after the merge
    releases: list[Evaluation] = field(default_factory=list)
    queue: list[QueuedChange] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not has_errors(self.problems)

    @property
    def labels(self) -> list[str]:
        labels = [ALLOWED if self.allowed else REFUSED]
        if self.invalid:
            labels.append(INVALID)
        if self.allowed:
            for evaluation in self.releases:
                label = VERDICT_LABELS.get(evaluation.verdict.value)
                if label is not None and label not in labels:
                    labels.append(label)
        return labels

    markdown_template = "pr_comment.md.j2"

    def lines(self) -> list[str]:
        return [f"{c.summary} ({c.path})" for c in self.changes] or ["no changes"]

    def notices(self) -> list[tuple[str, str]]:
        return [("change", c.summary) for c in self.changes]

    def closing(self) -> tuple[str, bool]:
        if self.allowed:
            return "allowed", False
        errors = sum(1 for p in self.problems if p.level is Level.error)
        return f"refused: {errors} problem{'s' if errors != 1 else ''}", False

    def exit_code(self) -> int:
        return EXIT_OK if self.allowed else EXIT_PROBLEMS

    def as_dict(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "allowed": self.allowed,
            "changes": [c.as_dict() for c in self.changes],
            "problems": [p.as_dict() for p in self.problems],
            "releases": [e.as_dict() for e in self.releases],
            "labels": self.labels,
        }
        if self.queue:
            payload["queue"] = [q.as_dict() for q in self.queue]
        return payload


def check_pr(
    root: Path,
    base: str,
    head: str,
    author: str,
    today: dt.date,
    *,
    opened: dt.date | None = None,
    queue: list[Queued] | None = None,
) -> PullRequestCheck:
    """Judge merging `head` into `base` (the tip of the target branch) by `author`.

    With `queue` (pairs of a pull request's head and its author), `head` is a
    merge group's commit on `base`, and each pull request in it is judged in turn.
    """
    tip = commit_of(root, base, "--base")
    target = commit_of(root, head, "--head")
    if queue:
        heads = [(commit_of(root, item.head, "--queue"), item.author) for item in queue]
        steps = queue_steps(root, tip, target, heads)
        if isinstance(steps, str):
            return _refused(Problem(".", 1, 1, "merge-group", steps))
        result = PullRequestCheck()
        for step, item in zip(steps, queue, strict=True):
            part = judge(root, step.before, step.after, step.author, today, item.opened or opened)
            result.changes.extend(part.changes)
            result.problems.extend(part.problems)
            result.invalid = result.invalid or part.invalid
            result.releases = [e for e in result.releases if (e.product, e.version) not in _keys(part)]
            result.releases.extend(part.releases)
            result.queue.append(QueuedChange(item.head, step.author, part.allowed))
        return result
    merged = merge(root, tip, target)
    if merged.tree is None:
        problems = [
            Problem(
                path,
                1,
                1,
                "merge-conflict",
                f"the change does not merge cleanly into {base}: merge {base} into it and resolve the conflict",
            )
            for path in merged.conflicts
        ]
        return _refused(*problems)
    return judge(root, tree_of(root, tip), merged.tree, author, today, opened)


def _keys(result: PullRequestCheck) -> set[tuple[str, str]]:
    return {(e.product, e.version) for e in result.releases}


def _refused(*problems: Problem) -> PullRequestCheck:
    return PullRequestCheck(problems=sorted(problems))


def judge(
    root: Path, before: str, after: str, author: str, today: dt.date, opened: dt.date | None = None
) -> PullRequestCheck:
    """The change from tree `before` (the tip) to tree `after` (the tip with the change merged), by `author`."""
    files = changed_files(root, before, after)
    before_source, after_source = GitRevision(root, before), GitRevision(root, after)
    try:
        if after_source.kind(CONFIG_PATH) is None:
            # Without rollout.yaml the result is no rollout repository at all: nothing else can be judged.
            refused = _refused(Problem(CONFIG_PATH, 1, 1, "unauthorized", "rollout.yaml cannot be deleted"))
            refused.changes.append(Change("config-deleted", CONFIG_PATH, "rollout.yaml deleted"))
            return refused
        tip, merged = Repository(before_source), Repository(after_source)
        result = PullRequestCheck(changes=[describe(tip, merged, change) for change in files])
        authorization = authorize(tip, merged, files, author, today, opened)
        result.problems.extend(located(merged, authorization))
        validation = _validate(root, after, tip, merged, files)
        result.invalid = has_errors(validation)
        result.problems.extend(validation)
        result.problems = sorted(set(result.problems))
        result.releases = _evaluations(merged, files, today)
        return result
    finally:
        before_source.close()
        after_source.close()


def located(merged: Repository, authorization: Authorization) -> list[Problem]:
    problems = []
    for refusal in authorization.refusals:
        if refusal.at and merged.source.kind(refusal.path) is not None:
            problems.append(merged.problem_at(refusal.path, refusal.at, refusal.rule, refusal.message))
        else:
            problems.append(Problem(refusal.path, 1, 1, refusal.rule, refusal.message))
    return problems


# ---------------------------------------------------------------- what must stay valid


def affected(tip: Repository, merged: Repository, files: list[FileChange]) -> list[str]:
    """The changed records and every record whose validity depends on them, in the merged tree.

    What depends on what mirrors the cross-file rules: a release's reports and
    the distributions shipping it depend on the release; a team's reports and
    the releases assigning it on the team's existence; a product's releases and
    the teams naming it on the product's existence; the records naming what a
    change to rollout.yaml changes (its platforms, groups, policies or bot).
    """
    wanted: dict[str, None] = {}
    present = [c for c in files if c.status is not ChangeKind.deleted]
    for change in present:
        wanted[change.path] = None
    for change in files:
        place = place_of(change.path)
        if place is None:
            continue
        if place.kind == "rollout":
            wanted.update(dict.fromkeys(_config_dependents(tip, merged)))
            continue
        exists = change.status is not ChangeKind.modified  # added or deleted: its name is what others refer to
        if place.kind == "release":
            product, version = place.ids
            wanted.update(
                dict.fromkeys(report_path(product, version, t) for t in merged.report_teams(product, version))
            )
            wanted.update(dict.fromkeys(automated_paths(merged, product, version)))
            before, after = tip.release(product, version), merged.release(product, version)
            if exists or before is None or after is None or before.state is not after.state:
                wanted.update(dict.fromkeys(_distribution_paths(merged)))
            if exists:
                wanted.update(dict.fromkeys(release_path(product, v) for v in merged.versions(product)))
        elif place.kind == "team" and exists:
            (team,) = place.ids
            for product, version, release in merged.releases():
                if team in release.teams:
                    wanted[release_path(product, version)] = None
                if team in merged.report_teams(product, version):
                    wanted[report_path(product, version, team)] = None
                wanted.update(dict.fromkeys(automated_paths(merged, product, version, team)))
        elif place.kind == "product" and exists:
            (product,) = place.ids
            wanted.update(dict.fromkeys(release_path(product, v) for v in merged.versions(product)))
            wanted.update(dict.fromkeys(f"teams/{t}.yaml" for t in merged.team_ids()))
    return [path for path in wanted if merged.kind(path) is not None]


def _config_dependents(tip: Repository, merged: Repository) -> list[str]:
    """The records whose validity depends on what a change to rollout.yaml changed.

    Teams, products, releases and reports refer to its platforms (and their
    arches), groups, policies and bot; its coordinators and the numbers of
    its policies are referred to by no record, so changing only those
    validates rollout.yaml alone.
    """
    before, after = tip.config(), merged.config()
    if before is None or after is None:
        return []  # an invalid rollout.yaml is refused by its own validation
    folders: set[str] = set()
    if before.platforms != after.platforms:
        folders |= {"teams", "releases"}
    if before.groups != after.groups:
        folders |= {"teams", "releases"}  # products name a group
    if before.policies.keys() != after.policies.keys():
        folders.add("releases")
    if before.bot != after.bot:
        folders.add("teams")
    return [name for name in DATA_FOLDERS if name in folders and merged.source.kind(name) is not None]


def _distribution_paths(repo: Repository) -> list[str]:
    return [distribution_path(d, v) for d in repo.distribution_ids() for v in repo.distribution_versions(d)]


def _validate(root: Path, tree: str, tip: Repository, merged: Repository, files: list[FileChange]) -> list[Problem]:
    paths = affected(tip, merged, files)
    if not paths:
        return []
    if "releases" in paths:
        # Every release and report: the whole tree, read from files written at once and validated as
        # `rollout validate` does, letting each report go once it is checked.
        with exported(root, tree) as folder:
            found = validate_repository(Repository(WorkTree(folder))).problems
    else:
        found = validate_paths(merged, paths).problems
    changed = {c.path for c in files}
    problems = []
    for problem in found:
        if problem.rule == "identifier-collision":
            continue  # judged below: the name the change adds is the one refused
        # A record the change does not touch matters only where the change breaks it.
        if problem.path in changed or problem.level is Level.error:
            problems.append(problem)
    added = [c.path for c in files if c.status is ChangeKind.added]
    folders = dict.fromkeys(path.rsplit("/", end)[0] for path in added for end in range(1, path.count("/") + 1))
    look_alikes = [p for folder in folders for p in placement.check(folder, merged.listing(folder)).look_alikes]
    for problem in look_alikes:
        if tip.kind(problem.path) is None and any(
            path == problem.path or path.startswith(problem.path + "/") for path in added
        ):
            problems.append(problem)
    return problems


# ---------------------------------------------------------------- what the change does


def describe(tip: Repository, merged: Repository, change: FileChange) -> Change:
    place = place_of(change.path)
    status = change.status.value
    if place is None:
        return Change(f"file-{status}", change.path, f"{change.path} {status}")
    if place.kind == "rollout":
        return Change(f"config-{status}", change.path, f"rollout.yaml {status}")
    if place.kind == "distribution":
        return Change(f"distribution-{status}", change.path, f"distribution {status}")
    if place.kind == "team":
        return Change(f"team-{status}", change.path, f"team `{place.ids[0]}` {status}")
    if place.kind == "product":
        return Change(f"product-{status}", change.path, f"product {place.ids[0]} {status}")
    if place.kind == "report":
        product, version, team = place.ids
        name = f"{product}/{version}"
        if change.status is ChangeKind.deleted:
            return Change("report-deleted", change.path, f"report of team `{team}` on {name} deleted")
        doc = merged.document(change.path)
        record = doc.record if doc is not None and isinstance(doc.record, Report) else None
        what = f"{record.verdict.value} on revision {record.revision}" if record else "invalid"
        if change.status is ChangeKind.added:
            return Change("report-added", change.path, f"new report by team `{team}` on {name}: {what}")
        return Change("report-modified", change.path, f"report of team `{team}` on {name} changed: {what}")
    if place.kind in ("result", "waiver"):
        kind, summary = describe_automated(merged, change.path, place.kind, place.ids, change.status.value)
        return Change(kind, change.path, summary)
    product, version = place.ids
    name = f"{product}/{version}"
    if change.status is ChangeKind.deleted:
        return Change("release-deleted", change.path, f"release {name} deleted")
    after = merged.release(product, version)
    if change.status is ChangeKind.added:
        return Change("release-added", change.path, f"new release {name} ({after.state.value if after else 'invalid'})")
    before = tip.release(product, version)
    if before is None or after is None:
        return Change("release-modified", change.path, f"release {name} changed")
    if before.state is after.state:
        return Change("release-modified", change.path, f"release {name} changed ({_fields(before, after)})")
    states = [before.state]
    if after.history[: len(before.history)] == before.history:
        for item in after.history[len(before.history) :]:
            if item.state is not states[-1]:
                states.append(item.state)
    if states[-1] is not after.state:
        states = [before.state, after.state]
    return Change(
        "transition",
        change.path,
        f"{name}: {' -> '.join(s.value for s in states)}",
        (("release", name), ("from", before.state.value), ("to", after.state.value)),
    )


def _fields(before: Release, after: Release) -> str:
    old, new = before.model_dump(), after.model_dump()
    changed = [name for name in Release.model_fields if old.get(name) != new.get(name)]
    return ", ".join(changed) if changed else "layout only"


def _evaluations(merged: Repository, files: list[FileChange], today: dt.date) -> list[Evaluation]:
    """The verdict of each release the change touches, as it will be after the merge."""
    touched: dict[tuple[str, str], None] = {}
    for change in files:
        place = place_of(change.path)
        if place is not None and place.kind in ("release", "report", "result", "waiver"):
            touched[place.ids[0], place.ids[1]] = None
    found = []
    for product, version in touched:
        release = merged.release(product, version)
        if release is None or merged.config() is None:
            continue
        try:
            found.append(evaluate(merged, product, version, today))
        except UsageError:
            continue
    return found

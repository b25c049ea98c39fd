"""`rollout check-pr`: what a change does, whether it is legal, and whether its author may make it.

Rights come from the base revision, legality and preconditions from the
head. Only the changed files and what they refer to are read, so the cost
follows the size of the change, not of the repository.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rollout_tool import reporting
from rollout_tool.assignment import why_not_assignable
from rollout_tool.authorization import Rights, same_login
from rollout_tool.changes import FileChange, Status, changed_files, commit_of, merge_base
from rollout_tool.commands.validate import validate_paths
from rollout_tool.lifecycle import Role, Situation, illegal, transition
from rollout_tool.policy import effective_policy
from rollout_tool.problems import Level, Problem, has_errors
from rollout_tool.records import Decision, Product, Release, Report, State, Team
from rollout_tool.records import Transition as HistoryEntry
from rollout_tool.repository import CONFIG_PATH, Repository, place_of
from rollout_tool.sources import GitRevision

R = TypeVar("R", Release, Report, Team, Product)
Owned = TypeVar("Owned", Team, Product)

# How a release is judged: its policy, type (which picks a policy), assigned teams and decision.
RESTRICTED_FIELDS = ("type", "policy", "teams", "decisions")
COORDINATOR_ONLY = ("rollout.yaml", "schema/", ".github/", "rollout_tool/")


@dataclass(frozen=True)
class Change:
    kind: str
    path: str
    summary: str
    extra: tuple[tuple[str, str], ...] = ()  # a transition's release, from and to, for machines

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "summary": self.summary, **dict(self.extra)}


@dataclass
class PullRequestCheck:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not has_errors(self.problems)

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "changes": [c.as_dict() for c in self.changes],
            "problems": [p.as_dict() for p in self.problems],
        }


class _Checker:
    """`base` is where the change starts (what it changes), `rules` the base branch as it is now.

    Rights, the policy and whether a release still takes reports come from the
    base branch's tip: a coordinator removed there, or a release released there,
    is so for an older branch too.
    """

    def __init__(self, base: Repository, rules: Repository, head: Repository, author: str, today: dt.date) -> None:
        self.base = base
        self.rules = rules
        self.head = head
        self.author = author
        self.today = today
        self.rights = Rights(rules, author)
        self.result = PullRequestCheck()

    # ------------------------------------------------------------ helpers

    def change(self, kind: str, path: str, summary: str, **extra: str) -> None:
        self.result.changes.append(Change(kind, path, summary, tuple(extra.items())))

    def refuse(self, path: str, rule: str, message: str, at: tuple[str | int, ...] = ()) -> None:
        if at and self.head.source.kind(path) is not None:
            self.result.problems.append(self.head.problem_at(path, at, rule, message))
        else:
            self.result.problems.append(Problem(path, 1, 1, rule, message))

    def coordinators_only(self, path: str, what: str) -> None:
        if not self.rights.coordinator:
            self.refuse(path, "unauthorized", f"only coordinators may {what}; {self.author} is not a coordinator")

    # ------------------------------------------------------------ files

    def check(self, change: FileChange) -> None:
        place = place_of(change.path)
        kind = place.kind if place is not None else "file"
        handler = {
            "report": self.report,
            "release": self.release,
            "team": self.team,
            "product": self.product,
        }.get(kind)
        if place is not None and handler is not None:
            handler(change, place.ids)
        elif kind == "rollout":
            self.change("config-" + change.status.value, change.path, f"rollout.yaml {change.status.value}")
            self.coordinators_only(change.path, "change rollout.yaml")
        elif kind == "distribution":
            self.change("distribution-" + change.status.value, change.path, f"distribution {change.status.value}")
            self.coordinators_only(change.path, "change distributions")
        else:
            self.change("file-" + change.status.value, change.path, f"{change.path} {change.status.value}")
            self.coordinators_only(change.path, f"change {_area(change.path)}")

    def report(self, change: FileChange, ids: tuple[str, ...]) -> None:
        product, version, team = ids
        name = f"{product}/{version}"
        if change.status is Status.deleted:
            self.change("report-deleted", change.path, f"report of team `{team}` on {name} deleted")
            self.coordinators_only(change.path, "delete a report")
        else:
            record = _record(self.head, change.path, Report)
            what = f"{record.verdict.value} on revision {record.revision}" if record else "invalid"
            if change.status is Status.added:
                self.change("report-added", change.path, f"new report by team `{team}` on {name}: {what}")
            else:
                self.change("report-modified", change.path, f"report of team `{team}` on {name} changed: {what}")
            if not (self.rights.coordinator or self.rights.member_of(team)):
                self.refuse(
                    change.path,
                    "unauthorized",
                    f"only members of team `{team}` (or coordinators) may write its reports;"
                    f" {self.author} is not a member of `{team}` at the base revision",
                )
        base_release = self.rules.release(product, version)
        if base_release is None:
            self.refuse(
                change.path,
                "report-closed",
                f"{name} is not in rollout at the base revision: reports come after a coordinator starts its rollout",
            )
        elif base_release.state is not State.rollout:
            self.refuse(
                change.path,
                "report-closed",
                f"{name} is {base_release.state.value}: reports change only while a release is in rollout",
            )

    def release(self, change: FileChange, ids: tuple[str, ...]) -> None:
        product, version = ids
        name = f"{product}/{version}"
        if change.status is Status.deleted:
            self.change("release-deleted", change.path, f"release {name} deleted")
            self.coordinators_only(change.path, "delete a release")
            return
        after = _record(self.head, change.path, Release)
        if change.status is Status.added:
            state = after.state.value if after else "invalid"
            self.change("release-added", change.path, f"new release {name} ({state})")
            if not (self.rights.coordinator or self.rights.maintainer_of(product)):
                self.refuse(
                    change.path,
                    "unauthorized",
                    f"only the maintainers of {product} (or coordinators) may submit its releases;"
                    f" {self.author} is not one at the base revision",
                )
            if after is not None:
                # The provider says what kind of release it is; how it is judged is not theirs to pick.
                self.restricted(change.path, None, after, ("policy", "decisions"))
            if after is not None and after.state is not State.candidate:
                self.refuse(
                    change.path,
                    "illegal-transition",
                    f"a new release starts as candidate, not {after.state.value}",
                    ("state",),
                )
            return
        before = _record(self.base, change.path, Release)
        if before is None or after is None:
            self.change("release-modified", change.path, f"release {name} changed")
            # An invalid head is refused by validation; repairing an invalid base is a coordinator's job,
            # since nobody can tell what the change does to it.
            if after is not None and not self.rights.coordinator:
                self.refuse(
                    change.path, "unauthorized", f"{name} is not valid at the base revision: a coordinator repairs it"
                )
            return
        self.assignments(change.path, before, after)
        if after.state is not before.state:
            self.transition(change.path, product, version, before, after)
        else:
            self.change("release-modified", change.path, f"release {name} changed ({_fields(before, after)})")
            self.edit(change.path, product, before, after)

    def transition(self, path: str, product: str, version: str, before: Release, after: Release) -> None:
        """A state change: each step the new history entries record must be legal, allowed and ready.

        One change may make several steps (the bot accepts and releases at once);
        each is judged on its own, as if made alone.
        """
        name = f"{product}/{version}"
        steps = self.history(path, before, after)
        path_text = " -> ".join(s.value for s in [before.state, *steps]) if steps else ""
        self.change(
            "transition",
            path,
            f"{name}: {path_text or f'{before.state.value} -> {after.state.value}'}",
            release=name,
            **{"from": before.state.value, "to": after.state.value},
        )
        config = self.rules.config()
        assert config is not None  # Rights needs it
        _, policy = effective_policy(config, self.rules.product(product), before)
        roles = self.rights.roles(product)
        if roles == {Role.bot} and _without(before, "state", "history") != _without(after, "state", "history"):
            self.refuse(path, "unauthorized", "the bot may change only a release's state and history")
        if Role.bot not in roles:
            self.restricted(path, before, after)
        reports = self.head.reports(product, version)
        source = before.state
        for target in steps or [after.state]:
            step = transition(source, target)
            if step is None:
                self.refuse(path, "illegal-transition", illegal(source, target), ("state",))
                return
            if not step.allows(roles, policy):
                self.refuse(
                    path,
                    "unauthorized",
                    f"{source.value} -> {target.value} is for {step.who()}; {self.author} may not make it",
                    ("state",),
                )
            situation = Situation(self.head, product, version, after, reports, policy, self.today)
            for reason in step.requires(situation):
                self.refuse(path, "precondition", f"{name} cannot become {target.value}: {reason}", ("state",))
            source = target

    def history(self, path: str, before: Release, after: Release) -> list[State]:
        """The states the new history entries record; each entry must be the author's and not dated ahead."""
        old, new = before.history, after.history
        if new[: len(old)] != old:
            self.refuse(path, "history", "history is append-only: keep every earlier entry as it was", ("history",))
            return []
        added = new[len(old) :]
        if after.state is before.state:
            if after.revision != before.revision:
                self.bump(path, before, after, added)
            elif added:
                self.refuse(path, "history", "history records transitions: add an entry only with a state change")
            return []
        if not added or added[-1].state is not after.state:
            self.refuse(
                path,
                "history",
                f"record the transition as a new history entry with state {after.state.value}",
                ("history",),
            )
            return []
        for index, item in enumerate(added, start=len(old)):
            if item.date > self.today:
                self.refuse(
                    path,
                    "history",
                    f"the new history entry is dated {item.date}, after today ({self.today})",
                    ("history", index, "date"),
                )
            elif not same_login(item.by, self.author):
                self.refuse(
                    path,
                    "history",
                    f"the new history entry says by {item.by}, but the change is by {self.author}",
                    ("history", index, "by"),
                )
        return [item.state for item in added]

    def bump(self, path: str, before: Release, after: Release, added: list[HistoryEntry]) -> None:
        """A new revision: it only grows, one at a time, recorded by its author with why."""
        if after.revision < before.revision:
            self.refuse(
                path,
                "revision",
                f"revision only grows: it is {before.revision}, it cannot become {after.revision}",
                ("revision",),
            )
            return
        wanted = f"record revision {after.revision} as a new history entry with state {after.state.value}, revision {after.revision}, date, by and a note saying why"
        if (
            len(added) != 1
            or added[0].revision != after.revision
            or added[0].state is not after.state
            or not (added[0].note or "").strip()
        ):
            self.refuse(path, "history", wanted, ("history",))
            return
        if added[0].date > self.today:
            self.refuse(
                path,
                "history",
                f"the new history entry is dated {added[0].date}, after today ({self.today})",
                ("history", len(before.history), "date"),
            )
        elif not same_login(added[0].by, self.author):
            self.refuse(
                path,
                "history",
                f"the new history entry says by {added[0].by}, but the change is by {self.author}",
                ("history", len(before.history), "by"),
            )

    def edit(self, path: str, product: str, before: Release, after: Release) -> None:
        self.history(path, before, after)
        if self.rights.coordinator:
            return
        if not self.rights.maintainer_of(product):
            self.refuse(
                path,
                "unauthorized",
                f"only the maintainers of {product} (or coordinators) may edit its releases;"
                f" {self.author} is not one at the base revision",
            )
        elif before.state not in (State.candidate, State.rollout):
            self.refuse(
                path,
                "unauthorized",
                f"a {before.state.value} release is edited by coordinators only",
            )
        else:
            self.restricted(path, before, after)

    def assignments(self, path: str, before: Release, after: Release) -> None:
        """A team added to a release must be able to take part in it."""
        for team_id in after.teams:
            team = self.rules.team(team_id)
            if team_id in before.teams or team is None:
                continue
            reason = why_not_assignable(team_id, team, after)
            if reason is not None:
                self.refuse(path, "assignment", reason, ("teams", after.teams.index(team_id)))

    def restricted(
        self, path: str, before: Release | None, after: Release, fields: tuple[str, ...] = RESTRICTED_FIELDS
    ) -> None:
        """Fields that decide how a release is judged are the coordinators' to set."""
        if self.rights.coordinator:
            return
        for name in fields:
            old = getattr(before, name) if before is not None else Release.model_fields[name].default
            new = getattr(after, name)
            if name == "decisions" and _withdraws(old, new, after):
                continue  # a provider takes its own release back, saying why
            if new != old:
                self.refuse(path, "unauthorized", f"only coordinators set a release's {name}", (name,))

    def team(self, change: FileChange, ids: tuple[str, ...]) -> None:
        (team,) = ids
        self.owned(
            change,
            Team,
            kind="team",
            summary=f"team `{team}`",
            plural="teams",
            owner=self.rights.member_of(team),
            not_owner=f"only members of team `{team}` (or coordinators) may edit it; {self.author} is not one",
            guarded={
                "members": f"only coordinators change a team's members; ask one to add or remove members of `{team}`"
            },
        )

    def product(self, change: FileChange, ids: tuple[str, ...]) -> None:
        (product,) = ids
        self.owned(
            change,
            Product,
            kind="product",
            summary=f"product {product}",
            plural="products",
            owner=self.rights.maintainer_of(product),
            not_owner=f"only the maintainers of {product} (or coordinators) may edit it; {self.author} is not one",
            guarded={name: f"only coordinators change the {name} of {product}" for name in ("maintainers", "policy")},
        )

    def owned(
        self,
        change: FileChange,
        model: type[Owned],
        *,
        kind: str,
        summary: str,
        plural: str,
        owner: bool,
        not_owner: str,
        guarded: dict[str, str],
    ) -> None:
        """A team or product file: coordinators add and delete; its owners edit all but the guarded fields."""
        self.change(f"{kind}-{change.status.value}", change.path, f"{summary} {change.status.value}")
        if self.rights.coordinator:
            return
        if change.status is not Status.modified:
            verb = "add" if change.status is Status.added else "delete"
            self.coordinators_only(change.path, f"{verb} {plural}")
            return
        if not owner:
            self.refuse(change.path, "unauthorized", not_owner)
            return
        before, after = _record(self.base, change.path, model), _record(self.head, change.path, model)
        if before is None or after is None:
            return
        for name, message in guarded.items():
            if getattr(before, name) != getattr(after, name):
                self.refuse(change.path, "unauthorized", message, (name,))


def _area(path: str) -> str:
    for prefix in COORDINATOR_ONLY:
        if path == prefix or path.startswith(prefix):
            return prefix
    return "files outside the records"


def _record(repo: Repository, path: str, model: type[R]) -> R | None:
    doc = repo.document(path)
    return doc.record if doc is not None and isinstance(doc.record, model) else None


def _withdraws(old: list[Decision], new: list[Decision], after: Release) -> bool:
    """Whether the change only adds the withdraw decision of a release it withdraws."""
    return (
        new[:-1] == old and len(new) == len(old) + 1 and new[-1].action == "withdraw" and after.state is State.withdrawn
    )


def _without(release: Release, *names: str) -> dict[str, object]:
    return release.model_dump(exclude=set(names))


def _fields(before: Release, after: Release) -> str:
    old, new = before.model_dump(), after.model_dump()
    changed = [name for name in Release.model_fields if old.get(name) != new.get(name)]
    return ", ".join(changed) if changed else "layout only"


def check_pr(root: Path, base: str, head: str, author: str, today: dt.date) -> PullRequestCheck:
    base_commit = commit_of(root, base, "--base")
    head_commit = commit_of(root, head, "--head")
    # The change is what head adds since it branched off; what the base branch
    # gained since then is not part of it.
    since = merge_base(root, base_commit, head_commit)
    files = changed_files(root, since, head_commit)
    since_source, head_source = GitRevision(root, since), GitRevision(root, head_commit)
    tip_source = GitRevision(root, base_commit) if base_commit != since else since_source
    try:
        if head_source.kind(CONFIG_PATH) is None:
            # Without rollout.yaml the head is no rollout repository at all: nothing else can be judged.
            refused = PullRequestCheck()
            refused.changes.append(Change("config-deleted", CONFIG_PATH, "rollout.yaml deleted"))
            refused.problems.append(Problem(CONFIG_PATH, 1, 1, "unauthorized", "rollout.yaml cannot be deleted"))
            return refused
        base_repo, head_repo = Repository(since_source), Repository(head_source)
        rules_repo = Repository(tip_source) if tip_source is not since_source else base_repo
        checker = _Checker(base_repo, rules_repo, head_repo, author, today)
        for change in files:
            checker.check(change)
        present = [c.path for c in files if c.status is not Status.deleted]
        if present:
            checker.result.problems.extend(validate_paths(head_repo, present).problems)
        result = checker.result
        result.problems = sorted(set(result.problems))
        return result
    finally:
        for source in (since_source, head_source, tip_source):
            source.close()


def render(result: PullRequestCheck, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(result.as_dict(), indent=2) + "\n"
    lines = [f"{reporting.visible(c.summary)} ({reporting.visible(c.path)})\n" for c in result.changes]
    lines = lines or ["no changes\n"]
    if output_format == "github":
        body = "".join(f"::notice title=change::{reporting.escape_data(c.summary)}\n" for c in result.changes)
        body += reporting.github(result.problems)
    else:
        body = "".join(lines) + reporting.text(result.problems)
    errors = sum(1 for p in result.problems if p.level is Level.error)
    verdict = "allowed" if result.allowed else f"refused: {errors} problem{'s' if errors != 1 else ''}"
    return body + verdict + "\n"

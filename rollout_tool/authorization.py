"""Who may change what: rights read from the tip of the target branch, and the gates a change must pass.

Rights are always asked of the tip a change merges into, never of the change
itself: a pull request cannot grant itself rights by editing teams/ or
rollout.yaml. GitHub logins are compared without regard to case, as GitHub
does. `authorize` answers (allowed, reasons) for a whole change: each reason
a refusal with the file and the value it is about, worded so that a person
knows what to do.

The bot's role goes only to an app's account (`<slug>[bot]`, such as
`github-actions[bot]`): no person can register a login holding brackets, while
a plain login named as the bot could belong to anyone who signs up for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from rollout_tool.assignment import why_not_assignable
from rollout_tool.changes import ChangeKind, FileChange
from rollout_tool.errors import FatalError
from rollout_tool.lifecycle import Role, Situation, illegal, transition
from rollout_tool.policy import effective_policy, rollout_started
from rollout_tool.records import (
    CheckResult,
    Config,
    Decision,
    HistoryEntry,
    Product,
    Release,
    Report,
    State,
    Team,
    Waiver,
)
from rollout_tool.repository import Repository, place_of

_R = TypeVar("_R", Release, Report, Team, Product, CheckResult, Waiver)
_Owned = TypeVar("_Owned", Team, Product)

# The rules themselves: whoever changes them changes every judgement. `rollout codeowners` asks the same people.
COORDINATOR_PATHS = ("rollout.yaml", "schema/", ".github/", "rollout_tool/")

# What a team's members may edit in its file; the rest decides which releases it covers and when it is late.
TEAM_MEMBER_FIELDS = ("name", "site", "contact")
# What decides how a product's releases are judged, and by which teams.
PRODUCT_COORDINATOR_FIELDS = ("maintainers", "policy", "group")


def same_login(first: str, second: str) -> bool:
    return first.casefold() == second.casefold()


def is_app_login(login: str) -> bool:
    return login.endswith("[bot]")


class Rights:
    def __init__(self, base: Repository, login: str) -> None:
        config = base.config()
        if config is None:
            raise FatalError("the base revision has no valid rollout.yaml: rights cannot be decided")
        self.base = base
        self.config = config
        self.login = login
        self.coordinator = any(same_login(login, c) for c in config.coordinators)
        self.bot = is_app_login(config.bot) and same_login(login, config.bot)
        self.coordinators = list(config.coordinators)

    def member_of(self, team: str) -> bool:
        record = self.base.team(team)
        return record is not None and any(same_login(self.login, m) for m in record.members)

    def automation_of(self, team: str) -> bool:
        """Whether the login is one the team registered for its CI or monitoring (`automation`)."""
        record = self.base.team(team)
        return record is not None and any(same_login(self.login, a) for a in record.automation)

    def maintainer_of(self, product: str) -> bool:
        record = self.base.product(product)
        return record is not None and any(same_login(self.login, m) for m in record.maintainers)

    def roles(self, product: str) -> set[Role]:
        roles = set()
        if self.coordinator:
            roles.add(Role.coordinator)
        if self.bot:
            roles.add(Role.bot)
        if self.maintainer_of(product):
            roles.add(Role.maintainer)
        return roles


@dataclass(frozen=True)
class Refusal:
    """Why (part of) a change is refused: the file, the rule, the sentence, and the value it is about."""

    path: str
    rule: str
    message: str
    at: tuple[str | int, ...] = ()


@dataclass
class Authorization:
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def reasons(self) -> list[str]:
        return [r.message for r in self.refusals]


def coordinator_area(path: str) -> str:
    for prefix in COORDINATOR_PATHS:
        if path == prefix or path.startswith(prefix):
            return prefix
    return "files outside the records"


def type_policy(config: Config, release: Release | None) -> str | None:
    """The policy a release's type selects, if any: choosing it is choosing how the release is judged."""
    if release is None:
        return None
    name = config.type_policies.get(release.type)
    return name if name is not None and name in config.policies else None


def authorize(
    before: Repository,
    after: Repository,
    files: list[FileChange],
    author: str,
    today: dt.date,
    opened: dt.date | None = None,
) -> Authorization:
    """Whether `author` may turn `before` (the tip) into `after` (the merged tree), and every reason not."""
    judge = _Judge(before, after, author, today, opened or today)
    for change in files:
        judge.file(change)
    return judge.result


class _Judge:
    def __init__(self, before: Repository, after: Repository, author: str, today: dt.date, opened: dt.date) -> None:
        self.before = before
        self.after = after
        self.author = author
        self.today = today
        self.opened = min(opened, today)
        self.rights = Rights(before, author)
        self.config = self.rights.config
        self.result = Authorization()

    def refuse(self, path: str, rule: str, message: str, at: tuple[str | int, ...] = ()) -> None:
        self.result.refusals.append(Refusal(path, rule, message, at))

    def coordinators_only(self, path: str, what: str) -> None:
        if not self.rights.coordinator:
            self.refuse(path, "unauthorized", f"only coordinators may {what}; {self.author} is not a coordinator")

    # ------------------------------------------------------------ files

    def file(self, change: FileChange) -> None:
        place = place_of(change.path)
        kind = place.kind if place is not None else "file"
        if place is not None and kind == "report":
            self.report(change, *place.ids)
        elif place is not None and kind == "result":
            self.automated_result(change, *place.ids)
        elif place is not None and kind == "waiver":
            self.waiver(change)
        elif place is not None and kind == "release":
            self.release(change, *place.ids)
        elif place is not None and kind == "team":
            self.team(change, *place.ids)
        elif place is not None and kind == "product":
            self.product(change, *place.ids)
        elif kind == "rollout":
            self.coordinators_only(change.path, "change rollout.yaml")
        elif kind == "distribution":
            self.coordinators_only(change.path, "change distributions")
        else:
            self.coordinators_only(change.path, f"change {coordinator_area(change.path)}")

    def report(self, change: FileChange, product: str, version: str, team: str) -> None:
        if change.status is ChangeKind.deleted:
            self.coordinators_only(change.path, "delete a report")
        elif not (self.rights.coordinator or self.rights.member_of(team)):
            self.refuse(
                change.path,
                "unauthorized",
                f"only members of team `{team}` (or coordinators) may write its reports;"
                f" {self.author} is not a member of `{team}` at the base revision",
            )
        tip_release = self.open_release(change.path, "report", product, version)
        if tip_release is not None and change.status is not ChangeKind.deleted:
            self.report_content(change.path, product, version, team, tip_release)

    def open_release(self, path: str, what: str, product: str, version: str) -> Release | None:
        """The release at the tip when it is in rollout, taking reports and results; else a refusal."""
        name = f"{product}/{version}"
        tip_release = self.before.release(product, version)
        if tip_release is None or tip_release.state is not State.rollout:
            self.refuse(
                path,
                f"{what}-closed",
                f"{name} is not in rollout at the base revision: {what}s come after a coordinator starts its rollout"
                if tip_release is None
                else f"{name} is {tip_release.state.value}: {what}s change only while a release is in rollout",
            )
            return None
        return tip_release

    def report_content(self, path: str, product: str, version: str, team: str, tip_release: Release) -> None:
        """A report written now is about the build under test now, by a team that runs what it tested."""
        name = f"{product}/{version}"
        report = _record(self.after, path, Report)
        release = self.after.release(product, version)
        if report is None or release is None:
            return  # validation says what is wrong with it
        if report.revision < release.revision:
            self.refuse(
                path,
                "report-revision",
                f"the report is on revision {report.revision}, but {name} is at revision {release.revision}:"
                f" install revision {release.revision} and report on it",
                ("revision",),
            )
        self.in_rollout(path, "report", report.date, name, release, tip_release)
        for at, environment in enumerate(report.environments):
            self.runs(path, "report", team, environment.platform, ("environments", at, "platform"))

    def in_rollout(
        self, path: str, what: str, date: dt.date, name: str, release: Release, tip_release: Release
    ) -> None:
        """A report or a result is dated from the start of the rollout to today."""
        if date > self.today:
            self.refuse(path, f"{what}-date", f"the {what} is dated {date}, after today ({self.today})", ("date",))
        started = rollout_started(release) or rollout_started(tip_release)
        if started is not None and date < started:
            self.refuse(
                path,
                f"{what}-date",
                f"the {what} is dated {date}, before {name} entered rollout on {started}",
                ("date",),
            )

    def runs(self, path: str, what: str, team: str, platform: str, at: tuple[str | int, ...]) -> None:
        """A team reports only on what it runs, as its team file says at the base revision."""
        record = self.before.team(team)
        if record is not None and platform not in record.platforms:
            self.refuse(
                path,
                f"{what}-platform",
                f"team `{team}` does not run {platform}: its team file lists {', '.join(record.platforms)}",
                at,
            )

    def automated_result(
        self, change: FileChange, product: str, version: str, team: str, check: str, platform: str
    ) -> None:
        """An automated result: filed by the team's registered automation or its members, on the current revision."""
        name = f"{product}/{version}"
        if change.status is ChangeKind.deleted:
            self.coordinators_only(change.path, "delete an automated result")
        elif not (self.rights.coordinator or self.rights.member_of(team) or self.rights.automation_of(team)):
            self.refuse(
                change.path,
                "unauthorized",
                f"only the automation team `{team}` registers (its `automation` logins), its members or coordinators"
                f" may file its results; {self.author} is none of them at the base revision",
            )
        tip_release = self.open_release(change.path, "result", product, version)
        result = _record(self.after, change.path, CheckResult)
        release = self.after.release(product, version)
        if tip_release is None or change.status is ChangeKind.deleted or result is None or release is None:
            return
        if result.revision != release.revision:
            self.refuse(
                change.path,
                "result-revision",
                f"the result is on revision {result.revision}, but {name} is at revision {release.revision}:"
                f" run the check on revision {release.revision}",
                ("revision",),
            )
        if not same_login(result.by, self.author):
            self.refuse(
                change.path, "result-by", f"the result says by {result.by}, but the change is by {self.author}", ("by",)
            )
        self.in_rollout(change.path, "result", result.date, name, release, tip_release)
        self.runs(change.path, "result", team, platform, ("platform",))

    def waiver(self, change: FileChange) -> None:
        """A waiver is a coordinator's, dated from the opening of the change to today, by its author."""
        self.coordinators_only(change.path, "waive a check")
        waiver = _record(self.after, change.path, Waiver)
        if change.status is not ChangeKind.deleted and waiver is not None:
            self.dated(change.path, "waiver", waiver.date, waiver.by, ())

    def release(self, change: FileChange, product: str, version: str) -> None:
        name = f"{product}/{version}"
        if change.status is ChangeKind.deleted:
            self.coordinators_only(change.path, "delete a release")
            return
        after = _record(self.after, change.path, Release)
        if change.status is ChangeKind.added:
            self.new_release(change.path, product, after)
            return
        before = _record(self.before, change.path, Release)
        if before is None or after is None:
            # An invalid head is refused by validation; repairing an invalid base is a coordinator's job,
            # since nobody can tell what the change does to it.
            if after is not None and not self.rights.coordinator:
                self.refuse(
                    change.path, "unauthorized", f"{name} is not valid at the base revision: a coordinator repairs it"
                )
            return
        steps = self.history(change.path, before, after)
        self.decisions(change.path, before, after)
        self.assignments(change.path, before, after)
        if after.revision < before.revision:
            self.refuse(
                change.path,
                "revision",
                f"revision only grows: {name} is at revision {before.revision}; a new build is revision"
                f" {before.revision + 1}",
                ("revision",),
            )
        if steps:
            self.transition(change.path, product, version, before, after, steps)
        else:
            self.edit(change.path, product, before, after)

    def assignments(self, path: str, before: Release, after: Release) -> None:
        """A team added to a release must be able to take part in it."""
        for index, team_id in enumerate(after.teams):
            team = self.before.team(team_id)
            if team_id in before.teams or team is None:
                continue
            reason = why_not_assignable(team_id, team, after)
            if reason is not None:
                self.refuse(path, "assignment", reason, ("teams", index))

    def new_release(self, path: str, product: str, after: Release | None) -> None:
        if not (self.rights.coordinator or self.rights.maintainer_of(product)):
            self.refuse(
                path,
                "unauthorized",
                f"only the maintainers of {product} (or coordinators) may submit its releases;"
                f" {self.author} is not one at the base revision",
            )
        if after is None:
            return
        # The provider says what kind of release it is; how it is judged is not theirs to pick.
        self.restricted(path, None, after, ("policy", "type"))
        if after.state is not State.candidate:
            self.refuse(
                path, "illegal-transition", f"a new release starts as candidate, not {after.state.value}", ("state",)
            )
        elif len(after.history) != 1:
            self.refuse(
                path,
                "history",
                "a new release starts with one history entry, state candidate, by its submitter:"
                " each later entry is written by the step it records",
                ("history",),
            )
        else:
            self.entry(path, 0, after.history[0])
        if after.decisions:
            self.refuse(
                path, "decision", "a new release has no decisions: coordinators record them later", ("decisions",)
            )

    def transition(
        self, path: str, product: str, version: str, before: Release, after: Release, steps: list[State]
    ) -> None:
        """A state change: each step the new history entries record must be legal, allowed and ready.

        One change may make several steps (the bot accepts and releases at once);
        each is judged on its own, as if made alone.
        """
        name = f"{product}/{version}"
        _, policy = effective_policy(self.config, self.before.product(product), before)
        roles = self.rights.roles(product)
        if roles == {Role.bot} and _without(before, "state", "history") != _without(after, "state", "history"):
            self.refuse(path, "unauthorized", "the bot may change only a release's state and history")
        if Role.bot not in roles:
            self.restricted(path, before, after)
        reports = self.after.reports(product, version)
        source = before.state
        for target in steps:
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
            situation = Situation(self.after, product, version, after, reports, policy, self.today)
            for reason in step.requires(situation):
                self.refuse(path, "precondition", f"{name} cannot become {target.value}: {reason}", ("state",))
            source = target

    def entry(self, path: str, index: int, item: HistoryEntry) -> None:
        """A history entry the change adds: by its author, dated between the opening of the change and today."""
        self.dated(path, "history entry", item.date, item.by, ("history", index))

    def dated(self, path: str, what: str, date: dt.date, by: str, at: tuple[str | int, ...]) -> None:
        if date > self.today:
            self.refuse(path, "history", f"the new {what} is dated {date}, after today ({self.today})", (*at, "date"))
        elif date < self.opened:
            self.refuse(
                path,
                "history",
                f"the new {what} is dated {date}, before the pull request was opened ({self.opened})",
                (*at, "date"),
            )
        elif not same_login(by, self.author):
            self.refuse(
                path, "history", f"the new {what} says by {by}, but the change is by {self.author}", (*at, "by")
            )

    def history(self, path: str, before: Release, after: Release) -> list[State] | None:
        """The states the new history entries record, in order, or None when the history cannot be read as steps.

        An entry either records a transition (a new state) or a revision bump
        (the same state and a `revision`, with a note saying why).
        """
        old, new = before.history, after.history
        if new[: len(old)] != old:
            self.refuse(path, "history", "history is append-only: keep every earlier entry as it was", ("history",))
            return None
        steps: list[State] = []
        state, revision = before.state, before.revision
        for index, item in enumerate(new[len(old) :], start=len(old)):
            self.entry(path, index, item)
            if item.revision is None:
                if item.state is state:
                    self.refuse(
                        path,
                        "history",
                        f"the new history entry repeats state {state.value}: an entry records a transition,"
                        " or a revision bump with `revision`",
                        ("history", index),
                    )
                steps.append(item.state)
                state = item.state
                continue
            if item.state is not state:
                self.refuse(
                    path,
                    "history",
                    f"a revision bump keeps the state: the entry for revision {item.revision} says {item.state.value},"
                    f" but the release is {state.value} then",
                    ("history", index, "state"),
                )
            elif state not in (State.candidate, State.rollout):
                self.refuse(
                    path,
                    "revision",
                    f"only a candidate or a release in rollout gets a new revision; this one is {state.value}",
                    ("history", index, "revision"),
                )
            if item.revision <= revision:
                self.refuse(
                    path,
                    "revision",
                    f"revision only grows: the new history entry records revision {item.revision}"
                    f" after revision {revision}",
                    ("history", index, "revision"),
                )
            if not (item.note or "").strip():
                self.refuse(
                    path,
                    "revision",
                    f"say in the entry's note why revision {item.revision} was built",
                    ("history", index),
                )
            revision = max(revision, item.revision)
        if state is not after.state:
            self.refuse(
                path,
                "history",
                f"record the transition as a new history entry with state {after.state.value}",
                ("history",),
            )
            return None
        if after.revision > before.revision and revision != after.revision:
            self.refuse(
                path,
                "revision",
                f"record revision {after.revision} as a new history entry: state {after.state.value},"
                f" revision {after.revision}, by, date and a note saying why",
                ("revision",),
            )
        return steps

    def decisions(self, path: str, before: Release, after: Release) -> None:
        old, new = before.decisions, after.decisions
        if new[: len(old)] != old:
            self.refuse(
                path, "decision", "decisions are append-only: keep every earlier decision as it was", ("decisions",)
            )
            return
        for index, item in enumerate(new[len(old) :], start=len(old)):
            self.decision(path, index, item)

    def decision(self, path: str, index: int, item: Decision) -> None:
        self.dated(path, "decision", item.date, item.by, ("decisions", index))

    def edit(self, path: str, product: str, before: Release, after: Release) -> None:
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
            self.refuse(path, "unauthorized", f"a {before.state.value} release is edited by coordinators only")
        else:
            self.restricted(path, before, after)

    def restricted(
        self,
        path: str,
        before: Release | None,
        after: Release,
        fields: tuple[str, ...] = ("type", "policy", "teams", "platforms", "decisions"),
    ) -> None:
        """What decides how a release is judged, and by whom, is the coordinators' to set."""
        if self.rights.coordinator:
            return
        for name in fields:
            old = getattr(before, name) if before is not None else Release.model_fields[name].default
            if getattr(after, name) == old:
                continue
            if name == "decisions" and before is not None and _withdraws(before, after):
                continue  # a provider takes its own release back, saying why
            if name == "type":
                selecting = after if type_policy(self.config, after) is not None else before
                chosen = type_policy(self.config, selecting)
                if selecting is not None and chosen is not None:
                    self.refuse(
                        path,
                        "unauthorized",
                        "only coordinators give a release a type that selects a policy:"
                        f" type {selecting.type.value} selects policy {chosen}",
                        (name,),
                    )
            elif name == "platforms":
                if before is not None and before.state is not State.candidate:
                    self.refuse(
                        path,
                        "unauthorized",
                        "only coordinators change a release's platforms once its rollout has started",
                        (name,),
                    )
            else:
                self.refuse(path, "unauthorized", f"only coordinators set a release's {name}", (name,))

    def team(self, change: FileChange, team: str) -> None:
        guarded = {
            name: (
                f"only coordinators change a team's members; ask one to add or remove members of `{team}`"
                if name == "members"
                else f"only coordinators change a team's {name}: it decides what `{team}` is asked to test;"
                f" members edit its {', '.join(TEAM_MEMBER_FIELDS)}"
            )
            for name in Team.model_fields
            if name not in TEAM_MEMBER_FIELDS
        }
        self.owned(
            change,
            Team,
            plural="teams",
            owner=self.rights.member_of(team),
            not_owner=f"only members of team `{team}` (or coordinators) may edit it; {self.author} is not one",
            guarded=guarded,
        )

    def product(self, change: FileChange, product: str) -> None:
        self.owned(
            change,
            Product,
            plural="products",
            owner=self.rights.maintainer_of(product),
            not_owner=f"only the maintainers of {product} (or coordinators) may edit it; {self.author} is not one",
            guarded={name: f"only coordinators change the {name} of {product}" for name in PRODUCT_COORDINATOR_FIELDS},
        )

    def owned(
        self,
        change: FileChange,
        model: type[_Owned],
        *,
        plural: str,
        owner: bool,
        not_owner: str,
        guarded: dict[str, str],
    ) -> None:
        """A team or product file: coordinators add and delete; its owners edit all but the guarded fields."""
        if self.rights.coordinator:
            return
        if change.status is not ChangeKind.modified:
            self.coordinators_only(change.path, f"{'add' if change.status is ChangeKind.added else 'delete'} {plural}")
            return
        if not owner:
            self.refuse(change.path, "unauthorized", not_owner)
            return
        before, after = _record(self.before, change.path, model), _record(self.after, change.path, model)
        if before is None or after is None:
            return
        for name, message in guarded.items():
            if getattr(before, name) != getattr(after, name):
                self.refuse(change.path, "unauthorized", message, (name,))


def _record(repo: Repository, path: str, model: type[_R]) -> _R | None:
    doc = repo.document(path)
    return doc.record if doc is not None and isinstance(doc.record, model) else None


def _withdraws(before: Release, after: Release) -> bool:
    """Whether the change adds only the withdraw decision of a release it withdraws."""
    old, new = before.decisions, after.decisions
    added = new[len(old) :]
    return (
        new[: len(old)] == old and len(added) == 1 and added[0].action == "withdraw" and after.state is State.withdrawn
    )


def _without(release: Release, *names: str) -> dict[str, object]:
    return release.model_dump(exclude=set(names))

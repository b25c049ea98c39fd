"""Cross-file rules: what one record says about others must hold.

Each check takes the repository and one loaded document and yields problems.
A check asks the repository only for the records it refers to, so checking a
few files costs the same in a small repository and in a huge one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping

from rollout_tool import identifiers
from rollout_tool.lifecycle import required_decision
from rollout_tool.policy import DECISION_STATES, is_current, rollout_started
from rollout_tool.problems import Level, Problem
from rollout_tool.records import Config, Distribution, Environment, Product, Release, Report, State, Team
from rollout_tool.repository import Document, Repository, place_of
from rollout_tool.results import check_result, check_waiver


def _hint(word: str, choices: Iterable[str]) -> str:
    ordered = sorted(choices)
    same = [choice for choice in ordered if choice.casefold() == word.casefold()]  # `Atlas` for `ATLAS`
    close = same or difflib.get_close_matches(word, ordered, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _vocabulary(what: str, value: str, declared: Mapping[str, object]) -> str | None:
    """Why `value` is not one of the declared names (none declared: any name goes)."""
    if not declared or value in declared:
        return None
    return f"no {what} {value!r} in rollout.yaml{_hint(value, declared)}"


def check_config(repo: Repository, doc: Document, config: Config) -> Iterator[Problem]:
    for release_type, name in config.type_policies.items():
        if name not in config.policies:
            yield repo.problem_at(
                doc.path,
                ("type_policies", release_type.value),
                "reference",
                f"type_policies: no policy named {name!r} in policies{_hint(name, config.policies)}",
            )
    for login in config.coordinators:
        if login == config.bot:
            yield repo.problem_at(doc.path, ("bot",), "value", "the bot cannot also be a coordinator")
    yield from _check_subscriptions(repo, doc, config)
    named: list[tuple[tuple[str, ...], object]] = [(("policy",), config.policy)]
    named += [(("policies", name), settings) for name, settings in config.policies.items()]
    for at, settings in named:
        federations = getattr(settings, "cover_federations", None)
        for index, name in enumerate(federations if isinstance(federations, list) else []):
            problem = _vocabulary("federation", name, config.federations)
            if problem is not None:
                yield repo.problem_at(doc.path, (*at, "cover_federations", index), "reference", problem)
        for index, name in enumerate(getattr(settings, "cover_workflows", None) or []):
            problem = _vocabulary("workflow", name, config.workflows)
            if problem is not None:
                yield repo.problem_at(doc.path, (*at, "cover_workflows", index), "reference", problem)


def _check_subscriptions(repo: Repository, doc: Document, config: Config) -> Iterator[Problem]:
    """Each subscriber once (as GitHub compares logins), to product families rollout.yaml declares."""
    seen: set[str] = set()
    for index, subscription in enumerate(config.subscriptions):
        who = subscription.who.casefold()
        if who in seen:
            yield repo.problem_at(
                doc.path,
                ("subscriptions", index, "who"),
                "value",
                f"{subscription.who} is subscribed twice: list all its groups and events in one entry",
            )
        seen.add(who)
        for at, group in enumerate(subscription.groups):
            problem = _vocabulary("group", group, config.groups)
            if problem is not None:
                yield repo.problem_at(doc.path, ("subscriptions", index, "groups", at), "reference", problem)


def check_team(repo: Repository, doc: Document, team: Team) -> Iterator[Problem]:
    config = repo.config()
    if config is None:
        return
    for index, group in enumerate(team.groups):
        if group not in config.groups:
            yield repo.problem_at(
                doc.path,
                ("groups", index),
                "reference",
                f"no group {group!r} in rollout.yaml{_hint(group, config.groups)}",
            )
    for index, platform in enumerate(team.platforms):
        if platform not in config.platforms:
            yield repo.problem_at(
                doc.path,
                ("platforms", index),
                "reference",
                f"no platform {platform!r} in rollout.yaml{_hint(platform, config.platforms)}",
            )
    for index, product in enumerate(team.products):
        if not repo.has_product(product):
            yield repo.problem_at(doc.path, ("products", index), "reference", f"no product {product!r} under releases/")
    federation = _vocabulary("federation", team.federation, config.federations)
    if federation is not None:
        yield repo.problem_at(doc.path, ("federation",), "reference", federation)
    if config.bot in team.members:
        yield repo.problem_at(doc.path, ("members",), "value", "the bot cannot be a member of a team")


def check_product(repo: Repository, doc: Document, product: Product) -> Iterator[Problem]:
    config = repo.config()
    if config is None:
        return
    if product.group not in config.groups:
        yield repo.problem_at(
            doc.path,
            ("group",),
            "reference",
            f"no group {product.group!r} in rollout.yaml{_hint(product.group, config.groups)}",
        )
    if product.policy is not None and product.policy not in config.policies:
        yield repo.problem_at(
            doc.path,
            ("policy",),
            "reference",
            f"no policy {product.policy!r} in rollout.yaml{_hint(product.policy, config.policies)}",
        )


def _version_matches(repo: Repository, doc: Document, written: str, named: str, where: str) -> Iterator[Problem]:
    """The version a record says must be the one its path names."""
    if written != named:
        yield repo.problem_at(doc.path, ("version",), "path-mismatch", f"version {written!r} does not match {where}")


def check_release(repo: Repository, doc: Document, release: Release) -> Iterator[Problem]:
    place = place_of(doc.path)
    assert place is not None
    product, version = place.ids
    yield from _version_matches(repo, doc, release.version, version, f"its folder {version!r}")
    if not repo.has_product(product):
        yield Problem(doc.path, 1, 1, "reference", f"no product.yaml in releases/{product}/")
    config = repo.config()
    if config is not None:
        for index, platform in enumerate(release.platforms):
            if platform not in config.platforms:
                yield repo.problem_at(
                    doc.path,
                    ("platforms", index),
                    "reference",
                    f"no platform {platform!r} in rollout.yaml{_hint(platform, config.platforms)}",
                )
        if release.policy is not None and release.policy not in config.policies:
            yield repo.problem_at(
                doc.path,
                ("policy",),
                "reference",
                f"no policy {release.policy!r} in rollout.yaml{_hint(release.policy, config.policies)}",
            )
    for index, team in enumerate(release.teams):
        if not repo.has_team(team):
            # The names beside it are listed only for the hint: a release whose teams all exist
            # does not depend on which other teams there are (rollout_tool.derived).
            yield repo.problem_at(
                doc.path, ("teams", index), "reference", f"no team {team!r} under teams/{_hint(team, repo.team_ids())}"
            )
    if release.supersedes is not None:
        if release.supersedes == version:
            yield repo.problem_at(doc.path, ("supersedes",), "value", "a release cannot supersede itself")
        elif identifiers.version_key(release.supersedes) >= identifiers.version_key(version):
            yield repo.problem_at(
                doc.path,
                ("supersedes",),
                "value",
                f"{version} cannot supersede {release.supersedes}: a release supersedes an older version",
            )
        elif not repo.has_release(product, release.supersedes):
            yield repo.problem_at(
                doc.path,
                ("supersedes",),
                "reference",
                f"supersedes {product}/{release.supersedes}, which does not exist",
            )
    yield from _check_history(repo, doc, release)


def _check_history(repo: Repository, doc: Document, release: Release) -> Iterator[Problem]:
    history = release.history
    if history[0].state is not State.candidate:
        yield repo.problem_at(
            doc.path, ("history", 0, "state"), "history", "history must start with the candidate state"
        )
    for index in range(1, len(history)):
        if history[index].date < history[index - 1].date:
            yield repo.problem_at(
                doc.path,
                ("history", index, "date"),
                "history",
                f"history goes back in time: {history[index].state.value} on {history[index].date} "
                f"is earlier than {history[index - 1].state.value} on {history[index - 1].date} before it",
            )
    if history[-1].state is not release.state:
        yield repo.problem_at(
            doc.path,
            ("state",),
            "history",
            f"state is {release.state.value} but the last history entry says {history[-1].state.value}",
        )
    wanted = required_decision(release.state)
    if wanted is not None and (release.decision is None or release.decision.action != wanted):
        yield repo.problem_at(
            doc.path,
            ("state",),
            "decision",
            f"a {release.state.value} release needs a last decision with action {wanted} and a reason",
        )
    for index, decision in enumerate(release.decisions):
        if decision.action in DECISION_STATES and not decision.reason.strip():
            yield repo.problem_at(
                doc.path, ("decisions", index, "reason"), "decision", f"a {decision.action} decision needs a reason"
            )
        if index and decision.date < release.decisions[index - 1].date:
            yield repo.problem_at(
                doc.path,
                ("decisions", index, "date"),
                "decision",
                f"decisions go back in time: {decision.action} on {decision.date} is earlier than"
                f" {release.decisions[index - 1].action} on {release.decisions[index - 1].date} before it",
            )
    if release.state is State.rollout and not release.teams:
        yield repo.problem_at(doc.path, ("teams",), "required", "a release in rollout needs assigned teams")


def check_report(repo: Repository, doc: Document, report: Report) -> Iterator[Problem]:
    place = place_of(doc.path)
    assert place is not None
    product, version, team = place.ids
    if report.team != team:
        yield repo.problem_at(
            doc.path, ("team",), "path-mismatch", f"team {report.team!r} does not match the file name {team}.yaml"
        )
    if not repo.has_team(team):
        yield repo.problem_at(
            doc.path, ("team",), "reference", f"no team {team!r} under teams/{_hint(team, repo.team_ids())}"
        )
    release = repo.release(product, version)
    if release is None:
        if not repo.has_release(product, version):
            yield Problem(doc.path, 1, 1, "reference", f"no release.yaml in releases/{product}/{version}/")
        return
    if team not in release.teams:
        yield repo.problem_at(
            doc.path,
            ("team",),
            "unassigned-team",
            f"team {team!r} is not assigned to {product}/{version}; a coordinator adds it to the release's teams first",
        )
    if report.revision > release.revision:
        yield repo.problem_at(
            doc.path,
            ("revision",),
            "revision",
            f"{product}/{version} has no revision {report.revision}: its current revision is {release.revision}",
        )
    config = repo.config()
    for at, environment in enumerate(report.environments):
        yield from _check_environment(repo, doc, ("environments", at), environment, release, f"{product}/{version}")
        if config is None:
            continue
        if environment.platform in config.platforms:
            arches = config.platforms[environment.platform].arches
            if environment.arch not in arches:
                yield repo.problem_at(
                    doc.path,
                    ("environments", at, "arch"),
                    "reference",
                    f"platform {environment.platform!r} has no arch {environment.arch!r} (it has {', '.join(arches)})",
                )
        for index, workflow in enumerate(environment.workflows):
            problem = _vocabulary("workflow", workflow, config.workflows)
            if problem is not None:
                yield repo.problem_at(doc.path, ("environments", at, "workflows", index), "reference", problem)
    if report.in_production_since is not None and report.in_production_since > report.date:
        yield repo.problem_at(
            doc.path, ("in_production_since",), "value", "in_production_since is after the report's date"
        )
    started = rollout_started(release)
    if started is not None and report.date < started and is_current(release, report):
        yield repo.problem_at(
            doc.path,
            ("date",),
            "value",
            f"dated {report.date}, before {product}/{version} entered rollout on {started}",
            Level.warning,
        )


def _check_environment(
    repo: Repository, doc: Document, at: tuple[str | int, ...], environment: Environment, release: Release, name: str
) -> Iterator[Problem]:
    if environment.platform not in release.platforms:
        yield repo.problem_at(
            doc.path,
            (*at, "platform"),
            "reference",
            f"{name} does not ship for {environment.platform!r} (it ships for {', '.join(release.platforms)})",
        )


def check_distribution(repo: Repository, doc: Document, distribution: Distribution) -> Iterator[Problem]:
    place = place_of(doc.path)
    assert place is not None
    _, version = place.ids
    yield from _version_matches(repo, doc, distribution.version, version, f"the file name {version}.yaml")
    # A release recalled after the distribution shipped it stays listed as it
    # was shipped: the published record is not rewritten, its notes show the recall.
    needed = {
        "accepted": (State.accepted, State.released, State.recalled),
        "released": (State.released, State.recalled),
    }
    for index, shipped in enumerate(distribution.releases):
        product, _, release_version = shipped.release.partition("/")
        release = repo.release(product, release_version)
        if release is None:
            if not repo.has_release(product, release_version):
                yield repo.problem_at(
                    doc.path,
                    ("releases", index, "release"),
                    "reference",
                    f"no release {shipped.release} under releases/",
                )
            continue
        if release.state not in needed[shipped.status]:
            yield repo.problem_at(
                doc.path,
                ("releases", index, "status"),
                "reference",
                f"{shipped.release} is {release.state.value}, so it cannot ship as {shipped.status}",
            )


CHECKS: dict[str, Callable[..., Iterator[Problem]]] = {
    "rollout": check_config,
    "team": check_team,
    "product": check_product,
    "release": check_release,
    "report": check_report,
    "distribution": check_distribution,
    "result": check_result,
    "waiver": check_waiver,
}


def check(repo: Repository, doc: Document) -> list[Problem]:
    if doc.record is None:
        return list(doc.problems)
    return [*doc.problems, *CHECKS[doc.kind](repo, doc, doc.record)]

"""What the bot writes on GitHub, made from the repository alone (no PyGithub here).

Every text the bot owns starts with a hidden marker naming what it is about,
so a later run finds it again by marker instead of by title or position.
Text taken from records goes through `markdown` and shows as written; the
only mentions are the bot's own, of logins the records validated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from rollout_tool import identifiers, markdown, policy
from rollout_tool.records import Config, Product, State, Team
from rollout_tool.repository import Repository, report_path

MARK = "rollout-as-code"
COMMENT_MARKER = f"<!-- {MARK}:pull-request -->"
TRACKING_LABEL = "rollout"
_TRACKING = re.compile(rf"<!-- {MARK}:tracking (\S+)/(\S+) -->")
_LABELS = re.compile(rf"<!-- {MARK}:labels (.*?) -->")


def tracking_marker(product: str, version: str) -> str:
    return f"<!-- {MARK}:tracking {product}/{version} -->"


def tracked_release(body: str | None) -> tuple[str, str] | None:
    """The release a tracking issue is about, from its marker."""
    found = _TRACKING.search(body or "")
    return (found.group(1), found.group(2)) if found else None


def reminder_marker(team: str, today: dt.date) -> str:
    return f"<!-- {MARK}:reminder {team} {today.isoformat()} -->"


def release_tag(product: str, version: str) -> str:
    return identifiers.tag_name(product, version)


def release_title(product: str, version: str) -> str:
    return f"{product} {version}"


@dataclass(frozen=True)
class Issue:
    title: str
    body: str


def _mentions(logins: list[str]) -> str:
    return " ".join(f"@{login}" for login in logins)


def tracking_issue(repo: Repository, product: str, version: str, today: dt.date) -> Issue:
    """The tracking issue of a release: who must report, who did, and why it is not done yet."""
    release = repo.release(product, version)
    if release is None:
        raise ValueError(f"{product}/{version} has no valid release.yaml")
    record = repo.product(product)
    name = record.name if record is not None else product
    reports = repo.reports(product, version)
    started = policy.rollout_started(release)
    lines = [
        tracking_marker(product, version),
        f"**{markdown.text(name)} {markdown.text(version)}** ({release.type.value}, revision {release.revision}):"
        f" {markdown.text(release.summary)}",
        "",
    ]
    if release.state is State.rollout:
        since = f" since {started.isoformat()}" if started else ""
        lines += [
            f"In staged rollout{since}. Early Adopter teams: install it, run it in production, then open a pull "
            f"request adding your report as {markdown.code(report_path(product, version, '<team>'))}.",
        ]
    else:
        lines += [f"This release has left staged rollout: it is now **{release.state.value}**."]
    lines += ["", "### Reports", ""]
    for team in sorted(set(release.teams) | set(reports)):
        team_record = repo.team(team)
        who = _mentions(list(team_record.members)) if team_record is not None else "(no such team)"
        site = f" ({markdown.text(team_record.site)})" if team_record is not None else ""
        label = markdown.code(team)
        report = reports.get(team)
        if report is None:
            lines.append(f"- [ ] {label}{site}: {who}")
        elif not policy.is_current(release, report):
            lines.append(
                f"- [ ] {label}{site}: {who}: its report is for revision {report.revision}; "
                f"revision {release.revision} needs a new one"
            )
        else:
            lines.append(
                f"- [x] {label}{site}: {who}: {report.verdict.value} "
                f"(revision {report.revision}, {report.date.isoformat()}, {markdown.text(', '.join(report.platforms))})"
            )
    if release.state is State.rollout:
        evaluation = policy.evaluate(repo, product, version, today)
        lines += ["", f"### Verdict: {evaluation.verdict.value}", ""]
        lines += [f"- {reason}" for reason in evaluation.reasons] or ["- nothing is missing"]
    # A title is plain text on GitHub: only a line break could do harm there.
    return Issue(f"Staged rollout: {' '.join(name.split())} {version}", "\n".join(lines) + "\n")


def reminder(repo: Repository, product: str, version: str, late: policy.LateTeam) -> str:
    config = repo.config()
    team = repo.team(late.team)
    record = repo.product(product)
    name = record.name if record is not None else product
    who = _mentions(list(team.members)) if team is not None else f"team {markdown.code(late.team)}"
    days = "1 day" if late.days_late == 1 else f"{late.days_late} days"
    lines = [
        f"{who}: the Early Adopter report of team {markdown.code(late.team)} on {markdown.text(name)}"
        f" {markdown.text(version)} was due on {late.due.isoformat()} and is {days} late. Please install it"
        f" and open a pull request adding {markdown.code(report_path(product, version, late.team))}.",
    ]
    if config is not None:
        contacts = _contacts(config, team, record)
        if contacts:
            lines += ["", f"{_mentions(contacts)}: for your federation or product family, a team is late."]
    if late.escalate and config is not None:
        lines += ["", f"{_mentions(list(config.coordinators))}: escalated to the coordinators ({days} late)."]
    return "\n".join(lines) + "\n"


def _contacts(config: Config, team: Team | None, product: Product | None) -> list[str]:
    """Whom rollout.yaml names to hear of a late team: its federation's and the product family's logins."""
    found: list[str] = []
    if team is not None and team.federation in config.federations:
        found += config.federations[team.federation].mention
    if product is not None and product.group in config.groups:
        found += config.groups[product.group].mention
    return list(dict.fromkeys(found))


PROPOSAL_MARKER = f"<!-- {MARK}:proposal -->"


def proposal(message: str) -> tuple[str, str]:
    """The title and body of the bot's pull request, from the message of the commit it proposes."""
    subject, _, details = message.strip().partition("\n")
    return subject.strip(), f"{PROPOSAL_MARKER}\n{details.strip()}\n"


def pull_request_comment(body: str, labels: list[str]) -> str:
    """The sticky comment: the check's text, with the labels the bot set remembered in it."""
    # JSON, with < and > escaped so that no label name can end the HTML comment.
    names = json.dumps(labels).replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{COMMENT_MARKER}\n<!-- {MARK}:labels {names} -->\n{body.rstrip()}\n"


def labels_set_by_bot(body: str | None) -> list[str]:
    found = _LABELS.search(body or "")
    if found is None:
        return []
    try:
        names = json.loads(found.group(1))
    except ValueError:
        return []
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []

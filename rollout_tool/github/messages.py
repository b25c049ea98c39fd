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

from rollout_tool import identifiers, markdown, notes, policy, reporting
from rollout_tool.digest import Digest
from rollout_tool.records import HANDLE_PATTERN, LOGIN_PATTERN, Config, Event, Product, State, Team
from rollout_tool.repository import Repository, report_path
from rollout_tool.subscriptions import Notice

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


def _mention(handle: str) -> str:
    """A deliberate mention of a login or an `@org/team` handle the records validated; anything else stays inert."""
    if re.match(LOGIN_PATTERN, handle) or re.match(HANDLE_PATTERN, handle):
        return handle if handle.startswith("@") else f"@{handle}"
    return markdown.code(handle)


def _mentions(logins: list[str]) -> str:
    return " ".join(_mention(login) for login in logins)


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


_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._+~/ -]|--")


def notice_marker(notice: Notice) -> str:
    # The key names records' identifiers; whatever else it could hold cannot end the comment.
    key = _KEY_UNSAFE.sub("_", notice.key)
    return f"<!-- {MARK}:notice {notice.event.value} {notice.product}/{notice.version} {key} -->"


def notice(repo: Repository, notice: Notice, subscribers: list[str]) -> str:
    """The comment telling a family's subscribers what they must act on, and why they are told."""
    record = repo.product(notice.product)
    name = f"{markdown.text(record.name if record is not None else notice.product)} {markdown.text(notice.version)}"
    spec = f"{notice.product}/{notice.version}"
    team = markdown.code(notice.team or "")
    revision = notice.revision
    if notice.event is Event.reject and notice.report_revision == revision:
        what = (
            f"team {team} rejects {name} (revision {revision}). A coordinator must decide: reject the release,"
            f" or accept it with a reason ({markdown.code(f'rollout accept {spec} --reason')})."
        )
    elif notice.event is Event.reject:
        what = (
            f"team {team} rejected revision {notice.report_revision} of {name} and has not reported on revision"
            f" {revision}: the rejection still blocks it. A coordinator must decide, or the team reports again."
        )
    elif notice.event is Event.stale_report:
        what = (
            f"{name} is now at revision {revision}: the report of team {team} is on revision"
            f" {notice.report_revision} and no longer counts. The team reports again on revision {revision}."
        )
    elif notice.event is Event.blocked_quorum:
        due = notice.due.isoformat() if notice.due is not None else "its due date"
        what = f"{name} (revision {revision}) was due on {due} and still lacks the reports its policy needs:"
        what += "".join(f"\n- {markdown.text(reason)}" for reason in notice.reasons)
    else:
        what = f"the required check {markdown.code(notice.check or '')} fails on {name} (revision {revision})."
    family = notes.group_name(repo.config(), record)
    return (
        f"{notice_marker(notice)}\n{_mentions(subscribers)}: {what}\n\n"
        f"<sub>You are told as subscribers of the {markdown.text(family)} family's"
        f" {markdown.code(notice.event.value)} events (`subscriptions` in rollout.yaml).</sub>\n"
    )


DIGEST_LABEL = "digest"
_DIGEST = re.compile(rf"<!-- {MARK}:digest (\d{{4}}-W\d{{2}}) -->")


def digest_marker(week: str) -> str:
    return f"<!-- {MARK}:digest {week} -->"


def digest_week(body: str | None) -> str | None:
    """The ISO week a digest issue is about, from its marker."""
    found = _DIGEST.search(body or "")
    return found.group(1) if found else None


def digest_issue(found: Digest) -> Issue:
    """The week's digest issue: the same Markdown as `rollout digest --format markdown`, under its marker."""
    body = reporting.markdown(found.markdown_template, result=found)
    return Issue(f"Needs action: week {found.week}", f"{digest_marker(found.week)}\n{body}")


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

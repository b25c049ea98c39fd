"""Reports without YAML: the issue form, and the bot that turns a submitted form into a report's pull request.

The form (`.github/ISSUE_TEMPLATE/ea-report.yml`) is generated from rollout.yaml
by `rollout form`, so its dropdowns always offer the platforms, arches and VO
workflows the records accept; `rollout form --check` fails when it is stale.

`rollout bot report-from-issue` reads the `issues` event. Who reports is the
issue's author as GitHub says in the event, never anything the body claims.
The body is untrusted text: GitHub renders a submitted form as `### Label`
sections, but anyone can edit an issue into anything, so every section is
found by its exact label, once and in the form's order, every value is capped
and checked, and names become paths only once they are identifiers. The
report is made by `rollout new report`'s code, judged by check-pr's rules for
the issue's author, and only then proposed: a pull request from
`ea-report/<issue>`, opened as the bot. The issue gets one comment, kept up to
date: the pull request, or the problems to fix by editing the issue.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from rollout_tool import identifiers, markdown
from rollout_tool.commands.check_pr import check_pr
from rollout_tool.commands.new import REPORT_FOOTER, report_fields, scaffold
from rollout_tool.errors import FatalError, RolloutError, UsageError
from rollout_tool.github import messages
from rollout_tool.problems import Level
from rollout_tool.records import LOGIN_PATTERN, Config, ReportVerdict
from rollout_tool.repository import CONFIG_PATH, Repository, report_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write, round_trip

if TYPE_CHECKING:
    from rollout_tool.github.client import Client

FORM_PATH = ".github/ISSUE_TEMPLATE/ea-report.yml"
LABEL = "ea-report"
BRANCH_PREFIX = "ea-report/"
NO_RESPONSE = "_No response_"  # what GitHub writes for a field left empty
MAX_BODY = 65_536  # GitHub's own limit on an issue body
MAX_INPUT = 200
MAX_TEXTAREA = 20_000
MAX_ISSUES = 50
SEVERITIES = ("low", "medium", "high", "critical")
COMMENT_MARKER = f"<!-- {messages.MARK}:ea-report -->"
_LOGIN = re.compile(LOGIN_PATTERN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEVERITY = re.compile(rf"^({'|'.join(SEVERITIES)})\s*:\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """One question of the form; `id` is the report field it fills."""

    id: str
    label: str
    kind: Literal["input", "dropdown", "textarea"]
    description: str
    required: bool = False
    multiple: bool = False
    placeholder: str = ""


FIELDS: tuple[Field, ...] = (
    Field("product", "Product", "input", "The product's folder name under releases/.", True, placeholder="arc-ce"),
    Field("version", "Version", "input", "The version you installed.", True, placeholder="6.19.0"),
    Field("team", "EA team", "input", "Your Early Adopter team (its file under teams/).", True, placeholder="my-site"),
    Field("verdict", "Verdict", "dropdown", "accept: it may go to production; reject: it must not.", True),
    Field("revision", "Revision tested", "input", "Leave empty for the release's current revision.", placeholder="1"),
    Field("platforms", "Platforms", "dropdown", "Every platform you ran it on.", True, multiple=True),
    Field("arch", "Architecture", "dropdown", "The architecture you ran it on.", True),
    Field("install", "Installation", "dropdown", "A fresh installation, or an upgrade of an earlier version.", True),
    Field("from_version", "Upgraded from", "input", "The version you upgraded from.", placeholder="6.18.0"),
    Field("services", "Services", "input", "The services you run it as, separated by commas.", placeholder="A-REX"),
    Field("batch_system", "Batch system", "input", "The batch system behind it.", placeholder="HTCondor"),
    Field("workflows", "VO workflows", "dropdown", "The VO workflows that ran through it.", multiple=True),
    Field(
        "in_production_since",
        "In production since",
        "input",
        "The day it went into production at your site (YYYY-MM-DD).",
        placeholder="2026-11-20",
    ),
    Field(
        "issues",
        "Known issues",
        "textarea",
        "One issue per line, as `severity: summary` (low, medium, high or critical; medium when left out)."
        " They are published in the release notes.",
    ),
    Field("comments", "Notes", "textarea", "Anything else the coordinators should know."),
)
_BY_LABEL = {f.label: f for f in FIELDS}
_ORDER = {f.id: n for n, f in enumerate(FIELDS)}


# ------------------------------------------------------------------ the form


def _options(config: Config, name: str) -> list[str] | None:
    if name == "verdict":
        return [v.value for v in ReportVerdict]
    if name == "install":
        return ["upgrade", "fresh"]
    if name == "platforms":
        return list(config.platforms)
    if name == "arch":
        return list(dict.fromkeys(a for p in config.platforms.values() for a in p.arches))
    if name == "workflows":
        return list(config.workflows) or None  # none declared: any name, typed in
    return None


def _element(config: Config, question: Field) -> dict[str, Any]:
    options = _options(config, question.id)
    attributes: dict[str, Any] = {"label": question.label, "description": question.description}
    kind = question.kind if options is not None or question.kind != "dropdown" else "input"
    if kind == "dropdown" and options is not None:
        if question.multiple:
            attributes["multiple"] = True
        attributes["options"] = options
        if question.id == "arch" and "x86_64" in options:
            attributes["default"] = options.index("x86_64")
    elif question.placeholder:
        attributes["placeholder"] = question.placeholder
    element: dict[str, Any] = {"type": kind, "id": question.id, "attributes": attributes}
    if question.required:
        element["validations"] = {"required": True}
    return element


def document(config: Config) -> dict[str, Any]:
    """The issue form, in GitHub's issue-form syntax, for this rollout.yaml."""
    intro = (
        "Report how a release in staged rollout ran at your site. The bot turns this issue into a pull request"
        " holding your report, checked like any other with your rights, and answers here. To fix a problem it"
        " names, edit this issue."
    )
    return {
        "name": "Early Adopter report",
        "description": "Report how a release in staged rollout ran at your site, without writing YAML.",
        "title": "EA report: ",
        "labels": [LABEL],
        "body": [{"type": "markdown", "attributes": {"value": intro}}, *(_element(config, q) for q in FIELDS)],
    }


def render(root: Path) -> bytes:
    config = Repository(WorkTree(root)).config()
    if config is None:
        raise FatalError(f"{CONFIG_PATH} is not valid: run `rollout validate` first")
    buffer = io.StringIO()
    round_trip().dump(document(config), buffer)
    header = "# Generated by `rollout form` from rollout.yaml's platforms and workflows; do not edit.\n"
    return (header + buffer.getvalue()).encode()


def is_current(root: Path) -> bool:
    target = root / FORM_PATH
    return target.is_file() and not target.is_symlink() and target.read_bytes() == render(root)


def write(root: Path) -> bool:
    """Write the form when it differs; True when it changed."""
    if is_current(root):
        return False
    atomic_write(root / FORM_PATH, render(root))
    return True


def new_report_url(config: Config, product: str, version: str) -> str | None:
    """The form, prefilled for a release, on the repository rollout.yaml's `url` names (None without one)."""
    if config.url is None:
        return None
    query = urlencode({"template": Path(FORM_PATH).name, "product": product, "version": version})
    return f"{config.url.rstrip('/').removesuffix('.git')}/issues/new?{query}"


# ------------------------------------------------------------------ the submitted form


@dataclass
class Parsed:
    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse(body: str) -> Parsed:
    """The answers of a submitted form by field id, or what is wrong with the body."""
    found = Parsed()
    if len(body) > MAX_BODY:
        found.problems.append(f"the issue is longer than {MAX_BODY} characters")
        return found
    current: str | None = None
    lines: dict[str, list[str]] = {}
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = line[4:].strip() if line.startswith("### ") else None
        question = _BY_LABEL.get(heading) if heading is not None else None
        if question is None:
            if current is not None:
                lines[current].append(line)
            continue
        if question.id in lines:
            found.problems.append(f"the section {question.label} appears twice: keep one")
            return found
        if current is not None and _ORDER[question.id] < _ORDER[current]:
            found.problems.append(f"the section {question.label} is out of the form's order")
            return found
        current = question.id
        lines[current] = []
    for question in FIELDS:
        value = "\n".join(lines.get(question.id, [])).strip()
        value = "" if value == NO_RESPONSE else value
        limit = MAX_TEXTAREA if question.kind == "textarea" else MAX_INPUT
        if len(value) > limit:
            found.problems.append(f"{question.label} is longer than {limit} characters")
        elif question.kind != "textarea" and "\n" in value:
            found.problems.append(f"{question.label} must be one line")
        elif question.required and not value:
            found.problems.append(f"{question.label} is missing")
        else:
            found.values[question.id] = value
    return found


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _issues(value: str) -> tuple[list[dict[str, Any]], list[str]]:
    issues: list[dict[str, Any]] = []
    for line in value.split("\n"):
        text = line.strip().removeprefix("- ").removeprefix("* ").strip()
        if not text:
            continue
        match = _SEVERITY.match(text)
        severity, summary = (match.group(1).lower(), match.group(2).strip()) if match else ("medium", text)
        issues.append({"summary": summary, "severity": severity, "known_issue": True})
    if len(issues) > MAX_ISSUES:
        return [], [f"Known issues lists {len(issues)} issues; at most {MAX_ISSUES}"]
    return issues, []


@dataclass(frozen=True)
class Submission:
    product: str
    version: str
    team: str
    path: str
    fields: dict[str, Any]


def submission(root: Path, values: Mapping[str, str], today: dt.date) -> Submission | list[str]:
    """The report's fields from the answers, through `rollout new report`'s own code, or the problems."""
    problems: list[str] = []
    product, version, team = values["product"], values["version"], values["team"]
    if not identifiers.is_identifier(product):
        problems.append(f"Product: “{product}” is not a product name (lower-case letters, digits, . _ -)")
    if not identifiers.is_version(version):
        problems.append(f"Version: “{version}” is not a version")
    if not identifiers.is_identifier(team):
        problems.append(f"EA team: “{team}” is not a team name (lower-case letters, digits, . _ -)")
    revision = values.get("revision", "")
    if revision and not (revision.isascii() and revision.isdigit() and len(revision) <= 4):
        problems.append(f"Revision tested: “{revision}” is not a number")
    since_text = values.get("in_production_since", "")
    since: dt.date | None = None
    if since_text:
        try:
            since = dt.date.fromisoformat(since_text) if _DATE.fullmatch(since_text) else None
        except ValueError:
            since = None
        if since is None:
            problems.append(f"In production since: “{since_text}” is not a date such as 2026-11-20")
    platforms = _names(values["platforms"])
    if not platforms:
        problems.append("Platforms names no platform")
    issues, issue_problems = _issues(values.get("issues", ""))
    problems += issue_problems
    if problems:
        return problems
    try:
        fields = report_fields(
            root,
            product=product,
            version=version,
            team=team,
            verdict=values["verdict"],
            platform=platforms[0],
            arch=values["arch"],
            install=values["install"],
            from_version=values.get("from_version") or None,
            workflows=_names(values.get("workflows", "")),
            today=today,
            services=_names(values.get("services", "")),
            batch_system=values.get("batch_system") or None,
            in_production_since=since,
            revision=int(revision) if revision else None,
        )
    except RolloutError as exc:
        return [str(exc)]
    [environment] = fields["environments"]
    # Copies, not shared lists: the YAML writer would make shared values anchors and aliases.
    fields["environments"] = [{**copy.deepcopy(environment), "platform": platform} for platform in platforms]
    fields["issues"] = issues
    if values.get("comments"):
        fields["comments"] = values["comments"]
    return Submission(product, version, team, report_path(product, version, team), fields)


# ------------------------------------------------------------------ the bot


def _git(root: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        input=stdin,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise FatalError(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _commit(root: Path, base: str, path: str, text: str, message: str, author: str, author_id: int, bot: str) -> str:
    """A commit on `base` that writes `path`, made beside the work tree (which stays as it is)."""
    with tempfile.TemporaryDirectory() as folder:
        index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        _git(root, "read-tree", base, env=index)
        blob = _git(root, "hash-object", "-w", "--stdin", stdin=text)
        _git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
        tree = _git(root, "write-tree", env=index)
    people = {
        # The reporter is the commit's author, as GitHub attributes it; the bot commits.
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author_id}+{author}@users.noreply.github.com",
        "GIT_COMMITTER_NAME": bot,
        "GIT_COMMITTER_EMAIL": f"{bot}@users.noreply.github.com",
    }
    return _git(root, "commit-tree", tree, "-p", base, "-m", message, env=people)


@dataclass(frozen=True)
class FiledIssue:
    """What the event says of the issue: the author comes from GitHub, never from the body."""

    number: int
    author: str
    author_id: int
    body: str
    labels: tuple[str, ...]
    open: bool
    pull_request: bool
    editor: str  # who opened or edited it: the event's sender


def filed_issue(event: Mapping[str, Any]) -> FiledIssue:
    issue = event.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        raise UsageError("the event holds no issue: run this on an `issues` event")
    user = issue.get("user")
    user = user if isinstance(user, dict) else {}
    login, user_id = user.get("login"), user.get("id")
    if not isinstance(login, str) or not _LOGIN.match(login) or not isinstance(user_id, int):
        raise UsageError(f"issue #{issue['number']}: the event names no author with a valid login")
    labels = tuple(
        str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict) and label.get("name")
    )
    body = issue.get("body")
    sender = event.get("sender")
    editor = sender.get("login") if isinstance(sender, dict) else None
    return FiledIssue(
        issue["number"],
        login,
        user_id,
        body if isinstance(body, str) else "",
        labels,
        issue.get("state") == "open",
        issue.get("pull_request") is not None,
        editor if isinstance(editor, str) and editor else login,
    )


def _refusal(number: int, problems: list[str]) -> str:
    # The problems repeat what the body said: inert text, whatever it holds.
    listed = "\n".join(f"- {markdown.text(problem)}" for problem in problems)
    return (
        f"{COMMENT_MARKER}\nThis form could not become a report yet:\n\n{listed}\n\n"
        "Edit this issue to fix them: the bot reads it again after each edit.\n"
    )


def _done(filed: FiledIssue, number: int, url: str) -> str:
    return (
        f"{COMMENT_MARKER}\nThank you, @{filed.author}: your report is in pull request #{number}"
        f" ({markdown.link(url, url)}). It is checked like any other and merges once the checks pass."
        " To change it, edit this issue.\n"
    )


def _pull_request_text(filed: FiledIssue, made: Submission) -> tuple[str, str]:
    title = f"EA report: {made.team} on {made.product}/{made.version}"
    body = (
        f"<!-- {messages.MARK}:ea-report {filed.number} -->\n"
        f"Closes #{filed.number}\n\n"
        f"The Early Adopter report of team {markdown.code(made.team)} on {markdown.code(made.product)}"
        f" {markdown.code(made.version)}, filed by @{filed.author} through the issue form:"
        f" {markdown.code(made.path)}.\n"
    )
    return title, body


def report_from_issue(
    client: Client, repo: Repository, root: Path, event: Mapping[str, Any], today: dt.date, remote: str
) -> Iterator[str]:
    """Turn the submitted form of the event's issue into a report's pull request, or say on the issue what is wrong."""
    # PyGithub only for the bot: the form and the dashboard's links to it do without.
    from rollout_tool.github import bot
    from rollout_tool.github.commands import push_branch

    filed = filed_issue(event)
    if LABEL not in filed.labels or not filed.open or filed.pull_request:
        yield f"#{filed.number}: not an open issue labelled {LABEL}; nothing to do"
        return
    login = bot.bot_login(client, repo)
    if filed.author == login:
        yield f"#{filed.number}: filed by the bot itself; nothing to do"
        return
    client.connect()
    issue = client.call(lambda: client.repo.get_issue(filed.number), f"read issue #{filed.number}")

    branch = f"{BRANCH_PREFIX}{filed.number}"

    def answer(problems: list[str]) -> Iterator[str]:
        yield f"#{filed.number}: refused ({len(problems)} problem{'s' if len(problems) != 1 else ''})"
        # A pull request made from an earlier version of the form no longer says what the author says.
        earlier = client.call(lambda: bot.open_pull(client, branch), f"look for the pull request from {branch}")
        if earlier is not None:
            client.call(lambda: earlier.edit(state="closed"), f"close pull request #{earlier.number}")
            yield f"#{earlier.number}: closed (the form was edited into one that is refused)"
        yield from bot.sticky_comment(client, login, issue, COMMENT_MARKER, _refusal(filed.number, problems))

    if filed.editor != filed.author:
        # Only the author's own words become the author's report, whoever else may edit the issue.
        yield from answer([f"{filed.editor} edited the form of {filed.author}: only its author's edits are read"])
        return
    parsed = parse(filed.body)
    if parsed.problems:
        yield from answer(parsed.problems)
        return
    made = submission(root, parsed.values, today)
    if isinstance(made, list):
        yield from answer(made)
        return
    scaffolded = scaffold(root, made.path, made.fields, footer=REPORT_FOOTER, write=False, replace=True)
    errors = [p for p in scaffolded.problems if p.level is Level.error]
    if errors:
        yield from answer([p.message for p in errors])
        return
    _git(root, "fetch", "--quiet", remote, "HEAD")
    base = _git(root, "rev-parse", "FETCH_HEAD")
    message = (
        f"EA report: {made.team} on {made.product}/{made.version}\n\nFiled through the issue form #{filed.number}."
    )
    head = _commit(root, base, made.path, scaffolded.text, message, filed.author, filed.author_id, login)
    if _git(root, "rev-parse", f"{head}^{{tree}}") == _git(root, "rev-parse", f"{base}^{{tree}}"):
        yield f"#{filed.number}: the report is already on the default branch as filed; nothing to do"
        return
    judged = check_pr(root, base, head, filed.author, today, opened=today)
    if not judged.allowed:
        yield from answer([p.message for p in judged.problems if p.level is Level.error])
        return
    pushed = push_branch(root, remote, branch, head)
    if pushed:
        yield pushed
    title, body = _pull_request_text(filed, made)
    yield from bot.pull_request(client, branch, title, body)
    pull = client.call(lambda: bot.open_pull(client, branch), f"find the pull request from {branch}")
    if pull is not None:
        yield from bot.sticky_comment(client, login, issue, COMMENT_MARKER, _done(filed, pull.number, pull.html_url))


def run(root: Path, env: Mapping[str, str], today: dt.date, remote: str) -> Iterator[str]:
    from rollout_tool.github.client import Client, Settings

    settings = Settings.from_env(env)
    return report_from_issue(Client(settings), Repository(WorkTree(root)), root, settings.event(), today, remote)

"""The bot's actions on GitHub. Each one looks before it writes, so a re-run changes nothing twice.

The actions are generators of what they did, one line per change, each
yielded once done: when a later step fails, the lines before it still tell
what was changed, and a re-run carries on from there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from github import UnknownObjectException

from rollout_tool import digest as digest_module
from rollout_tool import notes, policy, subscriptions
from rollout_tool.authorization import same_login
from rollout_tool.errors import FatalError, UsageError
from rollout_tool.github import messages
from rollout_tool.github.client import Client, IdentityError
from rollout_tool.records import State
from rollout_tool.repository import Repository
from rollout_tool.subscriptions import Notice


def _ours(items: Iterable[Any], login: str, marker: str) -> list[Any]:
    """Issues or comments the bot wrote that carry `marker`, oldest first."""
    return sorted(
        (item for item in items if item.user.login == login and marker in (item.body or "")),
        key=lambda item: item.id,
    )


def bot_login(client: Client, repo: Repository) -> str:
    """The login the token acts as, once it is the bot rollout.yaml names; refused before any write otherwise."""
    config = repo.config()
    if config is None:
        raise FatalError("rollout.yaml is not valid: run `rollout validate`")
    actual = client.identity()
    if not same_login(actual, config.bot):
        raise IdentityError(
            f"the token acts as {actual}, but rollout.yaml names the bot {config.bot}: nothing was written"
            f" (set `bot: {actual}` in rollout.yaml, or give the bot its own token)"
        )
    return actual


def _check_author(login: str, created: Any) -> list[str]:
    # An installation token of another app than the one named cannot be told
    # apart before it writes: stop at its first write rather than go on.
    actual = created.user.login
    if actual != login:
        raise IdentityError(
            f"{created.html_url} was written as {actual}, not as the bot {login}: set ROLLOUT_BOT_APP to the app's slug"
        )
    return []


# ------------------------------------------------------------------ pull request comment


def comment(client: Client, repo: Repository, number: int, body: str, labels: list[str]) -> Iterator[str]:
    """Post or update the one sticky comment on pull request `number` and set the check's labels."""
    login = bot_login(client, repo)
    client.connect()
    issue = client.call(lambda: client.repo.get_issue(number), f"read pull request #{number}")
    if issue.pull_request is None:
        raise UsageError(f"#{number} is an issue, not a pull request")
    wanted = list(dict.fromkeys(labels))

    def ours() -> Any | None:
        found = _ours(issue.get_comments(), login, messages.COMMENT_MARKER)
        return found[0] if found else None

    existing = client.call(ours, f"read the comments of #{number}")
    previous = messages.labels_set_by_bot(existing.body if existing is not None else None)

    # Labels first: the comment records which labels are ours, so it is written last.
    current = {label.name for label in issue.labels}
    missing = [name for name in wanted if name not in current]
    if missing:
        client.call(lambda: issue.add_to_labels(*missing), f"label #{number}")
        yield f"#{number}: added label{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    for name in sorted(set(previous) - set(wanted)):
        if name in current:

            def remove(name: str = name) -> None:
                # Already gone: removed by a person, or by an attempt whose answer was lost.
                with contextlib.suppress(UnknownObjectException):
                    issue.remove_from_labels(name)

            client.call(remove, f"remove label {name} from #{number}")
            yield f"#{number}: removed label {name}"

    text = messages.pull_request_comment(body, wanted)
    yield from _write_comment(client, login, issue, ours, existing, text)


def _write_comment(
    client: Client, login: str, issue: Any, ours: Callable[[], Any | None], existing: Any | None, text: str
) -> Iterator[str]:
    """Bring the bot's comment `existing` (found by `ours`) up to date with `text`, or post it."""
    number = issue.number
    if existing is not None:
        if existing.body != text:
            client.call(lambda: existing.edit(text), f"update the comment on #{number}")
            yield f"#{number}: updated comment {existing.html_url}"
        return
    created, _ = client.ensure(ours, lambda: issue.create_comment(text), f"the comment on #{number}")
    yield f"#{number}: posted comment {created.html_url}"
    yield from _check_author(login, created)


def sticky_comment(client: Client, login: str, issue: Any, marker: str, text: str) -> Iterator[str]:
    """The bot's one comment carrying `marker` on `issue`, posted or brought up to date with `text`."""

    def ours() -> Any | None:
        found = _ours(issue.get_comments(), login, marker)
        return found[0] if found else None

    existing = client.call(ours, f"read the comments of #{issue.number}")
    yield from _write_comment(client, login, issue, ours, existing, text)


# ------------------------------------------------------------------ the bot's pull request


def propose(
    client: Client, repo: Repository, branch: str, message: str, push: Callable[[], str | None]
) -> Iterator[str]:
    """The one open pull request from `branch` to the default branch, described by `message`, set to auto-merge.

    `push` puts the commit on the branch (after the token is known to be the bot's) and says what it did.
    """
    bot_login(client, repo)
    config = repo.config()
    if config is not None and config.bot_changes != "pull-request":
        raise UsageError(
            f"rollout.yaml's bot_changes is {config.bot_changes}: the bot pushes its transitions"
            " (set `bot_changes: pull-request` to have them proposed)"
        )
    pushed = push()
    if pushed:
        yield pushed
    title, body = messages.proposal(message)
    yield from pull_request(client, branch, title, body)


def open_pull(client: Client, branch: str) -> Any | None:
    """The open pull request from `branch` to the default branch, if there is one (run it through `client.call`)."""
    owner = client.settings.repository.split("/")[0]
    pulls = client.repo.get_pulls(state="open", head=f"{owner}:{branch}", base=client.repo.default_branch)
    return next((pull for pull in pulls if pull.head.ref == branch), None)


def pull_request(client: Client, branch: str, title: str, body: str) -> Iterator[str]:
    """The one open pull request from the bot's `branch` to the default branch, as described, set to auto-merge."""
    client.connect()
    base = client.repo.default_branch

    def create() -> Any:
        return client.repo.create_pull(base=base, head=branch, title=title, body=body)

    pull, created = client.ensure(lambda: open_pull(client, branch), create, f"the pull request from {branch}")
    if created:
        yield f"opened pull request #{pull.number} from {branch}"
    elif pull.title != title or pull.body != body:
        client.call(lambda: pull.edit(title=title, body=body), f"update pull request #{pull.number}")
        yield f"#{pull.number}: updated the description"
    if pull.raw_data.get("auto_merge") is None:
        client.call(lambda: pull.enable_automerge(merge_method="MERGE"), f"enable auto-merge on #{pull.number}")
        yield f"#{pull.number}: auto-merge enabled"


# ------------------------------------------------------------------ tracking issues, tags and releases


def _list_tracking_issues(client: Client, login: str) -> dict[tuple[str, str], Any]:
    """The bot's tracking issues by release (one listing, to be run through `client.call`)."""
    found: dict[tuple[str, str], Any] = {}
    # Filtered by author here: the creator= filter and app logins such as github-actions[bot] disagree.
    issues = client.repo.get_issues(state="all", labels=[messages.TRACKING_LABEL])
    for issue in sorted(issues, key=lambda i: i.number):
        release = messages.tracked_release(issue.body)
        if release is not None and issue.user.login == login and issue.pull_request is None:
            found.setdefault(release, issue)  # the oldest one wins when a person copied the marker
    return found


def _tracking_issues(client: Client, login: str) -> dict[tuple[str, str], Any]:
    return client.call(lambda: _list_tracking_issues(client, login), "list the tracking issues")


def _ensure_tracking_issue(
    client: Client, repo: Repository, login: str, product: str, version: str, today: dt.date, known: Any | None
) -> tuple[Any, list[str]]:
    """The tracking issue of a release in rollout, created or brought up to date."""
    wanted = messages.tracking_issue(repo, product, version, today)
    if known is None:

        def find() -> Any | None:
            return _list_tracking_issues(client, login).get((product, version))

        def create() -> Any:
            return client.repo.create_issue(wanted.title, body=wanted.body, labels=[messages.TRACKING_LABEL])

        issue, created = client.ensure(find, create, f"the tracking issue of {product}/{version}")
        if created:
            return issue, [f"{product}/{version}: opened tracking issue #{issue.number}", *_check_author(login, issue)]
        known = issue
    if known.body == wanted.body and known.title == wanted.title:
        return known, []
    client.call(lambda: known.edit(title=wanted.title, body=wanted.body), f"update issue #{known.number}")
    return known, [f"{product}/{version}: updated tracking issue #{known.number}"]


def _close_tracking_issue(client: Client, repo: Repository, issue: Any, product: str, version: str) -> list[str]:
    release = repo.release(product, version)
    if release is None:
        if repo.has_release(product, version):
            return []  # invalid for now; `rollout validate` says why, and the issue waits
        body = (
            f"{messages.tracking_marker(product, version)}\n{product}/{version} no longer exists in the repository.\n"
        )
        title = issue.title
    else:
        # `today` only shapes the verdict, which a release out of rollout does not show.
        wanted = messages.tracking_issue(repo, product, version, dt.date.min)
        body, title = wanted.body, wanted.title
    # GitHub's reasons: it went through (accepted, released) or it will not (rejected, withdrawn, removed).
    went_through = release is not None and release.state in (State.accepted, State.released, State.recalled)
    reason = "completed" if went_through else "not_planned"
    client.call(
        lambda: issue.edit(title=title, body=body, state="closed", state_reason=reason),
        f"close issue #{issue.number}",
    )
    state = release.state.value if release is not None else "removed"
    return [f"{product}/{version}: closed tracking issue #{issue.number} ({state})"]


@dataclass
class Published:
    """The tags and GitHub Releases already there: two listings instead of two requests per release."""

    tags: set[str]
    releases: dict[str, Any]

    @classmethod
    def read(cls, client: Client) -> Published:
        tags = client.call(
            lambda: {ref.ref.removeprefix("refs/tags/") for ref in client.repo.get_git_matching_refs("tags/")},
            "list the tags",
        )
        releases = client.call(lambda: {r.tag_name: r for r in client.repo.get_releases()}, "list the GitHub Releases")
        return cls(tags, releases)


def _publish(
    client: Client,
    repo: Repository,
    product: str,
    version: str,
    today: dt.date,
    sha: str | None,
    published: Published,
) -> Iterator[str]:
    """The tag `<product>/<version>` and a GitHub Release with the release notes."""
    tag = messages.release_tag(product, version)

    def find_tag() -> Any | None:
        try:
            ref = client.repo.get_git_ref(f"tags/{tag}")
            ref.object  # noqa: B018  # the ref is lazy: reading it makes the request
            return ref
        except UnknownObjectException:
            return None

    if tag not in published.tags:
        if not sha:
            raise UsageError(f"GITHUB_SHA is not set: cannot tag {tag}")
        _, created = client.ensure(find_tag, lambda: client.repo.create_git_ref(f"refs/tags/{tag}", sha), f"tag {tag}")
        if created:
            yield f"{product}/{version}: tagged {tag} at {sha[:12]}"

    body = notes.release_notes(repo, product, version, today)
    name = messages.release_title(product, version)

    def find_release() -> Any | None:
        try:
            return client.repo.get_release(tag)
        except UnknownObjectException:
            return None

    existing = published.releases.get(tag)
    if existing is None:
        release, created = client.ensure(
            find_release,
            lambda: client.repo.create_git_release(tag, name=name, message=body, target_commitish=sha or "main"),
            f"the GitHub Release {tag}",
        )
        if created:
            yield f"{product}/{version}: published GitHub Release {release.html_url}"
            return
        existing = release
    if existing.body != body or existing.name != name:
        client.call(
            lambda: existing.update_release(
                name=name, message=body, draft=existing.draft, prerelease=existing.prerelease
            ),
            f"update the GitHub Release {tag}",
        )
        yield f"{product}/{version}: updated GitHub Release {existing.html_url}"


def sync(client: Client, repo: Repository, today: dt.date, sha: str | None) -> Iterator[str]:
    """Tracking issues for releases in rollout (with their notices), closed when they leave it; tags and Releases."""
    login = bot_login(client, repo)
    client.connect()
    tracking = _tracking_issues(client, login)
    in_rollout: set[tuple[str, str]] = set()
    published: Published | None = None
    for product, version, release in sorted(repo.releases(), key=lambda r: (r[0], r[1])):
        if release.state is State.rollout:
            in_rollout.add((product, version))
            issue, lines = _ensure_tracking_issue(
                client, repo, login, product, version, today, tracking.get((product, version))
            )
            yield from lines
            notices = _notices(repo, product, version, today)
            yield from _post_once(client, login, issue, _notice_posts(repo, notices, issue.number))
        elif release.state is State.released:
            published = published or Published.read(client)
            yield from _publish(client, repo, product, version, today, sha, published)
    for (product, version), issue in sorted(tracking.items()):
        if issue.state == "open" and (product, version) not in in_rollout:
            yield from _close_tracking_issue(client, repo, issue, product, version)


# ------------------------------------------------------------------ reminders and notices


@dataclass(frozen=True)
class Post:
    """A comment the bot writes once: found again by its marker, told as `line` when written."""

    marker: str
    text: str
    line: str


def _post_once(client: Client, login: str, issue: Any, posts: list[Post]) -> Iterator[str]:
    """Each post on `issue` unless the bot wrote its marker there already (one listing of the comments)."""
    if not posts:
        return
    comments = client.call(lambda: list(issue.get_comments()), f"read the comments of #{issue.number}")
    for post in posts:
        if _ours(comments, login, post.marker):
            continue

        def find(marker: str = post.marker) -> Any | None:
            found = _ours(issue.get_comments(), login, marker)
            return found[0] if found else None

        def create(text: str = post.text) -> Any:
            return issue.create_comment(text)

        client.ensure(find, create, f"a comment on #{issue.number}")
        yield post.line


def _reminders(
    repo: Repository, product: str, version: str, late_teams: list[policy.LateTeam], today: dt.date, number: int
) -> list[Post]:
    posts = []
    for late in sorted(late_teams, key=lambda t: t.team):
        marker = messages.reminder_marker(late.team, today)
        who = " (escalated to the coordinators)" if late.escalate else ""
        line = f"{product}/{version}: reminded team {late.team} on #{number}{who}"
        posts.append(Post(marker, f"{marker}\n{messages.reminder(repo, product, version, late)}", line))
    return posts


def _notices(
    repo: Repository, product: str, version: str, today: dt.date, evaluation: policy.Evaluation | None = None
) -> list[tuple[Notice, list[str]]]:
    """The release's notices that someone subscribed to: only those are ever posted."""
    config, release = repo.config(), repo.release(product, version)
    if config is None or release is None or not config.subscriptions:
        return []
    evaluation = evaluation or policy.evaluate(repo, product, version, today)
    record = repo.product(product)
    group = record.group if record is not None else None
    found = []
    for notice in subscriptions.notices(release, evaluation, today):
        who = subscriptions.subscribers(config, group, notice.event)
        if who:
            found.append((notice, who))
    return found


def _notice_posts(repo: Repository, notices: list[tuple[Notice, list[str]]], number: int) -> list[Post]:
    posts = []
    for notice, who in notices:
        line = f"{notice.product}/{notice.version}: told {', '.join(who)} on #{number} ({notice.event.value})"
        posts.append(Post(messages.notice_marker(notice), messages.notice(repo, notice, who), line))
    return posts


def remind(client: Client, repo: Repository, today: dt.date) -> Iterator[str]:
    """One comment per late team per day on the release's tracking issue; coordinators when escalated.

    Subscribers of the release's family are told, once each, what they must act on.
    """
    login = bot_login(client, repo)
    client.connect()
    tracking: dict[tuple[str, str], Any] | None = None
    for product, version, release in sorted(repo.releases(), key=lambda r: (r[0], r[1])):
        if release.state is not State.rollout:
            continue
        evaluation = policy.evaluate(repo, product, version, today)
        notices = _notices(repo, product, version, today, evaluation)
        if not evaluation.late and not notices:
            continue
        if tracking is None:
            tracking = _tracking_issues(client, login)
        issue, lines = _ensure_tracking_issue(
            client, repo, login, product, version, today, tracking.get((product, version))
        )
        yield from lines
        posts = _reminders(repo, product, version, evaluation.late, today, issue.number)
        yield from _post_once(client, login, issue, posts + _notice_posts(repo, notices, issue.number))


# ------------------------------------------------------------------ the weekly digest


def _digest_issues(client: Client, login: str) -> dict[str, Any]:
    """The bot's digest issues by ISO week, the oldest one of a week winning (one listing)."""

    def listing() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for issue in sorted(
            client.repo.get_issues(state="all", labels=[messages.DIGEST_LABEL]), key=lambda i: i.number
        ):
            week = messages.digest_week(issue.body)
            if week is not None and issue.user.login == login and issue.pull_request is None:
                found.setdefault(week, issue)
        return found

    return client.call(listing, "list the digest issues")


def digest(client: Client, repo: Repository, today: dt.date) -> Iterator[str]:
    """This ISO week's one digest issue, opened or brought up to date; earlier weeks' open digests closed.

    A week with nothing that needs action opens nothing.
    """
    login = bot_login(client, repo)
    client.connect()
    found = digest_module.digest(repo, today)
    wanted = messages.digest_issue(found)
    issues = _digest_issues(client, login)
    current: Any = issues.get(found.week)
    if found.items and current is None:

        def find() -> Any | None:
            return _digest_issues(client, login).get(found.week)

        def create() -> Any:
            return client.repo.create_issue(wanted.title, body=wanted.body, labels=[messages.DIGEST_LABEL])

        current, created = client.ensure(find, create, f"the digest issue of {found.week}")
        if created:
            yield f"{found.week}: opened digest issue #{current.number}"
            yield from _check_author(login, current)
    if current is not None and (current.body != wanted.body or current.title != wanted.title):
        # Emptied during its week: it says so and is closed; filled again: it is reopened.
        state = "open" if found.items else "closed"
        issue = current
        client.call(
            lambda: issue.edit(title=wanted.title, body=wanted.body, state=state), f"update issue #{issue.number}"
        )
        yield f"{found.week}: {'updated' if found.items else 'closed'} digest issue #{issue.number}"
    for week, issue in sorted(issues.items()):
        if week < found.week and issue.state == "open":

            def close(issue: Any = issue) -> None:
                issue.edit(state="closed")

            client.call(close, f"close issue #{issue.number}")
            why = f"#{current.number} replaces it" if found.items and current is not None else "a week has passed"
            yield f"{week}: closed digest issue #{issue.number}: {why}"

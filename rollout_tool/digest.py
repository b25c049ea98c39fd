"""The weekly digest: only what needs action, oldest first, each with who acts.

Its items are the dashboard's attention view (`attention.attention`, which
reads who acts next from the policy's `NextStep`): a blocked release, a late
team, a release the policy allows a coordinator to accept, an accepted one
to release. Nothing here decides who acts. The digest names people as code
spans, never as mentions: only the bot's notices mention subscribers.

`rollout digest` prints it (text, JSON or Markdown); `rollout bot digest`
keeps one issue per ISO week with the same Markdown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

from rollout_tool import attention, feed, markdown, notes, policy
from rollout_tool.errors import EXIT_OK, RefusedError
from rollout_tool.problems import Problem
from rollout_tool.records import State
from rollout_tool.repository import Repository

# The states the attention view can hold an item for; the others are never read.
_NEEDING = (State.rollout, State.accepted)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def who(actor: attention.Actor) -> str:
    """Who acts, in inert Markdown: logins as code spans, which GitHub never turns into mentions."""
    logins = ", ".join(markdown.code(login) for login in actor.logins)
    if actor.role == "bot":
        return "the bot"
    named = f"team {markdown.code(actor.team)}" if actor.team is not None else actor.role
    return f"{named} ({logins})" if logins else named


@dataclass(frozen=True)
class Digest:
    """What needs action in the week of `today`: a command result, as every reporter takes it."""

    today: dt.date
    items: list[attention.Item]
    site_url: str | None = None
    problems: list[Problem] = field(default_factory=list)
    markdown_template = "digest.md.j2"

    @property
    def week(self) -> str:
        return iso_week(self.today)

    def waited(self, item: attention.Item) -> int:
        return (self.today - item.since).days

    def days(self, count: int) -> str:
        return policy.plural(count, "day")

    def link(self, item: attention.Item) -> str:
        """The release's name, linked to its dashboard page when rollout.yaml says where the site is."""
        name = item.facts.name
        if self.site_url is None:
            return markdown.text(name)
        page = quote(feed.release_link(item.facts.product_id, item.facts.version))
        return markdown.link(self.site_url.rstrip("/") + "/" + page, name)

    def who(self, item: attention.Item) -> str:
        return who(item.actor)

    def lines(self) -> list[str]:
        found = []
        for item in self.items:
            actor = item.actor
            acts = f"team {actor.team}" if actor.team is not None else actor.role
            logins = f" ({', '.join(actor.logins)})" if actor.logins else ""
            spec = f"{item.facts.product_id}/{item.facts.version}"
            found.append(f"{item.since.isoformat()} {item.kind}: {spec}: {item.what}; who acts: {acts}{logins}")
        return found

    def notices(self) -> list[tuple[str, str]]:
        return [("needs action", line) for line in self.lines()]

    def closing(self) -> tuple[str, bool]:
        count = len(self.items)
        if not count:
            return f"week {self.week}: nothing needs action", True
        return f"week {self.week}: {count} item{'s' if count > 1 else ''} need{'s' if count == 1 else ''} action", True

    def as_dict(self) -> dict[str, object]:
        return {
            "week": self.week,
            "generated": self.today.isoformat(),
            "items": [
                {
                    "kind": item.kind,
                    "product": item.facts.product_id,
                    "version": item.facts.version,
                    "since": item.since.isoformat(),
                    "days_waiting": self.waited(item),
                    "what": item.what,
                    "who": item.actor.as_dict(),
                    "days_late": item.days_late,
                    "escalated": item.escalated,
                }
                for item in self.items
            ],
        }

    def exit_code(self) -> int:
        return EXIT_OK


def digest(repo: Repository, today: dt.date) -> Digest:
    config = repo.config()
    if config is None:
        raise RefusedError("rollout.yaml is not valid: run `rollout validate` and fix it first")
    facts = []
    for product, version, release in sorted(repo.releases(), key=lambda r: (r[0], r[1])):
        if release.state in _NEEDING:
            facts.append(notes.release_facts(repo, product, version, today))
    involved = {t for f in facts for t in [*f.release.teams, *(line.team for line in f.reports)]}
    teams = {team: record for team in sorted(involved) if (record := repo.team(team)) is not None}
    return Digest(today, attention.attention(config, facts, teams), config.site_url)

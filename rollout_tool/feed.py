"""Atom feeds: published releases, and the known issues found in them.

Sites subscribe to these instead of a mailing list. Built with ElementTree so
the XML is well-formed whatever the records hold; ids are derived from names
(uuid5), and every timestamp comes from the records, so the same repository
gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rollout_tool.notes import PUBLISHED, KnownIssue, ReleaseFacts
from rollout_tool.records import Config, State

ATOM = "http://www.w3.org/2005/Atom"
RELEASES_FEED = "feed.xml"
# A feed carries the latest news, not the archive: readers fetch it often.
FEED_LIMIT = 200
ISSUES_FEED = "known-issues.xml"
# Known issues found while a release is still with its Early Adopters.
TESTING_ISSUES_FEED = "known-issues-in-testing.xml"
# What happened to a release that subscribers hear of: each is an entry of its own.
NEWS = (State.released, State.recalled, State.rejected)

ET.register_namespace("", ATOM)

RenderHtml = Callable[[ReleaseFacts], str]
# Characters XML 1.0 cannot carry at all; YAML's "\x01" escapes can put them in a record.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: dt.date
    link: str
    summary: str
    content_html: str


def family_feed(group: str) -> str:
    """The feed of one product family: its releases, recalls, rejections and known issues."""
    return f"feed-{group}.xml"


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def entry_id(config: Config, *parts: str) -> str:
    """A stable id: the same release keeps its id across builds and hosts."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join([config.url or f"rollout:{config.name}", *parts])).urn


def release_link(product: str, version: str) -> str:
    """A release's page on the dashboard, relative to the site's top."""
    return f"releases/{product}/{version}.html"


def published(facts: Iterable[ReleaseFacts], limit: int = FEED_LIMIT) -> list[ReleaseFacts]:
    """The latest released and recalled releases, newest news first."""
    chosen = [f for f in facts if f.release.state in PUBLISHED]
    return sorted(chosen, key=lambda f: (-f.last_change.toordinal(), f.product_id, f.version))[:limit]


def news(facts: Iterable[ReleaseFacts], limit: int = FEED_LIMIT) -> list[tuple[ReleaseFacts, State, dt.date]]:
    """Every release, recall and rejection the history records, newest first.

    A recall is news of its own: the release's entry stays as it was, so a
    reader who saw it released also sees it recalled.
    """
    found = [
        (f, state, step.date)
        for f in facts
        for step in f.release.history
        if (state := step.state) in NEWS and step.revision is None
    ]
    found.sort(key=lambda item: (-item[2].toordinal(), item[0].product_id, item[0].version, NEWS.index(item[1])))
    return found[:limit]


def release_entries(config: Config, facts: Iterable[ReleaseFacts], render: RenderHtml) -> list[FeedEntry]:
    entries = []
    for f, state, day in news(facts):
        # A release's first news keeps the id it always had; a recall or a rejection is another entry.
        parts = ("releases", f.product_id, f.version) + (() if state is State.released else (state.value,))
        entries.append(
            FeedEntry(
                id=entry_id(config, *parts),
                title=f"{f.name} {state.value}",
                updated=day,
                link=release_link(f.product_id, f.version),
                summary=_news_summary(f, state),
                content_html=render(f),
            )
        )
    return entries


def _news_summary(f: ReleaseFacts, state: State) -> str:
    decision = next(
        (
            d
            for d in reversed(f.release.decisions)
            if d.action == {"recalled": "recall", "rejected": "reject"}.get(state.value)
        ),
        None,
    )
    if decision is not None and decision.reason.strip():
        return f"{f.release.summary}. {state.value.capitalize()}: {decision.reason.strip()}"
    return f.release.summary


def issue_entries(
    config: Config, facts: Iterable[ReleaseFacts], states: frozenset[State] = PUBLISHED
) -> list[FeedEntry]:
    """Known issues of releases in `states`; an issue keeps its id when its text is edited."""
    entries: list[FeedEntry] = []
    chosen = sorted(
        (f for f in facts if f.release.state in states),
        key=lambda f: (-f.last_change.toordinal(), f.product_id, f.version),
    )
    for f in chosen:
        if len(entries) >= FEED_LIMIT:
            break
        for issue in f.known_issues:
            entries.append(
                FeedEntry(
                    id=entry_id(config, "known-issues", f.product_id, f.version, issue.team, str(issue.index)),
                    title=f"{f.name}: {issue.summary}",
                    updated=f.last_change,
                    link=release_link(f.product_id, f.version) + "#known-issues",
                    summary=_issue_text(issue),
                    content_html="",
                )
            )
    return entries


def _issue_text(issue: KnownIssue) -> str:
    parts = [f"Severity {issue.severity}, found by {issue.site} on {issue.platform}."]
    if issue.details:
        parts.append(issue.details.strip())
    parts.append(f"Workaround: {issue.workaround.strip()}" if issue.workaround else "No workaround is known.")
    return "\n\n".join(parts)


def atom(
    config: Config, *, title: str, name: str, entries: list[FeedEntry], base: str, today: dt.date, alternate: str
) -> bytes:
    """One Atom document; `base` (the site's address, may be empty) resolves its relative links."""
    feed = ET.Element(_tag("feed"))
    if base:
        feed.set("{http://www.w3.org/XML/1998/namespace}base", base)
    ET.SubElement(feed, _tag("id")).text = entry_id(config, name)
    ET.SubElement(feed, _tag("title")).text = xml_text(title)
    # The newest entry dates the feed; an empty feed is dated by the build's today.
    updated = max((e.updated for e in entries), default=today)
    ET.SubElement(feed, _tag("updated")).text = _stamp(updated)
    author = ET.SubElement(feed, _tag("author"))
    ET.SubElement(author, _tag("name")).text = xml_text(f"{config.name} coordinators")
    ET.SubElement(feed, _tag("link"), rel="self", href=name, type="application/atom+xml")
    ET.SubElement(feed, _tag("link"), rel="alternate", href=alternate, type="text/html")
    ET.SubElement(feed, _tag("generator")).text = "rollout"
    for e in entries:
        item = ET.SubElement(feed, _tag("entry"))
        ET.SubElement(item, _tag("id")).text = e.id
        ET.SubElement(item, _tag("title")).text = xml_text(e.title)
        ET.SubElement(item, _tag("updated")).text = _stamp(e.updated)
        ET.SubElement(item, _tag("link"), rel="alternate", href=e.link, type="text/html")
        ET.SubElement(item, _tag("summary"), type="text").text = xml_text(e.summary)
        if e.content_html:
            ET.SubElement(item, _tag("content"), type="html").text = xml_text(e.content_html)
    ET.indent(feed)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"

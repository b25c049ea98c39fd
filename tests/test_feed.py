"""The Atom feeds: parsed as XML and checked against what Atom (RFC 4287) requires."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rollout_tool import feed
from rollout_tool.notes import PUBLISHED
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.publishing import HOSTILE, build_rich_repo
from tests.support.repos import Repo

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
OWN = Path(__file__).resolve().parent.parent


@pytest.fixture
def rich(tmp_path: Path) -> Repo:
    return build_rich_repo(tmp_path / "rich")


def _build(repo_root: Path, out: Path) -> Path:
    from tests.support.repos import run_rollout

    result = run_rollout("site", "--out", str(out), "--today", "2026-11-25", cwd=repo_root)
    assert result.returncode == 0, result.stderr
    return out


def _check_atom(path: Path) -> ET.Element:
    """Parse a feed and check the elements RFC 4287 requires; return the root."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    assert RFC3339.match(root.findtext(f"{A}updated") or "")
    assert root.find(f"{A}author/{A}name") is not None  # no entry has its own author
    assert root.find(f"{A}link[@rel='self']") is not None
    ids = []
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{A}updated") or "")
        assert (entry.findtext(f"{A}id") or "").startswith("urn:uuid:")
        assert entry.find(f"{A}link[@rel='alternate']") is not None
        assert entry.findtext(f"{A}summary")
        ids.append(entry.findtext(f"{A}id"))
    assert len(ids) == len(set(ids))
    entries = root.findall(f"{A}entry")
    if entries:
        assert root.findtext(f"{A}updated") == max(e.findtext(f"{A}updated") or "" for e in entries)
    return root


def _published(repo_root: Path) -> list[tuple[str, str]]:
    repo = Repository(WorkTree(repo_root))
    return sorted((p, v) for p, v, release in repo.releases() if release.state in PUBLISHED)


NEWS = ("released", "recalled", "rejected")


def _news(repo_root: Path) -> list[tuple[str, str, str, dt.date]]:
    """Every release, recall and rejection in the records' histories."""
    repo = Repository(WorkTree(repo_root))
    return sorted(
        (p, v, step.state.value, step.date)
        for p, v, release in repo.releases()
        for step in release.history
        if step.state.value in NEWS and step.revision is None
    )


def test_one_entry_per_release_recall_and_rejection(rich: Repo, tmp_path: Path) -> None:
    root = _check_atom(_build(rich.root, tmp_path / "site") / feed.RELEASES_FEED)
    links = [e.find(f"{A}link[@rel='alternate']").get("href") for e in root.findall(f"{A}entry")]  # type: ignore[union-attr]
    news = _news(rich.root)
    assert sorted(links) == sorted(f"releases/{p}/{v}.html" for p, v, _, _ in news)
    assert len(news) == 3  # two releases and a rejection; the release in rollout is no news yet
    titles = [e.findtext(f"{A}title") for e in root.findall(f"{A}entry")]
    assert titles == ["StoRM 1.11.22 released", "ARC CE 6.18.0 released", "ARC CE 6.17.0 rejected"]  # newest first


def test_a_recall_is_an_entry_of_its_own_and_the_release_entry_stays(rich: Repo, tmp_path: Path) -> None:
    before = _check_atom(_build(rich.root, tmp_path / "before") / feed.RELEASES_FEED)
    released = {e.findtext(f"{A}title"): e.findtext(f"{A}id") for e in before.findall(f"{A}entry")}
    path = rich.root / "releases/storm/1.11.22/release.yaml"
    text = path.read_text().replace("state: released\n", "state: recalled\n")
    text = text.replace(
        "  - {state: released, date: 2026-10-13, by: dmitri-coord}\n",
        "  - {state: released, date: 2026-10-13, by: dmitri-coord}\n"
        "  - {state: recalled, date: 2026-10-20, by: carla-coord}\n",
    )
    path.write_text(text + "  - {action: recall, by: carla-coord, date: 2026-10-20, reason: transfers hang}\n")
    after = _check_atom(_build(rich.root, tmp_path / "after") / feed.RELEASES_FEED)
    entries = {e.findtext(f"{A}title"): e for e in after.findall(f"{A}entry")}
    recall = entries["StoRM 1.11.22 recalled"]
    assert recall.findtext(f"{A}updated") == "2026-10-20T00:00:00Z"
    assert (recall.findtext(f"{A}summary") or "").endswith("Recalled: transfers hang")
    # Readers who saw the release keep that entry, unchanged in id and date: the recall is news, not an edit.
    kept = entries["StoRM 1.11.22 released"]
    assert kept.findtext(f"{A}id") == released["StoRM 1.11.22 released"]
    assert kept.findtext(f"{A}updated") == "2026-10-13T00:00:00Z"
    assert recall.findtext(f"{A}id") != kept.findtext(f"{A}id")


def test_a_known_issue_keeps_its_id_when_its_text_is_edited(rich: Repo, tmp_path: Path) -> None:
    def ids(site: Path) -> dict[str, str]:
        root = _check_atom(site / feed.ISSUES_FEED)
        return {e.findtext(f"{A}title") or "": e.findtext(f"{A}id") or "" for e in root.findall(f"{A}entry")}

    before = ids(_build(rich.root, tmp_path / "before"))
    report = rich.root / "releases/arc-ce/6.18.0/reports/ncg-ingrid-pt.yaml"
    report.write_text(
        report.read_text().replace("A-REX restarts lose the job queue", "A-REX restarts drop queued jobs")
    )
    after = ids(_build(rich.root, tmp_path / "after"))
    old = next(i for t, i in before.items() if "A-REX restarts lose the job queue" in t)
    assert next(i for t, i in after.items() if "A-REX restarts drop queued jobs" in t) == old


def test_known_issues_in_testing_and_each_family_have_their_feed(rich: Repo, tmp_path: Path) -> None:
    reports = sorted((rich.root / "releases/arc-ce/6.19.0/reports").glob("*.yaml"))
    reports[0].write_text(
        reports[0].read_text() + "issues:\n  - {summary: jobs stall on el9, severity: high, known_issue: true}\n"
    )
    site = _build(rich.root, tmp_path / "site")
    testing = _check_atom(site / feed.TESTING_ISSUES_FEED)
    repo = Repository(WorkTree(rich.root))
    in_rollout = sorted(
        issue.summary
        for p, v, release in repo.releases()
        if release.state.value == "rollout"
        for report in repo.reports(p, v).values()
        for issue in report.issues
        if issue.known_issue
    )
    assert in_rollout == ["jobs stall on el9"]
    assert sorted((e.findtext(f"{A}title") or "").split(": ", 1)[1] for e in testing.findall(f"{A}entry")) == in_rollout
    config = repo.config()
    assert config is not None
    for group in config.groups:
        family = _check_atom(site / feed.family_feed(group))
        products = {p for p in repo.product_ids() if (record := repo.product(p)) is not None and record.group == group}
        for entry in family.findall(f"{A}entry"):
            link = entry.find(f"{A}link[@rel='alternate']")
            assert link is not None and (link.get("href") or "").split("/")[1] in products


def test_entries_carry_known_issues_and_the_override_as_escaped_html(rich: Repo, tmp_path: Path) -> None:
    root = _check_atom(_build(rich.root, tmp_path / "site") / feed.RELEASES_FEED)
    storm = root.findall(f"{A}entry")[0]
    content = storm.find(f"{A}content")
    assert content is not None and content.get("type") == "html"
    html = content.text or ""
    assert "override: accepted despite a rejecting report from mwt2" in html
    assert "Workaround: Disable the plugin before upgrading." in html
    # The hostile summary is text inside the HTML, never markup a reader would run.
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert storm.findtext(f"{A}updated") == "2026-10-13T00:00:00Z"


def test_the_known_issues_feed_has_one_entry_per_published_known_issue(rich: Repo, tmp_path: Path) -> None:
    root = _check_atom(_build(rich.root, tmp_path / "site") / feed.ISSUES_FEED)
    repo = Repository(WorkTree(rich.root))
    expected = sorted(
        issue.summary
        for p, v in _published(rich.root)
        for report in repo.reports(p, v).values()
        for issue in report.issues
        if issue.known_issue
    )
    titles = [e.findtext(f"{A}title") or "" for e in root.findall(f"{A}entry")]
    assert sorted(t.split(": ", 1)[1] for t in titles) == expected
    assert f"StoRM 1.11.22: {HOSTILE}" in titles
    arex = next(e for e in root.findall(f"{A}entry") if "A-REX" in (e.findtext(f"{A}title") or ""))
    assert arex.findtext(f"{A}summary") == (
        "Severity high, found by NCG-INGRID-PT on el9.\n\n"
        "After a restart the queue is rebuilt from the control directory.\n\n"
        "Workaround: Run arcctl jobs resync after each restart."
    )


def test_ids_and_bytes_are_stable_across_builds(rich: Repo, tmp_path: Path) -> None:
    one = _build(rich.root, tmp_path / "one")
    two = _build(rich.root, tmp_path / "two")
    for name in (feed.RELEASES_FEED, feed.ISSUES_FEED):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_a_feed_without_entries_is_still_valid_atom(repo: Repo, tmp_path: Path) -> None:
    root = _check_atom(_build(repo.root, tmp_path / "site") / feed.RELEASES_FEED)
    assert root.findall(f"{A}entry") == []
    assert root.findtext(f"{A}updated") == "2026-11-25T00:00:00Z"


def test_characters_xml_cannot_carry_are_replaced() -> None:
    assert feed.xml_text("a\x01b\x0bc\td\ue000") == "a\ufffdb\ufffdc\td\ue000"


def test_a_control_character_in_a_record_still_gives_well_formed_xml(rich: Repo, tmp_path: Path) -> None:
    path = rich.root / "releases/arc-ce/6.18.0/release.yaml"
    path.write_text(
        path.read_text().replace("summary: ARC CE 6.18.0, a maintenance release", 'summary: "bell \\a here"')
    )
    rich.commit("a bell in the summary")
    root = _check_atom(_build(rich.root, tmp_path / "site") / feed.RELEASES_FEED)
    summaries = [e.findtext(f"{A}summary") for e in root.findall(f"{A}entry")]
    assert "bell \ufffd here" in summaries


def test_entry_ids_do_not_depend_on_the_day_of_the_build(rich: Repo) -> None:
    repo = Repository(WorkTree(rich.root))
    config = repo.config()
    assert config is not None
    from rollout_tool.notes import release_facts

    facts = [release_facts(repo, p, v, dt.date(2026, 11, 25)) for p, v, _ in repo.releases()]
    later = [release_facts(repo, p, v, dt.date(2027, 1, 1)) for p, v, _ in repo.releases()]
    assert [e.id for e in feed.release_entries(config, facts, lambda f: "")] == [
        e.id for e in feed.release_entries(config, later, lambda f: "")
    ]


@pytest.mark.skipif(not (OWN / "releases").is_dir(), reason="the repository's own data set is not there")
def test_the_repositorys_own_feed(tmp_path: Path) -> None:
    root = _check_atom(_build(OWN, tmp_path / "site") / feed.RELEASES_FEED)
    links = sorted(e.find(f"{A}link[@rel='alternate']").get("href") for e in root.findall(f"{A}entry"))  # type: ignore[union-attr]
    assert links == sorted(f"releases/{p}/{v}.html" for p, v, _, _ in _news(OWN))
    assert links
    # Published at rollout.yaml's site_url: a reader resolves every link against it.
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") == "https://egi-staged-rollout.github.io/rollout/"


def test_a_base_url_makes_the_links_absolute(rich: Repo, tmp_path: Path) -> None:
    result = rich.rollout("site", "--out", str(tmp_path / "site"), "--base-url", "https://ops.example.org/rollout")
    assert result.returncode == 0, result.stderr
    root = _check_atom(tmp_path / "site" / feed.RELEASES_FEED)
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") == "https://ops.example.org/rollout/"
    result = rich.rollout("site", "--out", str(tmp_path / "other"), "--base-url", "javascript:alert(1)")
    assert result.returncode == 2
    assert "--base-url 'javascript:alert(1)': give an http(s) address" in result.stderr


def test_a_long_history_gives_the_latest_entries_only(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(OWN / "benchmarks"))
    from synthetic import generate

    from rollout_tool.notes import release_facts

    generate(tmp_path / "big", releases=500, reports=500)
    repo = Repository(WorkTree(tmp_path / "big"))
    config = repo.config()
    assert config is not None
    facts = [release_facts(repo, p, v, dt.date(2026, 11, 25), with_policy=False) for p, v, _ in repo.releases()]
    news = _news(tmp_path / "big")
    assert len(news) > feed.FEED_LIMIT  # the generator's mix: about half are released
    entries = feed.release_entries(config, facts, lambda f: "")
    assert len(entries) == feed.FEED_LIMIT
    newest = sorted((day for _, _, _, day in news), reverse=True)[: feed.FEED_LIMIT]
    assert [e.updated for e in entries] == newest


def test_without_a_site_url_the_links_are_relative_to_the_feed(rich: Repo, tmp_path: Path) -> None:
    root = _check_atom(_build(rich.root, tmp_path / "site") / feed.RELEASES_FEED)
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") is None
    config = rich.root / "rollout.yaml"
    config.write_text(config.read_text() + "site_url: https://ea.example.org/board\n")
    root = _check_atom(_build(rich.root, tmp_path / "published") / feed.RELEASES_FEED)
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") == "https://ea.example.org/board/"

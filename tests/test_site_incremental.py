"""A site or notes built over an earlier run equal those built afresh, whatever changed in between.

The next build reads back each release's facts when nothing they were worked
out from changed (rollout_tool.derived) and takes each page whose key is
unchanged from the earlier build (a hard link, so the same inode). These
tests change one thing at a time, of every sort a facts or a page depends
on, and compare the result byte for byte with a build that has no cache and
no earlier site.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pydantic
import pytest

from rollout_tool import derived, gathering, parallel
from rollout_tool import site as site_module
from rollout_tool.cache import DocumentCache
from rollout_tool.commands.notes import MANIFEST as NOTES_MANIFEST
from rollout_tool.notes import ReleaseFacts, release_facts
from rollout_tool.repository import Document, Repository, parse_document, place_of
from rollout_tool.site import MANIFEST
from rollout_tool.sources import WorkTree
from tests.support.publishing import build_rich_repo
from tests.support.repos import Repo, invoke_rollout, report_text, settle_soon

TODAY = "2026-11-25"
DAY = dt.date.fromisoformat(TODAY)
STORM = "releases/storm/1.11.22"
ARC = "releases/arc-ce/6.18.0"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, NOTES_MANIFEST)
    }


def _site(repo: Repo, out: Path, *args: str, today: str = TODAY) -> Path:
    result = invoke_rollout("site", "--out", str(out), "--today", today, *args, cwd=repo.root)
    assert result.returncode == 0, result.stderr
    return out


def _notes(repo: Repo, out: Path, *args: str, today: str = TODAY) -> Path:
    result = invoke_rollout("notes", "--all", "--out", str(out), "--today", today, *args, cwd=repo.root)
    assert result.returncode == 0, result.stderr
    return out


def _replace(repo: Repo, path: str, old: str, new: str) -> None:
    target = repo.root / path
    text = target.read_text()
    assert old in text, f"{old!r} is not in {path}"
    target.write_text(text.replace(old, new, 1))


def _add(repo: Repo, path: str, text: str) -> None:
    repo.write(path, text)


@pytest.fixture
def rich(tmp_path: Path) -> Repo:
    return build_rich_repo(tmp_path / "repo")


@pytest.fixture
def worked_out(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each release whose facts this process works out (rather than reads back)."""
    seen: list[str] = []
    original = release_facts

    def counting(repo: Repository, product: str, version: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append(f"{product}/{version}")
        return original(repo, product, version, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gathering, "release_facts", counting)
    return seen


# Each change is made on top of those before it; the one after it builds over the site they left.
CHANGES: list[tuple[str, Callable[[Repo], None]]] = [
    (
        "a report's verdict",
        lambda repo: _replace(repo, f"{STORM}/reports/praguelcg2.yaml", "verdict: accept", "verdict: reject"),
    ),
    ("a new report", lambda repo: _add(repo, f"{STORM}/reports/mwt2.yaml", report_text("mwt2", platform="el9"))),
    ("a report removed", lambda repo: (repo.root / f"{STORM}/reports/ncg-ingrid-pt.yaml").unlink()),
    ("a team's site renamed", lambda repo: _replace(repo, "teams/praguelcg2.yaml", "site: praguelcg2", "site: prg2")),
    ("a product renamed", lambda repo: _replace(repo, "releases/arc-ce/product.yaml", "name: ARC CE", "name: ARC")),
    (
        "rollout.yaml's name",
        lambda repo: _replace(repo, "rollout.yaml", "name: Test infrastructure", "name: Other infrastructure"),
    ),
    ("a release's summary", lambda repo: _replace(repo, f"{ARC}/release.yaml", "summary: ARC CE", "summary: ARC-CE")),
]


@pytest.mark.parametrize("stamps", ["fresh files", "settled files"])
def test_every_change_gives_the_site_a_fresh_build_gives(
    rich: Repo, tmp_path: Path, stamps: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if stamps == "settled files":  # stamps kept by a build are trusted by the next
        settle_soon(monkeypatch)
    out = _site(rich, tmp_path / "site")
    for number, (what, change) in enumerate(CHANGES):
        change(rich)
        _site(rich, out)
        fresh = _site(rich, tmp_path / f"fresh-{number}", "--no-cache", "--jobs", "1")
        assert _tree(out) == _tree(fresh), what
    # A change of day moves "days late" and due dates: nothing is read back from another day.
    _site(rich, out, today="2026-12-24")
    assert _tree(out) == _tree(_site(rich, tmp_path / "fresh-day", "--no-cache", today="2026-12-24"))


def test_an_unchanged_page_is_taken_from_the_earlier_build_and_a_changed_one_rendered(
    rich: Repo, tmp_path: Path, worked_out: list[str]
) -> None:
    out = _site(rich, tmp_path / "site")
    releases = sorted(worked_out)
    assert len(releases) >= 3
    inode = {path: (out / path).stat().st_ino for path in _tree(out)}
    worked_out.clear()
    _replace(rich, f"{STORM}/reports/praguelcg2.yaml", "verdict: accept", "verdict: reject")
    _site(rich, out)
    assert worked_out == ["storm/1.11.22"]  # the other releases' facts are read back
    after = {path: (out / path).stat().st_ino for path in _tree(out)}
    assert after["releases/arc-ce/6.18.0.html"] == inode["releases/arc-ce/6.18.0.html"]
    assert after["releases/storm/1.11.22.html"] != inode["releases/storm/1.11.22.html"]
    assert after["index.html"] != inode["index.html"]  # drawn from the whole site: always rendered
    assert "reject" in (out / "releases/storm/1.11.22.html").read_text()


def test_an_edit_keeping_size_and_mtime_is_seen(rich: Repo, tmp_path: Path, worked_out: list[str]) -> None:
    out = _site(rich, tmp_path / "site")
    path = rich.root / f"{STORM}/reports/praguelcg2.yaml"
    before = os.stat(path)
    text = path.read_text()
    changed = text.replace("verdict: accept", "verdict: reject")
    assert len(changed) == len(text) and changed != text
    path.write_text(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    worked_out.clear()
    _site(rich, out)
    assert worked_out == ["storm/1.11.22"]
    assert _tree(out) == _tree(_site(rich, tmp_path / "fresh", "--no-cache"))


def test_a_repository_template_is_never_served_from_an_earlier_build(rich: Repo, tmp_path: Path) -> None:
    out = _site(rich, tmp_path / "site")
    rich.write(
        "templates/release.html.j2",
        '{% extends "base.html.j2" %}{% block title %}{{ r.name }}{% endblock %}'
        "{% block main %}<h1>Our own {{ r.name }}</h1>{% endblock %}",
    )
    _site(rich, out)
    assert "<h1>Our own ARC CE 6.18.0</h1>" in (out / "releases/arc-ce/6.18.0.html").read_text()
    _replace(rich, "templates/release.html.j2", "Our own", "Their own")
    _site(rich, out)
    assert "<h1>Their own ARC CE 6.18.0</h1>" in (out / "releases/arc-ce/6.18.0.html").read_text()


def test_a_forged_manifest_or_a_linked_page_is_not_taken(rich: Repo, tmp_path: Path) -> None:
    out = _site(rich, tmp_path / "site")
    page = out / "releases/arc-ce/6.18.0.html"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the site")
    page.unlink()
    page.symlink_to(secret)
    _site(rich, out)
    assert not page.is_symlink() and "ARC CE 6.18.0" in page.read_text()
    (out / MANIFEST).write_text('{"pages": [1, 2]')  # torn: every page is rendered
    _site(rich, out)
    assert _tree(out) == _tree(_site(rich, tmp_path / "fresh", "--no-cache"))


def test_notes_read_back_equal_notes_written_afresh(rich: Repo, tmp_path: Path, worked_out: list[str]) -> None:
    out = _notes(rich, tmp_path / "notes")
    first = len(worked_out)
    worked_out.clear()
    _replace(rich, f"{STORM}/reports/praguelcg2.yaml", "verdict: accept", "verdict: reject")
    _notes(rich, out)
    assert worked_out == ["storm/1.11.22"] and first > 1
    assert _tree(out) == _tree(_notes(rich, tmp_path / "fresh", "--no-cache", "--jobs", "1"))


def test_a_new_team_no_release_names_leaves_every_releases_facts_as_they_were(
    rich: Repo, tmp_path: Path, worked_out: list[str]
) -> None:
    """Reading a team's record depends on that file, not on which other teams there are."""
    out = _notes(rich, tmp_path / "notes")
    worked_out.clear()
    rich.write("teams/newcomer.yaml", (rich.root / "teams/mwt2.yaml").read_text())
    _notes(rich, out)
    assert worked_out == []
    (rich.root / "teams/mwt2.yaml").unlink()  # named by storm's release and reports
    _notes(rich, out)
    assert "storm/1.11.22" in worked_out and "arc-ce/6.17.0" not in worked_out


def test_notes_left_as_they_are_unless_their_release_changed_or_the_file_was_edited(rich: Repo, tmp_path: Path) -> None:
    out = _notes(rich, tmp_path / "notes")
    arc, storm = out / "releases/arc-ce/6.18.0.md", out / "releases/storm/1.11.22.md"
    for path in (arc, storm):
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    _replace(rich, f"{STORM}/reports/praguelcg2.yaml", "verdict: accept", "verdict: reject")
    _notes(rich, out)
    assert arc.stat().st_mtime_ns == 1_000_000_000  # not written again
    assert storm.stat().st_mtime_ns != 1_000_000_000 and "reject" in storm.read_text()
    arc.write_text("edited by hand\n")
    _notes(rich, out)
    assert _tree(out) == _tree(_notes(rich, tmp_path / "fresh", "--no-cache"))
    rich.write("templates/release.md.j2", "Our own notes of {{ r.name }}\n")  # a template of its own: all afresh
    _notes(rich, out)
    assert arc.read_text() == "Our own notes of ARC CE 6.18.0\n"


def test_the_site_reads_back_the_facts_the_notes_worked_out(rich: Repo, tmp_path: Path, worked_out: list[str]) -> None:
    _notes(rich, tmp_path / "notes")
    worked_out.clear()
    _site(rich, tmp_path / "site")
    assert worked_out == []


# ---------------------------------------------------------------- what a derived value depends on


def test_a_recording_sees_reads_served_from_memory(rich: Repo) -> None:
    repo = Repository(WorkTree(rich.root))
    repo.config()
    repo.team_ids()
    with repo.recording() as outer:
        with repo.recording() as inner:
            repo.config()  # already loaded: still a read
            repo.team_ids()  # already listed: still a read
        repo.release("storm", "1.11.22")
    assert inner.documents == {"rollout.yaml"} and inner.folders == {"teams"}
    # A document read notes its own path, not the folders above it: what is at a path depends on that path.
    assert outer.documents == {"rollout.yaml", f"{STORM}/release.yaml"}
    assert outer.folders == {"teams"}


def test_a_kept_value_is_worked_out_again_when_a_file_or_folder_it_read_changes(rich: Repo, tmp_path: Path) -> None:
    def fresh() -> derived.Derived:
        """A new run's view: the repository as it is now, the cache as the last run left it."""
        return derived.Derived(Repository(WorkTree(rich.root)), DocumentCache(tmp_path / "cache"), TODAY)

    def kept() -> bool:
        return fresh().cached("storm", gathering.FACTS) is not None

    first = fresh()
    value, _ = first.get("storm", gathering.FACTS, lambda: release_facts(first.repo, "storm", "1.11.22", DAY))
    first.store.save()
    assert value is not None and first.misses == 1
    assert kept()
    rich.write(f"{STORM}/reports/extra.yaml", "team: extra\n")  # a folder it listed lists another name
    assert not kept()
    (rich.root / f"{STORM}/reports/extra.yaml").unlink()
    assert kept()
    _replace(rich, "teams/praguelcg2.yaml", "site: praguelcg2", "site: prg2")  # a file it read outside the release
    assert not kept()
    _replace(rich, "teams/praguelcg2.yaml", "site: prg2", "site: praguelcg2")
    assert kept()
    again = fresh().cached("storm", gathering.FACTS)
    assert again is not None and again[0] == value  # read back as the value it was made from


def test_a_value_that_looked_for_a_name_that_is_not_utf8_is_kept_and_read_back(rich: Repo, tmp_path: Path) -> None:
    odd = "teams/\udcff.yaml"  # what os.listdir gives for a byte that is not UTF-8
    adapter = pydantic.TypeAdapter(int)

    def fresh() -> derived.Derived:
        return derived.Derived(Repository(WorkTree(rich.root)), DocumentCache(tmp_path / "cache"), TODAY)

    first = fresh()
    assert first.work_out("odd", adapter, lambda: 1 if first.repo.kind(odd) is None else 2) == (1, b"1")
    first.store.save()
    assert fresh().cached("odd", adapter) == (1, b"1")


def test_a_garbled_entry_is_a_miss(rich: Repo, tmp_path: Path) -> None:
    from rollout_tool.cache import derived_key

    store = DocumentCache(tmp_path / "cache")
    repo = Repository(WorkTree(rich.root))
    kept = derived.Derived(repo, store, TODAY)
    for entry in (b"x", b"d[[],[]]", b"d[[],[]]\0{not json", b'd[[["rollout.yaml", 3]],[]]\0null', b"d{}\0null"):
        store.add(derived_key(TODAY, f"garbled {entry!r}"), entry)
        assert kept.cached(f"garbled {entry!r}", gathering.FACTS) is None


# ---------------------------------------------------------------- spreading work over processes


def _square(items: list[int]) -> list[int]:
    return [item * item for item in items]


def test_spread_hands_back_results_in_order() -> None:
    items = list(range(1_000))
    assert list(parallel.spread(_square, items, 2, 37, 10)) == _square(items)
    assert list(parallel.spread(_square, items[:5], 2, 37, 10)) == _square(items[:5])  # below the threshold


def test_spread_does_a_dead_workers_chunk_itself() -> None:
    parent = os.getpid()

    def dying(items: list[int]) -> list[int]:
        if os.getpid() != parent and 500 in items:
            os._exit(1)
        return _square(items)

    items = list(range(1_000))
    assert list(parallel.spread(dying, items, 2, 50, 10)) == _square(items)


def test_spread_runs_only_a_few_chunks_ahead_of_what_is_taken(tmp_path: Path) -> None:
    """Results not yet taken wait in the calling process: a slow taker must not gather all of them."""

    def marking(items: list[int]) -> list[int]:
        (tmp_path / f"chunk-{items[0]}").touch()
        return items

    results = parallel.spread(marking, list(range(1_000)), 2, 10, 10)
    assert next(results) == 0
    time.sleep(1)  # time enough for the workers to run every chunk, were they all handed out
    assert len(list(tmp_path.glob("chunk-*"))) <= parallel.AHEAD * 2
    assert list(results) == list(range(1, 1_000))
    assert len(list(tmp_path.glob("chunk-*"))) == 100


def test_spread_raises_what_the_work_raises() -> None:
    def failing(items: list[int]) -> list[int]:
        if 300 in items:
            raise ValueError("item 300")
        return items

    with pytest.raises(ValueError, match="item 300"):
        list(parallel.spread(failing, list(range(1_000)), 2, 50, 10))


def test_a_forked_worker_never_writes_its_parents_cache(tmp_path: Path) -> None:
    store = DocumentCache(tmp_path / "cache")
    store.add(b"%032d" % 1_000, b"p[]")  # the parent's pack is open when the workers are forked

    def add(items: list[int]) -> list[int]:
        for item in items:
            store.add(b"%032d" % item, b"p[]")
        return items

    list(parallel.spread(add, list(range(400)), 2, 50, 10))
    store.save()
    written = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert len(written) == 1 and written[0].suffix == ".pack"
    assert written[0].read_bytes().count(b"\n") == 2  # the header and the parent's one entry


def test_loading_ahead_stopped_early_reads_the_rest_as_usual(rich: Repo) -> None:
    repo = Repository(WorkTree(rich.root))
    paths = [path for path in repo.record_paths() if path.startswith("releases/")]

    def documents() -> Iterator[Document]:
        yield from (repository_document(repo, path) for path in paths[:1])

    repo.load_ahead(paths, documents())
    assert repo.document(paths[-1]) is not None  # the generator ended first: read from the file
    assert repo.release("storm", "1.11.22") is not None


def repository_document(repo: Repository, path: str) -> Document:
    place = place_of(path)
    assert place is not None
    return parse_document(path, place.kind, repo.source.read(path))


@pytest.fixture
def collector_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The generation of each pass the cycle collector makes while releases' facts are gathered.

    The collector is made to run on every allocation it counts, so a gathering
    it is not kept from shows at least one pass.
    """
    passes: list[int] = []
    watching: list[bool] = []
    original = gathering.gather

    def watched(*args: object, **kwargs: object) -> list[gathering.Gathered]:
        watching.append(True)
        try:
            return original(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            watching.clear()

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and watching:
            passes.append(info["generation"])

    monkeypatch.setattr(gathering, "gather", watched)
    threshold = gc.get_threshold()
    gc.set_threshold(1)
    gc.callbacks.append(count)
    try:
        yield passes
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)


@pytest.mark.parametrize("command", ["site", "notes"])
def test_the_cycle_collector_makes_no_pass_while_facts_are_gathered(
    rich: Repo, tmp_path: Path, collector_passes: list[int], command: str
) -> None:
    enabled = gc.isenabled()
    (_site if command == "site" else _notes)(rich, tmp_path / command, "--jobs", "1")
    assert collector_passes == []
    assert gc.isenabled() == enabled


def test_the_facts_are_set_aside_from_the_collector_while_pages_render_and_handed_back_after(
    rich: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen_before = gc.get_freeze_count()
    walked: dict[str, bool] = {}
    original = site_module._render_page

    def rendering(env: object, path: str, template: str, context: dict[str, object]) -> bytes:
        facts = context.get("r")
        if isinstance(facts, ReleaseFacts) and not walked:
            walked[path] = any(found is facts for found in gc.get_objects())
        return original(env, path, template, context)  # type: ignore[arg-type]

    monkeypatch.setattr(site_module, "_render_page", rendering)
    repo = Repository(WorkTree(rich.root))
    built = site_module.build(repo, tmp_path / "site", DAY, jobs=1)
    assert built.releases >= 3
    assert list(walked.values()) == [False], walked
    assert gc.get_freeze_count() == frozen_before

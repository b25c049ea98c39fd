"""The dashboard, built by the real command and opened in a real headless Chromium."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from conftest import Repo, run_rollout
from publishing_support import HOSTILE, build_rich_repo

from rollout_tool import policy
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.act_support.tools import unavailable

OWN = Path(__file__).resolve().parent.parent
SCREENSHOTS = OWN / "artifacts" / "screenshots"
# Debian's chromium (never a browser playwright downloads), wherever the machine has it.
CHROMIUM = os.environ.get("ROLLOUT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TODAY = "2026-11-25"


def _build(root: Path, out: Path) -> Path:
    result = run_rollout("site", "--out", str(out), "--today", TODAY, cwd=root)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def rich_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, Path]:
    base = tmp_path_factory.mktemp("rich")
    repo = build_rich_repo(base / "repo")
    return repo, _build(repo.root, base / "site")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable("Debian's chromium is not installed (or set ROLLOUT_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        yield chromium
        chromium.close()


def _page(browser: object, **options: object):  # type: ignore[no-untyped-def]
    context = browser.new_context(**options)  # type: ignore[attr-defined]
    context.set_default_timeout(20_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    return page


def _url(site: Path, path: str) -> str:
    return (site / path).as_uri()


def _crawl(browser: object, site: Path) -> dict[str, list[str]]:
    """Open every page reachable from the board; return each page's links. Fails on a broken one."""
    page = _page(browser)
    seen: dict[str, list[str]] = {}
    queue = ["index.html"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        response = page.goto(_url(site, path))
        assert response is None or response.ok, path
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        seen[path] = hrefs
        for href in hrefs:
            parsed = urlparse(href)
            if parsed.scheme or href.startswith("mailto:"):
                continue
            target_url, fragment = urldefrag(href)
            target = (site / path).parent / unquote(target_url) if target_url else site / path
            target = target.resolve()
            assert target.is_file(), f"{path}: link {href} leads nowhere"
            relative = target.relative_to(site.resolve()).as_posix()
            if fragment:
                ids = page.evaluate("id => !!document.getElementById(id)", fragment) if not target_url else None
                if target_url:
                    assert f'id="{fragment}"' in target.read_text(), f"{path}: {href} has no #{fragment}"
                else:
                    assert ids, f"{path}: no #{fragment}"
            if relative.endswith(".html"):
                queue.append(relative)
    page.context.close()
    return seen


@pytest.mark.browser
def test_every_internal_link_resolves_and_every_page_is_reachable(
    rich_site: tuple[Repo, Path], browser: object
) -> None:
    repo, site = rich_site
    seen = _crawl(browser, site)
    built = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert set(seen) == built
    repository = Repository(WorkTree(repo.root))
    for product, version, _ in repository.releases():
        assert f"releases/{product}/{version}.html" in seen
    for team in repository.team_ids():
        assert f"teams/{team}.html" in seen


@pytest.mark.browser
def test_a_state_with_more_releases_than_the_board_shows_gets_its_own_page(
    rich_site: tuple[Repo, Path], browser: object, tmp_path: Path
) -> None:
    from rollout_tool import site as dashboard

    repo, _ = rich_site
    out = tmp_path / "site"
    dashboard.build(Repository(WorkTree(repo.root)), out, dt.date.fromisoformat(TODAY), board_limit=1)
    seen = _crawl(browser, out)
    assert "states/released.html" in seen  # two released releases, one on the board
    assert "states/rollout.html" not in seen and not (out / "states/rollout.html").exists()
    page = _page(browser)
    page.goto(_url(out, "states/released.html"))
    assert page.locator("tbody tr").count() == 2
    page.goto(_url(out, "index.html"))
    assert page.locator("#state-released tbody tr").count() == 1
    assert page.locator("#state-released caption").inner_text() == "Released releases, newest first: the 1 latest of 2"
    page.context.close()


@pytest.mark.browser
def test_the_board_shows_every_product_and_every_release_with_its_verdict(
    rich_site: tuple[Repo, Path], browser: object
) -> None:
    repo, site = rich_site
    page = _page(browser)
    page.goto(_url(site, "index.html"))
    repository = Repository(WorkTree(repo.root))
    products = page.locator("#products tbody th").all_inner_texts()
    expected = []
    for product in repository.product_ids():
        record = repository.product(product)
        assert record is not None
        expected.append(record.name)
    assert products == expected
    for product, version, release in repository.releases():
        row = page.locator(
            f"#state-{release.state.value} tbody tr", has=page.locator(f'a[href="releases/{product}/{version}.html"]')
        )
        assert row.count() == 1, f"{product}/{version} not under {release.state.value}"
        if release.state.value == "rollout":
            evaluation = policy.evaluate(repository, product, version, dt.date.fromisoformat(TODAY))
            assert row.locator(".badge").first.inner_text() == evaluation.verdict.value
            # Names in backticks are set as code: the text reads the same without the marks.
            assert row.locator(".reasons li").all_inner_texts() == [r.replace("`", "") for r in evaluation.reasons]
            assert row.locator(".reasons code").all_inner_texts() == ["praguelcg2"]
    override = page.locator("#state-released tbody tr", has=page.locator('a[href="releases/storm/1.11.22.html"]'))
    assert override.locator(".override").inner_text() == "override"
    page.context.close()


@pytest.mark.browser
def test_screenshots_of_the_board_and_a_release_page(rich_site: tuple[Repo, Path], browser: object) -> None:
    _, site = rich_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        page = _page(browser, viewport=viewport)
        for label, path in (("board", "index.html"), ("release", "releases/storm/1.11.22.html")):
            page.goto(_url(site, path))
            # Nothing wider than the screen: a phone never scrolls the whole page sideways.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, path)
            shot = SCREENSHOTS / f"{label}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        page.context.close()


@pytest.mark.browser
def test_user_text_is_shown_never_run(rich_site: tuple[Repo, Path], browser: object) -> None:
    _, site = rich_site
    page = _page(browser)
    page.goto(_url(site, "releases/storm/1.11.22.html"))
    titles = page.locator("#known-issues ~ article h3, .issue h3").all_inner_texts()
    assert HOSTILE in titles
    assert page.locator(".workaround").filter(has_text=HOSTILE + " then restart").count() == 1
    assert page.locator("main script").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]
    page.context.close()


@pytest.mark.browser
def test_the_release_page_reports_matrix_and_override(rich_site: tuple[Repo, Path], browser: object) -> None:
    _, site = rich_site
    page = _page(browser)
    page.goto(_url(site, "releases/storm/1.11.22.html"))
    matrix = page.locator("table.matrix")
    assert matrix.locator("thead th").all_inner_texts() == ["Team", "el9", "Status"]
    rows = matrix.locator("tbody tr")
    assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == [
        "MWT2",
        "NCG-INGRID-PT",
        "praguelcg2",
    ]
    assert rows.nth(1).locator("td").all_inner_texts() == ["accept (stale)", "stale"]
    assert page.locator(".callout").inner_text() == "override Accepted despite a rejecting report from mwt2."
    page.context.close()


@pytest.mark.browser
def test_a_team_page_shows_what_it_owes_and_what_is_late(rich_site: tuple[Repo, Path], browser: object) -> None:
    repo, site = rich_site
    evaluation = policy.evaluate(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", dt.date.fromisoformat(TODAY))
    late = {t.team: t for t in evaluation.late}
    page = _page(browser)
    page.goto(_url(site, "teams/praguelcg2.html"))
    owed = page.locator("#h-owed + .scroll tbody tr, section:has(#h-owed) tbody tr")
    assert owed.count() == 1
    cells = owed.first.locator("th, td").all_inner_texts()
    assert cells[0] == "ARC CE 6.19.0"
    assert cells[1] == late["praguelcg2"].due.isoformat()
    assert cells[2] == f"{late['praguelcg2'].days_late} days late"
    page.goto(_url(site, "teams/ncg-ingrid-pt.html"))
    assert "Nothing owed" in page.locator("section:has(#h-owed)").inner_text()
    page.context.close()


@pytest.mark.browser
def test_pages_are_accessible(rich_site: tuple[Repo, Path], browser: object) -> None:
    _, site = rich_site
    page = _page(browser)
    for path in sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")):
        page.goto(_url(site, path))
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("h1").count() == 1, path
        levels = page.eval_on_selector_all("main h1, main h2, main h3, main h4", "els => els.map(e => +e.tagName[1])")
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
        assert page.locator("th:not([scope])").count() == 0, path
        assert page.locator("table:not(:has(th))").count() == 0, path
        # The skip link comes first and lands on the main content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.locator("#main").count() == 1
        low = page.evaluate(CONTRAST)
        assert low == [], (path, low)
    page.context.close()


# Every text element's contrast against its nearest opaque background (WCAG 2 formula).
CONTRAST = """
() => {
  const parse = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null && el.tagName !== 'BODY') continue;
    const fg = parse(getComputedStyle(el).color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) low.push(el.tagName + '.' + el.className + ': ' + ratio.toFixed(2) + ' ' + el.textContent.trim().slice(0, 30));
  }
  return low;
}
"""


@pytest.mark.browser
def test_the_site_works_without_javascript(rich_site: tuple[Repo, Path], browser: object) -> None:
    _, site = rich_site
    page = _page(browser, java_script_enabled=False)
    page.goto(_url(site, "index.html"))
    assert page.locator("#state-rollout tbody tr").count() == 1
    page.goto(_url(site, "releases/arc-ce/6.18.0.html"))
    assert (
        "Run arcctl jobs resync after each restart."
        in page.locator("#known-issues + article, .issue").first.inner_text()
    )
    page.context.close()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_builds_give_identical_bytes(rich_site: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, site = rich_site
    again = _build(repo.root, tmp_path / "again")
    assert _tree(site) == _tree(again)


def test_a_rebuild_replaces_the_old_site_and_nothing_else_is_overwritten(repo: Repo, tmp_path: Path) -> None:
    out = _build(repo.root, tmp_path / "site")
    (out / "releases/arc-ce/0.0.1.html").write_text("left over")
    _build(repo.root, out)
    assert not (out / "releases/arc-ce/0.0.1.html").exists()
    assert (out / "index.html").is_file()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me")
    result = run_rollout("site", "--out", str(precious), cwd=repo.root)
    assert result.returncode == 1
    assert "holds something other than a site built by rollout" in result.stderr
    assert (precious / "thesis.tex").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "repo", "site"]  # no staging left behind


def test_an_invalid_rollout_yaml_is_refused(repo: Repo, tmp_path: Path) -> None:
    repo.write("rollout.yaml", "coordinators: []\n")
    result = run_rollout("site", "--out", str(tmp_path / "site"), cwd=repo.root)
    assert result.returncode == 1
    assert (
        result.stderr
        == "rollout: rollout.yaml is not valid: run `rollout validate` and fix it before building the site\n"
    )
    assert not (tmp_path / "site").exists()


@pytest.mark.browser
@pytest.mark.skipif(not (OWN / "releases").is_dir(), reason="the repository's own data set is not there")
def test_the_repositorys_own_site(browser: object, tmp_path: Path) -> None:
    site = _build(OWN, tmp_path / "site")
    seen = _crawl(browser, site)
    repository = Repository(WorkTree(OWN))
    for product, version, _ in repository.releases():
        assert f"releases/{product}/{version}.html" in seen
    page = _page(browser)
    page.goto(_url(site, "index.html"))
    names = page.locator("#products tbody th").all_inner_texts()
    assert len(names) == len(repository.product_ids())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "own-board-desktop.png"), full_page=True)
    page.context.close()


def test_a_repository_can_restyle_and_relayout_the_site(repo: Repo, tmp_path: Path) -> None:
    repo.write("templates/style.css", "body { color: #000; }\n")
    repo.write(
        "templates/team.html.j2",
        '{% extends "base.html.j2" %}{% block title %}{{ t.team }}{% endblock %}'
        "{% block main %}<h1>{{ t.record.site }} owes {{ t.owed | length }}</h1>{% endblock %}",
    )
    repo.commit("our own look")
    site = _build(repo.root, tmp_path / "site")
    assert (site / "style.css").read_text() == "body { color: #000; }\n"
    assert "<h1>praguelcg2 owes 1</h1>" in (site / "teams/praguelcg2.html").read_text()
    assert '<a class="skip" href="#main">' in (site / "teams/praguelcg2.html").read_text()  # the shipped base

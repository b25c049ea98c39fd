"""The dashboard, built by the real command and opened in a real headless Chromium."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from click.testing import CliRunner

from rollout_tool import policy
from rollout_tool.cli import main
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.act_support.tools import unavailable
from tests.support.publishing import HOSTILE, build_rich_repo
from tests.support.repos import Repo, report_text, run_rollout

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
    # Each team with its federation.
    assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == [
        "MWT2 OSG",
        "NCG-INGRID-PT EGI",
        "praguelcg2 EGI",
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


def test_rev_builds_the_site_of_that_commit(repo: Repo, tmp_path: Path) -> None:
    before = repo.git("rev-parse", "HEAD")
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    repo.write("releases/arc-ce/6.19.0/release.yaml", release.read_text().replace("with token support", "renamed"))
    repo.commit("rename")
    repo.write("rollout.yaml", "coordinators: []\n")  # the work tree is not read
    runner = CliRunner()
    common = ["--repo", str(repo.root), "--today", TODAY]
    old = runner.invoke(main, ["site", "--out", str(tmp_path / "old"), "--rev", before, *common])
    new = runner.invoke(main, ["site", "--out", str(tmp_path / "new"), "--rev", "HEAD", *common])
    assert (old.exit_code, new.exit_code) == (0, 0), old.output + new.output
    page = "releases/arc-ce/6.19.0.html"
    assert "with token support" in (tmp_path / "old" / page).read_text()
    assert "renamed" in (tmp_path / "new" / page).read_text()
    assert "with token support" not in (tmp_path / "new" / page).read_text()


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


# ---------------------------------------------------------------- what needs attention

APEL = "name: APEL\ngroup: opstools\nprovider: STFC\ndescription: Accounting.\n"


def _apel(version: str, state: str, history: str, teams: str, kind: str = "minor") -> str:
    return (
        f'version: "{version}"\ntype: {kind}\nstate: {state}\nplatforms: [el9]\n'
        f"summary: APEL {version}\nteams: {teams}\nhistory:\n{history}"
    )


def build_attention_repo(root: Path) -> Repo:
    """The rich repository and three more releases, so that each kind of attention has an example.

    On 2026-11-25, oldest first:
      APEL 1.9.0   blocked since 2026-11-06 (mwt2's reject)          coordinators
      APEL 1.8.0   accepted on 2026-11-10, to be released             coordinators
      ARC CE 6.19.0  praguelcg2 due 2026-11-16, 9 days late            praguelcg2, escalated
      APEL 1.9.0   ncg-ingrid-pt due 2026-11-17, 8 days late          ncg-ingrid-pt, escalated
      APEL 2.0.0   ready since 2026-11-21 (emergency: auto-accepted)  the bot
    """
    repo = build_rich_repo(root)
    repo.write("releases/apel/product.yaml", APEL)
    repo.write(
        "releases/apel/1.9.0/release.yaml",
        _apel(
            "1.9.0",
            "rollout",
            "  - {state: candidate, date: 2026-11-02, by: carla-coord}\n"
            "  - {state: rollout, date: 2026-11-03, by: carla-coord}\n",
            "[mwt2, ncg-ingrid-pt]",
        ),
    )
    repo.write("releases/apel/1.9.0/reports/mwt2.yaml", report_text("mwt2", verdict="reject", date="2026-11-06"))
    repo.write(
        "releases/apel/1.8.0/release.yaml",
        _apel(
            "1.8.0",
            "accepted",
            "  - {state: candidate, date: 2026-10-01, by: carla-coord}\n"
            "  - {state: rollout, date: 2026-10-02, by: carla-coord}\n"
            "  - {state: accepted, date: 2026-11-10, by: carla-coord}\n",
            "[mwt2]",
        ),
    )
    repo.write(
        "releases/apel/2.0.0/release.yaml",
        _apel(
            "2.0.0",
            "rollout",
            "  - {state: candidate, date: 2026-11-20, by: carla-coord}\n"
            "  - {state: rollout, date: 2026-11-20, by: carla-coord}\n",
            "[mwt2]",
            kind="emergency",
        ),
    )
    repo.write("releases/apel/2.0.0/reports/mwt2.yaml", report_text("mwt2", date="2026-11-21"))
    repo.commit("more releases")
    return repo


@pytest.fixture(scope="module")
def attention_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, Path]:
    base = tmp_path_factory.mktemp("attention")
    repo = build_attention_repo(base / "repo")
    return repo, _build(repo.root, base / "site")


ATTENTION = [
    ("APEL 1.9.0", "blocked", "2026-11-06 (19 days)", "coordinators"),
    ("APEL 1.8.0", "releasable", "2026-11-10 (15 days)", "coordinators"),
    ("ARC CE 6.19.0", "9 days late", "2026-11-16 (9 days)", "praguelcg2 escalated to coordinators"),
    ("APEL 1.9.0", "8 days late", "2026-11-17 (8 days)", "ncg-ingrid-pt escalated to coordinators"),
    ("APEL 2.0.0", "ready", "2026-11-21 (4 days)", "the bot (rollout-bot[bot]), automatically"),
]

# Every element of the chosen cells that is cut: outside the viewport, or wider than its own box.
CLIPPED = """
selector => {
  const width = document.documentElement.clientWidth;
  const cut = [];
  for (const cell of document.querySelectorAll(selector)) {
    for (const el of [cell, ...cell.querySelectorAll('*')]) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      const outside = box.left < -1 || box.right > width + 1;
      const overflow = el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
      if (outside || overflow) cut.push(el.tagName + ' ' + el.textContent.trim().slice(0, 40));
    }
  }
  return cut;
}
"""
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.browser
def test_the_board_opens_on_what_needs_attention_oldest_first(
    attention_site: tuple[Repo, Path], browser: object, width: str
) -> None:
    _, site = attention_site
    page = _page(browser, viewport=VIEWPORTS[width])
    page.goto(_url(site, "index.html"))
    first = page.locator("main h2").first
    assert first.inner_text() == "Needs attention now 5"
    assert first.bounding_box()["y"] < VIEWPORTS[width]["height"] / 2  # in sight on opening, not below the fold
    rows = page.locator("#attention tbody tr")
    found = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td")
        needs = cells.nth(1).locator(".badge").inner_text()
        found.append((cells.nth(0).inner_text(), needs, cells.nth(2).inner_text(), cells.nth(3).inner_text()))
    assert found == ATTENTION
    assert page.evaluate(CLIPPED, "#attention tbody th, #attention tbody td") == []
    # Body cells only: on a phone the head row of a stacked table is hidden on purpose.
    assert page.evaluate(CLIPPED, "#teams tbody th, #teams tbody td") == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"attention-{width}.png"))
    page.context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.browser
def test_nothing_in_the_release_matrix_or_the_team_tables_is_clipped(
    attention_site: tuple[Repo, Path], browser: object, width: str
) -> None:
    _, site = attention_site
    page = _page(browser, viewport=VIEWPORTS[width])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, selector, shot in (
        ("releases/arc-ce/6.19.0.html", "table.matrix tbody th, table.matrix tbody td", "matrix"),
        ("releases/storm/1.11.22.html", "table.matrix tbody th, table.matrix tbody td", None),
        ("teams/praguelcg2.html", "main tbody th, main tbody td", "team"),
        ("teams/ncg-ingrid-pt.html", "main tbody th, main tbody td", None),
    ):
        page.goto(_url(site, path))
        assert page.locator(selector).count() > 0, path
        assert page.evaluate(CLIPPED, selector) == [], (width, path)
        if shot:
            page.screenshot(path=str(SCREENSHOTS / f"{shot}-{width}.png"), full_page=True)
    # The late badge of a team that never reported is whole, not "11 days la…".
    page.goto(_url(site, "releases/arc-ce/6.19.0.html"))
    assert page.locator("table.matrix .verdict-blocked").inner_text() == "9 days late"
    page.context.close()


def test_excuses_json_gives_every_release_its_blockers_who_acts_and_when(attention_site: tuple[Repo, Path]) -> None:
    repo, site = attention_site
    excuses = json.loads((site / "excuses.json").read_text())
    assert excuses["generated"] == TODAY
    by_name = {f"{r['product']}/{r['version']}": r for r in excuses["releases"]}
    assert sorted(by_name) == sorted(f"{p}/{v}" for p, v, _ in Repository(WorkTree(repo.root)).releases())
    coordinators = {"role": "coordinators", "logins": ["carla-coord", "dmitri-coord"]}
    blocked = by_name["apel/1.9.0"]
    assert (blocked["verdict"], blocked["who"], blocked["eligible"]) == ("blocked", [coordinators], None)
    assert blocked["blockers"][0] == (
        "team `mwt2` rejects revision 1: a coordinator must decide (reject the release, or accept it with a reason)"
    )
    assert blocked["late"] == [{"team": "ncg-ingrid-pt", "due": "2026-11-17", "days_late": 8, "escalate": True}]
    waiting = by_name["arc-ce/6.19.0"]  # the late team owes the report; escalated, so the coordinators too
    assert waiting["who"] == [{"role": "team", "team": "praguelcg2", "logins": ["jan-cz", "eva-cz"]}, coordinators]
    assert by_name["apel/2.0.0"]["who"] == [{"role": "bot", "logins": ["rollout-bot[bot]"]}]
    assert by_name["apel/1.8.0"]["who"] == [coordinators]
    assert (by_name["arc-ce/6.18.0"]["verdict"], by_name["arc-ce/6.18.0"]["who"]) == ("closed", [])
    # Before its soak ends a release says when it becomes eligible, and a team not yet late is the one to act.
    from rollout_tool import attention
    from rollout_tool import site as dashboard

    early = dashboard.gather(Repository(WorkTree(repo.root)), dt.date(2026, 11, 5))
    records = {page.team: page.record for page in early.teams}
    found = attention.excuses(early.config, early.releases, records, dt.date(2026, 11, 5))
    soaking = next(r for r in found["releases"] if r["product"] == "arc-ce" and r["version"] == "6.19.0")  # type: ignore[attr-defined]
    assert soaking["eligible"] == "2026-11-09"
    assert soaking["who"] == [{"role": "team", "team": "praguelcg2", "logins": ["jan-cz", "eva-cz"]}]


# ---------------------------------------------------------------- metrics page


@pytest.mark.browser
def test_the_metrics_page_draws_each_measure_with_its_numbers(
    attention_site: tuple[Repo, Path], browser: object
) -> None:
    _, site = attention_site
    page = _page(browser, viewport=VIEWPORTS["phone"])
    page.goto(_url(site, "index.html"))
    page.locator("nav[aria-label=Site] a", has_text="Metrics").click()
    assert page.locator("h1").inner_text() == "Process metrics"
    charts = page.locator("svg.chart")
    assert charts.count() == 16  # eight measures, per family and per year
    for i in range(charts.count()):
        chart = charts.nth(i)
        labelled = chart.get_attribute("aria-labelledby") or ""
        title_id, desc_id = labelled.split()
        assert chart.get_attribute("role") == "img"
        assert chart.locator(f"title#{title_id}").count() == 1 and chart.locator(f"desc#{desc_id}").count() == 1
        # The numbers the bars stand for are in the table beside the chart.
        figure = page.locator("figure.metric").nth(i)
        values = figure.locator("tbody td:nth-child(2)").all_inner_texts()
        labels = figure.locator("tbody th").all_inner_texts()[:-1]  # the last row is the total
        assert chart.locator("text.label").all_text_contents() == labels
        assert chart.locator("text.value, text.none").all_text_contents() == values[:-1]
    family = page.locator("figure.metric", has=page.locator("#h-family-rejected"))
    assert family.locator("tbody tr").all_inner_texts() == [
        "ARC\t50.0%\t1 of 2 decided",  # 6.17.0 rejected, 6.18.0 accepted
        "Operational tools\t0.0%\t0 of 2 decided",  # StoRM 1.11.22 accepted, APEL 1.8.0 accepted by history
        "All\t25.0%\t1 of 4 decided",
    ]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator("script").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "metrics-phone.png"), full_page=True)
    page.context.close()


@pytest.mark.skipif(not (OWN / "releases").is_dir(), reason="the repository's own data set is not there")
@pytest.mark.browser
def test_on_a_phone_no_release_matrix_of_our_own_data_is_clipped(browser: object, tmp_path: Path) -> None:
    # Our releases ship for up to four platforms: wider matrices than the test repositories'.
    site = _build(OWN, tmp_path / "site")
    page = _page(browser, viewport=VIEWPORTS["phone"])
    widest = max(Repository(WorkTree(OWN)).releases(), key=lambda found: len(found[2].platforms))
    for path in sorted(p.relative_to(site).as_posix() for p in (site / "releases").rglob("*.html")):
        page.goto(_url(site, path))
        assert page.evaluate(CLIPPED, "table.matrix tbody th, table.matrix tbody td") == [], path
    page.goto(_url(site, f"releases/{widest[0]}/{widest[1]}.html"))
    page.screenshot(path=str(SCREENSHOTS / "own-matrix-phone.png"), full_page=True)
    page.goto(_url(site, "index.html"))
    assert page.evaluate(CLIPPED, "#attention tbody th, #attention tbody td") == []
    page.screenshot(path=str(SCREENSHOTS / "own-attention-phone.png"))
    page.context.close()


def test_an_accepted_release_whose_policy_releases_it_waits_on_the_bot(tmp_path: Path) -> None:
    from rollout_tool import attention
    from rollout_tool import site as dashboard

    repo = build_attention_repo(tmp_path / "repo")
    path = repo.root / "releases/apel/1.8.0/release.yaml"
    path.write_text(path.read_text().replace("type: minor", "type: emergency"))  # auto_release: true
    found = dashboard.gather(Repository(WorkTree(repo.root)), dt.date.fromisoformat(TODAY))
    teams = {page.team: page.record for page in found.teams}
    items = attention.attention(found.config, found.releases, teams)
    releasable = [item for item in items if item.kind == "releasable"]
    assert [(i.facts.version, i.actor.role, i.actor.logins) for i in releasable] == [
        ("1.8.0", "bot", ("rollout-bot[bot]",))
    ]
    excuses = attention.excuses(found.config, found.releases, teams, found.today)
    by_name = {f"{r['product']}/{r['version']}": r for r in excuses["releases"]}  # type: ignore[attr-defined]
    assert by_name["apel/1.8.0"]["who"] == [{"role": "bot", "logins": ["rollout-bot[bot]"]}]

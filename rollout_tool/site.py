"""The dashboard: a static site built from the same facts as the release notes.

Pages: the board (releases by state, verdicts and reasons), one page per
release, per product, per team, per distribution release and per state, the
Atom feeds and one stylesheet. Every page is plain HTML that works without
JavaScript. Reports have no page of their own: they are shown on their
release's page, which keeps the site linear in the number of releases.

A build over an earlier one takes each page whose inputs did not change from
it instead of rendering it again: a page's key is a hash of the tool's code,
the day, rollout.yaml and everything the page's template is given, kept in a
manifest beside the pages. The board and the metrics page, which are drawn
from the whole site, are rendered every time, as are the feeds. The pages
left to render are spread over the cores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from rollout_tool import attention, collector, feed, gathering, metrics, parallel, policy, svg, templating
from rollout_tool.cache import tool_key
from rollout_tool.errors import RefusedError
from rollout_tool.github import form
from rollout_tool.identifiers import version_key
from rollout_tool.notes import (
    WAITING,
    DistributionFacts,
    ReleaseFacts,
    ReportLine,
    ShippedFacts,
    group_name,
)
from rollout_tool.policy import plural
from rollout_tool.progress import Progress
from rollout_tool.records import Config, Product, State, Team, Vocabulary
from rollout_tool.repository import Repository
from rollout_tool.writing import read_manifest

# The board's columns, in the order a release moves through them.
STATE_ORDER = [
    State.candidate,
    State.rollout,
    State.accepted,
    State.released,
    State.recalled,
    State.rejected,
    State.withdrawn,
    State.superseded,
]
# The board lists the newest releases of each state; the state's own page lists them all.
BOARD_LIMIT = 50
TEAM_REPORT_LIMIT = 50
MARKER = ".rollout-site"
# Each page's key, for the next build to reuse the pages whose key it computes again.
MANIFEST = ".rollout-site-pages.json"
# Templates drawn from the whole site (`site.releases`, `site.teams`...): rendered on every build.
WHOLE_SITE = frozenset({"board.html.j2", "metrics.html.j2"})
# Below this many pages to render, one process renders them all.
SPREAD_THRESHOLD = 200
SPREAD_CHUNK = 64
STYLESHEET = "style.css"


@dataclass(frozen=True)
class Owed:
    facts: ReleaseFacts
    due: dt.date | None
    days_late: int | None
    stale: bool


@dataclass
class TeamPage:
    team: str
    record: Team
    owed: list[Owed] = field(default_factory=list)
    reports: list[tuple[ReleaseFacts, ReportLine]] = field(default_factory=list)
    report_count: int = 0

    @property
    def late(self) -> list[Owed]:
        return [o for o in self.owed if o.days_late is not None]


@dataclass(frozen=True)
class StateColumn:
    state: str
    releases: list[ReleaseFacts]
    total: int


@dataclass(frozen=True)
class ProductRow:
    product: str
    record: Product | None
    group: str
    releases: list[ReleaseFacts]  # newest version first

    @property
    def latest_released(self) -> ReleaseFacts | None:
        return next((f for f in self.releases if f.release.state is State.released), None)

    @property
    def in_progress(self) -> list[ReleaseFacts]:
        return [f for f in self.releases if f.release.state in WAITING]


@dataclass
class Site:
    config: Config
    today: dt.date
    releases: list[ReleaseFacts]
    products: list[ProductRow]
    teams: list[TeamPage]
    distributions: list[DistributionFacts]
    columns: list[StateColumn]
    metrics: metrics.Metrics | None = None
    # A hash of each release's facts, by the facts' id: what the pages showing them are keyed by.
    digests: dict[int, bytes] = field(default_factory=dict)


def _newest_first(facts: list[ReleaseFacts]) -> list[ReleaseFacts]:
    return sorted(facts, key=lambda f: (-f.last_change.toordinal(), f.product_id, f.version))


def gather(repo: Repository, today: dt.date, jobs: int = 1) -> Site:
    """Everything the site shows, grouped and sorted; one pass over the releases.

    With the repository's cache, what was worked out from unchanged records
    is read back (rollout_tool.gathering); the rest is spread over `jobs` processes.
    """
    config = repo.config()
    if config is None:
        raise RefusedError("rollout.yaml is not valid: run `rollout validate` and fix it before building the site")
    derived = gathering.derived_of(repo, today)
    named = [(product, version) for product in repo.product_ids() for version in repo.versions(product)]
    found = gathering.gather(repo, named, today, jobs, metrics.Measurer(repo, today), derived)

    releases: list[ReleaseFacts] = []
    figures_found = []
    digests: dict[int, bytes] = {}
    for hit in found:
        if hit.facts is not None:
            releases.append(hit.facts)
            digests[id(hit.facts)] = hit.digest
        if hit.figures is not None:
            figures_found.append(hit.figures)

    by_product: dict[str, list[ReleaseFacts]] = defaultdict(list)
    by_state: dict[str, list[ReleaseFacts]] = defaultdict(list)
    for f in releases:
        by_product[f.product_id].append(f)
        by_state[f.release.state.value].append(f)

    products = []
    for product in repo.product_ids():
        record = repo.product(product)
        versions = sorted(by_product.get(product, []), key=lambda f: version_key(f.version), reverse=True)
        products.append(ProductRow(product, record, group_name(config, record), versions))

    columns = []
    for state in STATE_ORDER:
        chosen = _newest_first(by_state.get(state.value, []))
        columns.append(StateColumn(state.value, chosen, len(chosen)))

    teams = _team_pages(repo, releases)
    distributions = []
    for distribution in repo.distribution_ids():
        for version in sorted(repo.distribution_versions(distribution), key=version_key, reverse=True):
            shipped = gathering.distribution(repo, distribution, version, today, derived)
            if shipped is not None:
                distributions.append(shipped)
    gathered = metrics.metrics(config, figures_found, today)
    return Site(config, today, releases, products, teams, distributions, columns, gathered, digests)


def _team_pages(repo: Repository, releases: list[ReleaseFacts]) -> list[TeamPage]:
    pages: dict[str, TeamPage] = {}
    for team in repo.team_ids():
        record = repo.team(team)
        if record is not None:
            pages[team] = TeamPage(team, record)
    for f in _newest_first(releases):
        for line in f.reports:
            page = pages.get(line.team)
            if page is not None:
                page.report_count += 1
                if len(page.reports) < TEAM_REPORT_LIMIT:
                    page.reports.append((f, line))
        if f.release.state is not State.rollout or f.evaluation is None:
            continue
        due = policy.due_date(f.evaluation.policy, f.release)
        late = {entry.team: entry.days_late for entry in f.evaluation.late}
        for row in f.coverage:
            page = pages.get(row.team)
            if page is not None and row.assigned and row.status in ("missing", "stale"):
                page.owed.append(Owed(f, due, late.get(row.team), row.status == "stale"))
    for page in pages.values():
        page.owed.sort(key=lambda o: (-(o.days_late or -1), o.due or dt.date.max, o.facts.product_id, o.facts.version))
    return [pages[team] for team in sorted(pages)]


# ---------------------------------------------------------------- attention and metrics

METRICS_PAGE = "metrics.html"
EXCUSES = "excuses.json"


def _team_records(site: Site) -> dict[str, Team]:
    return {page.team: page.record for page in site.teams}


def _attention(site: Site) -> list[attention.Item]:
    return attention.attention(site.config, site.releases, _team_records(site))


def _excuses(site: Site) -> bytes:
    found = attention.excuses(site.config, site.releases, _team_records(site), site.today)
    return (json.dumps(found, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class MetricRow:
    label: str
    value: str
    basis: str


@dataclass(frozen=True)
class MetricChart:
    ident: str
    title: str
    chart: Markup
    rows: list[MetricRow]


@dataclass(frozen=True)
class MetricSection:
    ident: str
    title: str
    column: str
    charts: list[MetricChart]


def _decimal(value: float | None, unit: str = "") -> str:
    return "no data" if value is None else f"{value:g}{unit}"


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class Measure:
    ident: str
    name: str
    meaning: str
    value: Callable[[metrics.Summary], float | None]
    reads: Callable[[float | None], str]
    basis: Callable[[metrics.Summary], str]
    top: float | None = None  # rates are drawn against 100%, counts against the largest


MEASURES = [
    Measure(
        "released",
        "Releases to production",
        "releases that reached production, the cadence a history without reports still shows",
        lambda s: s.released,
        _decimal,
        lambda s: f"of {plural(s.releases, 'release')}",
    ),
    Measure(
        "days",
        "Median days in EA testing",
        "from the start of the rollout to the accept or reject decision",
        lambda s: s.days_median,
        lambda v: _decimal(v, " days"),
        lambda s: f"{s.decided} decided; mean {_decimal(s.days_mean)}" if s.decided else "none decided",
    ),
    Measure(
        "reports",
        "Reports per release",
        "reports filed per release that entered rollout",
        lambda s: s.reports_per_release,
        _decimal,
        lambda s: f"{plural(s.reports, 'report')} on {plural(s.tested, 'release')}",
    ),
    Measure(
        "sites",
        "EA sites per release",
        "distinct sites reporting per release that entered rollout",
        lambda s: s.sites_per_release,
        _decimal,
        lambda s: f"{plural(s.sites, 'distinct site')} in all",
    ),
    Measure(
        "platforms",
        "Platforms per release",
        "distinct platforms reported on per release that entered rollout",
        lambda s: s.platforms_per_release,
        _decimal,
        lambda s: f"{plural(s.platforms, 'distinct platform')} in all",
    ),
    Measure(
        "rejected",
        "Reject rate",
        "rejected among the releases accepted or rejected",
        lambda s: s.reject_rate,
        _percent,
        lambda s: f"{s.rejected} of {s.decided} decided",
        1.0,
    ),
    Measure(
        "recalled",
        "Recall rate",
        "recalled among the releases that reached production",
        lambda s: s.recall_rate,
        _percent,
        lambda s: f"{s.recalled} of {s.released} released",
        1.0,
    ),
    Measure(
        "late",
        "Late rate",
        "team assignments whose report came after its due date, or never came",
        lambda s: s.late_rate,
        _percent,
        lambda s: f"{s.late} of {plural(s.judged, 'assignment')}",
        1.0,
    ),
]


def metric_sections(found: metrics.Metrics | None) -> list[MetricSection]:
    """The metrics page: per product family and per year, one chart per measure and its numbers."""
    if found is None:
        return []
    dimensions = [
        ("family", "By product family", "Product family", [(g.name, g.summary) for g in found.groups]),
        ("year", "By year", "Year", [(str(year), summary) for year, summary in found.years]),
    ]
    sections = []
    for dimension, title, column, rows in dimensions:
        charts = []
        for m in MEASURES:
            chart_id = f"{dimension}-{m.ident}"
            bars = [svg.Bar(label, m.value(s), m.reads(m.value(s))) for label, s in rows]
            numbers = "; ".join(f"{bar.label}: {bar.text}" for bar in bars) or "no releases"
            description = f"{m.name} {title.lower()}, {m.meaning}. {numbers}."
            drawn = svg.bar_chart(chart_id, f"{m.name} {title.lower()}", description, bars, maximum=m.top)
            table = [MetricRow(label, m.reads(m.value(s)), m.basis(s)) for label, s in rows]
            table.append(MetricRow("All", m.reads(m.value(found.overall)), m.basis(found.overall)))
            charts.append(MetricChart(chart_id, f"{m.name}: {m.meaning}", drawn, table))
        sections.append(MetricSection(dimension, title, column, charts))
    return sections


# ---------------------------------------------------------------- writing

# A release's page: where the feeds link to, so it has one home, in feed.
release_page = feed.release_link


def product_page(product: str) -> str:
    return f"products/{product}.html"


def team_page(team: str) -> str:
    return f"teams/{team}.html"


def distribution_page(distribution: str, version: str) -> str:
    return f"distributions/{distribution}/{version}.html"


def state_page(state: str) -> str:
    return f"states/{state}.html"


@dataclass(frozen=True)
class FederationPage:
    """A federation's own view of the board: its teams, and the releases in progress they take part in."""

    name: str
    record: Vocabulary
    teams: list[TeamPage]
    releases: list[ReleaseFacts]


def federation_pages(site: Site) -> list[FederationPage]:
    pages = []
    for name, record in site.config.federations.items():
        teams = [t for t in site.teams if t.record.federation == name]
        members = {t.team for t in teams}
        in_progress = [f for f in site.releases if f.release.state in WAITING]
        releases = [f for f in _newest_first(in_progress) if members & set(f.release.teams)]
        pages.append(FederationPage(name, record, teams, releases))
    return pages


def federation_page(name: str) -> str:
    return f"federations/{name}.html"


def _pages(site: Site, board_limit: int) -> Iterator[tuple[str, str, dict[str, object]]]:
    yield "index.html", "board.html.j2", {"columns": site.columns, "limit": board_limit, "attention": _attention(site)}
    yield METRICS_PAGE, "metrics.html.j2", {"sections": metric_sections(site.metrics)}
    for column in site.columns:
        if column.total > board_limit:
            yield state_page(column.state), "state.html.j2", {"column": column}
    for f in site.releases:
        yield release_page(f.product_id, f.version), "release.html.j2", {"r": f}
    for product in site.products:
        yield product_page(product.product), "product.html.j2", {"p": product}
    for team in site.teams:
        yield team_page(team.team), "team.html.j2", {"t": team, "limit": TEAM_REPORT_LIMIT}
    for d in site.distributions:
        yield distribution_page(d.distribution, d.version), "distribution.html.j2", {"d": d}
    for federation in federation_pages(site):
        yield federation_page(federation.name), "federation.html.j2", {"f": federation}


def _environment(repo: Repository, site: Site) -> jinja2.Environment:
    env = templating.new_environment(repo.source, html=True)
    env.globals.update(
        config=site.config,
        today=site.today,
        site=site,
        release_page=release_page,
        product_page=product_page,
        team_page=team_page,
        distribution_page=distribution_page,
        state_page=state_page,
        federation_page=federation_page,
        feed_path=feed.RELEASES_FEED,
        issues_feed_path=feed.ISSUES_FEED,
        testing_feed_path=feed.TESTING_ISSUES_FEED,
        family_feed=feed.family_feed,
        stylesheet=STYLESHEET,
        metrics_page=METRICS_PAGE,
        excuses_path=EXCUSES,
        report_form_url=form.new_report_url,
    )
    return env


def render(
    repo: Repository, site: Site, base_url: str = "", board_limit: int = BOARD_LIMIT
) -> Iterator[tuple[str, bytes]]:
    """Every file of the site as (relative path, bytes), in a stable order.

    `base_url`, the address the site is published at, makes the feeds' links
    absolute (through xml:base); without it they are relative to the feed.
    """
    env = _environment(repo, site)
    for path, template, context in _pages(site, board_limit):
        yield path, _render_page(env, path, template, context)
    yield from _whole_site_files(env, site, base_url)


def _render_page(env: jinja2.Environment, path: str, template: str, context: dict[str, object]) -> bytes:
    root = "../" * path.count("/")
    return env.get_template(template).render(root=root, path=path, **context).encode("utf-8")


def _whole_site_files(env: jinja2.Environment, site: Site, base_url: str) -> Iterator[tuple[str, bytes]]:
    """The stylesheet, excuses.json and the feeds."""
    assert env.loader is not None
    # The stylesheet is copied as written, not rendered: CSS braces are not template syntax.
    yield STYLESHEET, env.loader.get_source(env, STYLESHEET)[0].encode("utf-8")
    yield EXCUSES, _excuses(site)
    entry_body = env.get_template("feed_entry.html.j2")
    base = base_url
    if base and not base.endswith("/"):
        base += "/"

    def atom(name: str, title: str, entries: list[feed.FeedEntry]) -> tuple[str, bytes]:
        return name, feed.atom(
            site.config, title=title, name=name, entries=entries, base=base, today=site.today, alternate="index.html"
        )

    def body(f: ReleaseFacts) -> str:
        return entry_body.render(r=f).strip()

    name = site.config.name
    yield atom(feed.RELEASES_FEED, f"{name}: releases", feed.release_entries(site.config, site.releases, body))
    yield atom(feed.ISSUES_FEED, f"{name}: known issues", feed.issue_entries(site.config, site.releases))
    in_testing = feed.issue_entries(site.config, site.releases, frozenset({State.rollout}))
    yield atom(feed.TESTING_ISSUES_FEED, f"{name}: known issues found in Early Adopter testing", in_testing)
    for group, record in site.config.groups.items():
        members = {row.product for row in site.products if row.record is not None and row.record.group == group}
        chosen = [f for f in site.releases if f.product_id in members]
        entries = feed.release_entries(site.config, chosen, body) + feed.issue_entries(site.config, chosen)
        entries.sort(key=lambda e: (-e.updated.toordinal(), e.title))
        yield atom(feed.family_feed(group), f"{name}: {record.name}", entries)


# The values a page is given that hold release facts: walked field by field, the facts hashed once.
_HOLDERS = (TeamPage, Owed, ProductRow, StateColumn, FederationPage, DistributionFacts, ShippedFacts)


class PageKeys:
    """Each page's key: a hash of what its output depends on.

    That is the tool's own code (templates included), the build's settings,
    rollout.yaml, and the page's path, template and context, walked through
    dataclasses and containers down to `repr` of each value. A release's facts
    are hashed once however many pages show them. A value whose `repr`
    differs from run to run only makes its page miss, never wrongly hit.
    """

    def __init__(self, site: Site, base_url: str, board_limit: int) -> None:
        common = hashlib.blake2b(digest_size=16)
        for part in (tool_key(), repr(site.config), site.today.isoformat(), base_url, str(board_limit)):
            _feed_bytes(common, part.encode("utf-8", "surrogateescape"))
        _feed_bytes(common, b"1" if site.distributions else b"0")  # what every page's navigation shows
        self._common = common.digest()
        self._facts: dict[int, bytes] = dict(site.digests)

    def key(self, path: str, template: str, context: dict[str, object]) -> str:
        digest = hashlib.blake2b(self._common, digest_size=16)
        _feed_bytes(digest, path.encode())
        _feed_bytes(digest, template.encode())
        self._feed(digest, context)
        return digest.hexdigest()

    def _feed(self, digest: hashlib.blake2b, value: object) -> None:
        if isinstance(value, ReleaseFacts):
            found = self._facts.get(id(value))
            if found is None:
                found = hashlib.blake2b(repr(value).encode("utf-8", "surrogateescape"), digest_size=16).digest()
                self._facts[id(value)] = found
            digest.update(b"F" + found)
        elif isinstance(value, _HOLDERS):
            digest.update(b"D")
            _feed_bytes(digest, type(value).__qualname__.encode())
            for item in dataclasses.fields(value):
                self._feed(digest, getattr(value, item.name))
            digest.update(b")")
        elif isinstance(value, list | tuple):
            digest.update(b"[")
            for item in value:
                self._feed(digest, item)
            digest.update(b"]")
        elif isinstance(value, dict):
            digest.update(b"{")
            for name, item in value.items():
                self._feed(digest, name)
                self._feed(digest, item)
            digest.update(b"}")
        else:
            digest.update(b"V")
            _feed_bytes(digest, repr(value).encode("utf-8", "surrogateescape"))


def _feed_bytes(digest: hashlib.blake2b, data: bytes) -> None:
    digest.update(len(data).to_bytes(8, "big") + data)


def _previous_keys(out: Path) -> dict[str, str]:
    """The page keys of the site built in `out` before, or none when there is no manifest that reads."""
    pages = read_manifest(out / MANIFEST, "pages")
    return {path: key for path, key in pages.items() if isinstance(key, str)}


def _take(old: Path, new: Path) -> bool:
    """Put the earlier build's page at `new` (a hard link, else a copy); False when it is not a plain file."""
    try:
        if not old.is_file() or old.is_symlink():
            return False
        try:
            os.link(old, new)
        except OSError:
            shutil.copyfile(old, new)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Built:
    files: int
    releases: int


def build(
    repo: Repository,
    out: Path,
    today: dt.date,
    base_url: str = "",
    board_limit: int = BOARD_LIMIT,
    jobs: int = 1,
) -> Built:
    """Write the site to `out`, replacing a site built there before and nothing else.

    The pages of the earlier build whose key is unchanged are taken from it;
    the others are rendered over `jobs` processes.
    """
    out = out.absolute()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise RefusedError(f"{out} exists and holds something other than a site built by rollout; choose another --out")
    with collector.paused():
        site = gather(repo, today, jobs)
    # The facts are kept to the end: no pass of the collector walks them again while the pages are rendered.
    with collector.set_aside():
        files = _write(repo, site, out, base_url, board_limit, jobs)
    return Built(files, len(site.releases))


def _write(repo: Repository, site: Site, out: Path, base_url: str, board_limit: int, jobs: int) -> int:
    """Write the pages of `site` to `out`, taking those of the earlier build whose key is unchanged; how many."""
    # A repository's own templates may draw on anything: its pages are always rendered afresh.
    keys = PageKeys(site, base_url, board_limit) if repo.source.kind(templating.OVERRIDE_FOLDER) is None else None
    previous = _previous_keys(out) if keys is not None else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built aside and swapped in: a failed build leaves the previous site whole.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = 0
        made: set[Path] = set()
        manifest: dict[str, str] = {}
        to_render: list[tuple[str, str, dict[str, object]]] = []

        def folder_of(path: str) -> Path:
            target = staging / path
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            return target

        with Progress("building the site") as progress:
            for path, template, context in _pages(site, board_limit):
                key = keys.key(path, template, context) if keys is not None and template not in WHOLE_SITE else None
                if key is not None:
                    manifest[path] = key
                    if previous.get(path) == key and _take(out / path, folder_of(path)):
                        files += 1
                        progress.advance()
                        continue
                to_render.append((path, template, context))
            env = _environment(repo, site)

            def render_chunk(chunk: list[tuple[str, str, dict[str, object]]]) -> list[int]:
                for path, template, context in chunk:
                    (staging / path).write_bytes(_render_page(env, path, template, context))
                return [1] * len(chunk)

            for path, _, _ in to_render:
                folder_of(path)  # folders made here, before the workers write into them
            for done in parallel.spread(render_chunk, to_render, jobs, SPREAD_CHUNK, SPREAD_THRESHOLD):
                files += done
                progress.advance()
            for path, data in _whole_site_files(env, site, base_url):
                folder_of(path).write_bytes(data)
                files += 1
                progress.advance()
        (staging / MARKER).write_text("built by `rollout site`; this folder is replaced on every build\n")
        (staging / MANIFEST).write_text(json.dumps({"pages": manifest}, indent=0, sort_keys=True) + "\n")
        staging.chmod(0o755)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files

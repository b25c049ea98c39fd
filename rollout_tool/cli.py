"""The `rollout` command: click translates arguments, commands do the work."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from rollout_tool import reporting, schemas
from rollout_tool.errors import EXIT_FATAL, EXIT_OK, EXIT_PROBLEMS, RolloutError, UsageError
from rollout_tool.policy import today_from
from rollout_tool.records import ReleaseType, ReportVerdict
from rollout_tool.repository import CONFIG_PATH, release_path, report_path, team_path

if TYPE_CHECKING:
    from rollout_tool.cache import DocumentCache

F = TypeVar("F", bound=Callable[..., Any])


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds rollout.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_PATH).is_file():
            return folder
    raise UsageError(f"no rollout.yaml in {start} or any folder above it; use --repo DIR")


def repo_root(value: Path | None) -> Path:
    if value is None:
        env = os.environ.get("ROLLOUT_REPO")
        return find_root(Path(env) if env else Path.cwd())
    if not value.is_dir():
        raise UsageError(f"--repo {value}: no such folder")
    return value.resolve()


def handles_errors(function: F) -> F:
    """Map the one error hierarchy to exit codes, in one place."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RolloutError as exc:
            click.echo(f"rollout: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


repo_option = click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The rollout repository (default: the nearest folder holding rollout.yaml).",
)


rev_option = click.option(
    "--rev", metavar="REV", default=None, help="Read the records of this git commit instead of the work tree."
)


def format_option(choices: tuple[str, ...] = reporting.FORMATS) -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=None,
        help="Output format (default: github inside GitHub Actions, text elsewhere).",
    )


today_option = click.option(
    "--today", default=None, metavar="YYYY-MM-DD", help="The date to act on (default: $ROLLOUT_TODAY, else today)."
)


def speed_options(command: F) -> F:
    """--no-cache and --jobs, for the commands that read the whole tree."""
    command = click.option(
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Processes that do the work (default: one per core; one for a small tree).",
    )(command)
    return click.option(
        "--no-cache", is_flag=True, help="Parse every file afresh, neither reading nor filling the cache."
    )(command)


def chosen_cache(no_cache: bool) -> DocumentCache | None:
    from rollout_tool.cache import DocumentCache, cache_dir

    return None if no_cache else DocumentCache(cache_dir())


def chosen_jobs(jobs: int | None) -> int:
    from rollout_tool.parallel import cores

    return cores() if jobs is None else jobs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rollout-as-code")
def main() -> None:
    """Staged rollout of software updates, run as a git repository."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@rev_option
@format_option()
@speed_options
@handles_errors
def validate(
    paths: tuple[Path, ...],
    repo: Path | None,
    rev: str | None,
    output_format: str | None,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Validate the whole repository, or PATHS in its context."""
    from rollout_tool.commands.validate import relative_paths, validate
    from rollout_tool.sources import open_source

    root = repo_root(repo)
    if rev is None:
        given = relative_paths(root, list(paths)) if paths else None
    else:  # paths name files of the commit, from the repository's top
        given = [path.as_posix() for path in paths] or None
    result = validate(open_source(root, rev), given, chosen_cache(no_cache), chosen_jobs(jobs))
    reporting.report(reporting.Problems(result.files, result.problems), output_format)


@main.command()
@click.option("--check", is_flag=True, help="Fail when schema/ is not what the models generate.")
@repo_option
@format_option(("text", "json"))
@handles_errors
def schema(check: bool, repo: Path | None, output_format: str | None) -> None:
    """Write the JSON Schemas of the records to schema/, listing rollout.yaml's platforms, groups,
    federations and workflows and the repository's teams and products, so that editors complete them."""
    from rollout_tool.repository import Repository
    from rollout_tool.sources import WorkTree
    from rollout_tool.writing import atomic_write

    root = repo_root(repo)
    names = schemas.names_of(Repository(WorkTree(root)))
    if check:
        stale = schemas.stale(root, names)
        said = [f"{schemas.SCHEMA_FOLDER}/{name}: stale; run `rollout schema` and commit the result" for name in stale]
        payload: dict[str, object] = {"stale": [f"{schemas.SCHEMA_FOLDER}/{name}" for name in stale]}
        reporting.report(reporting.Lines([], payload, said, EXIT_PROBLEMS if stale else EXIT_OK), output_format)
    written = schemas.rendered(names)
    for name, text in written.items():
        atomic_write(root / schemas.SCHEMA_FOLDER / name, text.encode())
    paths = [f"{schemas.SCHEMA_FOLDER}/{name}" for name in written]
    said = [f"wrote {len(written)} schemas to {schemas.SCHEMA_FOLDER}/"]
    reporting.report(reporting.Lines(said, {"written": paths}), output_format or "text")


# ---- section: new (scaffolding) ----


def _ask(value: Any, label: str, *, default: Any = None, many: bool = False) -> Any:
    """A value from its option, else from a prompt in a terminal, else a usage error."""
    if value not in (None, ()):
        return list(value) if many else value
    if sys.stdin.isatty():
        answer = click.prompt(label + (" (comma-separated)" if many else ""), default=default)
        return [part.strip() for part in str(answer).split(",") if part.strip()] if many else answer
    if default is not None:
        return default
    raise UsageError(f"missing {label.lower()}: give its option (see --help)")


def _finish(result: Any, output_format: str | None = None) -> None:
    from rollout_tool.problems import has_errors

    if has_errors(result.problems):
        refused = reporting.Lines(
            [], {"path": result.path, "written": False}, [f"{result.path} not written: fix the values above"]
        )
        reporting.report(replace(refused, code=EXIT_PROBLEMS, found=list(result.problems)), output_format or "text")
    written = reporting.Lines([f"wrote {result.path}"], {"path": result.path, "written": True}, found=result.problems)
    reporting.report(written, output_format or "text")


@main.group()
def new() -> None:
    """Scaffold a valid record: a team, a release candidate or a report."""


@new.command("team")
@click.argument("team")
@click.option("--name", help="The team's display name.")
@click.option("--site", help="The site's name in the infrastructure's registry (e.g. GOCDB).")
@click.option("--federation", help="EGI, OSG, ...")
@click.option("--member", "members", multiple=True, help="A member's GitHub login (repeatable).")
@click.option("--platform", "platforms", multiple=True, help="A platform the site runs (repeatable).")
@click.option("--group", "groups", multiple=True, help="A product group of interest (repeatable).")
@click.option("--product", "products", multiple=True, help="A product of interest (repeatable).")
@click.option("--contact", help="The team's list address.")
@repo_option
@format_option(("text", "json"))
@handles_errors
def new_team(team: str, repo: Path | None, contact: str | None, output_format: str | None, **given: Any) -> None:
    """Scaffold teams/TEAM.yaml."""
    from rollout_tool.commands.new import scaffold, team_fields

    root = repo_root(repo)
    fields = team_fields(
        name=_ask(given["name"], "Name", default=f"{team} EA team"),
        site=_ask(given["site"], "Site"),
        federation=_ask(given["federation"], "Federation", default="EGI"),
        members=_ask(given["members"], "Member logins", many=True),
        platforms=_ask(given["platforms"], "Platforms", many=True),
        groups=list(given["groups"]),
        products=list(given["products"]),
        contact=contact,
    )
    _finish(scaffold(root, team_path(team), fields), output_format)


@new.command("release")
@click.argument("release")
@click.option("--type", "release_type", type=click.Choice([t.value for t in ReleaseType]))
@click.option("--platform", "platforms", multiple=True, help="A platform it ships for (repeatable).")
@click.option("--summary", help="One line saying what the release brings.")
@click.option("--team", "teams", multiple=True, help="An EA team to assign (repeatable).")
@click.option("--by", help="Your GitHub login (the submitter).")
@click.option("--supersedes", help="The version of the same product this one replaces.")
@today_option
@repo_option
@format_option(("text", "json"))
@handles_errors
def new_release(
    release: str,
    repo: Path | None,
    supersedes: str | None,
    today: str | None,
    output_format: str | None,
    **given: Any,
) -> None:
    """Scaffold releases/PRODUCT/VERSION/release.yaml as a candidate."""
    from rollout_tool.commands.new import release_fields, scaffold, split_release

    root = repo_root(repo)
    product, version = split_release(release)
    fields = release_fields(
        version=version,
        release_type=_ask(given["release_type"], "Type", default="minor"),
        platforms=_ask(given["platforms"], "Platforms", many=True),
        summary=_ask(given["summary"], "Summary"),
        teams=list(given["teams"]),
        by=_ask(given["by"], "Your GitHub login"),
        today=today_from(today),
        supersedes=supersedes,
    )
    _finish(scaffold(root, release_path(product, version), fields), output_format)


@new.command("report")
@click.argument("release")
@click.option("--team", help="Your EA team.")
@click.option("--verdict", type=click.Choice([v.value for v in ReportVerdict]))
@click.option("--platform", help="The platform you installed it on.")
@click.option("--arch", help="The architecture (default: x86_64).")
@click.option("--install", type=click.Choice(["fresh", "upgrade"]))
@click.option("--from-version", help="The version you upgraded from.")
@click.option("--workflow", "workflows", multiple=True, help="A VO workflow exercised, e.g. ATLAS (repeatable).")
@click.option("--service", "services", multiple=True, help="A service you run it as, e.g. A-REX (repeatable).")
@click.option("--batch-system", help="The batch system behind it, e.g. HTCondor.")
@click.option("--in-production-since", metavar="YYYY-MM-DD", help="Since when it has run in production.")
@click.option("--revision", type=int, help="The revision you tested (refused unless it is the current one).")
@today_option
@repo_option
@format_option(("text", "json"))
@handles_errors
def new_report(
    release: str,
    repo: Path | None,
    from_version: str | None,
    in_production_since: str | None,
    revision: int | None,
    today: str | None,
    output_format: str | None,
    **given: Any,
) -> None:
    """Scaffold releases/PRODUCT/VERSION/reports/TEAM.yaml for the release's current revision."""
    from rollout_tool.commands.new import REPORT_FOOTER, report_fields, scaffold, split_release

    root = repo_root(repo)
    product, version = split_release(release)
    team = _ask(given["team"], "Team")
    fields = report_fields(
        root,
        product=product,
        version=version,
        team=team,
        verdict=_ask(given["verdict"], "Verdict (accept or reject)"),
        platform=_ask(given["platform"], "Platform"),
        arch=_ask(given["arch"], "Arch", default="x86_64"),
        install=_ask(given["install"], "Install (fresh or upgrade)", default="upgrade"),
        from_version=from_version,
        workflows=list(given["workflows"]),
        today=today_from(today),
        services=list(given["services"]),
        batch_system=given["batch_system"],
        in_production_since=today_from(in_production_since) if in_production_since else None,
        revision=revision,
    )
    _finish(scaffold(root, report_path(product, version, team), fields, footer=REPORT_FOOTER), output_format)


# ---- end section: new ----

# ---- section: automated results ----


@main.group()
def result() -> None:
    """File an automated result (a CI run, a monitoring probe) for a release in rollout."""


def _result_options(function: F) -> F:
    options = [
        click.argument("file", type=click.Path(path_type=Path, dir_okay=False)),
        click.option("--release", required=True, metavar="PRODUCT/VERSION", help="The release the run tested."),
        click.option("--check", "check", required=True, help="The check's name, as policies require it."),
        click.option("--platform", required=True, help="The platform it ran on."),
        click.option("--team", required=True, help="The team whose automation ran it."),
        click.option(
            "--by",
            default=None,
            metavar="LOGIN",
            help="The login filing it, the team's automation (default: $GITHUB_ACTOR, else git's github.user).",
        ),
        click.option("--url", default=None, help="The run's page."),
        click.option("--revision", type=int, help="The revision tested (refused unless it is the current one)."),
        today_option,
        repo_option,
        format_option(("text", "json")),
        handles_errors,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _file_result(parse: Callable[[bytes, str], Any], file: Path, repo: Path | None, **given: Any) -> None:
    from rollout_tool.commands.result import read_capped, write_result
    from rollout_tool.commands.steps import acting_login

    root = repo_root(repo)
    given["by"] = acting_login(given["by"], root)
    output_format = given.pop("output_format")
    run = parse(read_capped(file), str(file))
    _finish(write_result(root, run, today=today_from(given.pop("today")), **given), output_format)


@result.command("from-junit")
@_result_options
def result_from_junit(file: Path, repo: Path | None, **given: Any) -> None:
    """A JUnit XML report as the result: fail when a test failed or erred, pass when tests ran and none did."""
    from rollout_tool.commands.result import parse_junit

    _file_result(parse_junit, file, repo, **given)


@result.command("from-json")
@_result_options
def result_from_json(file: Path, repo: Path | None, **given: Any) -> None:
    """A small JSON object as the result: {"outcome": "pass", "tests": 3, "failing": [...], ...} (see README)."""
    from rollout_tool.commands.result import parse_json

    _file_result(parse_json, file, repo, **given)


# ---- end section: automated results ----

# ---- section: lifecycle (status, check-pr, advance, codeowners) ----


def _also_output(item: str) -> tuple[str, Path]:
    """A `--also FORMAT=FILE` option, checked before any work is done."""
    fmt, equals, target = item.partition("=")
    if not equals or not target or fmt not in reporting.CHECK_FORMATS:
        raise UsageError(f"--also {item}: give FORMAT=FILE with FORMAT one of {', '.join(reporting.CHECK_FORMATS)}")
    return fmt, Path(target)


@main.command("check-pr")
@click.option("--base", required=True, help="The tip of the target branch: the change is judged merged into it.")
@click.option(
    "--head",
    default="HEAD",
    show_default=True,
    help="The revision holding the change (a pull request's head, its refs/pull/N/merge, or a merge group's commit).",
)
@click.option("--author", default=None, help="The GitHub login of the change's author.")
@click.option(
    "--opened",
    default=None,
    metavar="YYYY-MM-DD",
    help="The day the pull request was opened: entries the change adds are dated from then to today (default: today).",
)
@click.option(
    "--queue",
    "queue",
    multiple=True,
    metavar="HEAD:AUTHOR[:OPENED]",
    help="A pull request of the merge group --head, in queue order, with the day it was opened (repeatable);"
    " replaces --author and --opened.",
)
@click.option(
    "--also",
    "also",
    multiple=True,
    metavar="FORMAT=FILE",
    help="Also write the same result as FORMAT to FILE (repeatable): one judgement, several outputs,"
    " e.g. the comment as markdown and its labels as json.",
)
@today_option
@repo_option
@format_option(reporting.CHECK_FORMATS)
@handles_errors
def check_pr(
    base: str,
    head: str,
    author: str | None,
    opened: str | None,
    queue: tuple[str, ...],
    also: tuple[str, ...],
    today: str | None,
    repo: Path | None,
    output_format: str | None,
) -> None:
    """Say what merging a change does, and refuse it when it is illegal or not authorised."""
    from rollout_tool.commands.check_pr import check_pr as run_check
    from rollout_tool.commands.check_pr import parse_queue
    from rollout_tool.writing import atomic_write

    if queue and author is not None:
        raise UsageError("--author names the author of one pull request; a merge group's authors come with --queue")
    if not queue and author is None:
        raise UsageError("missing --author LOGIN (or --queue HEAD:AUTHOR for each pull request of a merge group)")
    outputs = [_also_output(item) for item in also]
    result = run_check(
        repo_root(repo),
        base,
        head,
        author or "",
        today_from(today),
        opened=today_from(opened) if opened else None,
        queue=parse_queue(queue),
    )
    for fmt, target in outputs:
        try:
            atomic_write(target, reporting.REPORTER_BY_NAME[fmt](result)[0].encode("utf-8"))
        except OSError as exc:
            raise UsageError(f"--also {fmt}={target}: cannot write it ({exc.strerror})") from None
    reporting.report(result, output_format)


@main.command()
@click.argument("release", required=False, metavar="[PRODUCT[/VERSION]]")
@click.option("--team", metavar="TEAM", help="List what TEAM owes instead: its missing reports, oldest due first.")
@today_option
@repo_option
@rev_option
@format_option(("text", "json"))
@handles_errors
def status(
    release: str | None,
    team: str | None,
    today: str | None,
    repo: Path | None,
    rev: str | None,
    output_format: str | None,
) -> None:
    """Show every release (or those of PRODUCT[/VERSION]) with its verdict, reasons and who acts next."""
    from rollout_tool.commands.status import StatusReport, owed, owed_report
    from rollout_tool.commands.status import status as run_status
    from rollout_tool.sources import open_source

    day = today_from(today)
    if team is not None:
        if release is not None:
            raise UsageError("--team lists a team's reports across releases: give no PRODUCT[/VERSION] with it")
        found_owed = owed(open_source(repo_root(repo), rev), team, day)
        reporting.report(owed_report(team, found_owed, day), output_format or "text")
    found = run_status(open_source(repo_root(repo), rev), release, day)
    reporting.report(StatusReport(found, day), output_format or "text")


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@today_option
@repo_option
@format_option(("text", "json"))
@handles_errors
def advance(dry_run: bool, today: str | None, repo: Path | None, output_format: str | None) -> None:
    """Apply the transitions the policy hands to the bot."""
    from rollout_tool.commands.advance import advance as run_advance

    result = run_advance(repo_root(repo), today_from(today), dry_run=dry_run)
    verb = "would move" if dry_run else "moved"
    steps = [(f"{s.product}/{s.version}", s.source.value, s.target.value) for s in result.steps]
    said = [f"{verb} {name}: {source} -> {target}" for name, source, target in steps] or ["nothing to advance"]
    payload = {
        "dry_run": dry_run,
        "steps": [{"release": name, "from": source, "to": target} for name, source, target in steps],
        "skipped": list(result.skipped),
    }
    notes = [f"skipped {reason}" for reason in result.skipped]
    reporting.report(reporting.Lines(said, payload, notes), output_format or "text")


@main.command()
@click.option("--check", is_flag=True, help="Fail when .github/CODEOWNERS is not what the records say.")
@repo_option
@format_option(("text", "json"))
@handles_errors
def codeowners(check: bool, repo: Path | None, output_format: str | None) -> None:
    """Write .github/CODEOWNERS from rollout.yaml, teams/ and the products."""
    from rollout_tool.commands.codeowners import CODEOWNERS_PATH, render, write

    root = repo_root(repo)
    if check:
        current = root / CODEOWNERS_PATH
        stale = not current.is_file() or current.is_symlink() or current.read_bytes() != render(root)
        _report_generated(CODEOWNERS_PATH, "codeowners", stale, None, output_format)
    _report_generated(CODEOWNERS_PATH, "codeowners", None, write(root), output_format)


def _report_generated(
    path: str, command: str, stale: bool | None, changed: bool | None, output_format: str | None
) -> None:
    """What a command that generates a file says: stale or up to date (--check), else written or unchanged."""
    if stale is not None:
        said = [] if stale else [f"{path} is up to date"]
        notes = [f"{path}: stale; run `rollout {command}` and commit the result"] if stale else []
        lines = reporting.Lines(said, {"path": path, "stale": stale}, notes, EXIT_PROBLEMS if stale else EXIT_OK)
    else:
        said = [f"{'wrote' if changed else 'unchanged:'} {path}"]
        lines = reporting.Lines(said, {"path": path, "changed": changed})
    reporting.report(lines, output_format or "text")


@main.command()
@click.option("--check", is_flag=True, help="Fail when the issue form is not what rollout.yaml says.")
@repo_option
@format_option(("text", "json"))
@handles_errors
def form(check: bool, repo: Path | None, output_format: str | None) -> None:
    """Write the Early Adopter report issue form (.github/ISSUE_TEMPLATE/ea-report.yml) from rollout.yaml."""
    from rollout_tool.github.form import FORM_PATH, is_current, write

    root = repo_root(repo)
    if check:
        _report_generated(FORM_PATH, "form", not is_current(root), None, output_format)
    _report_generated(FORM_PATH, "form", None, write(root), output_format)


@main.command()
@today_option
@repo_option
@rev_option
@format_option(("text", "json"))
@handles_errors
def metrics(today: str | None, repo: Path | None, rev: str | None, output_format: str | None) -> None:
    """Process figures: time in EA testing, reports, reject, recall and late rates, per family and year."""
    from rollout_tool.commands.metrics import render, run
    from rollout_tool.sources import open_source

    found = run(open_source(repo_root(repo), rev), today_from(today))
    click.echo(render(found, output_format or "text"), nl=False)


# ---- end section: lifecycle ----

# ---- section: publishing (notes, site) ----


@main.command()
@click.argument("name", required=False)
@click.option("--distribution", is_flag=True, help="NAME/VERSION names a distribution release.")
@click.option("--all", "every", is_flag=True, help="Write the notes of every release and distribution release.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None, help="Folder for --all.")
@today_option
@repo_option
@rev_option
@format_option(("text", "json"))
@speed_options
@handles_errors
def notes(
    name: str | None,
    distribution: bool,
    every: bool,
    out: Path | None,
    today: str | None,
    repo: Path | None,
    rev: str | None,
    output_format: str | None,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Markdown release notes of PRODUCT/VERSION, or of every release with --all --out DIR."""
    from rollout_tool.commands import notes as command
    from rollout_tool.sources import open_source

    root = repo_root(repo)
    day = today_from(today)
    if every:
        if name is not None or out is None:
            raise UsageError("--all writes every release's notes to --out DIR and takes no NAME")
        written = command.write_all(open_source(root, rev), out, day, chosen_cache(no_cache), chosen_jobs(jobs))
        said = f"wrote notes of {written.releases} releases and {written.distributions} distribution releases to {out}"
        payload: dict[str, object] = {
            "out": str(out),
            "releases": written.releases,
            "distributions": written.distributions,
        }
        reporting.report(reporting.Lines([said], payload), output_format or "text")
    if name is None:
        raise UsageError("name a release as PRODUCT/VERSION, or use --all --out DIR")
    text = command.one(open_source(root, rev), name, day, distribution=distribution)
    if output_format == "json":  # the Markdown itself is the text output: printed as written, tabs and all
        reporting.report(reporting.Lines([], {"name": name, "markdown": text}), "json")
    click.echo(text, nl=False)


@main.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder to build into.")
@click.option(
    "--base-url",
    default="",
    metavar="URL",
    help="The address the site is published at (default: rollout.yaml's site_url); makes the feeds' links absolute.",
)
@today_option
@repo_option
@rev_option
@format_option(("text", "json"))
@speed_options
@handles_errors
def site(
    out: Path,
    base_url: str,
    today: str | None,
    repo: Path | None,
    rev: str | None,
    output_format: str | None,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Build the static dashboard (board, release, team and distribution pages, Atom feeds) into --out."""
    import re

    from rollout_tool.commands.site import build_site
    from rollout_tool.sources import open_source

    if base_url and not re.match(r"^https?://[^\s/]+(/\S*)?$", base_url):
        raise UsageError(f"--base-url {base_url!r}: give an http(s) address such as https://example.org/rollout/")
    source = open_source(repo_root(repo), rev)
    built = build_site(source, out, today_from(today), base_url, chosen_cache(no_cache), chosen_jobs(jobs))
    said = [f"built {built.files} files for {built.releases} releases in {out}"]
    payload: dict[str, object] = {"out": str(out), "files": built.files, "releases": built.releases}
    reporting.report(reporting.Lines(said, payload), output_format or "text")


# ---- end section: publishing ----

# ---- section: coordinator steps ----

_STEPS = {
    "start": "Start the rollout of a candidate with its EA teams (suggested when none is named).",
    "assign": "Add EA teams to a release in rollout (--team), or remove them (--remove).",
    "accept": "Accept a release in rollout; a reason is required to override a reject or missing coverage.",
    "reject": "Reject a release in rollout, with a reason.",
    "release": "Release an accepted release to production.",
    "recall": "Recall a released release from production, with a reason.",
    "withdraw": "Withdraw a candidate or a release in rollout, with a reason.",
    "supersede": "Mark a release superseded by a newer version of the same product (--by-version).",
    "bump": "Record a new revision of the artifact under test, with a reason: reports on older ones go stale.",
}


def _step_command(step: str) -> None:
    @main.command(step, help=_STEPS[step] + " Writes the change and its history; --dry-run shows the diff.")
    @click.argument("release")
    @click.option("--by", "login", metavar="LOGIN", help="Who acts (default: $GITHUB_ACTOR, else git's github.user).")
    @click.option("--reason", "--note", "reason", metavar="TEXT", help="Why: recorded with the decision or history.")
    @click.option("--team", "teams", multiple=True, metavar="TEAM", help="An EA team to assign (repeatable).")
    @click.option("--remove", multiple=True, metavar="TEAM", help="An EA team to remove (assign only).")
    @click.option("--by-version", metavar="VERSION", help="The newer version (supersede only).")
    @click.option("--dry-run", is_flag=True, help="Show the diff; write nothing.")
    @today_option
    @repo_option
    @format_option()
    @handles_errors
    def command(
        release: str,
        login: str | None,
        reason: str | None,
        teams: tuple[str, ...],
        remove: tuple[str, ...],
        by_version: str | None,
        dry_run: bool,
        today: str | None,
        repo: Path | None,
        output_format: str | None,
    ) -> None:
        from rollout_tool.commands.steps import acting_login, run_step

        root = repo_root(repo)
        result = run_step(
            root,
            step,
            release,
            acting_login(login, root),
            today_from(today),
            dry_run=dry_run,
            teams=teams,
            remove=remove,
            reason=reason,
            by_version=by_version,
        )
        reporting.report(result, output_format or "text")


for _step in _STEPS:
    _step_command(_step)

# ---- end section: coordinator steps ----


@main.command()
@today_option
@repo_option
@rev_option
@format_option(("text", "json", "markdown"))
@handles_errors
def digest(today: str | None, repo: Path | None, rev: str | None, output_format: str | None) -> None:
    """What needs action this week, oldest first, each with who acts: the weekly digest issue's content."""
    from rollout_tool.digest import digest as run_digest
    from rollout_tool.repository import Repository
    from rollout_tool.sources import open_source

    found = run_digest(Repository(open_source(repo_root(repo), rev)), today_from(today))
    reporting.report(found, output_format or "text")


# ---- section: bot ----


@main.group()
def bot() -> None:
    """Act on GitHub: the pull-request comment, tracking issues, reminders, tags and Releases.

    Reads GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SHA and
    GITHUB_EVENT_PATH as GitHub Actions sets them. Every action looks before
    it writes: a re-run changes nothing twice.

    \b
    Retries (environment):
      ROLLOUT_BOT_BACKOFF         first wait in seconds, doubled each time (1)
      ROLLOUT_BOT_ATTEMPTS        attempts per request (6)
      ROLLOUT_BOT_TIMEOUT         seconds to wait for an answer (30)
      ROLLOUT_BOT_MAX_WAIT        longest rate-limit wait before failing (900)
      ROLLOUT_BOT_SECONDARY_WAIT  wait on a secondary rate limit without Retry-After (60)
      ROLLOUT_BOT_WRITE_INTERVAL  seconds between writes (1)
    """


def _print_actions(lines: Iterable[str]) -> None:
    # Each line as soon as it is done: if a later step fails, what changed is still said.
    changed = False
    for line in lines:
        click.echo(line)
        changed = True
    if not changed:
        click.echo("nothing to change")


@bot.command("comment")
@click.option("--pr", "pr", type=click.IntRange(min=1), default=None, help="The pull request (default: the event's).")
@click.option(
    "--body-file", type=click.Path(path_type=Path, dir_okay=False), required=True, help="The comment's Markdown."
)
@click.option("--label", "labels", multiple=True, help="A label the check decided; repeat for more.")
@repo_option
@handles_errors
def bot_comment(pr: int | None, body_file: Path, labels: tuple[str, ...], repo: Path | None) -> None:
    """Post or update the one sticky comment on a pull request, and set its labels."""
    from rollout_tool.github import commands

    _print_actions(commands.comment(repo_root(repo), os.environ, pr, body_file, list(labels)))


@bot.command("sync")
@today_option
@repo_option
@handles_errors
def bot_sync(today: str | None, repo: Path | None) -> None:
    """Tracking issues for releases in rollout; tags and GitHub Releases for released ones."""
    from rollout_tool.github import commands

    _print_actions(commands.sync(repo_root(repo), os.environ, today_from(today)))


@bot.command("remind")
@today_option
@repo_option
@handles_errors
def bot_remind(today: str | None, repo: Path | None) -> None:
    """Remind late teams on the tracking issues; escalate to the coordinators."""
    from rollout_tool.github import commands

    _print_actions(commands.remind(repo_root(repo), os.environ, today_from(today)))


@bot.command("check-pull-request")
@click.option(
    "--artifact",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="The folder the pull request's own run handed on (only its number is taken, checked against the API).",
)
@click.option("--head-sha", required=True, help="The head commit that run checked.")
def bot_check_pull_request(artifact: Path, head_sha: str) -> None:
    """The trusted check: judge merging the pull request into its base's tip now, post the bot app's
    `rollout / check` status on its head, the comment and the labels. Run from the default branch only."""
    from rollout_tool.github import trusted

    sys.exit(trusted.check_pull_request(artifact, head_sha))


@bot.command("check-merge-group")
@click.option("--head-sha", required=True, help="The merge group's commit.")
@click.option("--head-ref", required=True, help="The merge group's branch (gh-readonly-queue/...).")
def bot_check_merge_group(head_sha: str, head_ref: str) -> None:
    """The trusted check of a merge queue's commit: each pull request in queue order, by its own author;
    the bot app's `rollout / check` status on the commit."""
    from rollout_tool.github import trusted

    sys.exit(trusted.check_merge_group(head_sha, head_ref))


@bot.command("propose")
@click.option("--branch", default="rollout-bot/advance", show_default=True, help="The bot's own branch.")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push the branch to.")
@repo_option
@handles_errors
def bot_propose(branch: str, remote: str, repo: Path | None) -> None:
    """Push HEAD to the bot's branch and open (or update) its one pull request, set to auto-merge."""
    from rollout_tool.github import commands

    _print_actions(commands.propose(repo_root(repo), os.environ, branch, remote))


@bot.command("report-from-issue")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push the report's branch to.")
@today_option
@repo_option
@handles_errors
def bot_report_from_issue(remote: str, today: str | None, repo: Path | None) -> None:
    """Turn the event's submitted issue form into a pull request holding the report, or say on the issue what is wrong."""
    from rollout_tool.github import form

    _print_actions(form.run(repo_root(repo), os.environ, today_from(today), remote))


@bot.command("digest")
@today_option
@repo_option
@handles_errors
def bot_digest(today: str | None, repo: Path | None) -> None:
    """Open or update this ISO week's digest issue: what needs action, oldest first, and who acts."""
    from rollout_tool.github import commands

    _print_actions(commands.digest(repo_root(repo), os.environ, today_from(today)))


# ---- end section: bot ----

# ---- section: import and init ----


@main.group("import")
def import_group() -> None:
    """Import another system's release history as records."""


@import_group.command("umd")
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="The repository to fill.")
@click.option("--coordinator", "coordinators", multiple=True, help="A coordinator's login, for a new rollout.yaml.")
@click.option("--bot", default=None, help="The automation's login, for a new rollout.yaml.")
@format_option(("text", "json"))
@handles_errors
def import_umd(
    source: Path, out: Path, coordinators: tuple[str, ...], bot: str | None, output_format: str | None
) -> None:
    """EGI's UMD/CMD history (products/, distributions/) as a rollout repository in --out."""
    from rollout_tool.commands.import_umd import import_umd as run_import

    result = run_import(source, out, list(coordinators), bot)
    notes = [f"kept {path}: it differs from what the import writes (edited?); left as it is" for path in result.kept]
    notes += [f"skipped {skipped.source}: {skipped.reason}" for skipped in result.skipped]
    said = [f"added to rollout.yaml: {', '.join(result.config_changes)}"] if result.config_changes else []
    said.append(
        f"{result.records} records: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.kept)} kept as edited; {len(result.skipped)} source entries skipped"
    )
    payload: dict[str, object] = {
        "records": result.records,
        "written": list(result.written),
        "unchanged": len(result.unchanged),
        "kept": list(result.kept),
        "skipped": [{"source": s.source, "reason": s.reason} for s in result.skipped],
        "added_to_config": list(result.config_changes),
    }
    code = EXIT_OK if result.records or not result.skipped else EXIT_PROBLEMS
    reporting.report(reporting.Lines(said, payload, notes, code), output_format or "text")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default="Staged rollout", show_default=True, help="The infrastructure's rollout, in words.")
@click.option("--coordinator", "coordinators", multiple=True, required=True, help="A coordinator's login (repeatable).")
@click.option("--bot", required=True, help="The automation's login.")
@click.option("--platform", "platforms", multiple=True, required=True, help="A platform id, e.g. el9 (repeatable).")
@click.option("--group", "groups", multiple=True, help="A product group id (repeatable; default: middleware).")
@format_option(("text", "json"))
@handles_errors
def init(
    folder: Path,
    name: str,
    coordinators: tuple[str, ...],
    bot: str,
    platforms: tuple[str, ...],
    groups: tuple[str, ...],
    output_format: str | None,
) -> None:
    """Start a rollout repository in FOLDER: rollout.yaml, schemas, workflows, CODEOWNERS and a README."""
    from rollout_tool.commands.init import init as run_init
    from rollout_tool.problems import has_errors

    result = run_init(
        folder,
        name=name,
        coordinators=list(coordinators),
        bot=bot,
        platforms=list(platforms),
        groups=list(groups) or ["middleware"],
    )
    if has_errors(result.problems):
        refused = reporting.Lines([], {"written": []}, [f"{folder}: nothing written; fix the options above"])
        reporting.report(replace(refused, code=EXIT_PROBLEMS, found=result.problems), output_format or "text")
    said = [f"wrote {path}" for path in result.written]
    reporting.report(reporting.Lines(said, {"written": list(result.written)}), output_format or "text")


# ---- end section: import and init ----


def run() -> None:
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(EXIT_FATAL)

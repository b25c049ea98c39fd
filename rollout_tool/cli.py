"""The `rollout` command: click translates arguments, commands do the work."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from rollout_tool import reporting, schemas
from rollout_tool.errors import EXIT_FATAL, EXIT_OK, EXIT_PROBLEMS, RolloutError, UsageError
from rollout_tool.problems import has_errors

F = TypeVar("F", bound=Callable[..., Any])


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds rollout.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "rollout.yaml").is_file():
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


def format_option(choices: tuple[str, ...] = reporting.FORMATS) -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=None,
        help="Output format (default: github inside GitHub Actions, text elsewhere).",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rollout-as-code")
def main() -> None:
    """Staged rollout of software updates, run as a git repository."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@format_option()
@handles_errors
def validate(paths: tuple[Path, ...], repo: Path | None, output_format: str | None) -> None:
    """Validate the whole repository, or PATHS in its context."""
    from rollout_tool.commands.validate import relative_paths, validate_tree

    root = repo_root(repo)
    result = validate_tree(root, relative_paths(root, list(paths)) if paths else None)
    chosen = output_format or reporting.default_format()
    if chosen == "json":
        click.echo(reporting.as_json(result.problems, files=result.files), nl=False)
    else:
        click.echo(reporting.PROBLEM_REPORTERS[chosen](result.problems), nl=False)
        if chosen == "text":
            errors = sum(1 for p in result.problems if p.level.value == "error")
            click.echo(
                f"{result.files} files checked, {errors} errors, {len(result.problems) - errors} warnings", err=True
            )
    sys.exit(EXIT_PROBLEMS if has_errors(result.problems) else EXIT_OK)


@main.command()
@click.option("--check", is_flag=True, help="Fail when schema/ is not what the models generate.")
@repo_option
@handles_errors
def schema(check: bool, repo: Path | None) -> None:
    """Write the JSON Schemas of the records to schema/."""
    from rollout_tool.writing import atomic_write

    root = repo_root(repo)
    if check:
        stale = schemas.stale(root)
        for name in stale:
            click.echo(f"{schemas.SCHEMA_FOLDER}/{name}: stale; run `rollout schema` and commit the result", err=True)
        sys.exit(EXIT_PROBLEMS if stale else EXIT_OK)
    for name, text in schemas.rendered().items():
        atomic_write(root / schemas.SCHEMA_FOLDER / name, text.encode())
    click.echo(f"wrote {len(schemas.rendered())} schemas to {schemas.SCHEMA_FOLDER}/")


# ---- section: new (scaffolding) ----

# ---- end section: new ----

# ---- section: lifecycle (status, check-pr, advance, codeowners) ----

# ---- end section: lifecycle ----

# ---- section: publishing (notes, site) ----

# ---- end section: publishing ----

# ---- section: bot ----

# ---- end section: bot ----


def run() -> None:
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(EXIT_FATAL)

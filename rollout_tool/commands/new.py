"""`rollout new release|report|team`: scaffold a record that is valid before it is written.

The new file is checked in the context of the repository (as if it were
already there) and written only when it passes, atomically, never over an
existing file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_tool import schemas
from rollout_tool.commands.validate import validate_paths
from rollout_tool.errors import RefusedError, UsageError
from rollout_tool.problems import Problem, has_errors
from rollout_tool.records import Release, State
from rollout_tool.repository import Repository, place_of, release_path
from rollout_tool.sources import Entry, Kind, Source, WorkTree
from rollout_tool.writing import atomic_write, round_trip


class Overlay:
    """A source that shows some files as if they were written, and reads the rest from below."""

    def __init__(self, below: Source, files: Mapping[str, bytes]) -> None:
        self.below = below
        self.files = dict(files)

    def listdir(self, path: str) -> list[Entry]:
        entries = {entry.name: entry for entry in self.below.listdir(path)}
        for added in self.files:
            folder, _, name = added.rpartition("/")
            if folder == path:
                entries[name] = Entry(name, Kind.file, len(self.files[added]))
            elif added.startswith(f"{path}/" if path else ""):
                rest = added[len(path) + 1 :] if path else added
                first = rest.split("/", 1)[0]
                entries.setdefault(first, Entry(first, Kind.directory))
        return list(entries.values())

    def content_id(self, path: str) -> str | None:
        return None if path in self.files else self.below.content_id(path)

    def stamp(self, path: str) -> str | None:
        return None if path in self.files else self.below.stamp(path)

    def read(self, path: str) -> bytes:
        if path in self.files:
            return self.files[path]
        return self.below.read(path)

    def kind(self, path: str) -> Kind | None:
        if path in self.files:
            return Kind.file
        if any(added.startswith(path + "/") for added in self.files):
            return self.below.kind(path) or Kind.directory
        return self.below.kind(path)


@dataclass(frozen=True)
class Scaffold:
    path: str
    text: str
    problems: list[Problem]


REPORT_FOOTER = """\
# Add what you tested and what you found, for example:
# tests:
#   - name: submit and cancel a job
#     result: pass          # pass | fail | skip
# issues:
#   - summary: the service needs a restart after the upgrade
#     severity: low         # low | medium | high | critical
#     workaround: systemctl restart the service once after the upgrade
#     ticket: https://ggus.eu/?mode=ticket_info&ticket_id=123456
#     known_issue: true     # publish it in the release notes
# comments: |
#   Anything else the coordinators should know.
"""


def render(kind: str, path: str, fields: Mapping[str, Any], footer: str = "") -> str:
    """YAML text for a new record: the schema line, then the fields in the given order."""
    yaml = round_trip()
    buffer = io.StringIO()
    yaml.dump({key: value for key, value in fields.items() if value not in (None, [], "")}, buffer)
    return schemas.modeline(kind, path) + buffer.getvalue() + footer


def scaffold(
    root: Path, path: str, fields: Mapping[str, Any], *, footer: str = "", write: bool = True, replace: bool = False
) -> Scaffold:
    """The new record's text and its problems in the repository's context; written only when valid.

    `replace` checks it as a replacement of the file there (never through a symbolic link).
    """
    place = place_of(path)
    if place is None:
        raise UsageError(f"{path}: not a record path")
    target = root / path
    if target.is_symlink() or (target.exists() and not replace):
        raise RefusedError(f"{path} already exists; edit it instead")
    text = render(place.kind, path, fields, footer)
    repo = Repository(Overlay(WorkTree(root), {path: text.encode()}))
    problems = validate_paths(repo, [path]).problems
    if write and not has_errors(problems):
        atomic_write(target, text.encode())
    return Scaffold(path, text, problems)


def split_release(spec: str) -> tuple[str, str]:
    product, sep, version = spec.partition("/")
    if not sep or not product or not version or "/" in version:
        raise UsageError(f"{spec!r}: name a release as PRODUCT/VERSION, e.g. arc-ce/6.19.0")
    return product, version


def team_fields(
    *,
    name: str,
    site: str,
    federation: str,
    members: list[str],
    platforms: list[str],
    groups: list[str],
    products: list[str],
    contact: str | None,
) -> dict[str, Any]:
    return {
        "name": name,
        "site": site,
        "federation": federation,
        "members": members,
        "contact": contact,
        "groups": groups,
        "products": products,
        "platforms": platforms,
        "active": True,
    }


def release_fields(
    *,
    version: str,
    release_type: str,
    platforms: list[str],
    summary: str,
    teams: list[str],
    by: str,
    today: dt.date,
    supersedes: str | None,
) -> dict[str, Any]:
    return {
        "version": version,
        "type": release_type,
        "state": "candidate",
        "revision": 1,
        "platforms": platforms,
        "summary": summary,
        "notes": "",
        "changelog": [],
        "teams": teams,
        "supersedes": supersedes,
        "history": [{"state": "candidate", "date": today, "by": by}],
    }


def release_in_rollout(root: Path, product: str, version: str, revision: int | None, what: str, again: str) -> Release:
    """The release a new report or result is for: in rollout, and at `revision` when one is given."""
    release = Repository(WorkTree(root)).release(product, version)
    if release is None:
        raise UsageError(f"no valid release {product}/{version}: create or fix {release_path(product, version)} first")
    if release.state is not State.rollout:
        raise RefusedError(
            f"{product}/{version} is {release.state.value}: {what}s are taken only while a release is in rollout"
        )
    if revision is not None and revision != release.revision:
        raise RefusedError(
            f"{product}/{version} is at revision {release.revision}, not {revision}:"
            f" a {what} counts only for the current revision; {again}"
        )
    return release


def report_fields(
    root: Path,
    *,
    product: str,
    version: str,
    team: str,
    verdict: str,
    platform: str,
    arch: str,
    install: str,
    from_version: str | None,
    workflows: list[str],
    today: dt.date,
    services: list[str] | None = None,
    batch_system: str | None = None,
    in_production_since: dt.date | None = None,
    revision: int | None = None,
) -> dict[str, Any]:
    release = release_in_rollout(root, product, version, revision, "report", "install it and test again")
    environment: dict[str, Any] = {"platform": platform, "arch": arch, "install": install}
    if from_version:
        environment["from_version"] = from_version
    if services:
        environment["services"] = services
    if batch_system:
        environment["batch_system"] = batch_system
    if workflows:
        environment["workflows"] = workflows
    fields: dict[str, Any] = {
        "team": team,
        "revision": release.revision,
        "verdict": verdict,
        "date": today,
        "environments": [environment],
    }
    if in_production_since is not None:
        fields["in_production_since"] = in_production_since
    return {**fields, "tests": [], "issues": []}

"""`rollout init DIR`: a new rollout repository for another infrastructure.

Writes rollout.yaml (checked before anything is written), the schemas, the
workflows and a README shipped with the package, and CODEOWNERS and the
issue form for Early Adopter reports from the new rollout.yaml. The workflows install this tool from its package at the version
that wrote them, so the new repository carries no copy of the code. Nothing
that exists is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from rollout_tool import schemas
from rollout_tool.commands import codeowners
from rollout_tool.commands.new import scaffold
from rollout_tool.errors import RefusedError, UsageError
from rollout_tool.github import form
from rollout_tool.placement import KEEP
from rollout_tool.problems import Problem, has_errors
from rollout_tool.repository import CONFIG_PATH, Repository
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write

PACKAGE = "rollout-as-code"
# This repository's own workflows but ci.yml, installing the tool's package at this version.
WORKFLOWS = (
    "pull-request.yml",
    "pull-request-comment.yml",
    "pull-request-queue.yml",
    "rollout.yml",
    "reminders.yml",
    "digest.yml",
    "ea-report.yml",
)
FOLDERS = ("teams", "releases", "distributions")


@dataclass
class Initialised:
    written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def tool_version() -> str:
    return metadata.version(PACKAGE)


def template(name: str) -> str:
    return (resources.files("rollout_tool") / "templates" / "init" / name).read_text(encoding="utf-8")


def _filled(text: str, name: str) -> bytes:
    return text.replace("@ROLLOUT_VERSION@", tool_version()).replace("@NAME@", name).encode()


def config_fields(
    name: str, coordinators: list[str], bot: str, platforms: list[str], groups: list[str]
) -> dict[str, Any]:
    return {
        "name": name,
        "coordinators": coordinators,
        "bot": bot,
        # Names and arches to be edited: the command line gives identifiers only.
        "platforms": {platform: {"name": platform, "arches": ["x86_64"]} for platform in platforms},
        "groups": {group: {"name": group} for group in groups},
        "policy": {"quorum": 2, "cover_platforms": True, "soak_days": 7, "report_days": 14},
    }


def init(
    root: Path, *, name: str, coordinators: list[str], bot: str, platforms: list[str], groups: list[str]
) -> Initialised:
    if (root / CONFIG_PATH).exists() or (root / CONFIG_PATH).is_symlink():
        raise RefusedError(f"{root / CONFIG_PATH} already exists: {root} is a rollout repository")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: not a folder")
    result = Initialised()
    made = scaffold(root, CONFIG_PATH, config_fields(name, coordinators, bot, platforms, groups))
    if has_errors(made.problems):
        result.problems = made.problems
        return result
    result.written.append(CONFIG_PATH)
    rendered = schemas.rendered(schemas.names_of(Repository(WorkTree(root))))
    files: dict[str, bytes] = {f"{schemas.SCHEMA_FOLDER}/{n}": t.encode() for n, t in rendered.items()}
    for workflow in WORKFLOWS:
        files[f".github/workflows/{workflow}"] = _filled(template(f"workflows/{workflow}"), name)
    files["README.md"] = _filled(template("README.md"), name)
    for path, data in files.items():
        target = root / path
        if target.exists() or target.is_symlink():
            continue
        atomic_write(target, data)
        result.written.append(path)
    owners = root / codeowners.CODEOWNERS_PATH
    if not (owners.exists() or owners.is_symlink()) and codeowners.write(root):
        result.written.append(codeowners.CODEOWNERS_PATH)
    issue_form = root / form.FORM_PATH
    if not (issue_form.exists() or issue_form.is_symlink()) and form.write(root):
        result.written.append(form.FORM_PATH)
    for folder in FOLDERS:
        # git keeps no empty folder: a .gitkeep holds each until its first record.
        keep = root / folder / KEEP
        if not (root / folder).exists():
            atomic_write(keep, b"")
            result.written.append(f"{folder}/{KEEP}")
    return result

"""`rollout validate`: every record, or the given files in the repository's context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rollout_tool import rules
from rollout_tool.problems import Problem
from rollout_tool.repository import DATA_FOLDERS, Repository, place_of
from rollout_tool.sources import Kind, Source, WorkTree


@dataclass(frozen=True)
class Validation:
    files: int
    problems: list[Problem]


def validate_repository(repo: Repository) -> Validation:
    repo.load_all()
    problems = list(repo.layout_problems)
    files = 0
    for doc in repo.documents():
        files += 1
        problems.extend(rules.check(repo, doc))
    return Validation(files, sorted(set(problems)))


def validate_paths(repo: Repository, paths: list[str]) -> Validation:
    """Check the given files only, reading just what they refer to."""
    problems: list[Problem] = []
    files = 0
    wanted = set(paths)
    for path in paths:
        folder = path.rpartition("/")[0]
        repo.folder(folder)  # links and look-alike names in the file's own folder
        place = place_of(path)
        kind = repo.source.kind(path)
        if kind is Kind.symlink:
            continue
        if kind is None:
            problems.append(Problem(path, 1, 1, "missing-record", "no such file"))
            continue
        if place is None:
            top = path.split("/", 1)[0]
            if top in DATA_FOLDERS or (path.endswith((".yaml", ".yml")) and "/" not in path):
                hint = f"; did you mean {path[:-4]}.yaml?" if path.endswith(".yml") else ""
                rule = "yml-extension" if hint else "misplaced-file"
                problems.append(Problem(path, 1, 1, rule, f"no record belongs at this path{hint}"))
            continue
        doc = repo.document(path)
        if doc is not None:
            files += 1
            problems.extend(rules.check(repo, doc))
    problems.extend(p for p in repo.layout_problems if p.path in wanted)
    return Validation(files, sorted(set(problems)))


def relative_paths(root: Path, paths: list[Path]) -> list[str]:
    """Paths given on the command line, as repository-relative POSIX paths."""
    resolved_root = root.resolve()
    result = []
    for path in paths:
        absolute = path if path.is_absolute() else Path.cwd() / path
        # Resolve the folder only: a link as the last part must stay visible as one.
        parent = absolute.parent.resolve()
        try:
            relative = (parent / absolute.name).relative_to(resolved_root)
        except ValueError:
            relative = Path(str(path))
        result.append(relative.as_posix())
    return result


def validate(source: Source, paths: list[str] | None = None) -> Validation:
    repo = Repository(source)
    if paths:
        return validate_paths(repo, paths)
    return validate_repository(repo)


def validate_tree(root: Path, paths: list[str] | None = None) -> Validation:
    return validate(WorkTree(root), paths)

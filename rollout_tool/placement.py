"""Where records may be: the names a folder holds, and the problems of its entries.

Pure functions of a folder's path and its listing: the repository lists
folders and reads records by the names `names` finds valid; validation asks
`check` for the problems of each folder it covers. Which problems exist
depends only on what is in the tree, never on which lookups came first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rollout_tool import identifiers
from rollout_tool.problems import Problem
from rollout_tool.sources import Entry, Kind

CONFIG_PATH = "rollout.yaml"
DATA_FOLDERS = ("teams", "releases", "distributions")
RECORD_ENDING = ".yaml"
# The usual empty file that keeps an empty folder (a new repository's teams/) in git.
KEEP = ".gitkeep"

LINK = "symbolic links are not allowed in a rollout repository; commit the file itself"
NAME_RULES = {
    "identifier": "use lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter or digit",
    "result": "name it <team>--<check>--<platform>.yaml, each a lower-case identifier without '--'",
    "version": "use ASCII letters, digits, '.', '_', '+', '~' and '-', starting with a letter or digit",
}
# Names at the top that are near enough to what a rollout reads to be a mistake.
_TOP_HINTS = {"rollout.yml": "rollout.yaml", "team": "teams/", "release": "releases/", "distribution": "distributions/"}
# The top of a repository holds other things too (README, .github, ...):
# only the names a rollout reads, or nearly, are its business.
_TOP_NAMES = frozenset({CONFIG_PATH, *DATA_FOLDERS, *_TOP_HINTS})


@dataclass(frozen=True)
class _Shape:
    """What a folder holds: `<what>.yaml` files or `<what>/` folders, besides fixed entries."""

    what: str
    files: bool
    check: str = "identifier"
    fixed: dict[str, Kind] = field(default_factory=dict)

    def valid(self, name: str) -> bool:
        if self.check == "result":
            return result_parts(name) is not None
        return identifiers.is_identifier(name) if self.check == "identifier" else identifiers.is_version(name)


RESULT_SEPARATOR = "--"


def result_parts(name: str) -> tuple[str, str, str] | None:
    """An automated result's file name (without .yaml) as (team, check, platform), or None when it is not one."""
    parts = name.split(RESULT_SEPARATOR)
    if len(parts) != 3 or not all(identifiers.is_identifier(part) for part in parts):
        return None
    return parts[0], parts[1], parts[2]


_TEAMS = _Shape("team", files=True)
_PRODUCTS = _Shape("product", files=False)
_VERSIONS = _Shape("version", files=False, check="version", fixed={"product.yaml": Kind.file})
_DISTRIBUTIONS = _Shape("distribution", files=False)
_DISTRIBUTION_VERSIONS = _Shape("version", files=True, check="version")
_RESULTS = _Shape("result", files=True, check="result")
_WAIVERS = _Shape("check", files=True)
_RELEASE_FOLDER = {
    "release.yaml": Kind.file,
    "reports": Kind.directory,
    "results": Kind.directory,
    "waivers": Kind.directory,
}


def _shape(folder: str) -> _Shape | None:
    match folder.split("/"):
        case ["teams"] | ["releases", _, _, "reports"]:
            return _TEAMS
        case ["releases"]:
            return _PRODUCTS
        case ["releases", _]:
            return _VERSIONS
        case ["releases", _, _, "results"]:
            return _RESULTS
        case ["releases", _, _, "waivers"]:
            return _WAIVERS
        case ["distributions"]:
            return _DISTRIBUTIONS
        case ["distributions", _]:
            return _DISTRIBUTION_VERSIONS
    return None


def _is_release_folder(folder: str) -> bool:
    return len(parts := folder.split("/")) == 3 and parts[0] == "releases"


def misplaced(path: str, reason: str) -> Problem:
    """A file where no record belongs; a `.yml` name is told the `.yaml` name it meant."""
    name = path.rpartition("/")[2]
    if name.endswith(".yml"):
        return Problem(path, 1, 1, "yml-extension", f"{reason}; did you mean {name[:-4]}{RECORD_ENDING}?")
    return Problem(path, 1, 1, "misplaced-file", reason)


def _classify(folder: str, shape: _Shape, entry: Entry) -> str | Problem | None:
    """A record's name, a problem, or None for a fixed entry that is what it must be."""
    path = f"{folder}/{entry.name}"
    if entry.name == KEEP and entry.kind is Kind.file:
        return None
    if entry.name in shape.fixed:
        if entry.kind is not shape.fixed[entry.name]:
            return Problem(path, 1, 1, "misplaced-file", f"{entry.name} must be a {shape.fixed[entry.name].value}")
        return None
    if shape.files:
        if entry.kind is Kind.directory:
            return Problem(path, 1, 1, "misplaced-file", f"unexpected folder: {folder}/ holds only {shape.what} files")
        if not entry.name.endswith(RECORD_ENDING):
            return misplaced(path, f"{folder}/ holds only {shape.what} files named <{shape.what}>{RECORD_ENDING}")
        name = entry.name.removesuffix(RECORD_ENDING)
    else:
        if entry.kind is Kind.file:
            return misplaced(path, f"no record belongs here: {folder}/ holds {shape.what} folders")
        name = entry.name
    if not shape.valid(name):
        return Problem(
            path, 1, 1, "identifier", f"{name!r} is not a valid {shape.what} name: {NAME_RULES[shape.check]}"
        )
    return name


def _release_entry(folder: str, entry: Entry) -> Problem | None:
    path = f"{folder}/{entry.name}"
    if entry.name in _RELEASE_FOLDER:
        if entry.kind is not _RELEASE_FOLDER[entry.name]:
            return Problem(path, 1, 1, "misplaced-file", f"{entry.name} must be a {_RELEASE_FOLDER[entry.name].value}")
        return None
    if entry.name in ("release.yml", "report", "reports.yaml"):
        if entry.name.endswith(".yml"):
            return misplaced(path, "no record belongs here")
        return misplaced(path, "no record belongs here; did you mean reports/<team>.yaml?")
    return misplaced(
        path,
        "a release folder holds only release.yaml, reports/<team>.yaml,"
        " results/<team>--<check>--<platform>.yaml and waivers/<check>.yaml",
    )


def _top_entry(entry: Entry) -> Problem | None:
    if entry.kind is Kind.symlink:
        return Problem(entry.name, 1, 1, "symlink", LINK)
    if entry.name in DATA_FOLDERS and entry.kind is not Kind.directory:
        return Problem(entry.name, 1, 1, "misplaced-file", f"{entry.name} must be a folder")
    if entry.kind is Kind.other:
        return Problem(entry.name, 1, 1, "misplaced-file", "not a regular file or folder")
    if entry.name in _TOP_HINTS:
        hint = _TOP_HINTS[entry.name]
        if entry.name.endswith(".yml"):
            return misplaced(entry.name, f"{entry.name} is not read")
        return misplaced(entry.name, f"{entry.name} is not read; did you mean {hint}?")
    return None


def names(folder: str, entries: list[Entry]) -> list[str]:
    """The names of the records (or record folders) a folder holds that a full validation reads."""
    shape = _shape(folder)
    if shape is None:
        return []
    kept = (e for e in entries if e.kind is Kind.file or e.kind is Kind.directory)
    return [name for entry in kept if isinstance(name := _classify(folder, shape, entry), str)]


@dataclass(frozen=True)
class Placement:
    """A folder's problems. Of two look-alike names `problems` blames one;
    `look_alikes` names both, so that checking one given file blames it even
    when it sorts first."""

    problems: list[Problem]
    look_alikes: list[Problem]


def check(folder: str, entries: list[Entry]) -> Placement:
    """The problems of the entries of `folder` (every entry, links included, as listed)."""
    if not folder:
        top = [p for e in entries if e.name in _TOP_NAMES and (p := _top_entry(e)) is not None]
        return Placement(top, [])
    problems: list[Problem] = []
    kept: list[Entry] = []
    for entry in entries:
        path = f"{folder}/{entry.name}"
        if entry.kind is Kind.symlink:
            problems.append(Problem(path, 1, 1, "symlink", LINK))
        elif entry.kind is Kind.other:
            problems.append(Problem(path, 1, 1, "misplaced-file", "not a regular file or folder"))
        else:
            kept.append(entry)
    shape = _shape(folder)
    for entry in kept:
        if shape is not None:
            found = _classify(folder, shape, entry)
        elif _is_release_folder(folder):
            found = _release_entry(folder, entry)
        else:
            found = None
        if isinstance(found, Problem):
            problems.append(found)
    look_alikes = _look_alikes(folder, kept)
    blamed = [p for p, is_blamed in look_alikes if is_blamed]
    return Placement(problems + blamed, [p for p, _ in look_alikes])


def _look_alikes(folder: str, kept: list[Entry]) -> list[tuple[Problem, bool]]:
    found = []
    for first, second in identifiers.collisions([e.name.removesuffix(RECORD_ENDING) for e in kept]):
        how = "by case" if first.lower() == second.lower() else "by look-alike characters"
        # The whole tree cannot tell which of the two is the newcomer: it
        # blames the one that breaks the identifier rules (`MWT2`), or else
        # the later one. Checking given files blames whichever is given,
        # so a new look-alike is caught even when it sorts first.
        blamed = first if identifiers.is_identifier(second) and not identifiers.is_identifier(first) else second
        for name, other in ((first, second), (second, first)):
            ending = RECORD_ENDING if any(e.name == name + RECORD_ENDING for e in kept) else ""
            message = f"{name!r} differs from {other!r} only {how}; choose a name that cannot be mistaken for it"
            found.append((Problem(f"{folder}/{name}{ending}", 1, 1, "identifier-collision", message), name == blamed))
    return found


def missing_records(folder: str, entries: list[Entry]) -> list[Problem]:
    """A product folder without product.yaml, a release folder without release.yaml."""
    parts = folder.split("/")
    if parts[0] != "releases" or len(parts) not in (2, 3):
        return []
    name = "product.yaml" if len(parts) == 2 else "release.yaml"
    # A link or a special file in its place is reported by the listing; a folder is not a record.
    if any(e.name == name and e.kind is not Kind.directory for e in entries):
        return []
    return [Problem(folder, 1, 1, "missing-record", f"{folder}/ has no {name}")]

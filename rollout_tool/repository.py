"""The repository model: records found by their paths, loaded only when asked for.

Everything is read through a `Source` (a work tree or a git revision) and
cached, so a full validation reads every file once and a pull-request check
reads only the folders and files it needs. It only lists and loads: a
record's own problems (YAML and schema errors) come with its document, and
what is wrong with a folder's entries is `placement`'s to say.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from rollout_tool import placement
from rollout_tool.errors import FatalError
from rollout_tool.loading import LoadError, Positions, load
from rollout_tool.placement import CONFIG_PATH as CONFIG_PATH  # where every command looks for it
from rollout_tool.problems import Level, Problem
from rollout_tool.records import (
    KINDS,
    CheckResult,
    Config,
    Distribution,
    Product,
    Record,
    Release,
    Report,
    Team,
    Waiver,
)
from rollout_tool.schema_errors import describe, shows_source_text
from rollout_tool.sources import Entry, Kind, Source, digest

if TYPE_CHECKING:
    from rollout_tool.cache import DocumentCache

R = TypeVar("R", bound=Record)


@dataclass
class Document:
    path: str
    kind: str
    record: Record | None
    problems: list[Problem] = field(default_factory=list)
    # What the bytes it was loaded from are known by (`Repository.content_id`); None for what is not a file.
    content: str | None = field(default=None, compare=False)


def team_path(team: str) -> str:
    return f"teams/{team}.yaml"


def product_path(product: str) -> str:
    return f"releases/{product}/product.yaml"


def release_path(product: str, version: str) -> str:
    return f"releases/{product}/{version}/release.yaml"


def report_path(product: str, version: str, team: str) -> str:
    return f"releases/{product}/{version}/reports/{team}.yaml"


def result_path(product: str, version: str, team: str, check: str, platform: str) -> str:
    sep = placement.RESULT_SEPARATOR
    return f"releases/{product}/{version}/results/{team}{sep}{check}{sep}{platform}.yaml"


def waiver_path(product: str, version: str, check: str) -> str:
    return f"releases/{product}/{version}/waivers/{check}.yaml"


def release_folders(product: str, version: str) -> tuple[str, ...]:
    """A release's folder and the folders in it that hold records."""
    base = f"releases/{product}/{version}"
    return base, f"{base}/reports", f"{base}/results", f"{base}/waivers"


def distribution_path(distribution: str, version: str) -> str:
    return f"distributions/{distribution}/{version}.yaml"


@dataclass(frozen=True)
class Place:
    """What a path is in the layout: its kind and the identifiers it names."""

    kind: str
    ids: tuple[str, ...]


def place_of(path: str) -> Place | None:
    parts = path.split("/")
    match parts:
        case ["rollout.yaml"]:
            return Place("rollout", ())
        case ["teams", name] if name.endswith(".yaml"):
            return Place("team", (name[:-5],))
        case ["releases", product, "product.yaml"]:
            return Place("product", (product,))
        case ["releases", product, version, "release.yaml"]:
            return Place("release", (product, version))
        case ["releases", product, version, "reports", name] if name.endswith(".yaml"):
            return Place("report", (product, version, name[:-5]))
        case ["releases", product, version, "results", name] if name.endswith(".yaml"):
            named = placement.result_parts(name[:-5])
            return Place("result", (product, version, *named)) if named is not None else None
        case ["releases", product, version, "waivers", name] if name.endswith(".yaml"):
            return Place("waiver", (product, version, name[:-5]))
        case ["distributions", distribution, name] if name.endswith(".yaml"):
            return Place("distribution", (distribution, name[:-5]))
    return None


@dataclass
class Reads:
    """What a `Repository.recording` block read: document paths, and folders listed.

    `contents` holds the content id of each file loaded as the block read
    it, so that what a value depends on is named without reading the file again.
    """

    documents: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    contents: dict[str, str] = field(default_factory=dict)


class Repository:
    def __init__(self, source: Source) -> None:
        self.source = source
        # The clock when this repository was opened: every byte this run reads is read after it.
        self.opened_ns = time.time_ns()
        self._documents: dict[str, Document] = {}
        self._listings: dict[str, list[Entry]] = {}
        # What each listed path is, links included: a file found by listing its
        # folder needs no second look at the file system.
        self._kinds: dict[str, Kind] = {}
        self._names: dict[str, list[str]] = {}
        # Each file with problems is composed once for all of them (see problem_at).
        self._positions: OrderedDict[str, Positions] = OrderedDict()
        # Documents kept between runs (rollout_tool.cache); None reads every file afresh.
        self.cache: DocumentCache | None = None
        # Documents loaded ahead, in the order `record_paths` lists them (see `load_ahead`).
        self._ahead: Iterator[Document] | None = None
        self._coming: set[str] = set()
        # What is read while `recording` (rollout_tool.derived); None when nothing records.
        self._recorded: Reads | None = None
        if source.kind(CONFIG_PATH) is None:
            raise FatalError("not a rollout repository: there is no rollout.yaml at its top")

    # ------------------------------------------------------------ folders

    def listing(self, folder: str) -> list[Entry]:
        """Every entry of a folder, links included, by name; [] when it is not a folder.

        A link to a folder is never listed: the file system would follow it.
        """
        if self._recorded is not None:
            self._recorded.folders.add(folder)
        return self._listing(folder)

    def _listing(self, folder: str) -> list[Entry]:
        if folder in self._listings:
            return self._listings[folder]
        if folder and self._kind(folder) is not Kind.directory:
            self._listings[folder] = []
            return []
        entries = sorted(self.source.listdir(folder), key=lambda e: e.name)
        for entry in entries:
            self._kinds[f"{folder}/{entry.name}" if folder else entry.name] = entry.kind
        self._listings[folder] = entries
        return entries

    def forget_folders(self, folders: Iterable[str]) -> None:
        """Drop what listing these folders found: a pass over 10,000 release folders need not hold the
        names of 100,000 files. A folder is listed again if asked for."""
        for folder in folders:
            self._names.pop(folder, None)
            for entry in self._listings.pop(folder, ()):
                self._kinds.pop(f"{folder}/{entry.name}" if folder else entry.name, None)

    def folder(self, folder: str) -> list[Entry]:
        """A folder's files and folders: what is neither (links, devices) is never read."""
        return [e for e in self.listing(folder) if e.kind is Kind.file or e.kind is Kind.directory]

    def kind(self, path: str) -> Kind | None:
        """What is at `path` as seen by listing each folder above it, so never through a link.

        A recording notes the path, not its folder: what is at one path
        depends on that path alone, not on the names beside it.
        """
        if self._recorded is not None:
            self._recorded.documents.add(path)
        return self._kind(path)

    def _kind(self, path: str) -> Kind | None:
        parent = path.rpartition("/")[0]
        if not parent:
            return self.source.kind(path)
        self._listing(parent)
        return self._kinds.get(path)

    def names(self, folder: str) -> list[str]:
        """The records (or record folders) in `folder` whose names are valid where they are."""
        if self._recorded is not None:
            self._recorded.folders.add(folder)
        if folder not in self._names:
            self._names[folder] = placement.names(folder, self.listing(folder))
        return self._names[folder]

    def team_ids(self) -> list[str]:
        return self.names("teams")

    def product_ids(self) -> list[str]:
        return self.names("releases")

    def versions(self, product: str) -> list[str]:
        return self.names(f"releases/{product}")

    def report_teams(self, product: str, version: str) -> list[str]:
        return self.names(f"releases/{product}/{version}/reports")

    def result_names(self, product: str, version: str) -> list[str]:
        return self.names(f"releases/{product}/{version}/results")

    def waiver_checks(self, product: str, version: str) -> list[str]:
        return self.names(f"releases/{product}/{version}/waivers")

    def distribution_ids(self) -> list[str]:
        return self.names("distributions")

    def distribution_versions(self, distribution: str) -> list[str]:
        return self.names(f"distributions/{distribution}")

    def release_record_paths(self, product: str, version: str) -> Iterator[str]:
        """The path of every record in a release's folder (its own, then its reports, results and waivers)."""
        yield release_path(product, version)
        for team in self.report_teams(product, version):
            yield report_path(product, version, team)
        for name in self.result_names(product, version):
            yield f"releases/{product}/{version}/results/{name}.yaml"
        for check in self.waiver_checks(product, version):
            yield waiver_path(product, version, check)

    def record_folders(self) -> Iterator[str]:
        """Every folder a full read lists, from the top down."""
        yield ""
        yield "teams"
        yield "releases"
        for product in self.product_ids():
            yield f"releases/{product}"
            for version in self.versions(product):
                yield from release_folders(product, version)
        yield "distributions"
        for distribution in self.distribution_ids():
            yield f"distributions/{distribution}"

    # ------------------------------------------------------------ documents

    def document(self, path: str) -> Document | None:
        """The loaded document at `path`, or None when no file is there."""
        if self._recorded is not None:
            self._recorded.documents.add(path)
        if path in self._documents:
            return self._loaded(self._documents[path])
        place = place_of(path)
        if place is None:
            return None
        kind = self._kind(path)
        if kind is None or kind is Kind.directory:
            return None
        if kind is not Kind.file:
            doc = Document(path, place.kind, None)  # reported by the folder listing
            self._documents[path] = doc
            return doc
        if path in self._coming and (ahead := self._take_ahead(path)) is not None:
            return self._loaded(ahead)
        data, content = self.identified(path)
        if self.cache is None:
            doc = parse_document(path, place.kind, self.source.read(path) if data is None else data)
        else:
            doc = self.cache.document(
                path, place.kind, content, lambda: self.source.read(path) if data is None else data
            )
        doc.content = content
        self._documents[path] = doc
        return self._loaded(doc)

    def _loaded(self, doc: Document) -> Document:
        if self._recorded is not None and doc.content is not None:
            self._recorded.contents[doc.path] = doc.content
        return doc

    def identified(self, path: str) -> tuple[bytes | None, str]:
        """The content id of the file at `path`, and its bytes when they had to be read to name them (in a
        revision git names them, and a file the cache holds is not read)."""
        content = self.source.content_id(path)
        if content is not None:
            return None, content
        data = self.source.read(path)
        return data, digest(data)

    def content_id(self, path: str) -> str:
        """What the bytes of the file at `path` are known by: git's object id in a revision, else their
        hash. Equal ids, equal bytes."""
        return self.identified(path)[1]

    @contextlib.contextmanager
    def recording(self) -> Iterator[Reads]:
        """Note every document and folder read until the block ends, however often and from wherever.

        A recording inside another one adds what it saw to the outer one too.
        """
        outer = self._recorded
        reads = Reads()
        self._recorded = reads
        try:
            yield reads
        finally:
            self._recorded = outer
            if outer is not None:
                outer.documents |= reads.documents
                outer.folders |= reads.folders
                outer.contents.update(reads.contents)

    def load_ahead(self, paths: list[str], documents: Iterator[Document]) -> None:
        """Take the documents of `paths` from `documents` (in that order) when they are asked for.

        A document asked for before its turn is taken with those before it,
        which are then kept until asked for.
        """
        self._ahead = documents
        self._coming = set(paths)

    def _take_ahead(self, path: str) -> Document | None:
        """The document of `path` from those loaded ahead; None when they stopped coming (closed) first."""
        assert self._ahead is not None
        for doc in self._ahead:
            self._coming.discard(doc.path)
            self._documents[doc.path] = doc
            if doc.path == path:
                return doc
        self._coming.clear()  # closed by the caller before its end: the rest is read as usual
        return None

    def problem_at(
        self, path: str, loc: tuple[str | int, ...], rule: str, message: str, level: Level = Level.error
    ) -> Problem:
        """A problem about the value at `loc` in the file at `path`.

        The file is read and composed the first time one of its problems is
        located, and its positions kept for the next ones: a record with
        thousands of problems costs one parse, not one per problem.
        """
        if self._recorded is not None:
            self._recorded.documents.add(path)
        positions = self._positions.get(path)
        if positions is None:
            try:
                data = self.source.read(path)
            except OSError:
                return Problem(path, 1, 1, rule, message, level)
            positions = Positions(data)
            self._positions[path] = positions
            # Checks ask about one file at a time: the last few files are all
            # that is worth keeping, so memory stays flat over a whole tree.
            while len(self._positions) > _POSITIONS_KEPT:
                self._positions.popitem(last=False)
        else:
            self._positions.move_to_end(path)
        line, column, _ = positions.find(loc)
        return Problem(path, line, column, rule, message, level)

    def forget(self, path: str) -> None:
        """Drop a loaded document: nothing else in the tree refers to a report, so a pass
        over 100,000 of them need not hold them all. It is read again if asked for."""
        self._documents.pop(path, None)
        self._positions.pop(path, None)

    def forget_reports(self, product: str, version: str) -> None:
        for team in self.report_teams(product, version):
            self.forget(report_path(product, version, team))

    def documents(self) -> Iterator[Document]:
        return iter(self._documents.values())

    def _record(self, path: str, model: type[R]) -> R | None:
        doc = self.document(path)
        if doc is None or not isinstance(doc.record, model):
            return None
        return doc.record

    def config(self) -> Config | None:
        return self._record(CONFIG_PATH, Config)

    def team(self, team: str) -> Team | None:
        return self._record(team_path(team), Team)

    def has_team(self, team: str) -> bool:
        return self.document(team_path(team)) is not None

    def product(self, product: str) -> Product | None:
        return self._record(product_path(product), Product)

    def has_product(self, product: str) -> bool:
        return self.document(product_path(product)) is not None

    def release(self, product: str, version: str) -> Release | None:
        return self._record(release_path(product, version), Release)

    def has_release(self, product: str, version: str) -> bool:
        return self.document(release_path(product, version)) is not None

    def reports(self, product: str, version: str) -> dict[str, Report]:
        found = {}
        for team in self.report_teams(product, version):
            report = self._record(report_path(product, version, team), Report)
            if report is not None:
                found[team] = report
        return found

    def results(self, product: str, version: str) -> list[CheckResult]:
        """The release's automated results that load, in file-name order."""
        folder = f"releases/{product}/{version}/results"
        found = (self._record(f"{folder}/{name}.yaml", CheckResult) for name in self.result_names(product, version))
        return [result for result in found if result is not None]

    def waivers(self, product: str, version: str) -> dict[str, Waiver]:
        """The release's waivers that load, by check."""
        found = {}
        for check in self.waiver_checks(product, version):
            waiver = self._record(waiver_path(product, version, check), Waiver)
            if waiver is not None:
                found[check] = waiver
        return found

    def distribution(self, distribution: str, version: str) -> Distribution | None:
        return self._record(distribution_path(distribution, version), Distribution)

    def releases(self) -> Iterator[tuple[str, str, Release]]:
        for product in self.product_ids():
            for version in self.versions(product):
                release = self.release(product, version)
                if release is not None:
                    yield product, version, release

    def load_all(self) -> None:
        """Read every record in the tree, listing every folder on the way."""
        for path in self.record_paths():
            self.document(path)

    def record_paths(self, only: Container[tuple[str, str]] | None = None) -> Iterator[str]:
        """The path of every record a full read reads, in the order it reads them; given `only`, of the
        release folders only those (product, version) named, the others not even listed."""
        yield CONFIG_PATH
        for team in self.team_ids():
            yield team_path(team)
        for product in self.product_ids():
            yield product_path(product)
            for version in self.versions(product):
                if only is None or (product, version) in only:
                    yield from self.release_record_paths(product, version)
        for distribution in self.distribution_ids():
            for version in self.distribution_versions(distribution):
                yield distribution_path(distribution, version)


_POSITIONS_KEPT = 8


def parse_document(path: str, kind: str, data: bytes) -> Document:
    """Load and schema-check one file; positions are looked up only when it fails."""
    value = load(data)
    if isinstance(value, LoadError):
        return Document(path, kind, None, [Problem(path, value.line, value.column, value.rule, value.message)])
    if not isinstance(value, dict):
        what = "a list" if isinstance(value, list) else "a single value"
        return Document(
            path, kind, None, [Problem(path, 1, 1, "type", f"a record is a YAML mapping of keys to values, not {what}")]
        )
    model = KINDS[kind]
    try:
        return Document(path, kind, model.model_validate(value))
    except ValidationError as exc:
        problems = []
        errors = exc.errors(include_url=False)
        described = [describe(error, model, None) for error in errors]
        positions = Positions(data)  # once for all the errors, however many
        # A misspelt required key is one mistake, not two: the unknown key
        # says "did you mean 'platform'?", so "missing 'platform'" is left out.
        misspelt = {(m.loc[:-1], m.suggests) for m in described if m.suggests is not None}
        for error, message in zip(errors, described, strict=True):
            if error["type"] == "missing" and (tuple(error["loc"][:-1]), error["loc"][-1]) in misspelt:
                continue
            line, column, written = positions.find(message.loc, key=message.at_key)
            if written is not None and shows_source_text(error):
                message = describe(error, model, written)
            problems.append(Problem(path, line, column, message.rule, message.text))
        return Document(path, kind, None, problems)

"""EGI's UMD/CMD release history (the `frontend-data/` JSON of egi-qc/software-releases) as records.

Pure functions: the parsed JSON files go in, the records' fields come out,
each keyed by the path it belongs at, with every input that could not be
mapped listed beside them with its reason. The command reads and writes the
files; the README's "Importing EGI's UMD history" says why each field maps
as it does.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markdownify import markdownify
from pydantic import ValidationError

from rollout_tool.identifiers import is_identifier, is_version, version_key
from rollout_tool.records import KINDS
from rollout_tool.repository import distribution_path, product_path, release_path

REPOSITORY_HOST = "https://repository.egi.eu/"
IMPORTED_NOTE = "imported from EGI's UMD release history"
UNSPECIFIED = "unspecified"
UNCLASSIFIED = "unclassified"

RELEASE_STATES = {"deployed": "released", "production": "released", "pending": "candidate"}
DISTRIBUTION_STATES = {"deployed": "released", "production": "released", "pending": "draft"}

# The platform names the history uses, spelled out; any other keeps its own name.
PLATFORM_NAMES = {
    "sl5": "Scientific Linux 5",
    "sl6": "Scientific Linux 6",
    "centos7": "CentOS 7",
    "debian-squeeze": "Debian 6 (squeeze)",
    "ubuntu-trusty": "Ubuntu 14.04 LTS (Trusty Tahr)",
    "ubuntu-xenial": "Ubuntu 16.04 LTS (Xenial Xerus)",
    UNSPECIFIED: "Not recorded in the UMD history",
}

_HTML_TAG = re.compile(
    r"</?(?:a|b|br|p|i|u|em|strong|ul|ol|li|div|span|pre|code|h[1-6]|hr|table|tr|td|th|font|img)\b[^>]*>",
    re.IGNORECASE,
)
_ESCAPED_TAG = re.compile(r"&lt;/?[A-Za-z]")
_BLANK_RUN = re.compile(r"\n{3,}")
# Line breaks YAML 1.1 and 1.2 read differently, and control characters no record may hold.
_ODD_BREAKS = re.compile("[\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_LIST_MARK = re.compile(r"^(?:[-*+•]|\d+[.)])\s+")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")


@dataclass(frozen=True)
class SourceFile:
    """One parsed JSON file and its path inside the imported folder."""

    path: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass
class Imported:
    """The records to write (path -> (kind, fields)), the vocabularies they use, what was left out."""

    files: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


class UnmappableError(ValueError):
    """A value the records cannot hold; its message is the reason shown to the user."""


# ---------------------------------------------------------------- values


def markdown(value: object) -> str:
    """The history's text as Markdown: (escaped) HTML converted, plain text kept as written."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value
    if _ESCAPED_TAG.search(text):
        text = html.unescape(text)
    converted = _HTML_TAG.search(text) is not None
    if converted:
        text = markdownify(text, heading_style="ATX", bullets="-", escape_underscores=False)
    text = _ODD_BREAKS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROLS.sub("", text.replace("\t", "    "))
    # Plain text came from a web form: its indentation means nothing, and kept it would make code blocks.
    lines = [line.rstrip() if converted else line.strip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def changelog(value: object) -> list[str]:
    """One entry a line (list marks dropped); an indented line continues the entry above."""
    entries: list[str] = []
    for line in markdown(value).split("\n"):
        if not line.strip():
            continue
        if entries and line[:1].isspace() and not _LIST_MARK.match(line.strip()):
            entries[-1] = f"{entries[-1]} {line.strip()}"
        else:
            entries.append(_LIST_MARK.sub("", line.strip()))
    # An entry holds at most 2,000 characters: a longer line goes on in the next entry, never cut.
    return [entry[start : start + 2000] for entry in entries for start in range(0, len(entry), 2000)]


def identifier(name: object, what: str) -> str:
    """A name as the history spells it, lower-cased, `_` and spaces read as `-`."""
    if not isinstance(name, str) or not name.strip():
        raise UnmappableError(f"no {what} name")
    candidate = re.sub(r"[_\s]+", "-", name.strip().lower())
    if not is_identifier(candidate):
        raise UnmappableError(f"{what} name {name!r} cannot be made an identifier ([a-z0-9][a-z0-9._-]*)")
    return candidate


def date_of(value: object) -> dt.date:
    match = _DATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise UnmappableError(f"release date {value!r} is not a date")
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise UnmappableError(f"release date {value!r} does not exist") from None


def release_type(version: str, previous: str | None) -> str:
    """major, minor or revision, from the first part of the version that changed."""
    if previous is None:
        return "major"
    parts, before = re.split(r"[.\-+~_]", version), re.split(r"[.\-+~_]", previous)
    if parts[:1] != before[:1]:
        return "major"
    if parts[1:2] != before[1:2]:
        return "minor"
    return "revision"


def repository_url(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    path = value.strip().replace("\\/", "/")
    if re.match(r"^https?://\S+$", path):
        return path
    if re.fullmatch(r"[A-Za-z0-9._/-]+", path) is None:
        return None
    return REPOSITORY_HOST + path.strip("/") + "/"


def group_id(capability: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", capability.lower()).strip("-") or UNCLASSIFIED


def _targets(data: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for key in ("target", "targets"):
        for target in data.get(key) or []:
            if isinstance(target, Mapping) and target.get("platform"):
                yield str(target["platform"]).strip().lower(), str(target.get("arch") or "x86_64").strip().lower()


def _provider(data: Mapping[str, Any]) -> str:
    for key in ("technologyProvider", "technology_provider", "technologyProviderShortName"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "not recorded"


def _valid(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as given, once the record's model accepts them."""
    try:
        KINDS[kind].model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnmappableError(f"{where}: {first['msg']}") from None
    return fields


def _drop_empty(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, [], "")}


# ---------------------------------------------------------------- the mapping


@dataclass
class _Release:
    product: str
    version: str
    copies: list[SourceFile]
    targets: set[tuple[str, str]] = field(default_factory=set)
    distributions: list[tuple[str, str]] = field(default_factory=list)


def convert(
    products: Iterable[SourceFile],
    distributions: Iterable[SourceFile],
    catalog: Iterable[Mapping[str, Any]] = (),
    *,
    by: str,
) -> Imported:
    """Map every product-release and distribution-release file; `by` is who the history says did it."""
    out = Imported()
    distributions = sorted(distributions, key=lambda s: s.path)
    releases: dict[tuple[str, str], _Release] = {}
    for source in sorted(products, key=lambda s: s.path):
        try:
            product = identifier(source.data.get("name"), "product")
            version = source.data.get("version")
            if not isinstance(version, str) or not is_version(version):
                raise UnmappableError(f"version {version!r} is not a valid version ([A-Za-z0-9][A-Za-z0-9._+~-]*)")
            date_of(source.data.get("releaseDate"))
            state = str(source.data.get("currentState") or "").lower()
            if state not in RELEASE_STATES:
                raise UnmappableError(f"state {source.data.get('currentState')!r} has no equivalent")
        except UnmappableError as exc:
            out.skipped.append(Skipped(source.path, str(exc)))
            continue
        entry = releases.setdefault((product, version), _Release(product, version, []))
        entry.copies.append(source)
        entry.targets.update(_targets(source.data))
        entry.distributions.append(
            (str(source.data.get("distributionType")), str(source.data.get("distributionVersion")))
        )

    for source in distributions:
        for listed in source.data.get("products") or []:
            if not isinstance(listed, Mapping):
                continue
            try:
                key = (identifier(listed.get("name"), "product"), str(listed.get("version")))
            except UnmappableError:
                continue
            if key in releases:
                releases[key].targets.update(_targets(listed))

    by_product: dict[str, list[_Release]] = defaultdict(list)
    for entry in releases.values():
        entry.copies.sort(key=lambda s: (date_of(s.data.get("releaseDate")), s.path))
        by_product[entry.product].append(entry)

    imported: dict[tuple[str, str], str] = {}  # (product, version) -> state
    for product, entries in sorted(by_product.items()):
        entries.sort(key=lambda e: version_key(e.version))
        written: list[_Release] = []
        previous: str | None = None
        for entry in entries:
            try:
                fields = _release_fields(entry, previous, by, out)
                out.files[release_path(product, entry.version)] = ("release", _valid("release", fields))
            except UnmappableError as exc:
                for copy in entry.copies:
                    out.skipped.append(Skipped(copy.path, str(exc)))
                continue
            imported[(product, entry.version)] = fields["state"]
            previous = entry.version
            written.append(entry)
        if written:
            latest = max(written, key=lambda e: (date_of(e.copies[0].data.get("releaseDate")), version_key(e.version)))
            try:
                fields = _product_fields(written, latest, out)
                out.files[product_path(product)] = ("product", _valid("product", fields))
            except UnmappableError as exc:
                out.skipped.append(Skipped(latest.copies[0].path, f"product {product}: {exc}"))

    seen: set[tuple[Any, Any]] = set()
    for source in distributions:
        seen.add((source.data.get("distributionType"), source.data.get("distributionVersion")))
        _distribution(source, source.data.get("products") or [], releases, imported, out)
    # Distribution releases the catalog lists but whose own file is missing: their products name them.
    files_of: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for entry in releases.values():
        for copy in entry.copies:
            shipped_in = (copy.data.get("distributionType"), copy.data.get("distributionVersion"))
            files_of[shipped_in].append({"name": copy.data.get("name"), "version": copy.data.get("version")})
    for item in catalog:
        wanted = (item.get("distributionType"), item.get("distributionVersion"))
        if wanted not in seen:
            seen.add(wanted)
            _distribution(SourceFile("software-distributions.json", item), files_of[wanted], releases, imported, out)
    out.skipped.sort(key=lambda s: (s.source, s.reason))
    return out


def _release_fields(entry: _Release, previous: str | None, by: str, out: Imported) -> dict[str, Any]:
    first = entry.copies[0]
    data = first.data
    date = date_of(data.get("releaseDate"))
    states = {RELEASE_STATES[str(copy.data.get("currentState")).lower()] for copy in entry.copies}
    state = "released" if "released" in states else "candidate"
    platforms = sorted({platform for platform, _ in entry.targets}) or [UNSPECIFIED]
    arches: dict[str, set[str]] = defaultdict(set)
    for platform, arch in entry.targets:
        arches[platform].add(arch)
    for platform in platforms:
        if not is_identifier(platform):
            raise UnmappableError(f"platform {platform!r} cannot be made an identifier")
        known = out.platforms.setdefault(
            platform, {"name": PLATFORM_NAMES.get(platform, f"{platform} (as named in the UMD history)"), "arches": []}
        )
        for arch in sorted(arches.get(platform) or {"x86_64" if platform != UNSPECIFIED else UNSPECIFIED}):
            if not is_identifier(arch):
                raise UnmappableError(f"arch {arch!r} cannot be made an identifier")
            if arch not in known["arches"]:
                known["arches"] = sorted([*known["arches"], arch])
    shipped_in = ", ".join(f"{kind} {version}" for kind, version in sorted(set(entry.distributions)))
    history = [{"state": "candidate", "date": date, "by": by, "note": IMPORTED_NOTE}]
    if state == "released":
        history.append({"state": "released", "date": date, "by": by, "note": IMPORTED_NOTE})
    return _drop_empty(
        {
            "version": entry.version,
            "type": release_type(entry.version, previous),
            "state": state,
            "revision": 1,
            "platforms": platforms,
            "summary": f"{data.get('name')} {entry.version}, shipped in {shipped_in}"[:300],
            "notes": markdown(data.get("releaseNotes")),
            "changelog": changelog(data.get("changeLog")),
            "repository": repository_url(data.get("repositoryURL")),
            "history": history,
            "source": first.path,
        }
    )


def _product_fields(entries: list[_Release], latest: _Release, out: Imported) -> dict[str, Any]:
    data = latest.copies[0].data
    capability = None
    # The newest release that names a capability decides the group.
    for entry in sorted(
        entries, key=lambda e: (date_of(e.copies[0].data.get("releaseDate")), version_key(e.version)), reverse=True
    ):
        for copy in entry.copies:
            for value in copy.data.get("capabilities") or []:
                if isinstance(value, str) and value.strip():
                    capability = value.strip()
                    break
            if capability:
                break
        if capability:
            break
    group = group_id(capability) if capability else UNCLASSIFIED
    out.groups.setdefault(group, {"name": capability or "No capability recorded in the UMD history"})
    description = markdown(data.get("description")) or f"{data.get('name')}, as shipped in UMD/CMD"
    return _drop_empty(
        {
            "name": str(data.get("name")).strip()[:200],
            "group": group,
            "provider": _provider(data)[:200],
            "description": description,
            "source": latest.copies[0].path,
        }
    )


def _distribution(
    source: SourceFile,
    listed: Iterable[Any],
    releases: Mapping[tuple[str, str], _Release],
    imported: Mapping[tuple[str, str], str],
    out: Imported,
) -> None:
    data = source.data
    label = f"{data.get('distributionType')} {data.get('distributionVersion')}"
    try:
        name = identifier(data.get("distributionType"), "distribution")
        version = data.get("distributionVersion")
        if not isinstance(version, str) or not is_version(version):
            raise UnmappableError(f"version {version!r} is not a valid version")
        state = str(data.get("currentState") or "").lower()
        if state not in DISTRIBUTION_STATES:
            raise UnmappableError(f"state {data.get('currentState')!r} has no equivalent")
        shipped = []
        for item in sorted(
            (i for i in listed if isinstance(i, Mapping)), key=lambda i: (str(i.get("name")), str(i.get("version")))
        ):
            try:
                key = (identifier(item.get("name"), "product"), str(item.get("version")))
            except UnmappableError:
                key = ("", "")
            status = imported.get(key)
            if status in ("released", "accepted"):
                shipped.append({"release": f"{key[0]}/{key[1]}", "status": status})
            elif key in releases or key in imported:
                out.skipped.append(
                    Skipped(
                        source.path,
                        f"{label} ships {item.get('name')} {item.get('version')}, which is {status or 'not imported'}: "
                        "a distribution release lists only accepted or released releases",
                    )
                )
        if not shipped:
            raise UnmappableError("ships no release that was imported as accepted or released")
        notes = [markdown(data.get("releaseNotes"))]
        for title, part in (
            ("Known issues", "knownIssues"),
            ("Installation", "installationNotes"),
            ("Changes", "changeLog"),
            ("Support", "technicalContact"),
        ):
            text = markdown(data.get(part))
            if text and text != "(redacted)":
                notes.append(f"**{title}:** {text}")
        details = data.get("additionalDetails")
        if isinstance(details, str) and re.match(r"^https?://\S+$", details.strip()):
            notes.append(f"**Details:** <{details.strip()}>")
        fields = _drop_empty(
            {
                "version": version,
                "date": date_of(data.get("releaseDate")),
                "description": markdown(data.get("description")) or f"{data.get('distributionType')} {version}",
                "state": DISTRIBUTION_STATES[state],
                "notes": "\n\n".join(part for part in notes if part),
                "releases": shipped,
                "source": source.path,
            }
        )
        path = distribution_path(name, version)
        if path in out.files:
            raise UnmappableError(f"{path} was already made from {out.files[path][1]['source']}")
        out.files[path] = ("distribution", _valid("distribution", fields))
    except UnmappableError as exc:
        out.skipped.append(Skipped(source.path, f"distribution release {label}: {exc}"))

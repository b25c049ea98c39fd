"""`rollout import umd SOURCE --out DIR`: EGI's UMD/CMD release history as a rollout repository.

Reads the JSON files, lets `importing.umd` map them, and writes each record
that is new. A file already there is left alone: unchanged when it holds
what the import would write, kept (and named) when someone edited it. So a
second run changes nothing, and a run into a living repository only adds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from rollout_tool.commands.new import render, scaffold
from rollout_tool.errors import FatalError, UsageError
from rollout_tool.importing import umd
from rollout_tool.problems import Level, has_errors
from rollout_tool.progress import Progress
from rollout_tool.records import LOGIN_PATTERN
from rollout_tool.repository import CONFIG_PATH, Repository
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write, edit_yaml

MAX_JSON_BYTES = 10_000_000


@dataclass
class ImportResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited since: what the import would write differs
    skipped: list[umd.Skipped] = field(default_factory=list)
    config_changes: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return len(self.written) + len(self.unchanged) + len(self.kept)


def _read_json(source: Path, path: Path, skipped: list[umd.Skipped]) -> dict[str, Any] | None:
    relative = path.relative_to(source).as_posix()
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ValueError(f"larger than {MAX_JSON_BYTES} bytes")
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        skipped.append(umd.Skipped(relative, f"not readable as JSON: {exc}"))
        return None
    if not isinstance(data, dict):
        skipped.append(umd.Skipped(relative, "not a JSON object"))
        return None
    return data


def read_source(source: Path) -> tuple[list[umd.SourceFile], list[umd.SourceFile], list[Any], list[umd.Skipped]]:
    """The product-release files, the distribution-release files and the catalog's distribution releases."""
    if not (source / "products").is_dir():
        raise UsageError(f"{source}: no products/ folder; give the folder holding products/ and distributions/")
    skipped: list[umd.Skipped] = []
    found: dict[str, list[umd.SourceFile]] = {"products": [], "distributions": []}
    for folder, pattern in (("products", "*/*/*.json"), ("distributions", "*/*.json")):
        for path in sorted((source / folder).glob(pattern)):
            data = _read_json(source, path, skipped)
            if data is not None:
                found[folder].append(umd.SourceFile(path.relative_to(source).as_posix(), data))
    catalog: list[Any] = []
    if (source / "software-distributions.json").exists():
        data = _read_json(source, source / "software-distributions.json", skipped)
        items = data.get("item") if data is not None else None
        catalog = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return found["products"], found["distributions"], catalog, skipped


def _block_text(value: Any) -> Any:
    """Multi-line text as YAML literal blocks, so notes read in the file as they render."""
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    if isinstance(value, dict):
        return {key: _block_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_block_text(item) for item in value]
    if isinstance(value, dt.date):  # a fresh object each time: a shared one would be written as a YAML alias
        return dt.date.fromordinal(value.toordinal())
    return value


def record_text(kind: str, path: str, fields: dict[str, Any]) -> bytes:
    return render(kind, path, _block_text(fields)).encode()


def _config_fields(imported: umd.Imported, coordinators: list[str], bot: str) -> dict[str, Any]:
    return {
        "name": "EGI UMD release history",
        "coordinators": coordinators,
        "bot": bot,
        "platforms": dict(sorted(imported.platforms.items())),
        "groups": dict(sorted(imported.groups.items())),
    }


def _add_vocabulary(root: Path, imported: umd.Imported, result: ImportResult) -> None:
    """Add the platforms and groups the imported records name to an existing rollout.yaml."""

    def change(document: Any) -> None:
        for key, wanted in (("platforms", imported.platforms), ("groups", imported.groups)):
            present = document.get(key)
            if present is None:
                document[key] = present = {}
            for name, fields in sorted(wanted.items()):
                if name not in present:
                    present[name] = fields
                    result.config_changes.append(f"{key}.{name}")

    try:
        edit_yaml(root / CONFIG_PATH, change)
    except (OSError, YAMLError) as exc:  # the round-trip loader reads what the fast one accepted, or says why
        raise FatalError(f"{CONFIG_PATH}: cannot add the imported platforms and groups ({exc})") from None


def import_umd(source: Path, out: Path, coordinators: list[str], bot: str | None) -> ImportResult:
    products, distributions, catalog, skipped = read_source(source)
    config_file = out / CONFIG_PATH
    if config_file.exists():
        config = Repository(WorkTree(out)).config()
        if config is None:
            raise FatalError(f"{config_file}: not a valid rollout.yaml; run `rollout validate --repo {out}`")
        by = config.bot
    else:
        if not coordinators or bot is None:
            raise UsageError(f"{out} has no rollout.yaml: give --coordinator LOGIN and --bot LOGIN to create one")
        for login in (*coordinators, bot):
            if not re.fullmatch(LOGIN_PATTERN, login):
                raise UsageError(f"{login!r} is not a GitHub login: give --coordinator and --bot as logins")
        by = bot
    imported = umd.convert(products, distributions, catalog, by=by)
    result = ImportResult(skipped=sorted([*skipped, *imported.skipped], key=lambda s: (s.source, s.reason)))
    if not imported.files:  # nothing to write: not even a rollout.yaml without platforms
        return result
    if config_file.exists():
        _add_vocabulary(out, imported, result)
    else:  # checked before anything is written: bad logins leave the folder as it was
        made = scaffold(out, CONFIG_PATH, _config_fields(imported, coordinators, by))
        if has_errors(made.problems):
            reasons = "; ".join(f"{p.message}" for p in made.problems if p.level is Level.error)
            raise UsageError(f"cannot write {CONFIG_PATH} from --coordinator and --bot: {reasons}")
        result.written.append(CONFIG_PATH)
    with Progress("importing", len(imported.files)) as progress:
        for path, (kind, fields) in sorted(imported.files.items()):
            progress.advance()
            wanted = record_text(kind, path, fields)
            target = out / path
            if target.is_symlink() or target.exists():
                if not target.is_symlink() and target.is_file() and target.read_bytes() == wanted:
                    result.unchanged.append(path)
                else:
                    result.kept.append(path)
                continue
            atomic_write(target, wanted)
            result.written.append(path)
    return result

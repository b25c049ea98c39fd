"""JSON Schemas generated from the records, for editors and for other tools."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout_tool.records import KINDS, Config

if TYPE_CHECKING:
    from rollout_tool.repository import Repository

# Where each schema names a value of a vocabulary that rollout.yaml declares, or
# one of the repository's teams and products: (kind, path of keys into the
# schema, vocabulary). With a repository's records the schema lists its values,
# so editors complete them and flag what `rollout validate` would refuse. A new
# team or product is a coordinator's change that already regenerates CODEOWNERS;
# `rollout schema` is run with it.
VOCABULARY_PLACES: list[tuple[str, tuple[str, ...], str]] = [
    ("report", ("properties", "team"), "teams"),
    ("result", ("properties", "team"), "teams"),
    ("release", ("properties", "teams", "items"), "teams"),
    ("team", ("properties", "products", "items"), "products"),
    ("team", ("properties", "platforms", "items"), "platforms"),
    ("team", ("properties", "groups", "items"), "groups"),
    ("team", ("properties", "federation"), "federations"),
    ("product", ("properties", "group"), "groups"),
    ("release", ("properties", "platforms", "items"), "platforms"),
    ("report", ("$defs", "Environment", "properties", "platform"), "platforms"),
    ("report", ("$defs", "Environment", "properties", "workflows", "items"), "workflows"),
]


def vocabularies(
    config: Config | None, teams: Sequence[str] = (), products: Sequence[str] = ()
) -> dict[str, list[str]]:
    """The names rollout.yaml declares and the repository's teams and products; an empty one names nothing."""
    found = {"teams": sorted(teams), "products": sorted(products)}
    if config is not None:
        found |= {
            "platforms": sorted(config.platforms),
            "groups": sorted(config.groups),
            "federations": sorted(config.federations),
            "workflows": sorted(config.workflows),
        }
    return {name: values for name, values in found.items() if values}


def names_of(repo: Repository) -> dict[str, list[str]]:
    """What the schemas of `repo` list: its vocabularies, teams and products."""
    return vocabularies(repo.config(), repo.team_ids(), repo.product_ids())


SCHEMA_FOLDER = "schema"
SCHEMA_BASE = "https://rollout-as-code.invalid/schema/"


def schema_name(kind: str) -> str:
    return f"{kind}.schema.json"


def _keys_as_names(node: Any) -> None:
    """A mapping whose keys follow a pattern (`platforms`, `policies`) refuses any other key.

    pydantic writes such a mapping as `patternProperties`, which leaves a key
    that does not match unchecked; `rollout validate` refuses it. As
    `propertyNames` the key itself is refused, and every value is still
    checked through `additionalProperties`.
    """
    if isinstance(node, dict):
        patterned = node.get("patternProperties")
        if isinstance(patterned, dict) and len(patterned) == 1 and "additionalProperties" not in node:
            [(pattern, values)] = patterned.items()
            del node["patternProperties"]
            node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
            node["additionalProperties"] = values
        for value in node.values():
            _keys_as_names(value)
    elif isinstance(node, list):
        for item in node:
            _keys_as_names(item)


def schema_for(kind: str, names: Mapping[str, list[str]] | None = None) -> dict[str, object]:
    schema = KINDS[kind].model_json_schema()
    _keys_as_names(schema)
    for place_kind, path, vocabulary in VOCABULARY_PLACES:
        if place_kind == kind and names and vocabulary in names:
            node: Any = schema
            for key in path:
                node = node[key]
            node["enum"] = list(names[vocabulary])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + schema_name(kind),
        **schema,
    }


def rendered(names: Mapping[str, list[str]] | None = None) -> dict[str, str]:
    """Each schema file's name and exact text, listing `names` (see `names_of`)."""
    names = names or {}
    return {schema_name(kind): json.dumps(schema_for(kind, names), indent=2, sort_keys=True) + "\n" for kind in KINDS}


def modeline(kind: str, path: str) -> str:
    """The comment that points editors (yaml-language-server) at the schema of a file at `path`."""
    depth = path.count("/")
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_FOLDER}/{schema_name(kind)}\n"


def stale(root: Path, names: Mapping[str, list[str]] | None = None) -> list[str]:
    folder = root / SCHEMA_FOLDER
    problems = []
    expected = rendered(names)
    for name, text in expected.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            problems.append(name)
    if folder.is_dir():
        problems.extend(p.name for p in folder.glob("*.schema.json") if p.name not in expected)
    return sorted(problems)

"""JSON Schemas generated from the records, for editors and for other tools."""

from __future__ import annotations

import json
from pathlib import Path

from rollout_tool.records import KINDS

SCHEMA_FOLDER = "schema"
SCHEMA_BASE = "https://rollout-as-code.invalid/schema/"


def schema_name(kind: str) -> str:
    return f"{kind}.schema.json"


def schema_for(kind: str) -> dict[str, object]:
    schema = KINDS[kind].model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + schema_name(kind),
        **schema,
    }


def rendered() -> dict[str, str]:
    """Each schema file's name and exact text."""
    return {schema_name(kind): json.dumps(schema_for(kind), indent=2, sort_keys=True) + "\n" for kind in KINDS}


def modeline(kind: str, path: str) -> str:
    """The comment that points editors (yaml-language-server) at the schema of a file at `path`."""
    depth = path.count("/")
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_FOLDER}/{schema_name(kind)}\n"


def stale(root: Path) -> list[str]:
    folder = root / SCHEMA_FOLDER
    problems = []
    expected = rendered()
    for name, text in expected.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            problems.append(name)
    if folder.is_dir():
        problems.extend(p.name for p in folder.glob("*.schema.json") if p.name not in expected)
    return sorted(problems)

"""Webhook event payloads shaped like GitHub's, checked against @octokit/webhooks-schemas.

A payload starts as the smallest document the event's schema accepts (every
required field, placeholder values of the right type and format) and the
story's facts are laid over it: numbers, commits, logins, the repository.
"""

from __future__ import annotations

import copy
import functools
import json
import zlib
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "node_modules" / "@octokit" / "webhooks-schemas" / "schema.json"
Json = dict[str, Any]
WHEN = "2026-11-25T08:00:00Z"
FORMATS = {"date-time": WHEN, "uri": "https://github.com/", "uri-template": "https://github.com/{x}", "email": "a@b.c"}


@functools.cache
def schema() -> Json:
    if not SCHEMAS.is_file():
        raise FileNotFoundError(f"{SCHEMAS} is missing: run `npm ci --ignore-scripts` in {ROOT}")
    value: Json = json.loads(SCHEMAS.read_text(encoding="utf-8"))
    return value


def _resolve(node: Json) -> Json:
    while "$ref" in node:
        node = schema()["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def _merge(into: Any, other: Any) -> Any:
    if isinstance(into, dict) and isinstance(other, dict):
        return {**into, **{k: _merge(into.get(k), v) if k in into else v for k, v in other.items()}}
    return other


def minimal(node: Json, depth: int = 0) -> Any:
    """The smallest value `node` accepts: required properties only, first choices."""
    node = _resolve(node)
    if depth > 40:
        raise ValueError("schema too deep for a minimal instance")
    if "allOf" in node:
        value: Any = None
        for part in node["allOf"]:
            value = _merge(value, minimal(part, depth + 1)) if value is not None else minimal(part, depth + 1)
        return value
    for choice in ("oneOf", "anyOf"):
        if choice in node:
            options = [_resolve(o) for o in node[choice]]
            # Prefer a real object over null: it shows more of GitHub's shape.
            options.sort(key=lambda o: o.get("type") == "null")
            return minimal(options[0], depth + 1)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = node.get("properties", {})
        return {key: minimal(properties.get(key, {"type": "string"}), depth + 1) for key in node.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        return FORMATS.get(node.get("format", ""), "x")
    if kind in ("integer", "number"):
        return max(1, node.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def event(definition: str, **facts: Any) -> Json:
    """A payload for `definition` (e.g. `pull_request$opened`) with `facts` laid over it, validated."""
    value = minimal({"$ref": f"#/definitions/{definition}"})
    value = _merge(value, copy.deepcopy(facts))
    validate(definition, value)
    return dict(value)


def validate(definition: str, value: Json) -> None:
    jsonschema.Draft7Validator({**schema(), "$ref": f"#/definitions/{definition}"}).validate(value)


def user(login: str) -> Json:
    return {
        "login": login,
        "id": zlib.crc32(login.encode()) % 10**8 + 1,
        "type": "Bot" if login.endswith("[bot]") else "User",
    }


def repository(full_name: str) -> Json:
    owner, name = full_name.split("/")
    return {
        "full_name": full_name,
        "name": name,
        "owner": user(owner),
        "default_branch": "main",
        "html_url": f"https://github.com/{full_name}",
        "clone_url": f"https://github.com/{full_name}.git",
    }

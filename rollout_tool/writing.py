"""Writes that never leave a half-written file, YAML edits that keep comments and layout, and the
manifests a build leaves for the next one."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from rollout_tool.errors import RefusedError


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step; a crash leaves the old file or the new one."""
    if path.is_symlink():
        raise RefusedError(f"{path}: refusing to write through a symbolic link")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_manifest(path: Path, section: str) -> dict[str, Any]:
    """The mapping under `section` of the JSON manifest an earlier build wrote at `path`; {} when none reads.

    What it maps to is the caller's to check: the file is only ever a hint.
    """
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    kept = found.get(section) if isinstance(found, dict) else None
    return kept if isinstance(kept, dict) else {}


def round_trip() -> YAML:
    """The one YAML writer: version 1.2, and our files' two-space, indented-list layout."""
    yaml = YAML(typ="rt")
    yaml.version = None  # no %YAML directive in the output
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def edit_yaml(path: Path, change: Callable[[Any], None]) -> bool:
    """Apply `change` to the document at `path` in place; True when the file changed."""
    original = path.read_bytes()
    yaml = round_trip()
    document = yaml.load(original)
    change(document)
    buffer = io.BytesIO()
    yaml.dump(document, buffer)
    updated = buffer.getvalue()
    if updated == original:
        return False
    atomic_write(path, updated)
    return True

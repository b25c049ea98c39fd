"""`rollout site`: build the static dashboard into a folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rollout_tool import site
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


def build_site(source: Source, out: Path, today: dt.date, base_url: str = "") -> site.Built:
    return site.build(Repository(source), out, today, base_url)

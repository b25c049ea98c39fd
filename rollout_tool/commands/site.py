"""`rollout site`: build the static dashboard into a folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rollout_tool import site
from rollout_tool.cache import DocumentCache
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


def build_site(
    source: Source,
    out: Path,
    today: dt.date,
    base_url: str = "",
    cache: DocumentCache | None = None,
    jobs: int = 1,
) -> site.Built:
    """Build into `out`; the feeds' links resolve against `base_url`, else rollout.yaml's `site_url`.

    With a `cache`, an unchanged record is not parsed again; the work is spread over `jobs` processes.
    """
    repo = Repository(source)
    repo.cache = cache
    try:
        config = repo.config()
        if not base_url and config is not None and config.site_url is not None:
            base_url = config.site_url
        return site.build(repo, out, today, base_url, jobs=jobs)
    finally:
        if cache is not None:
            cache.save()

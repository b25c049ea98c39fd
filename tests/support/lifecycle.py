"""Helpers for the lifecycle, policy and check-pr tests: release files and the real check-pr."""

from __future__ import annotations

import json
from typing import Any

from tests.support.repos import Repo

RELEASE_PATH = "releases/arc-ce/6.19.0/release.yaml"
NCG_REPORT = "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
PRAGUE_REPORT = "releases/arc-ce/6.19.0/reports/praguelcg2.yaml"

HISTORY = {
    "candidate": "  - {state: candidate, date: 2026-11-01, by: nordu-maint}\n",
    "rollout": "  - {state: rollout, date: 2026-11-02, by: carla-coord}\n",
    "accepted": "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n",
    "released": "  - {state: released, date: 2026-11-21, by: carla-coord}\n",
}


def walk(*states: str) -> str:
    """History entries taking the release through `states`, on fixed dates."""
    return "".join(HISTORY[s] for s in states)


def release_text(
    state: str,
    history: str,
    *,
    version: str = "6.19.0",
    release_type: str = "minor",
    revision: int = 1,
    teams: str = "[ncg-ingrid-pt, praguelcg2]",
    extra: str = "",
) -> str:
    return (
        f"# the release under test\nversion: {version}\ntype: {release_type}\nstate: {state}\n"
        f"revision: {revision}\nplatforms: [el8, el9]\nsummary: ARC CE {version} with token support\n"
        f"teams: {teams}\n{extra}history:\n{history}"
    )


def entry(state: str, by: str, date: str = "2026-11-20") -> str:
    return f"  - {{state: {state}, date: {date}, by: {by}}}\n"


def check_pr(repo: Repo, base: str, author: str, *extra: str, head: str = "HEAD") -> tuple[int, dict[str, Any]]:
    result = repo.rollout(
        "check-pr",
        "--base",
        base,
        "--head",
        head,
        "--author",
        author,
        "--format",
        "json",
        "--today",
        "2026-11-20",
        *extra,
    )
    assert result.returncode in (0, 1), result.stderr
    payload = json.loads(result.stdout)
    assert payload["allowed"] is (result.returncode == 0)
    return result.returncode, payload


def messages(payload: dict[str, Any]) -> list[str]:
    return [p["message"] for p in payload["problems"] if p["level"] == "error"]


def summaries(payload: dict[str, Any]) -> list[str]:
    return [c["summary"] for c in payload["changes"]]

"""Shared fixtures: small, valid rollout repositories in real git, and the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CONFIG = """\
# yaml-language-server: $schema=schema/rollout.schema.json
name: Test infrastructure
coordinators: [carla-coord, dmitri-coord]
bot: rollout-bot[bot]
platforms:
  el8: {name: Enterprise Linux 8, arches: [x86_64]}
  el9: {name: Enterprise Linux 9, arches: [x86_64, aarch64]}
groups:
  arc: {name: ARC, contacts: [early-adopters-arc@example.org]}
  opstools: {name: Operational tools}
policy:
  quorum: 2
  cover_platforms: true
  soak_days: 7
  report_days: 14
  escalate_days: 7
policies:
  emergency: {quorum: 1, cover_platforms: false, soak_days: 0, report_days: 2, auto_accept: true, auto_release: true}
type_policies:
  emergency: emergency
"""

TEAMS = {
    "ncg-ingrid-pt": ("NCG-INGRID-PT", "EGI", ["ana-pt"], ["el9"]),
    "praguelcg2": ("praguelcg2", "EGI", ["jan-cz", "eva-cz"], ["el8", "el9"]),
    "mwt2": ("MWT2", "OSG", ["bob-osg"], ["el9"]),
}

PRODUCT = """\
name: ARC CE
group: arc
provider: NorduGrid
description: The ARC compute element.
maintainers: [nordu-maint]
"""

RELEASE = """\
# the release under test
version: 6.19.0
type: minor
state: rollout
revision: 1
platforms: [el8, el9]
summary: ARC CE 6.19.0 with token support
teams: [ncg-ingrid-pt, praguelcg2]
history:
  - {state: candidate, date: 2026-11-01, by: nordu-maint}
  - {state: rollout, date: 2026-11-02, by: carla-coord}
"""


def report_text(
    team: str, *, verdict: str = "accept", platform: str = "el9", revision: int = 1, date: str = "2026-11-10"
) -> str:
    return textwrap.dedent(
        f"""\
        team: {team}
        revision: {revision}
        verdict: {verdict}
        date: {date}
        environment:
          platform: {platform}
          arch: x86_64
          install: upgrade
          from_version: "6.18.0"
        """
    )


@dataclass
class Repo:
    root: Path

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def git(self, *args: str, author: str | None = None) -> str:
        env = {**os.environ}
        if author:
            env.update(GIT_AUTHOR_NAME=author, GIT_COMMITTER_NAME=author)
        result = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env=env, check=True)
        return result.stdout.strip()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def rollout(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The real `rollout` command, run in the repository."""
        return run_rollout(*args, cwd=self.root, env=env)


def run_rollout(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_TODAY", "ROLLOUT_REPO")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "rollout_tool", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def build_repo(root: Path) -> Repo:
    repo = Repo(root)
    repo.write("rollout.yaml", CONFIG)
    for team, (site, federation, members, platforms) in TEAMS.items():
        repo.write(
            f"teams/{team}.yaml",
            f"name: {site} EA team\nsite: {site}\nfederation: {federation}\n"
            f"members: [{', '.join(members)}]\ngroups: [arc]\nplatforms: [{', '.join(platforms)}]\n",
        )
    repo.write("releases/arc-ce/product.yaml", PRODUCT)
    repo.write("releases/arc-ce/6.19.0/release.yaml", RELEASE)
    repo.write("releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml", report_text("ncg-ingrid-pt"))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    repo.git("config", "user.email", "tests@example.org")
    repo.git("config", "user.name", "tests")
    repo.commit("initial")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    """A small valid repository: one product, a release in rollout, one report, committed."""
    yield build_repo(tmp_path / "repo")

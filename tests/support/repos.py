"""Small, valid rollout repositories in real git, and the `rollout` command run on them.

`Repo.rollout` runs the command in this process through click's test runner;
`run_rollout` starts a real `python -m rollout_tool` for the tests that need a
process of its own (start-up, the module entry point, a timeout).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

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
    team: str,
    *,
    verdict: str = "accept",
    platform: str = "el9",
    revision: int = 1,
    date: str = "2026-11-10",
    arch: str = "x86_64",
    from_version: str = "6.18.0",
) -> str:
    """A report whose one environment ends the text: lines indented by four extend it."""
    return textwrap.dedent(
        f"""\
        team: {team}
        revision: {revision}
        verdict: {verdict}
        date: {date}
        environments:
          - platform: {platform}
            arch: {arch}
            install: upgrade
            from_version: "{from_version}"
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
        """The real `rollout` click command, run in the repository (in this process)."""
        return invoke_rollout(*args, cwd=self.root, env=env)


# The caller's environment must not choose a format, a date or a repository.
_CLEARED = ("GITHUB_ACTIONS", "ROLLOUT_TODAY", "ROLLOUT_REPO")


def invoke_rollout(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `rollout` command in this process, answering as `run_rollout` does: exit code, stdout, stderr.

    An exception the command lets through is written to stderr as a traceback,
    as the interpreter would, so "no traceback" still means what it says.
    """
    from rollout_tool.cli import main

    changes: dict[str, str | None] = dict.fromkeys(_CLEARED)
    changes.update(env or {})
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), env=changes, prog_name="rollout")
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["rollout", *args], result.exit_code, result.stdout, stderr)


def run_rollout(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
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


def settle_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled 50 ms after their last change instead of seconds, and those written so far
    are: their stamps are kept by the next run and trusted by the one after (rollout_tool.derived)."""
    from rollout_tool import derived

    monkeypatch.setattr(derived, "SETTLED_NS", 50_000_000)
    time.sleep(0.1)

"""The `rollout-validate` pre-commit hook, run by pre-commit itself, and the composite action's scripts.

Remote hook repositories cannot be cloned here, so the hook is declared as a
`repo: local` hook made from the published manifest (`.pre-commit-hooks.yaml`)
with the tool already installed (`language: system`): what pre-commit runs is
the manifest's entry, file pattern and options.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_workflows import zizmor

from tests.support.repos import Repo, report_text

ROOT = Path(__file__).resolve().parent.parent


def manifest_hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "rollout-validate"]
    return dict(hook)


def pre_commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ROLLOUT_REPO", "GITHUB_ACTIONS")}
    env["PRE_COMMIT_HOME"] = str(repo.root.parent / "pre-commit-home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # where `rollout` is
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=repo.root, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def hooked(repo: Repo) -> Repo:
    hook = {**manifest_hook(), "language": "system"}
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    repo.write(".pre-commit-config.yaml", yaml.safe_dump(config, sort_keys=False))
    repo.commit("pre-commit")
    return repo


def test_the_manifest_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hook = manifest_hook()
    assert hook["entry"] == "rollout validate" and hook["pass_filenames"] is False


def test_the_hook_passes_a_valid_repository(hooked: Repo) -> None:
    result = pre_commit(hooked, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rollout validate" in result.stdout and "Passed" in result.stdout


def test_the_hook_refuses_a_commit_that_breaks_another_record(hooked: Repo) -> None:
    assert pre_commit(hooked, "install").returncode == 0
    # The report is valid on its own; the team it names does not exist.
    hooked.write("releases/arc-ce/6.19.0/reports/ghost.yaml", report_text("ghost"))
    hooked.git("add", "-A")
    committed = subprocess.run(
        ["git", "commit", "-q", "-m", "a report"], cwd=hooked.root, capture_output=True, text=True
    )
    assert committed.returncode != 0
    assert "no team 'ghost' under teams/" in committed.stdout + committed.stderr
    assert hooked.git("log", "--format=%s", "-1") == "pre-commit"


def test_the_hook_skips_commits_that_touch_no_record(hooked: Repo) -> None:
    hooked.write("notes.txt", "not a record\n")
    hooked.write("releases/arc-ce/6.19.0/release.yaml", "state: [broken\n")
    hooked.git("add", "notes.txt")
    result = pre_commit(hooked, "run")
    assert result.returncode == 0, result.stdout
    assert "(no files to check)Skipped" in result.stdout


# ---------------------------------------------------------------- the composite action


def action_steps() -> list[dict[str, Any]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return list(action["runs"]["steps"])


def run_step(repo: Repo, name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (step,) = [s for s in action_steps() if s.get("name") == name]
    assert "${{" not in step["run"]  # inputs reach the script through its environment only
    full = {k: v for k, v in os.environ.items() if k not in ("ROLLOUT_REPO", "GITHUB_ACTIONS")}
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full.get('PATH', '')}"
    full.update(env)
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo.root, capture_output=True, text=True, env=full)


def test_the_action_installs_the_tool_from_its_own_files() -> None:
    (install,) = [s for s in action_steps() if s.get("name") == "Install the rollout tool"]
    assert install["run"] == 'python -m pip install --quiet "$GITHUB_ACTION_PATH"'


def test_the_action_validates_and_checks_a_pull_request(repo: Repo) -> None:
    assert run_step(repo, "Validate the records", {}).returncode == 0
    base = repo.git("rev-parse", "HEAD")
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", report_text("praguelcg2"))
    head = repo.commit("a report")
    ok = run_step(repo, "Check the pull request's change", {"BASE_SHA": base, "HEAD_SHA": head, "AUTHOR": "jan-cz"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = run_step(
        repo, "Check the pull request's change", {"BASE_SHA": base, "HEAD_SHA": head, "AUTHOR": "mallory"}
    )
    assert refused.returncode == 1
    assert "::error" in refused.stdout
    outside = run_step(repo, "Check the pull request's change", {"BASE_SHA": "", "HEAD_SHA": "", "AUTHOR": ""})
    assert outside.returncode == 0 and "nothing to check" in outside.stdout


def test_the_action_passes_zizmor() -> None:
    result = zizmor(ROOT / "action.yml")  # given a file, zizmor audits that file
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed " in result.stderr and "action.yml" in result.stderr

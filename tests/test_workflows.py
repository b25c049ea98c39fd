"""The GitHub workflows pass actionlint and zizmor, and keep the rules those tools do not check."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rollout_tool.loading import LoadError, load
from tests.act_support.tools import require_tool
from tests.github_server import GitHubServer, new_state
from tests.support.repos import Repo, report_text

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
    return require_tool(name, "see pyproject.toml's test extra")


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
    assert {
        "pull-request.yml",
        "pull-request-comment.yml",
        "rollout.yml",
        "reminders.yml",
        "digest.yml",
        "ci.yml",
    } <= names


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


def _crons(flow: dict[str, Any]) -> list[str]:
    return [entry["cron"] for entry in flow["on"].get("schedule") or []]


def _needed(jobs: dict[str, Any], name: str) -> list[str]:
    """`name` and every job it needs, directly or not."""
    needs = jobs[name].get("needs") or []
    found = [name]
    for other in [needs] if isinstance(needs, str) else needs:
        found += _needed(jobs, other)
    return found


def test_the_dashboard_is_rebuilt_and_deployed_every_day() -> None:
    flow = workflow(WORKFLOWS / "rollout.yml")
    [cron] = _crons(flow)
    minute, hour, day, month, weekday = cron.split()
    assert (day, month, weekday) == ("*", "*", "*"), f"{cron} is not every day"
    assert minute.isdigit() and hour.isdigit()
    # One build definition: the scheduled run is the push's, and nothing on the way to the deploy skips it.
    chain = _needed(flow["jobs"], "deploy")
    assert {"pages", "deploy"} <= set(chain)
    for name in chain:
        condition = str(flow["jobs"][name].get("if", ""))
        assert not condition or "schedule" in condition, f"job {name} runs only if {condition}"


def test_the_digest_is_opened_weekly_with_least_permissions() -> None:
    flow = workflow(WORKFLOWS / "digest.yml")
    [cron] = _crons(flow)
    assert cron.split()[2:] == ["*", "*", "1"], f"{cron} is not once a week, on Mondays"
    assert "workflow_dispatch" in flow["on"]
    [job] = flow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert "if" not in job
    assert job["steps"][-1]["run"] == "rollout bot digest"


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
    for command in ("git checkout", "git switch", "git worktree", "git reset", "gh pr checkout", "git merge"):
        assert command not in text
    # The head commit arrives as git data, by one fetch of the commit the run checked.
    assert [line.strip() for line in text.splitlines() if "git fetch" in line] == [
        'git fetch --no-tags --quiet origin "$RUN_HEAD_SHA"'
    ]
    for job in flow["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                # The default branch's commit: no ref, no other repository.
                assert step.get("with") == {"fetch-depth": 0, "persist-credentials": False}
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


# ------------------------------------------------------------------ .github/scripts/pr_comment.py

SCRIPT = ROOT / ".github" / "scripts" / "pr_comment.py"
CHECK_ALLOWED = {
    "allowed": True,
    "changes": [
        {
            "kind": "report-added",
            "path": "releases/arc-ce/6.19.0/reports/praguelcg2.yaml",
            "summary": "new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1",
        }
    ],
    "problems": [],
}
STATUS = {
    "today": "2026-11-20",
    "releases": [
        {
            "product": "arc-ce",
            "version": "6.19.0",
            "state": "rollout",
            "policy": "default",
            "verdict": "waiting",
            "reasons": ["needs 1 more accepting report", "none yet on el8"],
        },
        {"product": "other", "version": "1.0", "state": "rollout", "verdict": "blocked", "reasons": ["x"]},
    ],
}


def run_render(
    tmp_path: Path, check: Any, status: Any = STATUS, validation: str = "success", validated: Any = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "check.json").write_text(check if isinstance(check, str) else json.dumps(check))
    (tmp_path / "status.json").write_text(json.dumps(status))
    (tmp_path / "validate.json").write_text(json.dumps(validated))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "render", "--check", str(tmp_path / "check.json"), "--status",
         str(tmp_path / "status.json"), "--validated", str(tmp_path / "validate.json"), "--validation", validation,
         "--pr", "7", "--head-sha", "a" * 40, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def render(tmp_path: Path, check: Any, status: Any = STATUS, validation: str = "success") -> tuple[str, list[str]]:
    run_render(tmp_path, check, status, validation)
    out = tmp_path / "out"
    assert json.loads((out / "pull-request.json").read_text()) == {"number": 7, "head_sha": "a" * 40}
    return (out / "comment.md").read_text(), (out / "labels.txt").read_text().splitlines()


def test_the_comment_of_an_allowed_change(tmp_path: Path) -> None:
    body, labels = render(tmp_path, CHECK_ALLOWED)
    assert body == (
        "### Rollout check: allowed ✅\n"
        "\n"
        "**What this pull request does**\n"
        "\n"
        "- new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1\n"
        "\n"
        "**arc-ce/6.19.0** with this change: rollout, verdict **waiting** (policy default)\n"
        "- needs 1 more accepting report\n"
        "- none yet on el8\n"
    )
    assert labels == ["rollout: allowed", "verdict: waiting"]


def test_the_comment_of_a_refused_invalid_change_names_each_problem(tmp_path: Path) -> None:
    check = {
        "allowed": False,
        "changes": CHECK_ALLOWED["changes"],
        "problems": [
            {"path": "releases/arc-ce/6.19.0/reports/praguelcg2.yaml", "line": 1, "column": 1, "level": "error",
             "rule": "unauthorized", "message": "only members of team `praguelcg2` may write its reports"},
        ],
    }  # fmt: skip
    body, labels = render(tmp_path, check, validation="failure")
    assert body.splitlines()[:3] == [
        "### Rollout check: refused ❌",
        "",
        "Some changed records are invalid: see the annotations in the **Files changed** tab.",
    ]
    assert (
        "- `releases/arc-ce/6.19.0/reports/praguelcg2.yaml:1` only members of team `praguelcg2`"
        " may write its reports (unauthorized)\n"
    ) in body
    assert "verdict" not in body
    assert labels == ["rollout: refused", "rollout: invalid"]


def test_check_pr_problems_are_annotated_once(tmp_path: Path) -> None:
    invalid = {"path": "teams/x.yaml", "line": 2, "column": 3, "level": "error", "rule": "schema", "message": "bad"}
    refused = {**invalid, "line": 1, "column": 1, "rule": "unauthorized", "message": "only coordinators, 100%"}
    check = {"allowed": False, "changes": [], "problems": [invalid, refused]}
    result = run_render(tmp_path, check, validated={"files": 1, "problems": [invalid]})
    # The validation problem was annotated by `rollout validate`; only check-pr's own is added.
    assert result.stdout == "::error file=teams/x.yaml,line=1,col=1,title=unauthorized::only coordinators, 100%25\n"
    assert run_render(tmp_path, check, validated=None).stdout.count("::error ") == 2


def test_a_check_that_could_not_run_is_said_so(tmp_path: Path) -> None:
    body, labels = render(tmp_path, "")
    assert body.startswith("### Rollout check: could not run\n")
    assert labels == ["rollout: refused"]


def test_text_from_the_change_cannot_inject_markup_or_mentions(tmp_path: Path) -> None:
    check = {
        **CHECK_ALLOWED,
        "changes": [{"path": "x", "summary": "<img src=x onerror=alert(1)> ping @org/team\n# big"}],
    }
    body, _ = render(tmp_path, check)
    assert "- &lt;img src=x onerror=alert(1)&gt; ping \u200d@\u200dorg/team # big\n" in body
    assert "<img" not in body and "\n# big" not in body


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    with GitHubServer(new_state("egi/rollout")) as running:
        yield running


def post(repo: Repo, server: GitHubServer, artifact: Path, head_sha: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ROLLOUT_"))} | {
        "GITHUB_API_URL": server.url,
        "GITHUB_REPOSITORY": "egi/rollout",
        "GITHUB_TOKEN": "bot-token",
        "ROLLOUT_BOT_APP": "rollout-bot",
        "ROLLOUT_BOT_WRITE_INTERVAL": "0",
        # The script runs `rollout`: this environment's, never another on the machine's PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ROLLOUT_TODAY": TODAY,
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), "post", "--artifact", str(artifact), "--head-sha", head_sha],
        cwd=repo.root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


TODAY = "2026-11-20"
PRAGUE_REPORT = "releases/arc-ce/6.19.0/reports/praguelcg2.yaml"


def artifact(
    tmp_path: Path, number: object, labels: list[str], head_sha: str, body: str = "### Rollout check: allowed ✅\n"
) -> Path:
    folder = tmp_path / "artifact"
    folder.mkdir(exist_ok=True)
    (folder / "pull-request.json").write_text(json.dumps({"number": number, "head_sha": head_sha}))
    (folder / "labels.txt").write_text("".join(f"{label}\n" for label in labels))
    (folder / "comment.md").write_text(body, encoding="utf-8")
    return folder


def pull_request_branch(repo: Repo, author: str, files: dict[str, str]) -> str:
    """A pull request's head commit on its own branch; the work tree is back on main."""
    repo.git("checkout", "-q", "-b", f"{author}/change", "main")
    for path, content in files.items():
        repo.write(path, content)
    head = repo.commit(f"Change by {author}")
    repo.git("checkout", "-q", "main")
    return head


def checked_as_the_pull_request_does(repo: Repo, tmp_path: Path, number: int, head: str, author: str) -> Path:
    """The artifact pull-request.yml hands on: check-pr, status and validate at the head, then render."""
    repo.git("checkout", "-q", head)
    try:
        env = {"ROLLOUT_TODAY": TODAY}
        check = repo.rollout(
            "check-pr", "--base", "main", "--head", head, "--author", author, "--format", "json", env=env
        )
        status = repo.rollout("status", "--format", "json", env=env)
        validated = repo.rollout("validate", "--format", "json", "--", PRAGUE_REPORT, env=env)
    finally:
        repo.git("checkout", "-q", "main")
    (tmp_path / "check.json").write_text(check.stdout)
    (tmp_path / "status.json").write_text(status.stdout)
    folder = tmp_path / "artifact"
    rendered = subprocess.run(
        [sys.executable, str(SCRIPT), "render", "--check", str(tmp_path / "check.json"), "--status",
         str(tmp_path / "status.json"), "--validation", "success" if validated.returncode == 0 else "failure",
         "--pr", str(number), "--head-sha", head, "--out", str(folder)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    return folder


def bot_comments(server: GitHubServer) -> list[tuple[int, str]]:
    return [(c["issue"], c["body"]) for c in server.repo()["comments"].values()]


def test_post_comments_on_the_checked_pull_request(repo: Repo, server: GitHubServer, tmp_path: Path) -> None:
    head = pull_request_branch(repo, "jan-cz", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    number = server.add_pull("report", "jan-cz", head_sha=head)
    handed = checked_as_the_pull_request_does(repo, tmp_path, number, head, "jan-cz")
    result = post(repo, server, handed, head)
    assert result.returncode == 0, result.stdout + result.stderr
    [(on, body)] = bot_comments(server)
    # The check computed again from the head's git objects is the one the pull request's run handed on.
    assert on == number and body.endswith((handed / "comment.md").read_text())
    assert "\n### Rollout check: allowed ✅\n" in body
    assert "- new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1" in body
    assert "pull request's own check reported something else" not in body
    labels = server.repo()["issues"][str(number)]["labels"]
    assert labels == (handed / "labels.txt").read_text().splitlines()
    assert labels[0] == "rollout: allowed" and labels[1].startswith("verdict: ")


def test_post_ignores_a_forged_comment_and_labels(repo: Repo, server: GitHubServer, tmp_path: Path) -> None:
    """A pull request that rewrites its own check hands on whatever it likes: it is computed again."""
    head = pull_request_branch(repo, "mallory", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    number = server.add_pull("report", "mallory", head_sha=head)
    forged = artifact(tmp_path, number, ["rollout: allowed", "verdict: ready"], head)
    result = post(repo, server, forged, head)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "another comment than this check computes" in result.stdout
    [(on, body)] = bot_comments(server)
    assert on == number
    assert "### Rollout check: refused ❌" in body and "allowed ✅" not in body
    assert "mallory is not a member of `praguelcg2` at the base revision (unauthorized)" in body
    assert body.endswith(
        "\n> ⚠️ The pull request's own check reported something else."
        " This comment is the default branch's check of its head commit.\n"
    )
    assert server.repo()["issues"][str(number)]["labels"] == ["rollout: refused"]


def test_post_refuses_an_artifact_that_names_another_pull_request(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    """The artifact comes from a run of the pull request's own code: its number is checked against the API."""
    victim = server.add_pull("someone else's", "jan-cz", head_sha="c" * 40)
    result = post(repo, server, artifact(tmp_path, victim, ["rollout: allowed"], "d" * 40), "d" * 40)
    assert result.returncode == 0
    assert f"pull request #{victim} is at {'c' * 40}, not at the checked {'d' * 40}: not commenting" in result.stdout
    assert bot_comments(server) == []


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("7", "the artifact names no pull request"),
        (True, "the artifact names no pull request"),
        (1, f"the head commit {'b' * 40} has not been fetched: nothing to check"),
    ],
)
def test_post_refuses_what_it_cannot_verify(
    repo: Repo, server: GitHubServer, tmp_path: Path, number: object, message: str
) -> None:
    server.add_pull("report", "ana-pt", head_sha="b" * 40)
    result = post(repo, server, artifact(tmp_path, number, ["rollout: allowed"], "b" * 40), "b" * 40)
    assert result.returncode == 1
    assert message in result.stdout
    assert bot_comments(server) == []
    assert server.repo()["issues"]["1"]["labels"] == []


def test_event_payloads_are_checked_against_githubs_webhook_schemas() -> None:
    from jsonschema import ValidationError

    from tests.act_support import payloads

    good = payloads.event("pull_request$opened", number=3, pull_request={"number": 3, "head": {"sha": "e" * 40}})
    assert good["action"] == "opened" and good["pull_request"]["head"]["sha"] == "e" * 40
    assert {"repository", "sender", "pull_request"} <= set(good)
    with pytest.raises(ValidationError):
        payloads.event("pull_request$opened", number="three")
    with pytest.raises(ValidationError):
        payloads.event("workflow_run$completed", workflow_run={"conclusion": "finished"})

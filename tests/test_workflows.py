"""The GitHub workflows pass actionlint and zizmor, and keep the rules those tools do not check."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rollout_tool.loading import LoadError, load
from tests.act_support.tools import require_tool
from tests.github_server import APP_CLIENT_ID, APP_PRIVATE_KEY, GitHubServer, new_state
from tests.github_server.server import _new_issue
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
    assert {"pull-request.yml", "pull-request-comment.yml", "pull-request-queue.yml", "rollout.yml"} <= names
    assert {"reminders.yml", "digest.yml", "ea-report.yml", "ci.yml"} <= names


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
    text = text.replace('"$HEAD_SHA"', "${{ github.event.pull_request.title }}", 1)
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


# Events whose runs use the default branch's workflow files: the only ones that may reach the app's key.
# Events whose runs use the default branch's workflow files (issues: always the default branch's).
DEFAULT_BRANCH_EVENTS = {"workflow_run", "push", "workflow_dispatch", "schedule", "issues"}


def test_only_default_branch_runs_reach_the_apps_key_through_its_environment() -> None:
    users = []
    for path in FILES:
        flow = workflow(path)
        for name, job in flow["jobs"].items():
            if "ROLLOUT_APP_PRIVATE_KEY" not in json.dumps(job):
                continue
            users.append(path.name)
            assert job.get("environment") == "rollout-bot", f"{path.name}/{name}: the key lives in rollout-bot only"
            assert set(flow["on"]) <= DEFAULT_BRANCH_EVENTS, f"{path.name} runs files a pull request may change"
            if flow["on"].get("push"):
                assert flow["on"]["push"]["branches"] == ["main"], path.name
    assert sorted(set(users)) == ["ea-report.yml", "pull-request-comment.yml", "rollout.yml"]
    # merge_group runs the group's own files, which a queued pull request may have changed: no key there.
    assert "secrets." not in (WORKFLOWS / "pull-request-queue.yml").read_text()


def test_the_privileged_workflow_never_runs_pull_request_code() -> None:
    flow = workflow(WORKFLOWS / "pull-request-comment.yml")
    assert list(flow["on"]) == ["workflow_run"]
    assert flow["on"]["workflow_run"]["workflows"] == [
        workflow(WORKFLOWS / name)["name"] for name in ("pull-request.yml", "pull-request-queue.yml")
    ]
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


# ------------------------------------------------------------------ the trusted check (rollout bot check-*)

TODAY = "2026-11-20"
PRAGUE_REPORT = "releases/arc-ce/6.19.0/reports/praguelcg2.yaml"
CONTEXT = "rollout / check"


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    with GitHubServer(new_state("egi/rollout")) as running:
        workflow = {"login": "github-actions[bot]", "app": "github-actions", "write": True}
        running.state.data["tokens"]["workflow-token"] = workflow
        yield running


def app_token(server: GitHubServer) -> str:
    """An installation token of the bot's app, as actions/create-github-app-token makes it."""
    wanted = {"statuses": "write", "issues": "write", "pull-requests": "write"}
    ask = {"client_id": APP_CLIENT_ID, "private_key": APP_PRIVATE_KEY, "permissions": wanted}
    request = urllib.request.Request(f"{server.url}/_app_tokens", method="POST", data=json.dumps(ask).encode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["token"])


def script(repo: Repo, server: GitHubServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ROLLOUT_"))} | {
        "GITHUB_API_URL": server.url,
        "GITHUB_REPOSITORY": "egi/rollout",
        # The workflow's own token: the bot's comment goes out as the app rollout.yaml names instead.
        "GITHUB_TOKEN": "workflow-token",
        "ROLLOUT_STATUS_TOKEN": app_token(server),
        "ROLLOUT_STATUS_APP": "rollout-bot",
        "ROLLOUT_BOT_WRITE_INTERVAL": "0",
        # The script runs `rollout`: this environment's, never another on the machine's PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ROLLOUT_TODAY": TODAY,
    }
    # The checkout's view of the target branch: the tip the change is judged against.
    repo.git("update-ref", "refs/remotes/origin/main", "main")
    return subprocess.run(
        [sys.executable, "-m", "rollout_tool", "bot", *args],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def post(repo: Repo, server: GitHubServer, artifact: Path, head_sha: str) -> subprocess.CompletedProcess[str]:
    return script(repo, server, "check-pull-request", "--artifact", str(artifact), "--head-sha", head_sha)


def artifact(tmp_path: Path, number: object, head_sha: str) -> Path:
    folder = tmp_path / "artifact"
    folder.mkdir(exist_ok=True)
    (folder / "pull-request.json").write_text(json.dumps({"number": number, "head_sha": head_sha}))
    return folder


def pull_request_branch(repo: Repo, author: str, files: dict[str, str], base: str = "main") -> str:
    """A pull request's head commit on its own branch; the work tree is back on main."""
    repo.git("checkout", "-q", "-b", f"{author}/change", base)
    for path, content in files.items():
        repo.write(path, content)
    head = repo.commit(f"Change by {author}")
    repo.git("checkout", "-q", "main")
    return head


def opened_today(server: GitHubServer, number: int) -> None:
    with server.state.lock:
        server.state.data["repos"]["egi/rollout"]["issues"][str(number)]["created_at"] = f"{TODAY}T08:00:00Z"


def bot_comments(server: GitHubServer) -> list[tuple[int, str]]:
    return [(c["issue"], c["body"]) for c in server.repo()["comments"].values()]


def statuses(server: GitHubServer, sha: str) -> list[tuple[str, str, str, str]]:
    return [
        (s["context"], s["state"], s["description"], s["creator"])
        for s in server.repo().get("statuses", [])
        if s["sha"] == sha
    ]


def test_the_check_posts_the_apps_status_the_comment_and_the_labels(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    head = pull_request_branch(repo, "jan-cz", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    number = server.add_pull("report", "jan-cz", head_sha=head)
    opened_today(server, number)
    result = post(repo, server, artifact(tmp_path, number, head), head)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(server, head) == [(CONTEXT, "success", "allowed", "rollout-bot[bot]")]
    # Run again: the app's newest status says the same, nothing is posted twice.
    again = post(repo, server, artifact(tmp_path, number, head), head)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{CONTEXT} on {head}: already success (allowed)" in again.stdout
    assert len(statuses(server, head)) == 1
    [(on, body)] = bot_comments(server)
    assert on == number
    assert server.repo()["comments"][next(iter(server.repo()["comments"]))]["user"] == "rollout-bot[bot]"
    assert "\n### Rollout check: allowed ✅\n" in body
    assert "- new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1" in body
    # The labels are check-pr's own, from the same judgement as the comment.
    labels = server.repo()["issues"][str(number)]["labels"]
    assert labels[0] == "rollout: allowed" and labels[1].startswith("verdict: ")


def test_a_refused_change_gets_a_failing_status_from_the_app(repo: Repo, server: GitHubServer, tmp_path: Path) -> None:
    head = pull_request_branch(repo, "mallory", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    number = server.add_pull("report", "mallory", head_sha=head)
    opened_today(server, number)
    result = post(repo, server, artifact(tmp_path, number, head), head)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(server, head) == [(CONTEXT, "failure", "refused: 1 problem", "rollout-bot[bot]")]
    [(_, body)] = bot_comments(server)
    assert "### Rollout check: refused ❌" in body
    assert "mallory is not a member of `praguelcg2`" in body
    assert server.repo()["issues"][str(number)]["labels"] == ["rollout: refused"]


def test_the_change_is_judged_against_the_tip_not_where_it_was_cut(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    """A report cut before its team dropped jan-cz: allowed where it was cut, refused at the tip."""
    cut = repo.git("rev-parse", "main")
    team = repo.root / "teams" / "praguelcg2.yaml"
    team.write_text(team.read_text().replace("jan-cz", "eva-cz", 1))
    repo.commit("jan-cz leaves praguelcg2")
    head = pull_request_branch(repo, "jan-cz", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")}, cut)
    number = server.add_pull("report", "jan-cz", head_sha=head)
    opened_today(server, number)
    assert post(repo, server, artifact(tmp_path, number, head), head).returncode == 0
    [(_, state, _, _)] = statuses(server, head)
    assert state == "failure"


def test_a_merged_pull_request_is_not_checked_again(repo: Repo, server: GitHubServer, tmp_path: Path) -> None:
    head = pull_request_branch(repo, "jan-cz", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    number = server.add_pull("report", "jan-cz", head_sha=head)
    with server.state.lock:
        server.state.data["repos"]["egi/rollout"]["issues"][str(number)]["state"] = "closed"
    result = post(repo, server, artifact(tmp_path, number, head), head)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pull request #{number} is closed: not checking" in result.stdout
    assert bot_comments(server) == [] and server.repo().get("statuses", []) == []


def test_the_check_refuses_an_artifact_that_names_another_pull_request(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    """The artifact comes from a run of the pull request's own code: its number is checked against the API."""
    victim = server.add_pull("someone else's", "jan-cz", head_sha="c" * 40)
    result = post(repo, server, artifact(tmp_path, victim, "d" * 40), "d" * 40)
    assert result.returncode == 0
    assert f"pull request #{victim} is at {'c' * 40}, not at the checked {'d' * 40}: not checking" in result.stdout
    assert bot_comments(server) == []
    assert server.repo().get("statuses", []) == []


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("7", "the artifact names no pull request"),
        (True, "the artifact names no pull request"),
        (1, f"git cat-file -e {'b' * 40}^{{commit}}"),
    ],
)
def test_the_check_refuses_what_it_cannot_verify(
    repo: Repo, server: GitHubServer, tmp_path: Path, number: object, message: str
) -> None:
    server.add_pull("report", "ana-pt", head_sha="b" * 40)
    result = post(repo, server, artifact(tmp_path, number, "b" * 40), "b" * 40)
    assert result.returncode == 1
    assert message in result.stdout
    assert bot_comments(server) == []
    assert server.repo().get("statuses", []) == []


def merge_group(repo: Repo, server: GitHubServer, changes: dict[str, dict[str, str]]) -> tuple[str, list[int]]:
    """A merge queue's group on main: one merge commit per pull request, as GitHub builds it."""
    tip = repo.git("rev-parse", "main")
    numbers = []
    repo.git("checkout", "-q", "--detach", tip)
    authors = list(changes)
    for author, files in changes.items():
        head = pull_request_branch(repo, author, files, tip)
        number = server.add_pull(f"report by {author}", author, head_sha=head)
        opened_today(server, number)
        numbers.append(number)
    repo.git("checkout", "-q", "--detach", tip)
    for author, number in zip(authors, numbers, strict=True):
        repo.git(
            "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number} from {author}/change", f"{author}/change"
        )
    group = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    return group, numbers


def test_a_merge_group_is_judged_in_queue_order_and_gets_the_apps_status(repo: Repo, server: GitHubServer) -> None:
    group, _ = merge_group(repo, server, {"jan-cz": {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")}})
    result = script(
        repo, server, "check-merge-group", "--head-sha", group, "--head-ref", f"gh-readonly-queue/main/pr-1-{group}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "by jan-cz: allowed" in result.stdout
    assert statuses(server, group) == [(CONTEXT, "success", "allowed", "rollout-bot[bot]")]


def test_a_merge_group_with_an_outsiders_pull_request_fails(repo: Repo, server: GitHubServer) -> None:
    team = (repo.root / "teams" / "praguelcg2.yaml").read_text()
    changes = {
        "jan-cz": {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")},
        # Each pull request is judged by its own author: mallory's is not carried by jan-cz's.
        "mallory": {"teams/praguelcg2.yaml": team.replace("jan-cz", "mallory", 1)},
    }
    group, _ = merge_group(repo, server, changes)
    result = script(
        repo, server, "check-merge-group", "--head-sha", group, "--head-ref", f"gh-readonly-queue/main/pr-2-{group}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "by mallory: refused" in result.stdout
    [(_, state, _, creator)] = statuses(server, group)
    assert (state, creator) == ("failure", "rollout-bot[bot]")


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


def _form_pull(repo: Repo, server: GitHubServer, issue_author: str, *, ref: str | None = None) -> tuple[str, int]:
    """The bot app's pull request of a report form that `issue_author` submitted as an issue."""
    head = pull_request_branch(repo, "rollout-bot", {PRAGUE_REPORT: report_text("praguelcg2", date="2026-11-19")})
    with server.state.lock:
        repository = server.state.data["repos"]["egi/rollout"]
        server.state.ensure_label(repository, "ea-report")
        issue = _new_issue(server.state, repository, "EA report", "### Product\n\narc-ce", issue_author, ["ea-report"])
    number = server.add_pull("EA report", "rollout-bot[bot]", head_sha=head)
    with server.state.lock:
        server.state.data["repos"]["egi/rollout"]["issues"][str(number)]["pull"]["head"]["ref"] = (
            ref or f"ea-report/{issue['number']}"
        )
    opened_today(server, number)
    return head, number


def test_the_bots_pull_request_of_a_report_form_is_judged_as_the_forms_author(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    head, number = _form_pull(repo, server, "jan-cz")
    result = post(repo, server, artifact(tmp_path, number, head), head)
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(server, head) == [(CONTEXT, "success", "allowed", "rollout-bot[bot]")]


def test_a_report_form_by_an_outsider_stays_refused_in_the_bots_pull_request(
    repo: Repo, server: GitHubServer, tmp_path: Path
) -> None:
    head, number = _form_pull(repo, server, "mallory")
    assert post(repo, server, artifact(tmp_path, number, head), head).returncode == 0
    assert statuses(server, head) == [(CONTEXT, "failure", "refused: 1 problem", "rollout-bot[bot]")]
    [(_, body)] = bot_comments(server)
    assert "mallory is not a member of `praguelcg2`" in body


def test_only_the_bots_form_branch_borrows_the_forms_author(repo: Repo, server: GitHubServer, tmp_path: Path) -> None:
    # The bot's pull request from another branch is judged as the bot, which may not write a team's report.
    head, number = _form_pull(repo, server, "jan-cz", ref="ea-report-1")
    assert post(repo, server, artifact(tmp_path, number, head), head).returncode == 0
    assert statuses(server, head)[0][1] == "failure"

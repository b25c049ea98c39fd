"""The whole story through the real workflow files, run by act against the local GitHub server.

A release enters rollout -> tracking issue; an EA team's report pull request is
checked, its verdict posted as the bot's GitHub App and commented; after the
merge the policy is met -> accepted -> released -> tag and GitHub Release with
the notes. And the refusals: an invalid report, an outsider's pull request that
rewrites its own check to post success (protection refuses the merge); a merge
queue's group judged in queue order; protected main, where the bot proposes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.act_support import payloads
from tests.act_support.runner import WORKFLOW_LOGIN, Run, Runner
from tests.github_server import GitHubServer, new_state
from tests.github_server.server import BOT_APP
from tests.support.repos import Repo, build_repo, report_text, run_rollout

pytestmark = pytest.mark.runner

ROOT = Path(__file__).resolve().parent.parent
FULL_NAME = "egi/rollout"
TODAY = "2026-11-20"
OPENED = f"{TODAY}T08:00:00Z"
CHECK = "rollout / check"
APP_LOGIN = "rollout-bot[bot]"
RELEASE_PATH = "releases/arc-ce/6.19.0/release.yaml"
REPORT_PATH = "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
CANDIDATE = """\
# the release under test
version: 6.19.0
type: emergency
state: candidate
revision: 1
platforms: [el9]
summary: ARC CE 6.19.0 fixing a token leak
teams: [ncg-ingrid-pt, praguelcg2]
history:
  - {state: candidate, date: 2026-11-16, by: nordu-maint}
"""
IN_ROLLOUT = CANDIDATE.replace("state: candidate", "state: rollout", 1) + (
    "  - {state: rollout, date: 2026-11-17, by: carla-coord}\n"
)


@dataclass
class Story:
    repo: Repo
    origin: Path
    server: GitHubServer
    runner: Runner

    def push_main(self) -> str:
        self.repo.git("push", "-q", "origin", "main")
        return str(self.repo.git("rev-parse", "HEAD"))

    def run_push(self, before: str, after: str, actor: str) -> Run:
        payload = payloads.event(
            "push$event",
            ref="refs/heads/main",
            before=before,
            after=after,
            repository=payloads.repository(FULL_NAME),
            sender=payloads.user(actor),
            pusher={"name": actor},
        )
        return self.runner.run("rollout.yml", "push", payload, sha=after, actor=actor)

    def open_pull(
        self, author: str, branch: str, files: dict[str, str], *, fork: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """A pull request from a branch of origin, or from a fork: then origin holds it only under refs/pull/."""
        base = self.repo.git("rev-parse", "main")
        self.repo.git("checkout", "-q", "-b", branch, "main")
        for path, text in files.items():
            self.repo.write(path, text)
        head = self.repo.commit(f"Report by {author}")
        self.repo.git("checkout", "-q", "main")
        number = self.server.add_pull(f"EA report by {author}", author, head_sha=head)
        self.repo.git("push", "-q", "origin", f"{branch}:refs/pull/{number}/head" if fork else branch)
        with self.server.state.lock:
            # As on GitHub, the API names the base commit the pull request was opened against.
            record = self.server.state.data["repos"][FULL_NAME]["issues"][str(number)]
            record["pull"]["base"]["sha"] = base
            record["created_at"] = OPENED
        pull = {
            "number": number,
            "created_at": OPENED,
            "title": f"EA report by {author}",
            "user": payloads.user(author),
            "head": {"ref": branch, "sha": head, "label": f"{author}:{branch}", "user": payloads.user(author)},
            "base": {"ref": "main", "sha": base, "label": "egi:main", "user": payloads.user("egi")},
        }
        return number, pull

    def run_pull_request(self, pull: dict[str, Any]) -> Run:
        payload = payloads.event(
            "pull_request$opened",
            number=pull["number"],
            pull_request=pull,
            repository=payloads.repository(FULL_NAME),
            sender=pull["user"],
        )
        return self.runner.run(
            "pull-request.yml", "pull_request", payload, sha=pull["head"]["sha"], actor=pull["user"]["login"]
        )

    def run_comment(self, checked: Run, pull: dict[str, Any]) -> Run:
        return self.run_trusted(checked, "Pull request", "pull_request", pull["head"]["sha"], pull["head"]["ref"])

    def run_trusted(self, checked: Run, name: str, event: str, head_sha: str, head_branch: str) -> Run:
        """pull-request-comment.yml, from the default branch, once the run `checked` completed."""
        main = self.main_sha()
        path = f".github/workflows/{checked.workflow}"
        payload = payloads.event(
            "workflow_run$completed",
            repository=payloads.repository(FULL_NAME),
            sender=payloads.user("carla-coord"),
            workflow={"name": name, "path": path},
            workflow_run={
                "id": checked.run_id,
                "name": name,
                "event": event,
                "status": "completed",
                "conclusion": "success" if checked.returncode == 0 else "failure",
                "head_sha": head_sha,
                "head_branch": head_branch,
                "path": path,
            },
        )
        return self.runner.run("pull-request-comment.yml", "workflow_run", payload, sha=main, actor="rollout-bot")

    def statuses(self, sha: str) -> list[tuple[str, str, str]]:
        """The commit statuses on `sha`, oldest first: context, state, who posted it."""
        posted = self.server.repo(FULL_NAME).get("statuses", [])
        return [(s["context"], s["state"], s["creator"]) for s in posted if s["sha"] == sha]

    def protect_main(self) -> None:
        """Branch protection as the README asks: `rollout / check` from the bot's app, up to date."""
        checks = {"strict": True, "contexts": [], "checks": [{"context": CHECK, "app_id": BOT_APP["id"]}]}
        answer = self.api(
            "PUT",
            "/branches/main/protection",
            {
                "required_status_checks": checks,
                "enforce_admins": True,
                "required_pull_request_reviews": None,
                "restrictions": None,
            },
        )
        assert answer[0] == 200, answer

    def api(self, method: str, path: str, body: Any = None, token: str = "bot-token") -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.server.url}/repos/{FULL_NAME}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def merge(self, number: int) -> tuple[int, Any]:
        """What a maintainer's merge button asks for."""
        return self.api("PUT", f"/pulls/{number}/merge", {"merge_method": "merge"}, token="maintainer-token")

    def main_sha(self) -> str:
        """main on origin: with the bot's commits, where scheduled and workflow_run runs start."""
        return subprocess.run(
            ["git", "--git-dir", str(self.origin), "rev-parse", "main"], capture_output=True, text=True, check=True
        ).stdout.strip()

    def run_reminders(self, today: str, *, scheduled: bool) -> Run:
        main = self.main_sha()
        if scheduled:
            # GitHub's schedule payload is not a webhook: @octokit/webhooks-schemas has no schema for it.
            payload = {"schedule": "17 6 * * 1-5", "repository": payloads.repository(FULL_NAME)}
            return self.runner.run("reminders.yml", "schedule", payload, sha=main, actor="rollout-bot", today=today)
        payload = payloads.event(
            "workflow_dispatch$event",
            ref="refs/heads/main",
            workflow=".github/workflows/reminders.yml",
            repository=payloads.repository(FULL_NAME),
            sender=payloads.user("carla-coord"),
        )
        return self.runner.run(
            "reminders.yml", "workflow_dispatch", payload, sha=main, actor="carla-coord", today=today
        )

    def issues(self) -> dict[int, dict[str, Any]]:
        return {int(n): i for n, i in self.server.repo(FULL_NAME)["issues"].items()}

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        comments = self.server.repo(FULL_NAME)["comments"].values()
        return [c for c in comments if c["issue"] == number]

    def origin_file(self, path: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.origin), "show", f"main:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def copy_project(target: Path) -> None:
    """The product's own files, as they sit in its repository: the workflows run the tool they ship with."""
    shutil.copytree(ROOT / ".github", target / ".github", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "rollout_tool", target / "rollout_tool", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    readme = ROOT / "README.md"
    (target / "README.md").write_text(readme.read_text() if readme.exists() else "# rollout\n")
    shutil.copy(ROOT / ".gitignore", target / ".gitignore")


@pytest.fixture
def story(tmp_path: Path) -> Iterator[Story]:
    repo = build_repo(tmp_path / "work")
    # The bot is the identity the workflows act as: their token's.
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", re.sub(r"(?m)^bot: .*$", f"bot: {WORKFLOW_LOGIN}", config))
    repo.git("rm", "-q", REPORT_PATH)
    repo.write(RELEASE_PATH, CANDIDATE)
    copy_project(repo.root)
    repo.commit("The project, with a release candidate")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo.git("remote", "add", "origin", str(origin))
    head = repo.git("rev-parse", "HEAD")
    repo.git("push", "-q", "origin", "main")
    state = new_state(FULL_NAME, head_sha=head)
    # The server serves origin: merges are real merge commits there, protected branches refuse pushes.
    state["repos"][FULL_NAME]["git_dir"] = str(origin)
    # A maintainer merges with the merge button: a person's token with every permission.
    state["tokens"]["maintainer-token"] = {"login": "carla-coord", "write": True}
    with GitHubServer(state) as server:
        runner = Runner(origin=origin, scratch=tmp_path / "act", api_url=server.url, today=TODAY)
        yield Story(repo, origin, server, runner)


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Where two JSON values differ, as readable paths: what a re-run changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in after or key not in before:
                found.append(f"{where}/{key}: {'added' if key in after else 'removed'}")
            else:
                found += differences(before[key], after[key], f"{where}/{key}")
        return found
    return [] if before == after else [f"{where}: {before!r} -> {after!r}"]


def assert_succeeded(run: Run) -> None:
    assert run.returncode == 0, f"{run.workflow} failed:\n{run.output[-6000:]}"


def test_a_release_goes_from_rollout_to_a_github_release(story: Story) -> None:
    repo, server = story.repo, story.server

    # 1. A coordinator starts the rollout: the push workflow opens the tracking issue.
    first = repo.git("rev-parse", "HEAD")
    repo.write(RELEASE_PATH, IN_ROLLOUT)
    repo.commit("Start the rollout of arc-ce 6.19.0")
    started = story.push_main()
    push_run = story.run_push(first, started, "carla-coord")
    assert_succeeded(push_run)
    [(tracking_number, tracking)] = story.issues().items()
    assert tracking["title"] == "Staged rollout: ARC CE 6.19.0"
    assert tracking["state"] == "open"
    assert "- [ ] `ncg-ingrid-pt` (NCG-INGRID-PT): @ana-pt" in tracking["body"]
    assert "- [ ] `praguelcg2` (praguelcg2): @jan-cz @eva-cz" in tracking["body"]
    assert story.origin_file(RELEASE_PATH) == IN_ROLLOUT  # nothing for the bot to advance yet

    # The reports were due on 2026-11-19: the schedule reminds both teams, a week later it escalates.
    assert_succeeded(story.run_reminders(TODAY, scheduled=True))
    reminders = story.comments_on(tracking_number)
    assert [c["body"].splitlines()[0] for c in reminders] == [
        "<!-- rollout-as-code:reminder ncg-ingrid-pt 2026-11-20 -->",
        "<!-- rollout-as-code:reminder praguelcg2 2026-11-20 -->",
    ]
    assert (
        reminders[0]["body"]
        .splitlines()[1]
        .startswith(
            "@ana-pt: the Early Adopter report of team `ncg-ingrid-pt` on ARC CE 6.19.0 was due on 2026-11-19 and is 1 day late."
        )
    )
    assert all("escalated" not in c["body"] for c in reminders)
    assert_succeeded(story.run_reminders("2026-11-26", scheduled=False))
    escalations = story.comments_on(tracking_number)[2:]
    assert len(escalations) == 2
    assert all(
        "@carla-coord @dmitri-coord: escalated to the coordinators (7 days late)." in c["body"] for c in escalations
    )

    # 2. An EA team member opens a pull request with the team's report: checked, then commented.
    report = report_text("ncg-ingrid-pt", platform="el9", date="2026-11-19")
    number, pull = story.open_pull("ana-pt", "ana-pt/report", {REPORT_PATH: report})
    checked = story.run_pull_request(pull)
    assert_succeeded(checked)
    assert "Rollout check: allowed" in checked.summary()
    commented = story.run_comment(checked, pull)
    assert_succeeded(commented)
    [comment] = story.comments_on(number)
    assert comment["user"] == WORKFLOW_LOGIN
    assert "### Rollout check: allowed ✅" in comment["body"]
    assert "- new report by team `ncg-ingrid-pt` on arc-ce/6.19.0: accept on revision 1" in comment["body"]
    assert "**arc-ce/6.19.0** with this change: rollout, verdict **ready** (policy emergency)" in comment["body"]
    # The default branch's own check of the head agrees with what the pull request's run handed on.
    assert "own check reported something else" not in comment["body"]
    assert sorted(story.issues()[number]["labels"]) == ["rollout: allowed", "verdict: ready"]
    # The trusted verdict: `rollout / check` on the head, posted as the bot's GitHub App.
    assert story.statuses(pull["head"]["sha"]) == [(CHECK, "success", APP_LOGIN)]

    # 3. Merged: the policy is met, the bot accepts and releases, tags and publishes.
    status, answer = story.merge(number)
    assert (status, answer["merged"]) == (200, True)
    merged = story.main_sha()
    repo.git("fetch", "-q", "origin")
    repo.git("reset", "-q", "--hard", "origin/main")
    published = story.run_push(started, merged, "carla-coord")
    assert_succeeded(published)

    release_text = story.origin_file(RELEASE_PATH)
    assert "state: released" in release_text
    assert release_text.startswith(IN_ROLLOUT.replace("state: rollout", "state: released").split("history:")[0])
    unquoted = release_text.replace('"', "")
    assert f"{{state: accepted, date: 2026-11-20, by: {WORKFLOW_LOGIN}}}" in unquoted
    assert f"{{state: released, date: 2026-11-20, by: {WORKFLOW_LOGIN}}}" in unquoted
    bot_head = story.main_sha()
    assert bot_head != merged

    state = server.repo(FULL_NAME)
    assert state["refs"]["refs/tags/arc-ce/6.19.0"]["sha"] == bot_head
    [gh_release] = state["releases"].values()
    assert gh_release["tag_name"] == "arc-ce/6.19.0"
    clone = story.runner.scratch / "clone"
    subprocess.run(["git", "clone", "-q", str(story.origin), str(clone)], check=True)
    notes = run_rollout("notes", "arc-ce/6.19.0", cwd=clone, env={"ROLLOUT_TODAY": TODAY})
    assert notes.returncode == 0, notes.stderr
    assert gh_release["body"].strip() == notes.stdout.strip()
    tracking = story.issues()[tracking_number]
    assert tracking["state"] == "closed"
    assert "it is now **released**" in tracking["body"]
    assert "- [x] `ncg-ingrid-pt` (NCG-INGRID-PT): @ana-pt: accept (revision 1, 2026-11-19, el9)" in tracking["body"]
    # The deployed dashboard is the one the released state builds, byte for byte.
    site = story.runner.scratch / "site"
    built = run_rollout("site", "--out", str(site), cwd=clone, env={"ROLLOUT_TODAY": TODAY})
    assert built.returncode == 0, built.stderr
    deployed = files_under(story.runner.artifacts / "pages")
    assert "index.html" in deployed
    # Pages leaves out hidden files (the builder's own marker among them).
    assert deployed == {path: data for path, data in files_under(site).items() if "/." not in f"/{path}"}

    # 4. Re-running every workflow of the story changes nothing on the server or in git.
    before = server.snapshot()
    for rerun in (
        story.run_push(first, started, "carla-coord"),
        story.run_reminders(TODAY, scheduled=True),
        story.run_reminders("2026-11-26", scheduled=False),
        story.run_pull_request(pull),
        story.run_comment(checked, pull),
        story.run_push(started, merged, "carla-coord"),
    ):
        assert_succeeded(rerun)
    after = server.snapshot()
    # Each run gets a token of its own, as on GitHub: the only thing a re-run adds.
    before.pop("tokens"), after.pop("tokens")
    assert differences(before, after) == []
    assert story.main_sha() == bot_head


RACE_HOOK = """\
#!/bin/sh
# The bot's first push loses a race: a coordinator's commit lands on main first.
if [ ! -e "$GIT_DIR/raced" ]; then
  touch "$GIT_DIR/raced"
  env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main refs/race/next
  echo "main moved" >&2
  exit 1
fi
"""


def test_a_push_that_loses_the_race_is_worked_out_again_from_the_new_tip(story: Story) -> None:
    repo = story.repo
    first = repo.git("rev-parse", "HEAD")
    repo.write(RELEASE_PATH, IN_ROLLOUT)
    repo.write(REPORT_PATH, report_text("ncg-ingrid-pt", platform="el9", date="2026-11-19"))
    repo.commit("In rollout with an accepting report: the bot may accept and release")
    due = story.push_main()
    # While the bot works, a coordinator rejects the release on main.
    rejected = IN_ROLLOUT.replace("state: rollout", "state: rejected", 1) + (
        "  - {state: rejected, date: 2026-11-20, by: carla-coord}\n"
    )
    repo.write(RELEASE_PATH, rejected)
    racer = repo.commit("Reject arc-ce 6.19.0")
    repo.git("push", "-q", "origin", f"{racer}:refs/race/next")
    repo.git("reset", "-q", "--hard", due)
    hook = story.origin / "hooks" / "pre-receive"
    hook.write_text(RACE_HOOK)
    hook.chmod(0o755)

    run = story.run_push(first, due, "carla-coord")
    assert_succeeded(run)
    assert "main moved: working the transitions out again from its new tip" in run.output
    # The reject stands: the bot accepted nothing past it, and pushed nothing over it.
    assert story.main_sha() == racer
    assert story.origin_file(RELEASE_PATH) == rejected
    assert story.server.repo(FULL_NAME)["releases"] == {}


def test_a_job_gets_only_the_permissions_it_declares(story: Story) -> None:
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    first = story.push_main()
    assert_succeeded(story.run_push(first, first, "carla-coord"))
    [tracking] = story.issues()
    # The reminders job without `issues: write`: GitHub refuses its comments, and so does the server.
    workflow = story.repo.root / ".github" / "workflows" / "reminders.yml"
    workflow.write_text(workflow.read_text().replace("      issues: write", "      issues: read"))
    story.repo.commit("reminders without issues: write")
    story.push_main()
    run = story.run_reminders(TODAY, scheduled=True)
    assert run.returncode != 0
    assert "403 Resource not accessible by integration" in run.output
    assert story.comments_on(tracking) == []


def test_an_invalid_report_is_annotated_where_it_is_wrong(story: Story) -> None:
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    story.push_main()
    # YAML 1.1 would read `yes` as true; in YAML 1.2 it is the string "yes", not a verdict.
    broken = report_text("ncg-ingrid-pt", date="2026-11-19").replace("verdict: accept", "verdict: yes")
    number, pull = story.open_pull("ana-pt", "ana-pt/report", {REPORT_PATH: broken})

    checked = story.run_pull_request(pull)
    assert checked.returncode != 0
    annotation = (
        "::error file=releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml,line=3,col=10,title=vocabulary::"
        "verdict: the string 'yes' is not one of 'accept' or 'reject'"
    )
    assert checked.output.count(annotation) == 1  # one check-pr call: each problem annotated once
    assert "::error::check-pr refused the change" in checked.output
    assert_succeeded(story.run_comment(checked, pull))
    [comment] = story.comments_on(number)
    assert comment["body"].endswith(
        "\n### Rollout check: refused ❌\n"
        "\n"
        "Some records would be invalid after the merge: see the problems below and the annotations in the"
        " **Files changed** tab.\n"
        "\n"
        "**What this pull request does**\n"
        "\n"
        "- new report by team `ncg-ingrid-pt` on arc-ce/6.19.0: invalid\n"
        "\n"
        "**Why it cannot be merged as it is**\n"
        "\n"
        "- releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml:3 verdict: the string 'yes' is not one of"
        " 'accept' or 'reject' (vocabulary)\n"
    )
    assert story.issues()[number]["labels"] == ["rollout: refused", "rollout: invalid"]
    assert story.statuses(pull["head"]["sha"]) == [(CHECK, "failure", APP_LOGIN)]


def forging_workflow() -> str:
    """A pull-request.yml rewritten by the pull request: it posts success as the check itself, with its own token."""
    real = (ROOT / ".github" / "workflows" / "pull-request.yml").read_text()
    upload = re.search(r"actions/upload-artifact@[0-9a-f]{40}", real)
    assert upload is not None
    return f"""\
name: Pull request
on:
  pull_request:
    branches: [main]
permissions: {{}}
jobs:
  check:
    runs-on: ubuntu-latest
    permissions:
      statuses: write
    env:
      PR_NUMBER: ${{{{ github.event.pull_request.number }}}}
      HEAD_SHA: ${{{{ github.event.pull_request.head.sha }}}}
      GITHUB_TOKEN: ${{{{ github.token }}}}
    steps:
      - run: |
          curl -sSf -X POST -H "Authorization: Bearer $GITHUB_TOKEN" \\
            "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/statuses/$HEAD_SHA" \\
            -d '{{"state": "success", "context": "{CHECK}", "description": "allowed"}}'
          mkdir -p "$RUNNER_TEMP/pr-comment"
          printf '{{"number": %s, "head_sha": "%s"}}\\n' "$PR_NUMBER" "$HEAD_SHA" > "$RUNNER_TEMP/pr-comment/pull-request.json"
      - uses: {upload.group(0)}
        with:
          name: pr-comment
          path: ${{{{ runner.temp }}}}/pr-comment/
"""


def test_a_pull_request_that_rewrites_its_check_can_neither_loosen_it_nor_be_merged(story: Story) -> None:
    """An outsider's report that loosens check-pr and rewrites pull-request.yml to post success itself."""
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    story.push_main()
    story.protect_main()
    check_pr = story.repo.root / "rollout_tool" / "commands" / "check_pr.py"
    loosened = check_pr.read_text().replace("return not has_errors(self.problems)", "return True")
    assert loosened != check_pr.read_text()
    number, pull = story.open_pull(
        "mallory",
        "mallory/report",
        {
            REPORT_PATH: report_text("ncg-ingrid-pt", date="2026-11-19"),
            "rollout_tool/commands/check_pr.py": loosened,
            ".github/workflows/pull-request.yml": forging_workflow(),
        },
        fork=True,  # the head is no branch of origin: the trusted workflow has to fetch it
    )
    head = pull["head"]["sha"]

    checked = story.run_pull_request(pull)
    assert_succeeded(checked)  # the pull request's own workflow ran, and said what it liked
    assert story.statuses(head) == [(CHECK, "success", WORKFLOW_LOGIN)]
    # The workflow token is GitHub Actions' app, not the bot's: protection does not count its status.
    assert story.merge(number) == (
        405,
        {
            "message": f'Required status check "{CHECK}" is expected.',
            "documentation_url": "https://docs.github.com/rest",
            "status": "405",
        },
    )

    assert_succeeded(story.run_comment(checked, pull))
    assert story.statuses(head) == [(CHECK, "success", WORKFLOW_LOGIN), (CHECK, "failure", APP_LOGIN)]
    [comment] = story.comments_on(number)
    body = comment["body"]
    assert "### Rollout check: refused ❌" in body and "allowed ✅" not in body
    # The default branch's tool judged it, with the reasons in the comment.
    assert (
        "- releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml:1 only members of team `ncg-ingrid-pt` (or"
        " coordinators) may write its reports; mallory is not a member of `ncg-ingrid-pt` at the base revision"
        " (unauthorized)\n"
    ) in body
    assert (
        "- rollout\\_tool/commands/check\\_pr.py:1 only coordinators may change rollout\\_tool/;"
        " mallory is not a coordinator (unauthorized)\n"
    ) in body
    assert "- .github/workflows/pull-request.yml:1 " in body
    assert "verdict" not in body
    assert story.issues()[number]["labels"] == ["rollout: refused"]
    status, refused = story.merge(number)
    assert (status, refused["message"]) == (405, f'Required status check "{CHECK}" is failing.')
    assert story.origin_file(RELEASE_PATH) == IN_ROLLOUT


def test_a_merge_group_is_judged_in_queue_order_and_checked_as_the_app(story: Story) -> None:
    repo = story.repo
    repo.write(RELEASE_PATH, IN_ROLLOUT)
    repo.commit("Start the rollout of arc-ce 6.19.0")
    tip = story.push_main()
    story.protect_main()
    prague = "releases/arc-ce/6.19.0/reports/praguelcg2.yaml"
    first, _ = story.open_pull(
        "ana-pt", "ana-pt/report", {REPORT_PATH: report_text("ncg-ingrid-pt", platform="el9", date="2026-11-19")}
    )
    second, _ = story.open_pull(
        "jan-cz", "jan-cz/report", {prague: report_text("praguelcg2", platform="el9", date="2026-11-19")}
    )
    # The queue's commit: the tip, then each pull request merged in queue order, as GitHub builds it.
    repo.git("checkout", "-q", "--detach", tip)
    for number, branch in ((first, "ana-pt/report"), (second, "jan-cz/report")):
        repo.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{number} from egi/{branch}", branch)
    group = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    queue_ref = f"gh-readonly-queue/main/pr-{second}-{tip}"
    repo.git("push", "-q", "origin", f"{group}:refs/heads/{queue_ref}")

    payload = payloads.event(
        "merge_group$checks_requested",
        merge_group={
            "head_sha": group,
            "head_ref": f"refs/heads/{queue_ref}",
            "base_sha": tip,
            "base_ref": "refs/heads/main",
            "head_commit": {
                "id": group,
                "tree_id": group,
                "message": f"Merge pull request #{second}",
                "timestamp": OPENED,
            },
        },
        repository=payloads.repository(FULL_NAME),
        sender=payloads.user("carla-coord"),
    )
    queued = story.runner.run("pull-request-queue.yml", "merge_group", payload, sha=group, actor="carla-coord")
    assert_succeeded(queued)
    trusted = story.run_trusted(queued, "Merge queue", "merge_group", group, queue_ref)
    assert_succeeded(trusted)
    assert "by ana-pt: allowed" in trusted.output and "by jan-cz: allowed" in trusted.output
    assert story.statuses(group) == [(CHECK, "success", APP_LOGIN)]


def test_protected_main_refuses_a_push_and_the_bot_proposes_its_transitions(story: Story) -> None:
    repo = story.repo
    first = repo.git("rev-parse", "HEAD")
    config = (repo.root / "rollout.yaml").read_text()
    repo.write("rollout.yaml", re.sub(r"(?m)^bot: .*$", f"bot: {APP_LOGIN}\nbot_changes: pull-request", config))
    repo.write(RELEASE_PATH, IN_ROLLOUT)
    repo.write(REPORT_PATH, report_text("ncg-ingrid-pt", platform="el9", date="2026-11-19"))
    repo.commit("In rollout with an accepting report; the bot acts as its app and proposes")
    due = story.push_main()
    story.protect_main()

    # Nobody pushes to protected main, whatever their token: GitHub's hook declines it.
    repo.write("README.md", "# pushed past review\n")
    repo.commit("straight to main")
    pushed = subprocess.run(["git", "push", "origin", "main"], cwd=repo.root, capture_output=True, text=True)
    assert pushed.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/main." in pushed.stderr
    repo.git("reset", "-q", "--hard", due)

    run = story.run_push(first, due, "carla-coord")
    assert_succeeded(run)
    assert story.main_sha() == due  # nothing pushed to main
    [(number, proposal)] = [(n, i) for n, i in story.issues().items() if i.get("pull")]
    assert proposal["user"] == APP_LOGIN
    assert proposal["pull"]["head"]["ref"] == "rollout-bot/advance"
    assert proposal["pull"]["auto_merge"]["enabled_by"] == APP_LOGIN
    head = proposal["pull"]["head"]["sha"]
    proposed = subprocess.run(
        ["git", "--git-dir", str(story.origin), "show", f"{head}:{RELEASE_PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "state: released" in proposed
    # The tracking issue is the app's too: one identity for everything the bot writes.
    assert all(i["user"] == APP_LOGIN for i in story.issues().values())
    # Auto-merge waits for the check: without the app's status, no merge.
    assert story.merge(number)[0] == 405

    # The bot's pull request is checked like any other, and lands.
    pull = {
        "number": number,
        "created_at": OPENED,
        "title": proposal["title"],
        "user": payloads.user(APP_LOGIN),
        "head": {
            "ref": "rollout-bot/advance",
            "sha": head,
            "label": "egi:rollout-bot/advance",
            "user": payloads.user("egi"),
        },
        "base": {"ref": "main", "sha": due, "label": "egi:main", "user": payloads.user("egi")},
    }
    with story.server.state.lock:
        story.server.state.data["repos"][FULL_NAME]["issues"][str(number)]["created_at"] = OPENED
    checked = story.run_pull_request(pull)
    assert_succeeded(checked)
    assert_succeeded(story.run_comment(checked, pull))
    assert story.statuses(head) == [(CHECK, "success", APP_LOGIN)]
    status, merged = story.merge(number)
    assert (status, merged["merged"]) == (200, True)
    assert "state: released" in story.origin_file(RELEASE_PATH)

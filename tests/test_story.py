"""The whole story through the real workflow files, run by act against the local GitHub server.

A release enters rollout -> tracking issue; an EA team's report pull request is
checked and commented; after the merge the policy is met -> accepted ->
released -> tag and GitHub Release with the notes. And the refused story: an
outsider's report fails its check, with the reason in the comment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.act_support import payloads
from tests.act_support.runner import WORKFLOW_LOGIN, Run, Runner
from tests.github_server import GitHubServer, new_state
from tests.support.repos import Repo, build_repo, report_text, run_rollout

pytestmark = pytest.mark.runner

ROOT = Path(__file__).resolve().parent.parent
FULL_NAME = "egi/rollout"
TODAY = "2026-11-20"
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
IN_ROLLOUT = CANDIDATE.replace("state: candidate", "state: rollout") + (
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
            self.server.state.data["repos"][FULL_NAME]["issues"][str(number)]["pull"]["base"]["sha"] = base
        pull = {
            "number": number,
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
        main = self.main_sha()
        payload = payloads.event(
            "workflow_run$completed",
            repository=payloads.repository(FULL_NAME),
            sender=pull["user"],
            workflow={"name": "Pull request", "path": ".github/workflows/pull-request.yml"},
            workflow_run={
                "id": checked.run_id,
                "name": "Pull request",
                "event": "pull_request",
                "status": "completed",
                "conclusion": "success" if checked.returncode == 0 else "failure",
                "head_sha": pull["head"]["sha"],
                "head_branch": pull["head"]["ref"],
                "path": ".github/workflows/pull-request.yml",
            },
        )
        return self.runner.run("pull-request-comment.yml", "workflow_run", payload, sha=main, actor="rollout-bot")

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
    with GitHubServer(new_state(FULL_NAME, head_sha=head)) as server:
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

    # 3. Merged: the policy is met, the bot accepts and releases, tags and publishes.
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{number}", "ana-pt/report")
    merged = story.push_main()
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
    rejected = IN_ROLLOUT.replace("state: rollout", "state: rejected") + (
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


def test_an_outsiders_report_is_refused_with_the_reason_in_the_comment(story: Story) -> None:
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    story.push_main()
    # The pull request also rewrites the check to allow everything: the check that runs is the base's.
    check_pr = story.repo.root / "rollout_tool" / "commands" / "check_pr.py"
    loosened = check_pr.read_text().replace("return not has_errors(self.problems)", "return True")
    assert loosened != check_pr.read_text()
    number, pull = story.open_pull(
        "mallory",
        "mallory/report",
        {REPORT_PATH: report_text("ncg-ingrid-pt"), "rollout_tool/commands/check_pr.py": loosened},
    )

    checked = story.run_pull_request(pull)
    assert checked.returncode != 0
    assert "Rollout check: refused" in checked.summary(), checked.output[-6000:]
    # Inline annotations on the report: the refusal from check-pr, the early date from validate.
    report = "file=releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
    assert f"::error {report},line=1,col=1,title=unauthorized::only members of team" in checked.output
    assert checked.output.count(f"::warning {report},line=4,col=7,title=value::dated 2026-11-10, before") == 1
    assert_succeeded(story.run_comment(checked, pull))

    [comment] = story.comments_on(number)
    assert "### Rollout check: refused ❌" in comment["body"]
    assert (
        "only members of team `ncg-ingrid-pt` (or coordinators) may write its reports;"
        " mallory is not a member of `ncg-ingrid-pt` at the base revision (unauthorized)"
    ) in comment["body"]
    assert (
        # The message is inert Markdown: `_` escaped, which GitHub shows as written.
        "- `rollout_tool/commands/check_pr.py:1` only coordinators may change rollout\\_tool/;"
        " mallory is not a coordinator (unauthorized)"
    ) in comment["body"]
    assert story.issues()[number]["labels"] == ["rollout: refused"]
    assert "verdict" not in comment["body"]
    assert story.origin_file(RELEASE_PATH) == IN_ROLLOUT


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
    assert checked.output.count(annotation) == 1  # from validate; check-pr's copy of it is not repeated
    assert "::error::validation: failure, check-pr: failure" in checked.output
    assert_succeeded(story.run_comment(checked, pull))
    [comment] = story.comments_on(number)
    assert (
        "### Rollout check: refused ❌\n"
        "\n"
        "Some changed records are invalid: see the annotations in the **Files changed** tab.\n"
        "\n"
        "**What this pull request does**\n"
        "\n"
        "- new report by team `ncg-ingrid-pt` on arc-ce/6.19.0: invalid\n"
        "\n"
        "**Why it cannot be merged as it is**\n"
        "\n"
        "- `releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml:3` verdict: the string 'yes' is not one of"
        " 'accept' or 'reject' (vocabulary)\n"
    ) in comment["body"]
    assert story.issues()[number]["labels"] == ["rollout: refused", "rollout: invalid"]


def forging_workflow() -> str:
    """A pull-request.yml rewritten by the pull request: it skips every check and hands on an approval."""
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
    env:
      PR_NUMBER: ${{{{ github.event.pull_request.number }}}}
      HEAD_SHA: ${{{{ github.event.pull_request.head.sha }}}}
    steps:
      - run: |
          mkdir -p "$RUNNER_TEMP/pr-comment"
          printf '### Rollout check: allowed ✅\\n' > "$RUNNER_TEMP/pr-comment/comment.md"
          printf 'rollout: allowed\\nverdict: ready\\n' > "$RUNNER_TEMP/pr-comment/labels.txt"
          printf '{{"number": %s, "head_sha": "%s"}}\\n' "$PR_NUMBER" "$HEAD_SHA" > "$RUNNER_TEMP/pr-comment/pull-request.json"
      - uses: {upload.group(0)}
        with:
          name: pr-comment
          path: ${{{{ runner.temp }}}}/pr-comment/
"""


def test_a_pull_request_that_rewrites_its_check_cannot_forge_the_comment(story: Story) -> None:
    story.repo.write(RELEASE_PATH, IN_ROLLOUT)
    story.repo.commit("Start the rollout of arc-ce 6.19.0")
    story.push_main()
    number, pull = story.open_pull(
        "mallory",
        "mallory/report",
        {
            REPORT_PATH: report_text("ncg-ingrid-pt", date="2026-11-19"),
            ".github/workflows/pull-request.yml": forging_workflow(),
        },
        fork=True,  # the head is no branch of origin: the comment workflow has to fetch it
    )

    checked = story.run_pull_request(pull)
    assert_succeeded(checked)  # the pull request's own workflow ran, and said what it liked
    artifact = story.runner.artifacts / str(checked.run_id) / "pr-comment" / "comment.md"
    commented = story.run_comment(checked, pull)
    assert_succeeded(commented)

    [comment] = story.comments_on(number)
    body = comment["body"]
    assert "### Rollout check: refused ❌" in body and "allowed ✅" not in body
    assert (
        "only members of team `ncg-ingrid-pt` (or coordinators) may write its reports;"
        " mallory is not a member of `ncg-ingrid-pt` at the base revision (unauthorized)"
    ) in body
    assert "- `.github/workflows/pull-request.yml:1` " in body
    assert body.endswith(
        "\n> ⚠️ The pull request's own check reported something else."
        " This comment is the default branch's check of its head commit.\n"
    )
    assert story.issues()[number]["labels"] == ["rollout: refused"]
    assert "another comment than this check computes" in commented.output
    # What the pull request's run handed on was the forgery: it did not reach the server.
    assert artifact.read_text(encoding="utf-8") == "### Rollout check: allowed ✅\n"

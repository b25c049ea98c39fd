"""Automated results through the real workflow files, run by act against the local GitHub server.

A release whose policy requires the check `functional` waits for it. A site's
CI converts its JUnit XML with `rollout result from-junit` and opens a pull
request as the identity its team registers for automation: the trusted check
posts `rollout / check` success as the bot's app; the same result filed by an
outsider gets failure. Merged, a failing result keeps the release blocked; the
re-run's passing result replaces it and the bot accepts the release on the push.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests import test_story
from tests.act_support import payloads
from tests.act_support.runner import WORKFLOW_LOGIN, Run
from tests.support.repos import report_text, run_rollout
from tests.test_results import FAILING, PASSING
from tests.test_story import (
    APP_LOGIN,
    CHECK,
    FULL_NAME,
    IN_ROLLOUT,
    RELEASE_PATH,
    REPORT_PATH,
    TODAY,
    Story,
    assert_succeeded,
)

pytestmark = pytest.mark.runner

AUTOMATION = "prague-ci[bot]"
RELEASE = "arc-ce/6.19.0"
RESULT_PATH = "releases/arc-ce/6.19.0/results/praguelcg2--functional--el9.yaml"
WAIVER_PATH = "releases/arc-ce/6.19.0/waivers/functional.yaml"
WAIVER = """\
check: functional
platforms: [el9]
reason: the stage-in test needs the new CA bundle
by: carla-coord
date: 2026-11-20
expires: 2026-11-21
"""


# The story's repository, origin, server and runner (an emergency release candidate): this file starts from them.
story = test_story.story


@pytest.fixture
def required(story: Story) -> Story:
    """The release in rollout, its one accepting report meets the quorum: only the required `functional` is missing."""
    repo = story.repo
    config = (repo.root / "rollout.yaml").read_text()
    # The bot accepts when the policy is met, and leaves the release to a coordinator from there.
    config = config.replace("auto_release: true}", "auto_release: false, required_checks: [functional]}")
    assert "required_checks: [functional]" in config
    repo.write("rollout.yaml", config)
    team = repo.root / "teams/praguelcg2.yaml"
    team.write_text(team.read_text() + f"automation: ['{AUTOMATION}']\n")
    repo.write(RELEASE_PATH, IN_ROLLOUT)
    repo.write(REPORT_PATH, report_text("ncg-ingrid-pt", platform="el9", date="2026-11-18"))
    # The tool's own CI is no workflow of a rollout repository.
    (repo.root / ".github/workflows/ci.yml").unlink()
    repo.commit("A release in rollout that requires the functional check")
    story.push_main()
    return story


def converted(story: Story, xml: str, by: str) -> str:
    """What the site's CI does with its test run: `rollout result from-junit`, in a checkout of main."""
    source = story.repo.root.parent / "functional.xml"
    source.write_text(xml)
    args = ["--release", RELEASE, "--check", "functional", "--platform", "el9", "--team", "praguelcg2"]
    written = run_rollout(
        "result", "from-junit", str(source), *args, "--today", TODAY, cwd=story.repo.root, env={"GITHUB_ACTOR": by}
    )
    assert (written.returncode, written.stdout) == (0, f"wrote {RESULT_PATH}\n"), written.stderr
    result = story.repo.root / RESULT_PATH
    text = result.read_text()
    result.unlink()  # the pull request's branch carries it, not main
    return text


def checked_pull(story: Story, author: str, branch: str, text: str) -> tuple[int, dict[str, Any]]:
    """The result's pull request by `author`, through pull-request.yml and the trusted pull-request-comment.yml."""
    number, pull = story.open_pull(author, branch, {RESULT_PATH: text})
    checked = story.run_pull_request(pull)
    assert_succeeded(story.run_comment(checked, pull))
    return number, pull


def merge_and_push(story: Story, number: int) -> str:
    before = story.main_sha()
    status, answer = story.merge(number)
    assert (status, answer["merged"]) == (200, True)
    merged = story.main_sha()
    story.repo.git("fetch", "-q", "origin")
    story.repo.git("reset", "-q", "--hard", "origin/main")
    assert_succeeded(story.run_push(before, merged, "carla-coord"))
    return merged


def origin_status(story: Story, today: str = TODAY) -> dict[str, Any]:
    """`rollout status --format json` on what main holds now, the bot's commits included."""
    clone = story.runner.scratch / "clone"
    if not clone.exists():
        subprocess.run(["git", "clone", "-q", str(story.origin), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "pull", "-q", "--ff-only"], check=True, capture_output=True)
    found = run_rollout("status", RELEASE, "--format", "json", "--today", today, cwd=clone)
    assert found.returncode == 0, found.stderr
    release: dict[str, Any] = json.loads(found.stdout)["releases"][0]
    return release


def tracking_body(story: Story) -> str:
    [issue] = [i for i in story.issues().values() if not i.get("pull") and i["title"].startswith("Staged rollout")]
    body: str = issue["body"]
    return body


def test_a_required_check_blocks_on_a_failing_result_and_a_passing_rerun_lets_the_bot_accept(required: Story) -> None:
    story = required
    waiting = origin_status(story)
    assert (waiting["state"], waiting["verdict"]) == ("rollout", "waiting")
    # The other team's report is late, but the quorum is met: only the check is waited for.
    assert waiting["reasons"] == [
        "required check `functional` on el9 has no result on revision 1 yet",
        "team `praguelcg2` is 1 day late",
    ]

    # 1. The site's CI files a failing run as the team's automation: allowed to file, and it blocks.
    failing = converted(story, FAILING, AUTOMATION)
    assert "outcome: fail\n" in failing and f"by: {AUTOMATION}\n" in failing
    number, pull = checked_pull(story, AUTOMATION, "prague-ci/functional-1", failing)
    assert story.statuses(pull["head"]["sha"]) == [(CHECK, "success", APP_LOGIN)]
    [comment] = story.comments_on(number)
    assert "### Rollout check: allowed ✅" in comment["body"]
    assert (
        "automated result of check `functional` on el9 by team `praguelcg2` on arc-ce/6.19.0: fail on revision 1"
    ) in comment["body"]
    merge_and_push(story, number)
    assert story.origin_file(RELEASE_PATH) == IN_ROLLOUT  # the bot accepts nothing
    blocked = origin_status(story)
    assert blocked["verdict"] == "blocked"
    assert blocked["reasons"][0] == (
        "required check `functional` on el9 fails on revision 1 (team `praguelcg2`): jobs.cancel, jobs.stage-in:"
        " fix it and run it again, or a coordinator waives it"
    )
    assert "required check `functional` on el9 fails" in tracking_body(story)

    # 2. The same passing result from someone who is neither the automation nor a member: refused.
    outsider = converted(story, PASSING, "mallory")
    number, pull = checked_pull(story, "mallory", "mallory/functional", outsider)
    assert story.statuses(pull["head"]["sha"]) == [(CHECK, "failure", APP_LOGIN)]
    [comment] = story.comments_on(number)
    assert "### Rollout check: refused ❌" in comment["body"]
    assert "only the automation team `praguelcg2` registers" in comment["body"]

    # 3. The re-run passes: it replaces the failing result, and the push lets the bot accept.
    passing = converted(story, PASSING, AUTOMATION)
    number, pull = checked_pull(story, AUTOMATION, "prague-ci/functional-2", passing)
    assert story.statuses(pull["head"]["sha"]) == [(CHECK, "success", APP_LOGIN)]
    merge_and_push(story, number)
    release_text = story.origin_file(RELEASE_PATH)
    assert "state: accepted" in release_text
    assert f"{{state: accepted, date: {TODAY}, by: {WORKFLOW_LOGIN}}}" in release_text.replace('"', "")
    accepted = origin_status(story)
    assert accepted["state"] == "accepted"
    assert [(c["check"], c["platform"], c["outcome"]) for c in accepted["checks"]] == [("functional", "el9", "pass")]


def run_daily(story: Story, today: str) -> Run:
    """rollout.yml on its daily schedule, from main as it is, on `today`."""
    payload = {"schedule": "23 5 * * *", "repository": payloads.repository(FULL_NAME)}
    return story.runner.run("rollout.yml", "schedule", payload, sha=story.main_sha(), actor="rollout-bot", today=today)


def test_an_expired_waiver_stops_counting_on_the_day_after_its_expiry(required: Story) -> None:
    story = required
    repo = story.repo
    # Five days of soak: the release may be accepted from 2026-11-22, the day after the waiver expires.
    config = (repo.root / "rollout.yaml").read_text()
    repo.write(
        "rollout.yaml", config.replace("cover_platforms: false, soak_days: 0,", "cover_platforms: false, soak_days: 5,")
    )
    repo.write(RESULT_PATH, converted(story, FAILING, AUTOMATION))
    repo.write(WAIVER_PATH, WAIVER)
    repo.commit("A failing functional check, waived until 2026-11-21, and five days of soak")
    story.push_main()

    on_expiry = origin_status(story, "2026-11-21")
    assert [c["waived_until"] for c in on_expiry["checks"]] == ["2026-11-21"]
    assert on_expiry["verdict"] == "waiting"  # the soak, not the check
    assert_succeeded(run_daily(story, "2026-11-21"))
    assert (
        "check `functional` on el9 fails (team `praguelcg2`), waived until 2026-11-21 by carla-coord:"
        " the stage-in test needs the new CA bundle"
    ) in tracking_body(story)

    # The day after, the soak is over but the waiver counts no more: blocked, and the bot accepts nothing.
    after = origin_status(story, "2026-11-22")
    assert after["verdict"] == "blocked"
    assert [c["waived_until"] for c in after["checks"]] == [None]
    assert_succeeded(run_daily(story, "2026-11-22"))
    assert story.origin_file(RELEASE_PATH) == IN_ROLLOUT
    body = tracking_body(story)
    assert "required check `functional` on el9 fails on revision 1 (team `praguelcg2`)" in body
    assert "waived until" not in body

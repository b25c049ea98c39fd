"""Automated results and waivers: filed from JUnit XML or JSON, judged by the policy, guarded by check-pr.

Every test runs the real `rollout` command on a real git repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.lifecycle import check_pr, messages, summaries
from tests.support.repos import Repo, report_text

RELEASE = "arc-ce/6.19.0"
RESULTS = "releases/arc-ce/6.19.0/results"
WAIVER = "releases/arc-ce/6.19.0/waivers/functional.yaml"
BOT = "prague-ci[bot]"

PASSING = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="arc" tests="3">
    <testcase classname="jobs" name="submit"/>
    <testcase classname="jobs" name="cancel"/>
    <testcase classname="jobs" name="gpu"><skipped/></testcase>
  </testsuite>
</testsuites>
"""
FAILING = """<testsuite name="arc">
  <testcase classname="jobs" name="submit"/>
  <testcase classname="jobs" name="cancel"><failure message="timeout">trace</failure></testcase>
  <testcase classname="jobs" name="stage-in"><error message="boom"/></testcase>
</testsuite>
"""


def require_checks(repo: Repo, *, extra: str = "", automation: bool = True) -> None:
    """One accepting report suffices; what is left to wait for is the required check `functional`."""
    config = (repo.root / "rollout.yaml").read_text()
    config = config.replace(
        "  quorum: 2\n  cover_platforms: true\n  soak_days: 7\n",
        f"  quorum: 1\n  cover_platforms: false\n  soak_days: 0\n  required_checks: [functional]\n{extra}",
    )
    repo.write("rollout.yaml", config)
    if automation:
        team = repo.root / "teams/praguelcg2.yaml"
        team.write_text(team.read_text() + f"automation: ['{BOT}']\n")
    repo.commit("require the functional check")


def file_result(
    repo: Repo, xml: str, platform: str = "el9", *, today: str = "2026-11-10", how: str = "from-junit", **options: str
) -> Any:
    source = repo.root.parent / f"run-{platform}.{'xml' if how == 'from-junit' else 'json'}"
    source.write_text(xml)
    args = ["--release", RELEASE, "--check", "functional", "--platform", platform, "--team", "praguelcg2"]
    args += ["--by", options.pop("by", BOT), "--today", today]
    for key, value in options.items():
        args += [f"--{key}", value]
    return repo.rollout("result", how, str(source), *args)


def status(repo: Repo, today: str = "2026-11-10") -> dict[str, Any]:
    result = repo.rollout("status", RELEASE, "--format", "json", "--today", today)
    assert result.returncode == 0, result.stderr
    release: dict[str, Any] = json.loads(result.stdout)["releases"][0]
    return release


def test_junit_moves_a_required_check_from_missing_to_pass_and_a_failure_blocks(repo: Repo) -> None:
    require_checks(repo)
    before = status(repo)
    assert before["verdict"] == "waiting"
    assert before["reasons"] == [
        "required check `functional` on el8 has no result on revision 1 yet",
        "required check `functional` on el9 has no result on revision 1 yet",
    ]
    assert [(c["platform"], c["outcome"]) for c in before["checks"]] == [("el8", "missing"), ("el9", "missing")]

    assert file_result(repo, json.dumps({"outcome": "pending"}), "el8", how="from-json").returncode == 0
    written = file_result(repo, PASSING)
    assert (written.returncode, written.stdout) == (0, f"wrote {RESULTS}/praguelcg2--functional--el9.yaml\n")
    record = (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    assert "outcome: pass\n" in record and "tests: 3\n" in record and "skipped: 1\n" in record
    assert f"by: {BOT}\n" in record and "revision: 1\n" in record
    waiting = status(repo)
    assert waiting["verdict"] == "waiting"  # pending is waited for, never read as a failure
    assert waiting["reasons"] == [
        "required check `functional` on el8 is still running on revision 1 (team `praguelcg2`)"
    ]

    assert file_result(repo, PASSING, "el8").returncode == 0  # the re-run replaces the pending result
    assert sorted(p.name for p in (repo.root / RESULTS).iterdir()) == [
        "praguelcg2--functional--el8.yaml",
        "praguelcg2--functional--el9.yaml",
    ]
    ready = status(repo)
    assert (ready["verdict"], ready["reasons"]) == ("ready", [])
    assert [c["outcome"] for c in ready["checks"]] == ["pass", "pass"]

    assert file_result(repo, FAILING).returncode == 0
    blocked = status(repo)
    assert blocked["verdict"] == "blocked"
    assert blocked["reasons"] == [
        "required check `functional` on el9 fails on revision 1 (team `praguelcg2`): jobs.cancel, jobs.stage-in:"
        " fix it and run it again, or a coordinator waives it"
    ]
    assert blocked["next"]["who"] == "coordinators" and "waive" in blocked["next"]["what"]
    record = (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    assert "failures: 1\nerrors: 1\n" in record and "  - jobs.cancel\n  - jobs.stage-in\n" in record
    assert repo.rollout("validate").returncode == 0


def test_a_result_on_an_older_revision_counts_for_nothing(repo: Repo) -> None:
    require_checks(repo)
    file_result(repo, PASSING, "el8")
    file_result(repo, PASSING, "el9")
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(
        release.read_text().replace("revision: 1", "revision: 2")
        + "  - {state: rollout, date: 2026-11-09, by: carla-coord, revision: 2, note: a fixed build}\n"
    )
    repo.write("releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml", report_text("ncg-ingrid-pt", revision=2))
    found = status(repo)
    assert found["verdict"] == "waiting"
    assert found["reasons"][0] == "required check `functional` on el8 has no result on revision 2 yet"


def test_when_source_down_ignore_lets_a_missing_result_pass_but_says_so(repo: Repo) -> None:
    require_checks(repo, extra="  when_source_down: ignore\n")
    found = status(repo)
    assert found["verdict"] == "ready"
    assert found["reasons"][0] == (
        "required check `functional` on el8 has no result on revision 1 yet;"
        " the policy does not wait for it (when_source_down: ignore)"
    )
    file_result(repo, json.dumps({"outcome": "pending"}), how="from-json")
    assert status(repo)["verdict"] == "waiting"  # a run under way is still waited for


def test_a_waiver_counts_through_its_expiry_day_and_not_the_day_after(repo: Repo) -> None:
    require_checks(repo)
    file_result(repo, PASSING, "el8")
    file_result(repo, FAILING, "el9")
    repo.write(
        WAIVER,
        "check: functional\nplatforms: [el9]\nreason: the stage-in test needs the new CA bundle\n"
        "by: carla-coord\ndate: 2026-11-10\nexpires: 2026-11-12\n",
    )
    text = repo.rollout("status", RELEASE, "--today", "2026-11-12").stdout
    assert "  checks: `functional` on el8: pass, `functional` on el9: fail, waived until 2026-11-12\n" in text
    on_expiry = status(repo, "2026-11-12")
    assert on_expiry["verdict"] == "ready"
    assert on_expiry["reasons"] == [
        "check `functional` on el9 fails (team `praguelcg2`), waived until 2026-11-12 by carla-coord:"
        " the stage-in test needs the new CA bundle"
    ]
    assert on_expiry["checks"][1]["waived_until"] == "2026-11-12"
    after = status(repo, "2026-11-13")
    assert after["verdict"] == "blocked"
    assert after["checks"][1]["waived_until"] is None
    # A waiver for other platforms does not cover this one.
    repo.write(WAIVER, (repo.root / WAIVER).read_text().replace("[el9]", "[el8]"))
    assert status(repo, "2026-11-11")["verdict"] == "blocked"


def test_a_failing_check_that_is_not_required_is_noted_only(repo: Repo) -> None:
    require_checks(repo, extra="")
    file_result(repo, PASSING, "el8")
    file_result(repo, PASSING, "el9")
    source = repo.root.parent / "probe.json"
    source.write_text(json.dumps({"outcome": "fail", "failing": ["ping"], "summary": "probe\x1b[31m red"}))
    args = ["--check", "argo-probe", "--platform", "el9", "--team", "praguelcg2", "--by", BOT, "--today", "2026-11-10"]
    assert repo.rollout("result", "from-json", str(source), "--release", RELEASE, *args).returncode == 0
    text = (repo.root / RESULTS / "praguelcg2--argo-probe--el9.yaml").read_text()
    assert "summary: probe [31m red\n" in text  # controls never reach a record
    found = status(repo)
    assert found["verdict"] == "ready"
    assert found["reasons"] == [
        "check `argo-probe` on el9 fails on revision 1 (team `praguelcg2`): ping (not required)"
    ]


# ---------------------------------------------------------------- hostile and wrong input


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "<testsuite><testcase name='&lol2;'/></testsuite>",
            "refused: a JUnit report has no DTD, entities or external references",
        ),
        (
            '<!DOCTYPE t SYSTEM "file:///etc/passwd"><testsuite/>',
            "refused: a JUnit report has no DTD, entities or external references",
        ),
        ("<testsuite><testcase name='a'></testsuite>", ":1:33: not well-formed XML (mismatched tag"),
        ("<html><body/></html>", "not a JUnit report: its root is <html>, not <testsuites>"),
    ],
)
def test_hostile_or_wrong_xml_is_refused_with_its_place_and_writes_nothing(repo: Repo, xml: str, says: str) -> None:
    result = file_result(repo, xml)
    assert result.returncode == 1, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert not (repo.root / RESULTS).exists()


def test_a_huge_report_is_refused_without_reading_it_whole(repo: Repo) -> None:
    result = file_result(repo, "<testsuite>" + " " * (20 * 1024 * 1024) + "</testsuite>")
    assert (result.returncode, result.stderr) == (
        1,
        f"rollout: {repo.root.parent / 'run-el9.xml'}: larger than 20 MiB; not read\n",
    )


def test_deeply_nested_xml_is_read_without_a_crash(repo: Repo) -> None:
    nested = "<a>" * 200_000 + "</a>" * 200_000
    result = file_result(repo, f"<testsuite><testcase name='deep'>{nested}</testcase></testsuite>")
    assert result.returncode == 0, result.stderr
    assert "outcome: pass\n" in (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()


def test_an_empty_junit_report_never_passes(repo: Repo) -> None:
    require_checks(repo)
    assert file_result(repo, "<testsuites/>").returncode == 0
    text = (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    assert "outcome: missing\n" in text
    assert status(repo)["checks"][1]["outcome"] == "missing"


def test_failing_names_are_one_printable_line_each_and_capped(repo: Repo) -> None:
    cases = "".join(f"<testcase name='t{i}&#10;&#x202e;x'><failure/></testcase>" for i in range(80))
    assert file_result(repo, f"<testsuite>{cases}</testsuite>").returncode == 0
    text = (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    assert text.count("\n  - t") == 50 and "  - t0 x\n" in text and "\u202e" not in text
    assert "failures: 80\n" in text


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ('{"outcome": "passed"}', "outcome must be one of pass, fail, pending, missing"),
        ('{"outcome": "pass", "tests": true}', "tests must be a whole number of tests, not true"),
        ('{"outcome": "pass", "verdict": "ok"}', "unknown key 'verdict'"),
        ('{"outcome": "pass",', ":1:20: not valid JSON"),
        ("[1]", "a result is one JSON object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply for a result"),
    ],
)
def test_wrong_json_is_refused(repo: Repo, payload: str, says: str) -> None:
    result = file_result(repo, payload, how="from-json")
    assert result.returncode == 1 and says in result.stderr, result.stderr
    assert not (repo.root / RESULTS).exists()


def test_names_that_would_leave_the_results_folder_are_usage_errors(repo: Repo) -> None:
    for option, value in (("team", "../../x"), ("check", "func--tional"), ("platform", "EL9")):
        source = repo.root.parent / "run.json"
        source.write_text('{"outcome": "pass"}')
        args = {"team": "praguelcg2", "check": "functional", "platform": "el9", option: value}
        result = repo.rollout(
            "result", "from-json", str(source), "--release", RELEASE, "--by", BOT,
            *(f"--{key}={item}" for key, item in args.items()),
        )  # fmt: skip
        assert result.returncode == 2 and f"--{option} '{value}'" in result.stderr, result.stderr
    assert not (repo.root / RESULTS).exists()
    assert not (repo.root / "x--functional--el9.yaml").exists()


def test_by_defaults_to_the_workflow_actor(repo: Repo) -> None:
    source = repo.root.parent / "run.json"
    source.write_text('{"outcome": "pass"}')
    args = ["--release", RELEASE, "--check", "functional", "--platform", "el9", "--team", "praguelcg2"]
    result = repo.rollout("result", "from-json", str(source), *args, env={"GITHUB_ACTOR": BOT})
    assert result.returncode == 0, result.stderr
    assert f"by: {BOT}\n" in (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    wrong = repo.rollout("result", "from-json", str(source), *args, "--by", "not a login")
    assert (wrong.returncode, wrong.stderr) == (2, "rollout: --by 'not a login': not a GitHub login\n")


def test_results_are_taken_only_for_the_current_revision_of_a_release_in_rollout(repo: Repo) -> None:
    result = file_result(repo, PASSING, revision="2")
    assert result.returncode == 1 and "is at revision 1, not 2" in result.stderr
    unknown = file_result(repo, PASSING, platform="ubuntu-22.04")
    assert unknown.returncode == 1 and "does not ship for 'ubuntu-22.04'" in unknown.stdout


def test_validation_ties_a_result_and_a_waiver_to_their_paths(repo: Repo) -> None:
    file_result(repo, PASSING)
    path = repo.root / RESULTS / "praguelcg2--functional--el9.yaml"
    path.rename(repo.root / RESULTS / "mwt2--functional--el9.yaml")
    repo.write(f"{RESULTS}/praguelcg2-functional-el9.yaml", "x: 1\n")
    repo.write(WAIVER, "check: other\nreason: r\nby: carla-coord\ndate: 2026-11-10\nexpires: 2026-11-09\n")
    result = repo.rollout("validate", "--format", "json")
    found = {(p["path"].rpartition("/")[2], p["rule"], p["message"]) for p in json.loads(result.stdout)["problems"]}
    assert found == {
        ("mwt2--functional--el9.yaml", "path-mismatch", "team 'praguelcg2' does not match the file name mwt2--functional--el9.yaml"),
        (
            "mwt2--functional--el9.yaml",
            "unassigned-team",
            "team 'mwt2' is not assigned to arc-ce/6.19.0; a coordinator adds it to the release's teams first",
        ),
        (
            "praguelcg2-functional-el9.yaml",
            "identifier",
            "'praguelcg2-functional-el9' is not a valid result name: name it <team>--<check>--<platform>.yaml,"
            " each a lower-case identifier without '--'",
        ),
        ("functional.yaml", "path-mismatch", "check 'other' does not match the file name functional.yaml"),
        ("functional.yaml", "value", "the waiver expires on 2026-11-09, before it was made (2026-11-10)"),
    }  # fmt: skip


# ---------------------------------------------------------------- who may file what (check-pr)


def _result_pr(repo: Repo, *, platform: str = "el9", text: str | None = None, **changes: str) -> tuple[str, str]:
    base = repo.git("rev-parse", "HEAD")
    fields = {"team": "praguelcg2", "check": "functional", "platform": platform, "revision": "1"}
    fields |= {"outcome": "pass", "date": "2026-11-20", "by": BOT, **changes}
    body = text if text is not None else "".join(f"{key}: {value}\n" for key, value in fields.items())
    repo.write(f"{RESULTS}/praguelcg2--functional--{platform}.yaml", body)
    head = repo.commit("a result")
    repo.git("checkout", "-q", base)
    return base, head


def test_the_registered_automation_and_members_may_file_results_others_not(repo: Repo) -> None:
    require_checks(repo)
    base, head = _result_pr(repo)
    code, payload = check_pr(repo, base, BOT, head=head)
    assert code == 0, messages(payload)
    assert summaries(payload) == [
        "automated result of check `functional` on el9 by team `praguelcg2` on arc-ce/6.19.0: pass on revision 1"
    ]
    assert [c["outcome"] for c in payload["releases"][0]["checks"]] == ["missing", "pass"]
    assert check_pr(repo, base, "PRAGUE-CI[bot]", head=head)[0] == 0  # logins compare as GitHub does
    code, payload = check_pr(repo, base, "ana-pt", head=head)
    assert code == 1
    assert any("only the automation team `praguelcg2` registers" in m for m in messages(payload))
    member_base, member_head = _result_pr(repo, by="jan-cz")
    assert check_pr(repo, member_base, "jan-cz", head=member_head)[0] == 0


def test_a_result_must_say_who_filed_it_be_current_dated_and_on_what_the_team_runs(repo: Repo) -> None:
    require_checks(repo)
    base, head = _result_pr(repo, by="jan-cz")
    assert "the result says by jan-cz, but the change is by prague-ci[bot]" in messages(
        check_pr(repo, base, BOT, head=head)[1]
    )
    base, head = _result_pr(repo, date="2026-11-21")
    assert "the result is dated 2026-11-21, after today (2026-11-20)" in messages(
        check_pr(repo, base, BOT, head=head)[1]
    )
    base, head = _result_pr(repo, date="2026-11-01")
    assert "the result is dated 2026-11-01, before arc-ce/6.19.0 entered rollout on 2026-11-02" in messages(
        check_pr(repo, base, BOT, head=head)[1]
    )
    ncg = repo.root / "teams/ncg-ingrid-pt.yaml"
    ncg.write_text(ncg.read_text() + "automation: [ncg-ci]\n")
    repo.commit("ncg automation")
    base = repo.git("rev-parse", "HEAD")
    repo.write(
        f"{RESULTS}/ncg-ingrid-pt--functional--el8.yaml",
        "team: ncg-ingrid-pt\ncheck: functional\nplatform: el8\nrevision: 1\noutcome: pass\ndate: 2026-11-20\nby: ncg-ci\n",
    )
    head = repo.commit("a result on el8")
    assert "team `ncg-ingrid-pt` does not run el8: its team file lists el9" in messages(
        check_pr(repo, base, "ncg-ci", head=head)[1]
    )  # fmt: skip


def test_a_result_on_an_old_revision_is_refused(repo: Repo) -> None:
    require_checks(repo)
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(
        release.read_text().replace("revision: 1", "revision: 2")
        + "  - {state: rollout, date: 2026-11-09, by: carla-coord, revision: 2, note: a fixed build}\n"
    )
    repo.commit("revision 2")
    base, head = _result_pr(repo)
    assert "the result is on revision 1, but arc-ce/6.19.0 is at revision 2: run the check on revision 2" in messages(
        check_pr(repo, base, BOT, head=head)[1]
    )


def test_only_coordinators_register_automation_and_waive(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    team = repo.root / "teams/praguelcg2.yaml"
    team.write_text(team.read_text() + "automation: [jan-cz-laptop]\n")
    head = repo.commit("register automation")
    assert "only coordinators change a team's automation" in " ".join(
        messages(check_pr(repo, base, "jan-cz", head=head)[1])
    )
    assert check_pr(repo, base, "carla-coord", head=head)[0] == 0
    repo.git("checkout", "-q", base)
    waiver = "check: functional\nreason: flaky\nby: {by}\ndate: 2026-11-20\nexpires: 2026-11-30\n"
    repo.write(WAIVER, waiver.format(by="jan-cz"))
    head = repo.commit("waive")
    code, payload = check_pr(repo, base, "jan-cz", head=head)
    assert code == 1 and "only coordinators may waive a check; jan-cz is not a coordinator" in messages(payload)
    repo.git("checkout", "-q", base)
    repo.write(WAIVER, waiver.format(by="carla-coord"))
    head = repo.commit("waive")
    code, payload = check_pr(repo, base, "carla-coord", head=head)
    assert code == 0, messages(payload)
    assert summaries(payload) == ["waiver of check `functional` on arc-ce/6.19.0 added: until 2026-11-30"]
    assert "the new waiver says by carla-coord, but the change is by dmitri-coord" in messages(
        check_pr(repo, base, "dmitri-coord", head=head)[1]
    )


def test_a_coordinator_cannot_accept_over_a_failing_required_check(repo: Repo) -> None:
    require_checks(repo)
    file_result(repo, PASSING, "el8")
    file_result(repo, FAILING, "el9")
    base = repo.commit("results")
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(
        release.read_text().replace("\nstate: rollout\n", "\nstate: accepted\n")
        + "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n"
    )
    head = repo.commit("accept")
    code, payload = check_pr(repo, base, "carla-coord", head=head)
    assert code == 1
    assert any("cannot become accepted: required check `functional` on el9 fails" in m for m in messages(payload)), (
        messages(payload)
    )


def test_results_outside_rollout_are_refused(repo: Repo) -> None:
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(
        release.read_text().replace("\nstate: rollout\n", "\nstate: accepted\n")
        + "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n"
    )
    repo.write("releases/arc-ce/6.19.0/reports/praguelcg2.yaml", report_text("praguelcg2", platform="el8"))
    require_checks(repo)
    base, head = _result_pr(repo)
    assert "arc-ce/6.19.0 is accepted: results change only while a release is in rollout" in messages(
        check_pr(repo, base, BOT, head=head)[1]
    )
    refused = file_result(repo, PASSING)
    assert refused.returncode == 1 and "results are taken only while a release is in rollout" in refused.stderr


def test_json_form_fields_reach_the_record(repo: Repo, tmp_path: Path) -> None:
    payload = {"outcome": "fail", "tests": 4, "failures": 1, "errors": 0, "skipped": 0, "failing": ["probe ping"]}
    result = file_result(repo, json.dumps(payload), how="from-json", url="https://ci.example.org/run/7")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (repo.root / RESULTS / "praguelcg2--functional--el9.yaml").read_text()
    assert "url: https://ci.example.org/run/7\n" in text and "  - probe ping\n" in text and "tests: 4\n" in text
    bad = file_result(repo, json.dumps({"outcome": "pass", "failures": 2}), how="from-json")
    assert bad.returncode == 1 and "the result says pass, but counts failures or errors" in bad.stdout


# ---------------------------------------------------------------- notes, dashboard, attention


def test_checks_reach_the_notes_the_release_page_excuses_and_the_attention_view(repo: Repo, tmp_path: Path) -> None:
    require_checks(repo)
    file_result(repo, json.dumps({"outcome": "pending"}), "el8", how="from-json")
    xml = FAILING.replace('name="cancel"', 'name="cancel &lt;script&gt;x|y"')
    assert file_result(repo, xml, url="https://ci.example.org/run/9").returncode == 0
    notes = repo.rollout("notes", RELEASE, "--today", "2026-11-12")
    assert notes.returncode == 0, notes.stderr
    assert "# Automated checks\n" in notes.stdout
    assert "| `functional` (required) | el8 | pending | `praguelcg2` | - |\n" in notes.stdout
    assert (
        "| `functional` (required) | el9 | fail | `praguelcg2` | jobs.cancel &lt;script&gt;x\\|y, jobs.stage-in |"
        in (notes.stdout)
    )
    out = tmp_path / "site"
    built = repo.rollout("site", "--out", str(out), "--today", "2026-11-12")
    assert built.returncode == 0, built.stderr
    page = next(out.rglob("6.19.0.html")).read_text()
    assert '<h2 id="h-checks">Automated checks</h2>' in page
    assert '<span class="badge check-fail">fail</span> <a href="https://ci.example.org/run/9">run</a>' in page
    assert "&lt;script&gt;" in page and "<script>x" not in page
    board = (out / "index.html").read_text()
    assert '<span class="badge check-fail">check fails</span> check <code>functional</code> fails on el9' in board
    excuses = json.loads((out / "excuses.json").read_text())["releases"][0]
    assert [(c["platform"], c["outcome"]) for c in excuses["checks"]] == [("el8", "pending"), ("el9", "fail")]
    # Waived, it leaves the attention view; the notes say until when.
    repo.write(
        WAIVER, "check: functional\nreason: known flake\nby: carla-coord\ndate: 2026-11-10\nexpires: 2026-11-20\n"
    )
    assert "| el9 | fail, waived until 2026-11-20 |" in repo.rollout("notes", RELEASE, "--today", "2026-11-12").stdout
    repo.rollout("site", "--out", str(out), "--today", "2026-11-12")
    assert "check fails</span>" not in (out / "index.html").read_text()


def test_the_bot_accepts_only_once_the_required_check_passes(repo: Repo) -> None:
    config = (repo.root / "rollout.yaml").read_text()
    repo.write(
        "rollout.yaml", config.replace("auto_release: true}", "auto_release: true, required_checks: [functional]}")
    )
    release = repo.root / "releases/arc-ce/6.19.0/release.yaml"
    release.write_text(release.read_text().replace("type: minor", "type: emergency"))
    repo.commit("an emergency release that needs the functional check")
    waiting = repo.rollout("advance", "--today", "2026-11-03")
    assert waiting.returncode == 0 and "moved" not in waiting.stdout, waiting.stdout
    file_result(repo, PASSING, "el8", today="2026-11-03")
    file_result(repo, FAILING, "el9", today="2026-11-03")
    blocked = repo.rollout("advance", "--today", "2026-11-03")
    assert blocked.returncode == 0 and "moved" not in blocked.stdout, blocked.stdout
    file_result(repo, PASSING, "el9", today="2026-11-03")  # the re-run passes
    moved = repo.rollout("advance", "--today", "2026-11-03")
    assert moved.stdout == "moved arc-ce/6.19.0: rollout -> accepted\nmoved arc-ce/6.19.0: accepted -> released\n"
    assert repo.rollout("validate").returncode == 0

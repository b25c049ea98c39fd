"""Acceptance tests of `rollout validate`: output formats, exit codes, given files, every rule.

Each test runs the real command on the fixture repository (real git) with one
mistake planted, and compares the whole output word for word.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rollout_tool import catalogue, placement
from rollout_tool.cache import DocumentCache
from rollout_tool.commands.validate import validate_paths, validate_repository
from rollout_tool.repository import Repository
from rollout_tool.sources import Entry, Kind, WorkTree
from tests.support.repos import CONFIG, PRODUCT, RELEASE, Repo, report_text, run_rollout

# benchmarks/ is not a package: the generator is imported from its folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic import generate

R = "releases/arc-ce/6.19.0"
REPORT = f"{R}/reports/ncg-ingrid-pt.yaml"
UNASSIGNED = "team 'mwt2' is not assigned to arc-ce/6.19.0; a coordinator adds it to the release's teams first"


def summary(files: int, errors: int, warnings: int = 0) -> str:
    return f"{files} files checked, {errors} errors, {warnings} warnings\n"


# ---------------------------------------------------------------- formats


def test_valid_repository_exits_0_and_says_so(repo: Repo) -> None:
    result = repo.rollout("validate")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", summary(7, 0))


def test_text_format_is_one_exact_line_per_problem(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", verdict="acept"))
    result = repo.rollout("validate")
    assert result.returncode == 1
    assert result.stdout == (
        f"{REPORT}:3:10: [error] verdict: the string 'acept' is not one of 'accept' or 'reject';"
        " did you mean 'accept'? (vocabulary)\n"
    )
    assert result.stderr == summary(7, 1)


def test_github_format_prints_workflow_annotations(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", revision=2))
    repo.write(f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2", date="2026-11-01"))
    result = repo.rollout("validate", "--format", "github")
    assert result.returncode == 1
    assert result.stdout == (
        f"::error file={REPORT},line=2,col=11,title=revision::"
        "arc-ce/6.19.0 has no revision 2: its current revision is 1\n"
        f"::warning file={R}/reports/praguelcg2.yaml,line=4,col=7,title=value::"
        "dated 2026-11-01, before arc-ce/6.19.0 entered rollout on 2026-11-02\n"
    )
    assert result.stderr == ""


def test_github_format_is_the_default_inside_github_actions(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", revision=2))
    inside = repo.rollout("validate", env={"GITHUB_ACTIONS": "true"})
    assert inside.stdout.startswith(f"::error file={REPORT},line=2,col=11,title=revision::")
    outside = repo.rollout("validate", env={"GITHUB_ACTIONS": "false"})
    assert outside.stdout.startswith(f"{REPORT}:2:11: [error] ")
    # An explicit choice wins over the environment.
    chosen = repo.rollout("validate", "--format", "text", env={"GITHUB_ACTIONS": "true"})
    assert chosen.stdout == outside.stdout


def test_github_annotation_escapes_what_would_end_a_property(repo: Repo) -> None:
    # A team name cannot hold ',' or ':', but a path can (the folder name is refused, then reported).
    repo.write("teams/a,b:c.yaml", "name: x\n")
    result = repo.rollout("validate", "--format", "github")
    assert result.stdout.startswith("::error file=teams/a%2Cb%3Ac.yaml,line=1,col=1,title=identifier::")


def test_json_format_shape(repo: Repo) -> None:
    repo.write(f"{R}/reports/mwt2.yaml", report_text("mwt2"))
    result = repo.rollout("validate", "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert list(document) == ["files", "problems"]
    assert document == {
        "files": 8,
        "problems": [
            {
                "path": f"{R}/reports/mwt2.yaml",
                "line": 1,
                "column": 7,
                "level": "error",
                "rule": "unassigned-team",
                "message": UNASSIGNED,
            }
        ],
    }
    assert [list(problem) for problem in document["problems"]] == [
        ["path", "line", "column", "level", "rule", "message"]
    ]
    assert result.stderr == ""


def test_json_format_of_a_valid_repository(repo: Repo) -> None:
    result = repo.rollout("validate", "--format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, {"files": 7, "problems": []})


def test_warnings_alone_exit_0(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", date="2026-11-01"))
    result = repo.rollout("validate")
    assert result.returncode == 0
    assert result.stdout == (
        f"{REPORT}:4:7: [warning] dated 2026-11-01, before arc-ce/6.19.0 entered rollout on 2026-11-02 (value)\n"
    )
    assert result.stderr == summary(7, 0, 1)


# ---------------------------------------------------------------- exit codes 2


def test_folder_without_rollout_yaml_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_rollout("validate", "--repo", str(empty), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "rollout: not a rollout repository: there is no rollout.yaml at its top\n"


def test_no_rollout_yaml_here_or_above_is_exit_2(tmp_path: Path) -> None:
    result = run_rollout("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"rollout: no rollout.yaml in {tmp_path.resolve()} or any folder above it; use --repo DIR\n"
    )


def test_nonexistent_repo_is_exit_2(tmp_path: Path) -> None:
    result = run_rollout("validate", "--repo", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"rollout: --repo {tmp_path / 'nowhere'}: no such folder\n"


def test_unknown_format_is_a_usage_error(repo: Repo) -> None:
    result = repo.rollout("validate", "--format", "xml")
    assert result.returncode == 2
    assert "Invalid value for '--format'" in result.stderr
    assert "Traceback" not in result.stderr


def test_repository_found_from_a_subfolder(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", revision=2))
    result = run_rollout("validate", cwd=repo.root / R)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{REPORT}:2:11: [error]")


# ---------------------------------------------------------------- given files, in context


def test_given_file_is_checked_in_its_repository(repo: Repo) -> None:
    repo.write(f"{R}/reports/nosuch.yaml", report_text("nosuch"))
    result = repo.rollout("validate", f"{R}/reports/nosuch.yaml")
    assert result.returncode == 1
    assert result.stdout == (
        f"{R}/reports/nosuch.yaml:1:7: [error] no team 'nosuch' under teams/ (reference)\n"
        f"{R}/reports/nosuch.yaml:1:7: [error] team 'nosuch' is not assigned to arc-ce/6.19.0;"
        " a coordinator adds it to the release's teams first (unassigned-team)\n"
    )
    assert result.stderr == summary(1, 2)


def test_only_the_given_files_are_reported(repo: Repo) -> None:
    repo.write(REPORT, report_text("ncg-ingrid-pt", revision=2))  # broken, but not given
    repo.write(f"{R}/reports/praguelcg2.yaml", report_text("praguelcg2"))
    result = repo.rollout("validate", f"{R}/reports/praguelcg2.yaml", "teams/mwt2.yaml")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", summary(2, 0))


def test_given_paths_relative_to_the_current_folder(repo: Repo) -> None:
    repo.write(f"{R}/reports/mwt2.yaml", report_text("mwt2"))
    result = run_rollout("validate", "reports/mwt2.yaml", cwd=repo.root / R)
    assert result.returncode == 1
    assert result.stdout == f"{R}/reports/mwt2.yaml:1:7: [error] {UNASSIGNED} (unassigned-team)\n"


def test_given_folder_means_the_files_in_it(repo: Repo) -> None:
    repo.write(f"{R}/reports/mwt2.yaml", report_text("mwt2"))
    repo.write("teams/mwt2.yaml", "name: MWT2\n")  # broken, but not in the folder given
    result = repo.rollout("validate", "releases/arc-ce")
    assert result.returncode == 1
    assert result.stdout == f"{R}/reports/mwt2.yaml:1:7: [error] {UNASSIGNED} (unassigned-team)\n"
    # product.yaml, release.yaml and two reports
    assert result.stderr == summary(4, 1)


def test_given_dot_means_the_whole_repository(repo: Repo) -> None:
    repo.write("teams/mwt2.yaml", "name: MWT2\n")
    whole = repo.rollout("validate")
    assert whole.returncode == 1
    assert repo.rollout("validate", ".").stdout == whole.stdout
    assert run_rollout("validate", "..", cwd=repo.root / "teams").stdout == whole.stdout


def test_given_file_that_does_not_exist(repo: Repo) -> None:
    result = repo.rollout("validate", "teams/ghost.yaml")
    assert result.returncode == 1
    assert result.stdout == "teams/ghost.yaml:1:1: [error] no such file (missing-record)\n"


def test_given_file_that_is_no_record(repo: Repo) -> None:
    repo.write("releases/arc-ce/notes.yaml", "x: 1\n")
    result = repo.rollout("validate", "releases/arc-ce/notes.yaml")
    assert result.returncode == 1
    # The same words as a full validation: what its folder holds.
    assert result.stdout == (
        "releases/arc-ce/notes.yaml:1:1: [error] no record belongs here: releases/arc-ce/ holds version folders"
        " (misplaced-file)\n"
    )
    assert repo.rollout("validate").stdout == result.stdout


def test_rollout_yml_is_named_the_same_way_in_full_and_given_validation(repo: Repo) -> None:
    repo.write("rollout.yml", "name: x\n")
    expected = "rollout.yml:1:1: [error] rollout.yml is not read; did you mean rollout.yaml? (yml-extension)\n"
    assert repo.rollout("validate").stdout == expected
    assert repo.rollout("validate", "rollout.yml").stdout == expected


def test_a_folder_problem_does_not_depend_on_what_was_looked_up_first(repo: Repo) -> None:
    repo.write("teams/MWT2.yaml", "name: MWT2\n")
    repo.write(f"{R}/notes.md", "# notes\n")
    given = ["teams/MWT2.yaml", f"{R}/notes.md"]
    fresh = validate_paths(Repository(WorkTree(repo.root)), given)
    used = Repository(WorkTree(repo.root))
    validate_repository(used)  # every folder listed and every name looked up before
    assert validate_paths(used, given) == fresh
    assert [(p.path, p.rule) for p in fresh.problems] == [
        (f"{R}/notes.md", "misplaced-file"),
        ("teams/MWT2.yaml", "identifier"),
        ("teams/MWT2.yaml", "identifier-collision"),
    ]


def test_placement_is_a_function_of_a_listing() -> None:
    entries = [
        Entry("MWT2.yaml", Kind.file),
        Entry("extra", Kind.directory),
        Entry("grif.yml", Kind.file),
        Entry("link.yaml", Kind.symlink),
        Entry("mwt2.yaml", Kind.file),
    ]
    found = placement.check("teams", entries)
    assert [(p.path, p.rule) for p in found.problems] == [
        ("teams/link.yaml", "symlink"),
        ("teams/MWT2.yaml", "identifier"),
        ("teams/extra", "misplaced-file"),
        ("teams/grif.yml", "yml-extension"),
        ("teams/MWT2.yaml", "identifier-collision"),
    ]
    assert [p.path for p in found.look_alikes] == ["teams/MWT2.yaml", "teams/mwt2.yaml"]
    assert placement.names("teams", entries) == ["mwt2"]
    assert placement.missing_records("releases/arc-ce", [Entry("6.19.0", Kind.directory)])[0].message == (
        "releases/arc-ce/ has no product.yaml"
    )
    assert placement.missing_records("releases/arc-ce", [Entry("product.yaml", Kind.symlink)]) == []


def test_given_file_outside_the_data_is_ignored(repo: Repo) -> None:
    repo.write("README.md", "# infrastructure\n")
    result = repo.rollout("validate", "README.md")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", summary(0, 0))


# ---------------------------------------------------------------- every rule, word for word

CASES: list[tuple[str, dict[str, str], tuple[str, ...], str]] = [
    (
        "release-version-path-mismatch",
        {f"{R}/release.yaml": RELEASE.replace("version: 6.19.0", 'version: "6.19.1"')},
        (),
        f"{R}/release.yaml:2:10: [error] version '6.19.1' does not match its folder '6.19.0' (path-mismatch)\n",
    ),
    (
        "report-team-path-mismatch",
        {f"{R}/reports/praguelcg2.yaml": report_text("mwt2")},
        (),
        f"{R}/reports/praguelcg2.yaml:1:7: [error] team 'mwt2' does not match the file name praguelcg2.yaml"
        " (path-mismatch)\n",
    ),
    (
        "distribution-version-path-mismatch",
        {
            "distributions/umd/4.1.0.yaml": 'version: "4.1.1"\ndate: 2026-11-20\ndescription: UMD 4.1.0\n'
            "state: draft\nreleases:\n  - {release: arc-ce/6.19.0, status: accepted}\n"
        },
        (),
        "distributions/umd/4.1.0.yaml:1:10: [error] version '4.1.1' does not match the file name 4.1.0.yaml"
        " (path-mismatch)\n"
        "distributions/umd/4.1.0.yaml:6:38: [error] arc-ce/6.19.0 is rollout, so it cannot ship as accepted"
        " (reference)\n",
    ),
    (
        "distribution-status-and-missing-release",
        {
            "distributions/umd/4.1.0.yaml": 'version: "4.1.0"\ndate: 2026-11-20\ndescription: UMD 4.1.0\n'
            "state: released\nreleases:\n  - {release: arc-ce/6.19.0, status: released}\n"
            "  - {release: arc-ce/9.9.9, status: accepted}\n"
        },
        (),
        "distributions/umd/4.1.0.yaml:6:38: [error] arc-ce/6.19.0 is rollout, so it cannot ship as released"
        " (reference)\n"
        "distributions/umd/4.1.0.yaml:7:15: [error] no release arc-ce/9.9.9 under releases/ (reference)\n",
    ),
    (
        "unassigned-team",
        {f"{R}/reports/mwt2.yaml": report_text("mwt2")},
        (),
        f"{R}/reports/mwt2.yaml:1:7: [error] {UNASSIGNED} (unassigned-team)\n",
    ),
    (
        "revision-not-existing",
        {f"{R}/reports/praguelcg2.yaml": report_text("praguelcg2", revision=2)},
        (),
        f"{R}/reports/praguelcg2.yaml:2:11: [error] arc-ce/6.19.0 has no revision 2: its current revision is 1"
        " (revision)\n",
    ),
    (
        "platform-not-shipped",
        {
            f"{R}/release.yaml": RELEASE.replace("platforms: [el8, el9]", "platforms: [el9]"),
            f"{R}/reports/praguelcg2.yaml": report_text("praguelcg2", platform="el8"),
        },
        (),
        f"{R}/reports/praguelcg2.yaml:6:15: [error] arc-ce/6.19.0 does not ship for 'el8' (it ships for el9)"
        " (reference)\n",
    ),
    (
        "arch",
        {f"{R}/reports/praguelcg2.yaml": report_text("praguelcg2", platform="el8").replace("x86_64", "aarch64")},
        (),
        f"{R}/reports/praguelcg2.yaml:7:11: [error] platform 'el8' has no arch 'aarch64' (it has x86_64) (reference)\n",
    ),
    (
        "history-starts-with-candidate",
        {f"{R}/release.yaml": RELEASE.replace("{state: candidate,", "{state: rollout,")},
        (),
        f"{R}/release.yaml:10:13: [error] history must start with the candidate state (history)\n",
    ),
    (
        "history-goes-back-in-time",
        {f"{R}/release.yaml": RELEASE.replace("date: 2026-11-02", "date: 2026-10-02")},
        (),
        f"{R}/release.yaml:11:28: [error] history goes back in time: rollout on 2026-10-02 is earlier than"
        " candidate on 2026-11-01 before it (history)\n",
    ),
    (
        "state-is-the-last-history-entry",
        {f"{R}/release.yaml": RELEASE.replace("state: rollout\n", "state: accepted\n")},
        (),
        f"{R}/release.yaml:4:8: [error] state is accepted but the last history entry says rollout (history)\n",
    ),
    (
        "rejected-needs-a-decision",
        {
            f"{R}/release.yaml": RELEASE.replace("state: rollout\n", "state: rejected\n")
            + "  - {state: rejected, date: 2026-11-20, by: carla-coord}\n"
        },
        (),
        f"{R}/release.yaml:4:8: [error] a rejected release needs a last decision with action reject and a reason"
        " (decision)\n",
    ),
    (
        "decision-reason",
        {
            f"{R}/release.yaml": RELEASE.replace("state: rollout\n", "state: rejected\n")
            + "  - {state: rejected, date: 2026-11-20, by: carla-coord}\n"
            + 'decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: "  "}]\n'
        },
        (),
        f"{R}/release.yaml:13:73: [error] a reject decision needs a reason (decision)\n",
    ),
    (
        "rollout-needs-teams",
        {f"{R}/release.yaml": RELEASE.replace("teams: [ncg-ingrid-pt, praguelcg2]\n", "")},
        (f"{R}/release.yaml",),
        f"{R}/release.yaml:2:1: [error] a release in rollout needs assigned teams (required)\n",
    ),
    (
        "team-references",
        {
            "teams/mwt2.yaml": 'name: MWT2\nsite: MWT2\nfederation: OSG\nmembers: [bob-osg, "rollout-bot[bot]"]\n'
            "groups: [arcc]\nproducts: [dcache]\nplatforms: [el99]\n"
        },
        (),
        "teams/mwt2.yaml:4:10: [error] the bot cannot be a member of a team (value)\n"
        "teams/mwt2.yaml:5:10: [error] no group 'arcc' in rollout.yaml; did you mean 'arc'? (reference)\n"
        "teams/mwt2.yaml:6:12: [error] no product 'dcache' under releases/ (reference)\n"
        "teams/mwt2.yaml:7:13: [error] no platform 'el99' in rollout.yaml; did you mean 'el9'? (reference)\n",
    ),
    (
        "product-references",
        {"releases/arc-ce/product.yaml": PRODUCT.replace("group: arc", "group: ark") + "policy: emergncy\n"},
        (),
        "releases/arc-ce/product.yaml:2:8: [error] no group 'ark' in rollout.yaml; did you mean 'arc'? (reference)\n"
        "releases/arc-ce/product.yaml:6:9: [error] no policy 'emergncy' in rollout.yaml; did you mean 'emergency'?"
        " (reference)\n",
    ),
    (
        "release-references",
        {
            f"{R}/release.yaml": RELEASE.replace("[el8, el9]", "[el8, el10]").replace(
                "[ncg-ingrid-pt, praguelcg2]", "[ncg-ingrid-pt, praguelcg]"
            )
            + 'policy: critical\nsupersedes: "6.18.0"\n'
        },
        (f"{R}/release.yaml",),
        f"{R}/release.yaml:6:18: [error] no platform 'el10' in rollout.yaml (reference)\n"
        f"{R}/release.yaml:8:24: [error] no team 'praguelcg' under teams/; did you mean 'praguelcg2'? (reference)\n"
        f"{R}/release.yaml:12:9: [error] no policy 'critical' in rollout.yaml (reference)\n"
        f"{R}/release.yaml:13:13: [error] supersedes arc-ce/6.18.0, which does not exist (reference)\n",
    ),
    (
        "release-without-product",
        {"releases/dcache/9.2.0/release.yaml": RELEASE.replace("version: 6.19.0", "version: 9.2.0")},
        (),
        "releases/dcache:1:1: [error] releases/dcache/ has no product.yaml (missing-record)\n"
        "releases/dcache/9.2.0/release.yaml:1:1: [error] no product.yaml in releases/dcache/ (reference)\n",
    ),
    (
        "report-without-release",
        {"releases/arc-ce/6.20.0/reports/praguelcg2.yaml": report_text("praguelcg2")},
        (),
        "releases/arc-ce/6.20.0:1:1: [error] releases/arc-ce/6.20.0/ has no release.yaml (missing-record)\n"
        "releases/arc-ce/6.20.0/reports/praguelcg2.yaml:1:1: [error] no release.yaml in releases/arc-ce/6.20.0/"
        " (reference)\n",
    ),
    (
        "config-references",
        {
            "rollout.yaml": CONFIG.replace("emergency: emergency", "emergency: emergncy\n  security: critical").replace(
                "[carla-coord, dmitri-coord]", '[carla-coord, "rollout-bot[bot]"]'
            )
        },
        ("rollout.yaml",),
        "rollout.yaml:4:6: [error] the bot cannot also be a coordinator (value)\n"
        "rollout.yaml:20:14: [error] type_policies: no policy named 'emergncy' in policies; did you mean"
        " 'emergency'? (reference)\n"
        "rollout.yaml:21:13: [error] type_policies: no policy named 'critical' in policies (reference)\n",
    ),
    (
        "in-production-after-the-report",
        {REPORT: report_text("ncg-ingrid-pt") + "in_production_since: 2026-11-12\n"},
        (),
        f"{REPORT}:10:22: [error] in_production_since is after the report's date (value)\n",
    ),
    # ------------------------------------------------ schema messages
    (
        "unknown-key-did-you-mean",
        {REPORT: report_text("ncg-ingrid-pt").replace("- platform:", "- platfrom:")},
        (),
        # One mistake, one problem: no "missing required key 'platform'" beside it.
        f"{REPORT}:6:5: [error] unknown key 'platfrom'; did you mean 'platform'? (unknown-key)\n",
    ),
    (
        "misspelt-required-key-at-the-top",
        {REPORT: report_text("ncg-ingrid-pt").replace("verdict:", "verdcit:")},
        (),
        f"{REPORT}:3:1: [error] unknown key 'verdcit'; did you mean 'verdict'? (unknown-key)\n",
    ),
    (
        "misspelt-key-beside-a-missing-one",
        {REPORT: report_text("ncg-ingrid-pt").replace("verdict: accept\n", "") + "coments: fine\n"},
        (),
        f"{REPORT}:1:1: [error] missing required key 'verdict' (required)\n"
        f"{REPORT}:9:1: [error] unknown key 'coments'; did you mean 'comments'? (unknown-key)\n",
    ),
    (
        "unknown-key-lists-the-allowed-ones",
        {REPORT: report_text("ncg-ingrid-pt") + "zzz: 1\n"},
        (),
        f"{REPORT}:10:1: [error] unknown key 'zzz' (allowed here: comments, date, environments, in_production_since,"
        " issues, revision, team, tests, verdict) (unknown-key)\n",
    ),
    (
        "enum-did-you-mean",
        {f"{R}/release.yaml": RELEASE.replace("state: rollout\n", "state: rolout\n")},
        (),
        f"{R}/release.yaml:4:8: [error] state: the string 'rolout' is not one of 'candidate', 'rollout', 'accepted',"
        " 'rejected', 'released', 'recalled', 'withdrawn' or 'superseded'; did you mean 'rollout'? (vocabulary)\n",
    ),
    (
        "unquoted-version-1.10",
        {REPORT: report_text("ncg-ingrid-pt").replace('"6.18.0"', "1.10")},
        (),
        f'{REPORT}:9:19: [error] from_version: expected text, got the number 1.10; write it in quotes: from_version: "1.10"'
        " (type)\n",
    ),
    (
        "key-that-is-not-text",
        {REPORT: report_text("ncg-ingrid-pt") + "~: 1\n"},
        (),
        f'{REPORT}:10:1: [error] a key must be text, not nothing (null); write it in quotes: "~" (type)\n',
    ),
    (
        "dict-keys-are-checked-where-they-are-written",
        {"rollout.yaml": CONFIG.replace("policies:\n  emergency:", "policies:\n  Emergency:", 1)},
        (),
        "rollout.yaml:18:3: [error] policies key: 'Emergency' is not an identifier: lower-case ASCII letters,"
        " digits, '.', '_' and '-', starting with a letter or digit (format)\n",
    ),
    (
        "missing-required-key",
        {REPORT: report_text("ncg-ingrid-pt").replace("verdict: accept\n", "")},
        (),
        f"{REPORT}:1:1: [error] missing required key 'verdict' (required)\n",
    ),
    (
        "date-that-does-not-exist",
        {REPORT: report_text("ncg-ingrid-pt", date="2026-02-30")},
        (),
        f"{REPORT}:4:7: [error] date: 2026-02-30 is not a date that exists (day is out of range for month) (value)\n",
    ),
]


@pytest.mark.parametrize(("files", "args", "expected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_rule(repo: Repo, files: dict[str, str], args: tuple[str, ...], expected: str) -> None:
    for path, text in files.items():
        repo.write(path, text)
    result = repo.rollout("validate", *args)
    assert result.returncode == 1
    assert result.stdout == expected
    assert "Traceback" not in result.stderr


def test_every_rule_a_case_reports_is_in_the_catalogue() -> None:
    # The catalogue's own examples make each of its rules report (tests/test_catalogue.py).
    catalogued = set(catalogue.BY_ID)
    assert {"path-mismatch", "reference", "unassigned-team", "revision", "history", "decision"} <= catalogued
    covered = {line.rsplit("(", 1)[1].rstrip(")") for case in CASES for line in case[3].splitlines()}
    assert covered <= catalogued, f"rules missing from the catalogue: {sorted(covered - catalogued)}"


# ---------------------------------------------------------------- the synthetic repository


def test_synthetic_repository_is_valid(tmp_path: Path) -> None:
    # benchmarks/ measure on it: it must hold no problem, or they measure error paths.
    generate(tmp_path / "synthetic", releases=60, reports=300, seed=7)
    result = run_rollout("validate", "--format", "json", cwd=tmp_path / "synthetic")
    document = json.loads(result.stdout)
    assert (result.returncode, document["problems"]) == (0, [])
    reports = list((tmp_path / "synthetic" / "releases").glob("*/*/reports/*.yaml"))
    assert len(reports) == 300
    assert len(list((tmp_path / "synthetic" / "releases").glob("*/*/release.yaml"))) == 60
    assert document["files"] == 1 + 200 + 3 + 60 + 300 + len(list((tmp_path / "synthetic").glob("distributions/*/*")))


def test_a_line_break_in_a_file_name_cannot_forge_a_problem_line(repo: Repo) -> None:
    repo.write("teams/x\nrollout.yaml:1:1: [error] forged (rule).yaml", "name: x\n")
    result = repo.rollout("validate")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("teams/x\\nrollout.yaml:1:1: [error] forged (rule).yaml:1:1: [error] ")


def test_rev_validates_a_commit_and_its_given_files(repo: Repo) -> None:
    path = "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
    repo.write(path, "verdcit: accept\n" + (repo.root / path).read_text())
    bad = repo.commit("a typo")
    repo.write(path, report_text("ncg-ingrid-pt"))  # fixed in the work tree only
    assert repo.rollout("validate").returncode == 0
    whole = repo.rollout("validate", "--rev", bad, "--format", "json")
    assert whole.returncode == 1
    assert [(p["path"], p["line"], p["rule"]) for p in json.loads(whole.stdout)["problems"]] == [
        (path, 1, "unknown-key")
    ]
    given = repo.rollout("validate", "--rev", bad, "--format", "json", path)
    assert json.loads(given.stdout)["files"] == 1
    assert repo.rollout("validate", "--rev", "HEAD~1").returncode == 0


def test_a_full_validation_holds_one_releases_records_at_a_time(tmp_path: Path) -> None:
    generate(tmp_path / "synthetic", releases=60, reports=300, seed=7)
    repo = Repository(WorkTree(tmp_path / "synthetic"))
    held: list[int] = []
    distributions: list[str] = []
    original = repo.document

    def document(path: str):  # type: ignore[no-untyped-def]
        found = original(path)
        if path.startswith("distributions/"):
            distributions.append(path)
        elif not distributions:  # the distributions, read last, read the releases they ship again
            held.append(sum(1 for doc in repo.documents() if doc.kind in ("release", "report", "result", "waiver")))
        return found

    repo.document = document  # type: ignore[method-assign]
    result = validate_repository(repo)
    assert result.problems == []
    assert len(held) > 300 and max(held) <= 3  # a release, the record of it just read, one it supersedes


def _listings_held(root: Path, cache: Path | None) -> list[int]:
    """How many release folders' listings a full validation holds at each listing it makes."""
    repo = Repository(WorkTree(root))
    if cache is not None:
        repo.cache = DocumentCache(cache)
    held: list[int] = []
    distributions: list[str] = []
    original, read = repo.source.listdir, repo.document

    def listdir(path: str) -> list[Entry]:
        if not distributions:  # the distributions, read last, list the releases they ship again
            held.append(sum(1 for folder in repo._listings if folder.count("/") >= 2))
        return original(path)

    def document(path: str):  # type: ignore[no-untyped-def]
        if path.startswith("distributions/"):
            distributions.append(path)
        return read(path)

    repo.source.listdir = listdir  # type: ignore[method-assign]
    repo.document = document  # type: ignore[method-assign]
    assert validate_repository(repo).problems == []
    if repo.cache is not None:
        repo.cache.save()
    return held


@pytest.mark.parametrize("cached", [False, True])
def test_a_full_validation_holds_the_listings_of_one_release_folder_at_a_time(
    tmp_path: Path, cached: bool, rollout_cache: Path
) -> None:
    """A listing of each of 10,000 release folders (their files' names and kinds) is some 40 MB."""
    generate(tmp_path / "synthetic", releases=60, reports=300, seed=7)
    for run in range(2 if cached else 1):  # cold, then warm: the kept problems are checked folder by folder
        held = _listings_held(tmp_path / "synthetic", rollout_cache if cached else None)
        assert len(held) > 100 and max(held) <= 12, run  # a release's four folders, and those of one it supersedes

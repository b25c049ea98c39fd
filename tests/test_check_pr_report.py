"""check-pr's one result, as the pull-request comment (markdown) and as JSON for the workflows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.lifecycle import PRAGUE_REPORT
from tests.support.repos import Repo, report_text


def markdown(repo: Repo, base: str, author: str) -> tuple[int, str]:
    result = repo.rollout(
        "check-pr", "--base", base, "--author", author, "--format", "markdown", "--today", "2026-11-20"
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout


def test_the_comment_says_the_verdict_the_change_and_the_release_it_leads_to(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    assert markdown(repo, base, "jan-cz") == (
        0,
        "### Rollout check: allowed ✅\n"
        "\n"
        "**What this pull request does**\n"
        "\n"
        "- new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1\n"
        "\n"
        "**arc-ce/6.19.0** with this change: rollout, verdict **ready** (policy default)\n",
    )
    assert markdown(repo, base, "ana-pt") == (
        1,
        "### Rollout check: refused ❌\n"
        "\n"
        "**What this pull request does**\n"
        "\n"
        "- new report by team `praguelcg2` on arc-ce/6.19.0: accept on revision 1\n"
        "\n"
        "**Why it cannot be merged as it is**\n"
        "\n"
        "- releases/arc-ce/6.19.0/reports/praguelcg2.yaml:1 only members of team `praguelcg2`"
        " (or coordinators) may write its reports; ana-pt is not a member of `praguelcg2` at the base revision"
        " (unauthorized)\n",
    )


def test_the_comment_lists_the_reasons_of_a_waiting_release_and_json_its_labels(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el9", verdict="reject"))
    repo.commit("prague rejects")
    code, body = markdown(repo, base, "eva-cz")
    assert code == 0
    assert body.endswith(
        "**arc-ce/6.19.0** with this change: rollout, verdict **blocked** (policy default)\n"
        "- team `praguelcg2` rejects revision 1: a coordinator must decide"
        " (reject the release, or accept it with a reason)\n"
        "- needs 1 more accepting report\n"
        "- none yet on el8\n"
    )
    result = repo.rollout("check-pr", "--base", base, "--author", "eva-cz", "--format", "json", "--today", "2026-11-20")
    payload = json.loads(result.stdout)
    assert payload["labels"] == ["rollout: allowed", "verdict: blocked"]
    assert [r["verdict"] for r in payload["releases"]] == ["blocked"]


def test_file_names_in_the_comment_cannot_forge_links_or_images(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("docs/[x](https:/evil)![i](https:/e.png)<b>.md", "hi\n")
    repo.commit("a crafted name")
    code, body = markdown(repo, base, "jan-cz")
    assert code == 1
    assert "](" not in body.replace("\\](", "")
    assert "<b>" not in body


def test_validate_and_status_print_through_the_same_reporters(repo: Repo) -> None:
    status = repo.rollout("status", "--format", "json", "--today", "2026-11-20")
    assert json.loads(status.stdout)["releases"][0]["verdict"] == "waiting"
    validate = repo.rollout("validate", "--format", "json")
    assert json.loads(validate.stdout) == {"files": 7, "problems": []}


def test_advance_and_codeowners_print_json_too(repo: Repo) -> None:
    advance = repo.rollout("advance", "--dry-run", "--today", "2026-11-20", "--format", "json")
    assert advance.returncode == 0
    assert json.loads(advance.stdout) == {"dry_run": True, "steps": [], "skipped": []}
    stale = repo.rollout("codeowners", "--check", "--format", "json")
    assert (stale.returncode, json.loads(stale.stdout)) == (1, {"path": ".github/CODEOWNERS", "stale": True})
    text = repo.rollout("codeowners", "--check")
    assert (text.returncode, text.stdout) == (1, "")
    assert text.stderr == ".github/CODEOWNERS: stale; run `rollout codeowners` and commit the result\n"
    wrote = repo.rollout("codeowners", "--format", "json")
    assert json.loads(wrote.stdout) == {"path": ".github/CODEOWNERS", "changed": True}
    fresh = repo.rollout("codeowners", "--check")
    assert (fresh.returncode, fresh.stdout) == (0, ".github/CODEOWNERS is up to date\n")


def test_one_judgement_writes_the_comment_and_the_json_of_the_same_result(repo: Repo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(PRAGUE_REPORT, report_text("praguelcg2", platform="el8"))
    repo.commit("prague reports")
    data, comment = tmp_path / "check.json", tmp_path / "comment.md"
    both = repo.rollout(
        "check-pr",
        "--base",
        base,
        "--author",
        "ana-pt",
        "--today",
        "2026-11-20",
        "--format",
        "github",
        "--also",
        f"json={data}",
        "--also",
        f"markdown={comment}",
    )
    assert both.returncode == 1
    assert "::error file=releases/arc-ce/6.19.0/reports/praguelcg2.yaml" in both.stdout
    assert comment.read_text(encoding="utf-8") == markdown(repo, base, "ana-pt")[1]
    assert json.loads(data.read_text(encoding="utf-8"))["labels"] == ["rollout: refused"]


def test_a_wrong_or_unwritable_also_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    (tmp_path / "a-file").write_text("")
    for given in ("json", "yaml=x.yaml", f"json={tmp_path / 'a-file' / 'check.json'}"):
        result = repo.rollout("check-pr", "--base", base, "--author", "ana-pt", "--also", given)
        assert result.returncode == 2, (given, result.stdout, result.stderr)
        assert f"--also {given}" in result.stderr

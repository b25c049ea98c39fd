"""Release notes: the content of the notes, checked against the records they come from."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rollout_tool import notes, templating
from rollout_tool.cli import main
from rollout_tool.repository import Repository
from rollout_tool.sources import GitRevision, WorkTree
from tests.support.publishing import HOSTILE, build_rich_repo
from tests.support.repos import Repo

TODAY = dt.date(2026, 11, 25)
OWN = Path(__file__).resolve().parent.parent


@pytest.fixture
def rich(tmp_path: Path) -> Repo:
    return build_rich_repo(tmp_path / "rich")


def _published_issues(repo: Repository, product: str, version: str) -> list[tuple[str, str, str | None]]:
    """(team, summary, workaround) of every issue marked for publication, straight from the report files."""
    found = []
    for team, report in repo.reports(product, version).items():
        for issue in report.issues:
            if issue.known_issue:
                found.append((team, issue.summary, issue.workaround))
    return found


def _section(text: str, heading: str) -> str:
    """The body of one `## heading` section of a Markdown document."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {heading!r} in:\n{text}"
    return match.group(1)


def test_every_known_issue_and_workaround_appears_with_the_site_that_found_it(rich: Repo) -> None:
    repo = Repository(WorkTree(rich.root))
    for product, version, _ in repo.releases():
        text = notes.release_notes(repo, product, version, TODAY)
        known = _section(text, "Known issues")
        issues = _published_issues(repo, product, version)
        for team, summary, workaround in issues:
            assert f"## {templating.md_inline(summary)}\n" in known
            site = repo.team(team)
            assert site is not None
            assert f"found by {site.site} (`{team}`)" in known
            if workaround:
                assert f"**Workaround:** {templating.md_block(workaround)}" in known
        assert known.count("\n### ") == len(issues)
        if not issues:
            assert known.strip() == "None reported."


def test_issues_not_marked_known_stay_out_of_the_notes(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "arc-ce", "6.18.0", TODAY)
    assert "A-REX restarts lose the job queue" in text
    assert "A private cosmetic glitch" not in text
    assert "Ticket: <https://ggus.example.org/ticket/1234>" in text


def test_an_override_is_stated_with_the_reason_and_the_rejecting_team(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "storm", "1.11.22", TODAY)
    decision = _section(text, "Decision")
    assert decision.strip() == (
        "Accepted by @dmitri-coord on 2026-10-12: the rejecting site runs an unsupported gridftp setup\n\n"
        "**Override:** accepted despite a rejecting report from mwt2."
    )


def test_a_rejection_is_stated_with_its_reason(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "arc-ce", "6.17.0", TODAY)
    assert _section(text, "Decision").strip() == "Rejected by @carla-coord on 2026-07-15: jobs are lost on upgrade"
    assert "| rejected since 2026-07-15 |" in text
    assert "Override" not in text


def test_an_accept_without_a_rejecting_report_is_no_override(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "arc-ce", "6.18.0", TODAY)
    assert "Override" not in text
    assert "Accepted by @carla-coord on 2026-09-20: quorum and platforms covered" in text


def test_stale_reports_are_marked_and_do_not_cover_a_platform(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "storm", "1.11.22", TODAY)
    coverage = _section(text, "Early Adopter coverage")
    assert "| `ncg-ingrid-pt` | NCG-INGRID-PT | EGI | accept (stale) |" in coverage
    assert (
        "| `ncg-ingrid-pt` | el9/x86_64 | upgrade from 1.0 | ATLAS, CMS | 1 (stale) | accept | 2026-10-05 |" in coverage
    )
    assert "1 report tested an older revision and no longer counts (marked stale)." in coverage
    # Its known issue is still published, marked as found on the older revision.
    assert "on revision 1 (stale: the release is now at revision 2)" in text


def test_coverage_shows_teams_by_platforms_and_what_is_missing(repo: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", TODAY)
    coverage = _section(text, "Early Adopter coverage")
    assert "| Team | Site | Federation | el8 | el9 |" in coverage
    assert "| `ncg-ingrid-pt` | NCG-INGRID-PT | EGI |  | accept |" in coverage
    assert "| `praguelcg2` | praguelcg2 | EGI | not reported |  |" in coverage
    assert "No current accepting report on: el8." in coverage


def test_a_release_in_rollout_states_the_policy_verdict_and_reasons(repo: Repo) -> None:
    from rollout_tool import policy

    repository = Repository(WorkTree(repo.root))
    evaluation = policy.evaluate(repository, "arc-ce", "6.19.0", TODAY)
    status = _section(notes.release_notes(repository, "arc-ce", "6.19.0", TODAY), "Status")
    assert status.startswith(f"\nVerdict: **{evaluation.verdict.value}**\n\n")
    assert [line[2:] for line in status.splitlines() if line.startswith("- ")] == evaluation.reasons
    assert evaluation.reasons  # one report of the two needed: there is something to say


def test_user_text_cannot_break_the_markdown(rich: Repo) -> None:
    text = notes.release_notes(Repository(WorkTree(rich.root)), "storm", "1.11.22", TODAY)
    assert "<script" not in text  # only as &lt;script
    assert "### &lt;script&gt;alert('x')&lt;/script&gt; \\| \\*bold\\* \\[link\\](javascript:alert(1))\n" in text
    # Free text too: its HTML and Markdown show as written.
    assert "**Workaround:** &lt;script&gt;alert('x')&lt;/script&gt; \\| \\*bold\\*" in text
    assert HOSTILE not in text


def test_distribution_notes_combine_the_shipped_releases(rich: Repo) -> None:
    repo = Repository(WorkTree(rich.root))
    text = notes.distribution_notes(repo, "umd", "4.1.0", TODAY)
    assert text.startswith("# umd 4.1.0\n\nUMD 4.1.0 ships the autumn updates.\n")
    shipped = _section(text, "Releases shipped")
    assert "| ARC CE 6.18.0 | released | ARC CE 6.18.0, a maintenance release | 1 |" in shipped
    assert "| StoRM 1.11.22 | released | StoRM 1.11.22 security update | 2 |" in shipped
    known = _section(text, "Known issues")
    for product, version in (("arc-ce", "6.18.0"), ("storm", "1.11.22")):
        for _, summary, _ in _published_issues(repo, product, version):
            assert templating.md_inline(summary) in known
    assert "## ARC CE 6.18.0\n" in text and "## StoRM 1.11.22\n" in text
    assert "### Known issues" in text  # each release's own notes, one level down
    assert "**Override:** accepted despite a rejecting report from mwt2." in text


def test_the_notes_of_a_git_revision_read_that_revision(rich: Repo) -> None:
    before = rich.git("rev-parse", "HEAD")
    rich.write(
        "releases/arc-ce/6.18.0/release.yaml",
        (rich.root / "releases/arc-ce/6.18.0/release.yaml")
        .read_text()
        .replace("a maintenance release", "a changed summary"),
    )
    rich.commit("change the summary")
    old = notes.release_notes(Repository(GitRevision(rich.root, before)), "arc-ce", "6.18.0", TODAY)
    new = notes.release_notes(Repository(WorkTree(rich.root)), "arc-ce", "6.18.0", TODAY)
    assert "ARC CE 6.18.0, a maintenance release" in old
    assert "ARC CE 6.18.0, a changed summary" in new


def test_rev_prints_and_writes_the_notes_of_that_commit(rich: Repo, tmp_path: Path) -> None:
    before = rich.git("rev-parse", "HEAD")
    path = "releases/arc-ce/6.18.0/release.yaml"
    rich.write(path, (rich.root / path).read_text().replace("a maintenance release", "a changed summary"))
    rich.commit("change the summary")
    rich.write(path, "not: [a release\n")  # the work tree is not read
    runner = CliRunner()
    common = ["--repo", str(rich.root), "--today", "2026-11-25"]
    old = runner.invoke(main, ["notes", "arc-ce/6.18.0", "--rev", before, *common])
    new = runner.invoke(main, ["notes", "arc-ce/6.18.0", "--rev", "HEAD", *common])
    assert (old.exit_code, new.exit_code) == (0, 0), old.output + new.output
    assert "ARC CE 6.18.0, a maintenance release" in old.output
    assert "ARC CE 6.18.0, a changed summary" in new.output
    every = runner.invoke(main, ["notes", "--all", "--out", str(tmp_path / "all"), "--rev", before, *common])
    assert every.exit_code == 0, every.output
    assert (tmp_path / "all/releases/arc-ce/6.18.0.md").read_text() == old.output
    wrong = runner.invoke(main, ["notes", "arc-ce/6.18.0", "--rev", "no-such-commit", *common])
    assert wrong.exit_code == 2
    assert wrong.output == f"rollout: --rev no-such-commit: not a commit of the git repository at {rich.root}\n"


def test_a_repository_template_overrides_the_shipped_one(rich: Repo) -> None:
    rich.write("templates/release.md.j2", "{{ r.name }}: {{ r.known_issues | length }} known issues\n")
    result = rich.rollout("notes", "storm/1.11.22", "--today", "2026-11-25")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "StoRM 1.11.22: 2 known issues\n"
    # The shared part still comes from the package for the templates left alone.
    result = rich.rollout("notes", "--distribution", "umd/4.1.0", "--today", "2026-11-25")
    assert "## StoRM 1.11.22" in result.stdout


def test_the_command_prints_the_same_bytes_twice(rich: Repo) -> None:
    first = rich.rollout("notes", "storm/1.11.22", "--today", "2026-11-25")
    second = rich.rollout("notes", "storm/1.11.22", env={"ROLLOUT_TODAY": "2026-11-25"})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout == notes.release_notes(Repository(WorkTree(rich.root)), "storm", "1.11.22", TODAY)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_all_notes_are_written_once_per_release_and_identical_across_runs(rich: Repo, tmp_path: Path) -> None:
    for out in ("one", "two"):
        result = rich.rollout("notes", "--all", "--out", str(tmp_path / out), "--today", "2026-11-25")
        assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote notes of 4 releases and 1 distribution releases to " + str(tmp_path / "two") + "\n"
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one == two
    repo = Repository(WorkTree(rich.root))
    expected = {f"releases/{p}/{v}.md" for p, v, _ in repo.releases()} | {"distributions/umd/4.1.0.md"}
    assert set(one) == expected | {".rollout-notes.json"}  # and what the next run needs to leave them alone
    assert one["releases/arc-ce/6.17.0.md"].decode() == notes.release_notes(repo, "arc-ce", "6.17.0", TODAY)


def test_all_removes_notes_of_releases_that_are_gone_and_nothing_else(rich: Repo, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    assert rich.rollout("notes", "--all", "--out", str(out), "--today", "2026-11-25").returncode == 0
    (out / "README.md").write_text("kept: not a note\n")
    (out / "releases/arc-ce/keep.txt").write_text("kept: not a note\n")
    (out / "releases/gone").mkdir()
    (out / "releases/gone/1.0.md").write_text("a release since removed\n")
    result = rich.rollout("notes", "--all", "--out", str(out), "--today", "2026-11-25")
    assert result.returncode == 0, result.stderr
    assert not (out / "releases/gone").exists()
    assert (out / "README.md").read_text() == "kept: not a note\n"
    assert (out / "releases/arc-ce/keep.txt").is_file()
    assert (out / "releases/arc-ce/6.17.0.md").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arc-ce"], "name a release as PRODUCT/VERSION"),
        (["arc-ce/9.9.9"], "no valid release arc-ce/9.9.9"),
        (["--distribution", "umd/9"], "no valid distribution release umd/9"),
        ([], "name a release as PRODUCT/VERSION, or use --all --out DIR"),
        (["--all"], "--all writes every release's notes to --out DIR"),
        (["arc-ce/6.19.0", "--today", "2026-13-01"], "'2026-13-01' is not a date"),
    ],
)
def test_bad_arguments_are_usage_errors_without_a_traceback(repo: Repo, args: list[str], message: str) -> None:
    result = repo.rollout("notes", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_release_is_refused_with_a_pointer_to_validate(repo: Repo) -> None:
    repo.write("releases/arc-ce/6.19.0/release.yaml", "version: [\n")
    result = repo.rollout("notes", "arc-ce/6.19.0")
    assert result.returncode == 2
    assert result.stderr == "rollout: no valid release arc-ce/6.19.0: run `rollout validate` to see why\n"


@pytest.mark.skipif(not (OWN / "releases").is_dir(), reason="the repository's own data set is not there")
def test_the_repositorys_own_data_renders_every_published_known_issue() -> None:
    repo = Repository(WorkTree(OWN))
    rendered = 0
    for product, version, release in repo.releases():
        text = notes.release_notes(repo, product, version, TODAY)
        assert text == notes.release_notes(Repository(WorkTree(OWN)), product, version, TODAY)
        for _team, summary, workaround in _published_issues(repo, product, version):
            assert templating.md_inline(summary) in text, f"{product}/{version}: {summary}"
            if workaround:
                assert templating.md_block(workaround) in text
        decision = release.decision
        if decision is not None:
            assert f"by @{decision.by} on {decision.date}" in text
            if decision.reason:
                assert templating.md_inline(decision.reason) in text
            rejecting = [
                t
                for t, r in repo.reports(product, version).items()
                if r.verdict.value == "reject" and r.revision == release.revision
            ]
            if decision.action == "accept" and rejecting:
                assert f"**Override:** accepted despite a rejecting report from {', '.join(sorted(rejecting))}." in text
        rendered += 1
    assert rendered == sum(1 for _ in Repository(WorkTree(OWN)).releases()) > 0
    for distribution in repo.distribution_ids():
        for version in repo.distribution_versions(distribution):
            if repo.distribution(distribution, version) is not None:
                assert notes.distribution_notes(repo, distribution, version, TODAY).startswith(
                    f"# {distribution} {version}\n"
                )


def test_markdown_escaping_is_exact() -> None:
    assert templating.md_inline("a | b\n*c*") == "a \\| b \\*c\\*"
    assert (
        templating.md_block("see <https://x.org/a>\n<b>bold</b>  \n")
        == "see <https://x.org/a>\n&lt;b&gt;bold&lt;/b&gt;"
    )
    assert templating.past("withdraw") == "withdrawn"


def test_free_text_becomes_escaped_html_paragraphs_lists_code_and_links() -> None:
    html = templating.prose("Run `arcctl <x>` now,\nthen see https://x.org/a?b=1&c=2.\n\n- one <b>\n- two")
    assert str(html) == (
        '<p class="prose">Run <code>arcctl &lt;x&gt;</code> now, then see '
        '<a href="https://x.org/a?b=1&amp;c=2">https://x.org/a?b=1&amp;c=2</a>.</p>'
        "<ul><li>one &lt;b&gt;</li><li>two</li></ul>"
    )
    # A quote ends an address: it can never open an attribute of its own.
    assert str(templating.prose('"https://e.org" onclick=x')) == (
        '<p class="prose">&#34;<a href="https://e.org">https://e.org</a>&#34; onclick=x</p>'
    )
    assert str(templating.prose("javascript:alert(1)")) == '<p class="prose">javascript:alert(1)</p>'


def test_a_recall_after_an_override_keeps_both_decisions_in_the_notes(rich: Repo) -> None:
    path = rich.root / "releases/storm/1.11.22/release.yaml"
    text = path.read_text().replace("state: released\n", "state: recalled\n")
    text = text.replace(
        "  - {state: released, date: 2026-10-13, by: dmitri-coord}\n",
        "  - {state: released, date: 2026-10-13, by: dmitri-coord}\n"
        "  - {state: recalled, date: 2026-10-20, by: carla-coord}\n",
    )
    text += "  - {action: recall, by: carla-coord, date: 2026-10-20, reason: transfers hang after a day}\n"
    path.write_text(text)
    repo = Repository(WorkTree(rich.root))
    decisions = _section(notes.release_notes(repo, "storm", "1.11.22", TODAY), "Decisions")
    assert decisions.strip() == (
        "Accepted by @dmitri-coord on 2026-10-12: the rejecting site runs an unsupported gridftp setup\n\n"
        "Recalled by @carla-coord on 2026-10-20: transfers hang after a day\n\n"
        "**Override:** accepted despite a rejecting report from mwt2."
    )

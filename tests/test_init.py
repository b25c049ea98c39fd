"""`rollout init`: a new infrastructure's repository validates, and its first release goes all the way."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from test_workflows import actionlint, zizmor

from tests.support.repos import Repo, run_rollout

PROJECT = Path(__file__).resolve().parent.parent

COORDINATOR = "carla-coord"
BOT = "infra-bot"


def init(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_rollout(
        "init", str(root), "--name", "Test grid rollout", "--coordinator", COORDINATOR, "--bot", BOT, *extra,
        cwd=root.parent,
    )  # fmt: skip


@pytest.fixture
def new_repo(tmp_path: Path) -> Repo:
    root = tmp_path / "grid"
    result = init(root, "--platform", "el9", "--group", "storage")
    assert result.returncode == 0, result.stderr
    repo = Repo(root)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    repo.git("config", "user.email", "tests@example.org")
    repo.git("config", "user.name", "tests")
    repo.commit("rollout init")
    return repo


def test_the_new_repository_validates_and_has_what_it_needs(new_repo: Repo) -> None:
    root = new_repo.root
    checked = new_repo.rollout("validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((root / "rollout.yaml").read_text())
    assert config["coordinators"] == [COORDINATOR] and config["bot"] == BOT
    assert list(config["platforms"]) == ["el9"] and list(config["groups"]) == ["storage"]
    assert new_repo.rollout("schema", "--check").returncode == 0
    assert new_repo.rollout("codeowners", "--check").returncode == 0
    assert (root / "README.md").read_text().startswith("# Test grid rollout\n")
    assert sorted(p.name for p in (root / ".github/workflows").iterdir()) == [p.name for p in OUR_WORKFLOWS]
    assert not (root / "rollout_tool").exists()
    # The empty folders are in git, so a clone has them and validates too.
    tracked = new_repo.git("ls-files", "teams", "releases", "distributions").splitlines()
    assert tracked == ["distributions/.gitkeep", "releases/.gitkeep", "teams/.gitkeep"]


def test_the_workflows_install_the_pinned_package_and_pass_the_linters(new_repo: Repo) -> None:
    workflows = new_repo.root / ".github/workflows"
    version = metadata.version("rollout-as-code")
    for path in workflows.glob("*.yml"):
        text = path.read_text()
        assert "@ROLLOUT_VERSION@" not in text
        assert "pip install --quiet ." not in text, path.name  # never a vendored copy of the tool
        installs = [line.strip() for line in text.splitlines() if "pip install" in line]
        assert all(
            line == f'run: python -m pip install --quiet "rollout-as-code=={version}"'
            or line == f'python -m pip install --quiet "rollout-as-code=={version}"'
            for line in installs
        ), path.name
    # Every workflow that runs the tool installs it (the merge queue's only names its group).
    for name in ("pull-request.yml", "pull-request-comment.yml", "rollout.yml", "ea-report.yml", "digest.yml"):
        assert f'pip install --quiet "rollout-as-code=={version}"' in (workflows / name).read_text(), name
    linted = actionlint(workflows)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = zizmor(workflows)
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_init_never_overwrites_a_repository(new_repo: Repo) -> None:
    before = (new_repo.root / "rollout.yaml").read_bytes()
    again = init(new_repo.root, "--platform", "el8")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert (new_repo.root / "rollout.yaml").read_bytes() == before


def test_bad_options_write_nothing(tmp_path: Path) -> None:
    result = init(tmp_path / "bad", "--platform", "EL9")
    assert result.returncode == 1
    assert "'EL9' is not an identifier" in result.stdout
    assert not (tmp_path / "bad").exists()


def change(repo: Repo, author: str, message: str, today: str, edit: Callable[[], None]) -> str:
    """A pull request: a branch off main with the edit, checked by check-pr, then merged."""
    repo.git("checkout", "-q", "-b", "change", "main")
    edit()
    repo.commit(message)
    checked = repo.rollout("check-pr", "--base", "main", "--head", "change", "--author", author, "--today", today)
    repo.git("checkout", "-q", "main")
    assert checked.returncode == 0, f"{message}: {checked.stdout}{checked.stderr}"
    repo.git("merge", "-q", "--ff-only", "change")
    repo.git("branch", "-q", "-d", "change")
    return checked.stdout


def release_text(state: str, history: list[tuple[str, str, str]]) -> str:
    entries = "".join(f"  - {{state: {s}, date: {d}, by: {b}}}\n" for s, d, b in history)
    teams = "teams: [site-a, site-b]\n" if state != "candidate" else ""
    return (
        f'version: "1.0.0"\ntype: minor\nstate: {state}\nrevision: 1\nplatforms: [el9]\n'
        f"summary: The first release of the storage tool\n{teams}history:\n{entries}"
    )


def run(repo: Repo, *args: str) -> None:
    result = repo.rollout(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def coordinator_step(repo: Repo, state: str, today: str, *, teams: str = "") -> Callable[[], None]:
    """What a coordinator writes by hand: the new state, and its history entry at the end."""

    def edit() -> None:
        path = repo.root / "releases/tool/1.0.0/release.yaml"
        text = re.sub(r"(?m)^state: \w+$", f"state: {state}", path.read_text())
        text = text.replace("history:\n", f"{teams}history:\n")
        path.write_text(text + f"  - state: {state}\n    date: {today}\n    by: {COORDINATOR}\n")

    return edit


def test_a_first_release_goes_from_candidate_to_released(new_repo: Repo) -> None:
    repo = new_repo
    team = "name: Site {0}\nsite: SITE-{0}\nfederation: GRID\nmembers: [{1}]\nplatforms: [el9]\ngroups: [storage]\n"

    def setup() -> None:
        repo.write("teams/site-a.yaml", team.format("A", "ana-site"))
        repo.write("teams/site-b.yaml", team.format("B", "ben-site"))
        repo.write(
            "releases/tool/product.yaml",
            "name: Storage tool\ngroup: storage\nprovider: Tool team\ndescription: Stores things.\n"
            "maintainers: [nina-maint]\n",
        )

    change(repo, COORDINATOR, "teams and a product", "2026-11-01", setup)
    candidate = (
        "new", "release", "tool/1.0.0", "--type", "minor", "--platform", "el9",
        "--summary", "The first release of the storage tool", "--by", "nina-maint", "--today", "2026-11-01",
    )  # fmt: skip
    said = change(repo, "nina-maint", "a release candidate", "2026-11-01", lambda: run(repo, *candidate))
    assert "tool/1.0.0" in said
    start = coordinator_step(repo, "rollout", "2026-11-02", teams="teams:\n  - site-a\n  - site-b\n")
    change(repo, COORDINATOR, "start the rollout", "2026-11-02", start)
    for login, site in (("ana-site", "site-a"), ("ben-site", "site-b")):
        report = (
            "new", "report", "tool/1.0.0", "--team", site, "--verdict", "accept", "--platform", "el9",
            "--install", "fresh", "--today", "2026-11-09",
        )  # fmt: skip
        change(repo, login, f"report of {site}", "2026-11-09", lambda report=report: run(repo, *report))
    change(repo, COORDINATOR, "accept", "2026-11-10", coordinator_step(repo, "accepted", "2026-11-10"))
    change(repo, COORDINATOR, "release", "2026-11-11", coordinator_step(repo, "released", "2026-11-11"))
    assert repo.rollout("validate").returncode == 0
    notes = repo.rollout("notes", "tool/1.0.0", "--today", "2026-11-11")
    assert notes.returncode == 0, notes.stderr
    assert "The first release of the storage tool" in notes.stdout
    assert "| State | released since 2026-11-11 |" in notes.stdout
    assert "`site-a`" in notes.stdout and "`site-b`" in notes.stdout
    assert "- 2026-11-01: candidate by @nina-maint" in notes.stdout


def test_a_candidate_from_someone_else_is_refused(new_repo: Repo) -> None:
    # The acceptance story above would pass with a check that allows everything: this one cannot.
    repo = new_repo
    repo.write("teams/site-a.yaml", "name: A\nsite: A\nfederation: GRID\nmembers: [ana-site]\nplatforms: [el9]\n")
    repo.write(
        "releases/tool/product.yaml", "name: T\ngroup: storage\nprovider: P\ndescription: D\nmaintainers: [nina]\n"
    )
    repo.commit("setup")
    repo.git("checkout", "-q", "-b", "change")
    repo.write("releases/tool/1.0.0/release.yaml", release_text("candidate", [("candidate", "2026-11-01", "mallory")]))
    repo.commit("candidate by a stranger")
    checked = repo.rollout(
        "check-pr", "--base", "main", "--head", "change", "--author", "mallory", "--today", "2026-11-01"
    )
    assert checked.returncode == 1, checked.stdout


PINNED = '"rollout-as-code==@ROLLOUT_VERSION@"'
# This repository's workflows install the tool from its checkout (the pull request's
# advice run, from its base's tip); a new repository's install the package, pinned.
BASE_TIP_INSTALL = (
    '          git worktree add --detach "$RUNNER_TEMP/base" "$tip"\n'
    '          python -m pip install --quiet "$RUNNER_TEMP/base"\n'
)


def shipped_workflow(ours: str) -> str:
    """The workflow `rollout init` writes: this repository's own, installing the pinned package."""
    shipped = ours.replace(BASE_TIP_INSTALL, f"          python -m pip install --quiet {PINNED}\n")
    return shipped.replace("pip install --quiet .\n", f"pip install --quiet {PINNED}\n")


OUR_WORKFLOWS = sorted(p for p in (PROJECT / ".github/workflows").glob("*.yml") if p.name != "ci.yml")


@pytest.mark.parametrize("ours", OUR_WORKFLOWS, ids=lambda p: p.name)
def test_a_new_repository_gets_this_repositorys_workflow_with_the_pinned_package(ours: Path) -> None:
    shipped = PROJECT / "rollout_tool/templates/init/workflows" / ours.name
    assert shipped.read_text() == shipped_workflow(ours.read_text()), f"{ours.name}: write it again from ours"

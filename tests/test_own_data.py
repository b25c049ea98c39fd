"""The repository's own data set: it validates, it covers the whole procedure, and
copies of it with planted mistakes are caught at the exact place of each mistake."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollout_tool.records import Config, ReportVerdict, State
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.repos import run_rollout

ROOT = Path(__file__).parents[1]
DATA = ("rollout.yaml", "teams", "releases", "distributions")


def validate_json(root: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    result = run_rollout("validate", "--format", "json", cwd=root)
    return result, json.loads(result.stdout)


# ---------------------------------------------------------------- the data set as it is


@pytest.fixture(scope="module")
def own() -> Repository:
    repo = Repository(WorkTree(ROOT))
    repo.load_all()
    return repo


def test_the_data_set_validates_without_a_single_problem() -> None:
    result, output = validate_json(ROOT)
    assert output["problems"] == [], result.stdout
    assert result.returncode == 0, result.stderr
    records = 1 + sum(len(list((ROOT / folder).rglob("*.yaml"))) for folder in DATA[1:])
    assert output["files"] == records


def test_every_lifecycle_state_occurs(own: Repository) -> None:
    states = Counter(release.state for _, _, release in own.releases())
    assert set(states) == set(State), f"missing: {set(State) - set(states)}"
    assert states[State.released] >= 3
    assert states[State.rollout] >= 4


def test_sizes_and_federations(own: Repository) -> None:
    teams = {team: own.team(team) for team in own.team_ids()}
    assert len(teams) >= 8
    assert all(team is not None for team in teams.values())
    assert {team.federation for team in teams.values() if team} >= {"EGI", "OSG"}
    assert any(team is not None and not team.active for team in teams.values())
    assert len(own.product_ids()) >= 6
    assert len(list(own.releases())) >= 12


def test_config_covers_the_groups_and_policies_of_the_procedure(own: Repository) -> None:
    config = own.config()
    assert isinstance(config, Config)
    assert set(config.groups) == {"arc", "globus", "glite", "opstools", "unicore"}
    assert all(group.contacts for group in config.groups.values())
    assert set(config.policies) >= {"emergency", "security", "critical"}
    assert all(config.policies[name].description for name in ("emergency", "security", "critical"))
    assert {t.value: name for t, name in config.type_policies.items()} == {
        "security": "security",
        "emergency": "emergency",
    }
    types = {release.type.value for _, _, release in own.releases()}
    assert types >= {"major", "minor", "revision", "security", "emergency"}


def test_reports_show_stale_revisions_rejects_and_known_issues(own: Repository) -> None:
    stale = []
    rejects = []
    known_with_workaround = []
    for product, version, release in own.releases():
        for team, report in own.reports(product, version).items():
            assert team in release.teams, f"{product}/{version}: {team} reports without being assigned"
            assert set(report.platforms) <= set(release.platforms)
            runs = own.team(team)
            assert runs is not None and set(report.platforms) <= set(runs.platforms), (product, version, team)
            if report.revision < release.revision:
                stale.append((product, version, team))
            if report.verdict is ReportVerdict.reject:
                rejects.append((product, version, team))
            known_with_workaround += [i for i in report.issues if i.known_issue and i.workaround]
    assert stale
    assert rejects
    open_states = (State.candidate, State.rollout)
    for product, version, release in own.releases():
        if release.state in open_states:
            for team in release.teams:
                member = own.team(team)
                assert member is not None and member.active, f"{product}/{version} waits for inactive {team}"
    assert known_with_workaround


def test_decisions_explain_rejections_recalls_and_overrides(own: Repository) -> None:
    for product, version, release in own.releases():
        reports = own.reports(product, version)
        history = release.history
        assert history[0].state is State.candidate
        assert [t.date for t in history] == sorted(t.date for t in history)
        assert history[-1].state is release.state
        if release.state in (State.rejected, State.recalled):
            assert release.decision is not None and release.decision.reason.strip()
        if release.state in (State.accepted, State.released) and any(
            r.verdict is ReportVerdict.reject and r.revision == release.revision for r in reports.values()
        ):
            # accepting over a reject report is an override: it must say why
            assert release.decision is not None and release.decision.action == "accept"
            assert release.decision.reason.strip()
        if release.supersedes is not None:
            older = own.release(product, release.supersedes)
            assert older is not None and older.state is State.superseded


def test_every_file_starts_with_its_schema_modeline() -> None:
    from rollout_tool.repository import place_of
    from rollout_tool.schemas import modeline

    paths = [ROOT / "rollout.yaml"] + [p for name in DATA[1:] for p in sorted((ROOT / name).rglob("*.yaml"))]
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        place = place_of(relative)
        assert place is not None, relative
        first = path.read_text(encoding="utf-8").splitlines(keepends=True)[0]
        assert first == modeline(place.kind, relative), relative


# ---------------------------------------------------------------- broken copies


@dataclass(frozen=True)
class Plant:
    """One planted mistake: how to make it, and where the validator must point."""

    name: str
    path: str
    make: Callable[[Path], None]
    rule: str
    # the text that marks the line (once in the file), None for the file as a whole (1:1)
    at: str | None
    message: str = ""
    # the part of that text the problem points at, when it is not the start of it
    point: str | None = None


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        target = root / path
        text = target.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{path}: {old!r} occurs {text.count(old)} times"
        target.write_text(text.replace(old, new), encoding="utf-8")

    return make


def create(path: str, text: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        target = root / path
        assert not target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    return make


def copy(source: str, path: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        assert not (root / path).exists()
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / source, root / path)

    return make


def symlink(target: str, path: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / path).symlink_to(target)

    return make


UNASSIGNED_REPORT = """\
# yaml-language-server: $schema=../../../../schema/report.schema.json
team: cesnet-mcc
revision: 1
verdict: accept
date: 2026-11-24
environments:
  - platform: el9
    arch: x86_64
    install: fresh
"""

PLANTS = [
    Plant(
        "unknown key with a typo",
        "releases/arc-ce/6.14.0/reports/fzk-lcg2.yaml",
        replace(
            "releases/arc-ce/6.14.0/reports/fzk-lcg2.yaml", "    batch_system: htcondor", "    batch_sytem: htcondor"
        ),
        "unknown-key",
        "batch_sytem",
        "did you mean 'batch_system'?",
    ),
    Plant(
        "wrong type",
        "releases/dcache/6.2.31/release.yaml",
        replace("releases/dcache/6.2.31/release.yaml", "revision: 1\n", "revision: first\n"),
        "type",
        "revision: first",
        "expected a whole number",
        point="first",
    ),
    Plant(
        "impossible date",
        "releases/dcache/6.2.44/release.yaml",
        replace("releases/dcache/6.2.44/release.yaml", "date: 2026-02-13", "date: 2026-02-30"),
        "value",
        "date: 2026-02-30",
        "is not a date that exists",
        point="2026-02-30",
    ),
    Plant(
        "value outside a vocabulary",
        "releases/apel/1.9.0/reports/cesnet-mcc.yaml",
        replace("releases/apel/1.9.0/reports/cesnet-mcc.yaml", "verdict: accept", "verdict: accepted"),
        "vocabulary",
        "verdict: accepted",
        "did you mean 'accept'?",
        point="accepted",
    ),
    Plant(
        "YAML 1.1 boolean",
        "teams/cyfronet-lcg2.yaml",
        replace("teams/cyfronet-lcg2.yaml", "active: true", "active: no"),
        "type",
        "active: no",
        "write false",
        point="no",
    ),
    Plant(
        "unquoted version read as a number",
        "releases/apel/1.9.0/reports/cyfronet-lcg2.yaml",
        replace("releases/apel/1.9.0/reports/cyfronet-lcg2.yaml", 'from_version: "1.8.1"', "from_version: 1.10"),
        "type",
        "from_version: 1.10",
        'got the number 1.10; write it in quotes: from_version: "1.10"',
        point="1.10",
    ),
    Plant(
        "report from an unassigned team",
        "releases/fts/3.9.4/reports/cesnet-mcc.yaml",
        create("releases/fts/3.9.4/reports/cesnet-mcc.yaml", UNASSIGNED_REPORT),
        "unassigned-team",
        "team: cesnet-mcc",
        "is not assigned to fts/3.9.4",
        point="cesnet-mcc",
    ),
    Plant(
        "report for a revision the release does not have",
        "releases/arc-ce/6.15.1/reports/ncg-ingrid-pt.yaml",
        replace("releases/arc-ce/6.15.1/reports/ncg-ingrid-pt.yaml", "revision: 1\n", "revision: 3\n"),
        "revision",
        "revision: 3",
        "has no revision 3",
        point="3",
    ),
    Plant(
        "missing team reference",
        "releases/fts/3.9.4/release.yaml",
        replace("releases/fts/3.9.4/release.yaml", "  - praguelcg2\n", "  - praguelcg\n"),
        "reference",
        "praguelcg",
        "did you mean 'praguelcg2'?",
    ),
    Plant(
        "platform not in the vocabulary",
        "teams/in2p3-cc.yaml",
        replace("teams/in2p3-cc.yaml", "  - el9\n", "  - el7\n"),
        "reference",
        "el7",
        "no platform 'el7' in rollout.yaml",
    ),
    Plant(
        "a .yml file",
        "teams/grif.yml",
        copy("teams/psnc.yaml", "teams/grif.yml"),
        "yml-extension",
        None,
        "grif.yaml",
    ),
    Plant(
        "a report in a misspelt folder",
        "releases/storm/1.11.19/report",
        copy("releases/storm/1.11.19/reports/infn-t1.yaml", "releases/storm/1.11.19/report/infn-t1.yaml"),
        "misplaced-file",
        None,
    ),
    Plant(
        "a stray file in a release folder",
        "releases/dcache/7.2.15/notes.md",
        create("releases/dcache/7.2.15/notes.md", "# notes for the rollout\n"),
        "misplaced-file",
        None,
    ),
    Plant(
        "duplicate key",
        "teams/nebraska.yaml",
        replace("teams/nebraska.yaml", "federation: OSG\n", "federation: OSG\nname: Nebraska CMS Tier-2\n"),
        "duplicate-key",
        "name: Nebraska CMS",
        "duplicate key 'name'",
    ),
    Plant(
        "history going back in time",
        "releases/gridftp/13.26.1/release.yaml",
        replace("releases/gridftp/13.26.1/release.yaml", "date: 2026-08-17", "date: 2026-07-17"),
        "history",
        "date: 2026-07-17",
        "accepted on 2026-07-17 is earlier than rollout on 2026-08-05",
        point="2026-07-17",
    ),
    Plant(
        "a distribution shipping a release still in rollout",
        "distributions/umd/5.5.0.yaml",
        replace(
            "distributions/umd/5.5.0.yaml",
            "release: apel/1.9.0\n    status: accepted",
            "release: arc-ce/6.15.1\n    status: released",
        ),
        "reference",
        "status: released",
        "arc-ce/6.15.1 is rollout, so it cannot ship as released",
        point="released",
    ),
    Plant(
        "a symbolic link to another team",
        "teams/uchicago.yaml",
        symlink("mwt2.yaml", "teams/uchicago.yaml"),
        "symlink",
        None,
    ),
    Plant(
        "team file name that only looks like another one",
        "teams/cesnet-rncc.yaml",
        copy("teams/cesnet-mcc.yaml", "teams/cesnet-rncc.yaml"),
        "identifier-collision",
        None,
        "'cesnet-rncc' differs from 'cesnet-mcc'",
    ),
]


def expected_position(root: Path, plant: Plant) -> tuple[int, int]:
    if plant.at is None:
        return 1, 1
    lines = (root / plant.path).read_text(encoding="utf-8").splitlines()
    hits = [(number, line) for number, line in enumerate(lines, 1) if plant.at in line]
    assert len(hits) == 1, f"{plant.path}: {plant.at!r} is on {len(hits)} lines"
    number, line = hits[0]
    start = line.index(plant.at)
    return number, line.index(plant.point or plant.at, start) + 1


@pytest.fixture(scope="module")
def broken(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str], list[dict[str, object]]]:
    root = tmp_path_factory.mktemp("broken")
    for name in DATA:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copyfile(source, root / name)
    clean, output = validate_json(root)
    assert clean.returncode == 0 and output["problems"] == [], "the copy must be valid before planting"
    for plant in PLANTS:
        plant.make(root)
    result, output = validate_json(root)
    problems = output["problems"]
    assert isinstance(problems, list)
    return root, result, problems


def test_a_broken_copy_fails_with_exit_code_1(
    broken: tuple[Path, subprocess.CompletedProcess[str], list[dict[str, object]]],
) -> None:
    _, result, problems = broken
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert all(p["level"] == "error" for p in problems)


@pytest.mark.parametrize("plant", PLANTS, ids=[plant.name for plant in PLANTS])
def test_each_planted_problem_is_found_where_it_is(
    broken: tuple[Path, subprocess.CompletedProcess[str], list[dict[str, object]]], plant: Plant
) -> None:
    root, _, problems = broken
    line, column = expected_position(root, plant)
    here = [p for p in problems if p["path"] == plant.path]
    found = [p for p in here if (p["line"], p["column"], p["rule"]) == (line, column, plant.rule)]
    assert found, f"expected {plant.path}:{line}:{column} ({plant.rule}); got {here}"
    assert any(plant.message in str(p["message"]) for p in found), found


def test_no_problem_spills_over_to_files_that_were_not_broken(
    broken: tuple[Path, subprocess.CompletedProcess[str], list[dict[str, object]]],
) -> None:
    _, _, problems = broken
    planted = {plant.path for plant in PLANTS}
    assert {str(p["path"]) for p in problems} <= planted


def test_a_new_look_alike_team_is_refused_when_only_it_is_checked(tmp_path: Path) -> None:
    root = tmp_path / "lookalike"
    root.mkdir()
    shutil.copyfile(ROOT / "rollout.yaml", root / "rollout.yaml")
    shutil.copytree(ROOT / "teams", root / "teams")
    shutil.copytree(ROOT / "releases", root / "releases")  # teams name products of interest
    # '1' for 'l': prague1cg2 sorts before praguelcg2
    shutil.copyfile(root / "teams/praguelcg2.yaml", root / "teams/prague1cg2.yaml")
    result = run_rollout("validate", "--format", "json", "teams/prague1cg2.yaml", cwd=root)
    problems = json.loads(result.stdout)["problems"]
    assert result.returncode == 1
    assert [(p["path"], p["rule"]) for p in problems] == [("teams/prague1cg2.yaml", "identifier-collision")]

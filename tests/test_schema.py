"""`rollout schema`: the JSON Schemas generated from the records, and whether they are current."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regress  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator

from rollout_tool import schemas
from rollout_tool.loading import LoadError, load
from rollout_tool.repository import Repository, place_of
from rollout_tool.sources import WorkTree
from tests.support.repos import Repo, report_text, run_rollout

PROJECT = Path(__file__).resolve().parent.parent
KINDS = ["distribution", "product", "release", "report", "result", "rollout", "team", "waiver"]


def validator(root: Path, kind: str) -> Draft202012Validator:
    schema = json.loads((root / "schema" / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def loaded(path: Path) -> Any:
    value = load(path.read_bytes())
    assert not isinstance(value, LoadError), (path, value)
    return value


def test_schema_writes_one_file_per_kind(repo: Repo) -> None:
    result = repo.rollout("schema")
    assert (result.returncode, result.stdout) == (0, "wrote 8 schemas to schema/\n")
    written = sorted(path.name for path in (repo.root / "schema").iterdir())
    assert written == [f"{kind}.schema.json" for kind in KINDS]
    names = schemas.names_of(Repository(WorkTree(repo.root)))
    for name, text in schemas.rendered(names).items():
        assert (repo.root / "schema" / name).read_text() == text
    document = json.loads((repo.root / "schema" / "report.schema.json").read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == "https://rollout-as-code.invalid/schema/report.schema.json"
    assert document["additionalProperties"] is False
    # Written twice, the same bytes.
    before = {path.name: path.read_bytes() for path in (repo.root / "schema").iterdir()}
    repo.rollout("schema")
    assert before == {path.name: path.read_bytes() for path in (repo.root / "schema").iterdir()}


def test_check_is_0_when_current(repo: Repo) -> None:
    repo.rollout("schema")
    result = repo.rollout("schema", "--check")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("change", "stale"),
    [
        (lambda folder: (folder / "report.schema.json").write_text("{}\n"), "report.schema.json"),
        (
            lambda folder: (folder / "team.schema.json").write_text(
                (folder / "team.schema.json").read_text().replace('"active"', '"enabled"')
            ),
            "team.schema.json",
        ),
        (lambda folder: (folder / "release.schema.json").unlink(), "release.schema.json"),
        (lambda folder: (folder / "old.schema.json").write_text("{}\n"), "old.schema.json"),
    ],
    ids=["rewritten", "edited", "missing", "left-over"],
)
def test_check_is_1_when_stale(tmp_path: Path, repo: Repo, change: Any, stale: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(repo.root, copy)
    run_rollout("schema", cwd=copy)
    change(copy / "schema")
    result = run_rollout("schema", "--check", cwd=copy)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"schema/{stale}: stale; run `rollout schema` and commit the result\n"


def test_check_without_a_schema_folder(repo: Repo) -> None:
    result = repo.rollout("schema", "--check")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"schema/{kind}.schema.json: stale; run `rollout schema` and commit the result" for kind in KINDS
    ]


def test_schemas_accept_every_file_of_the_fixture_repository(repo: Repo) -> None:
    repo.rollout("schema")
    checked = 0
    for path in sorted(repo.root.rglob("*.yaml")):
        relative = path.relative_to(repo.root).as_posix()
        place = place_of(relative)
        assert place is not None, relative
        errors = list(validator(repo.root, place.kind).iter_errors(loaded(path)))
        assert errors == [], (relative, [error.message for error in errors])
        checked += 1
    assert checked == 7


def test_schemas_accept_the_project_data_set() -> None:
    checked = 0
    for folder in ("teams", "releases", "distributions"):
        for path in sorted((PROJECT / folder).rglob("*.yaml")):
            place = place_of(path.relative_to(PROJECT).as_posix())
            if place is None:
                continue
            errors = list(validator(PROJECT, place.kind).iter_errors(loaded(path)))
            assert errors == [], (path, [error.message for error in errors])
            checked += 1
    assert checked > 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text + "verdcit: accept\n", "Additional properties are not allowed ('verdcit' was unexpected)"),
        (lambda text: text.replace("verdict: accept", "verdict: acept"), "'acept' is not one of ['accept', 'reject']"),
        (lambda text: text.replace("revision: 1", "revision: '1'"), "'1' is not of type 'integer'"),
        (lambda text: text.replace("team: mwt2\n", ""), "'team' is a required property"),
        (lambda text: text.replace("arch: x86_64", "arch: X86"), "'X86' does not match '^[a-z0-9][a-z0-9._-]*$'"),
    ],
    ids=["unknown-key", "vocabulary", "type", "required", "pattern"],
)
def test_report_schema_rejects(repo: Repo, change: Any, message: str) -> None:
    repo.rollout("schema")
    report = load(change(report_text("mwt2")).encode())
    messages = [error.message for error in validator(repo.root, "report").iter_errors(report)]
    assert messages == [message]


def test_the_projects_committed_schemas_are_current() -> None:
    assert schemas.stale(PROJECT, schemas.names_of(Repository(WorkTree(PROJECT)))) == []
    result = run_rollout("schema", "--check", "--repo", str(PROJECT), cwd=PROJECT)
    assert (result.returncode, result.stderr) == (0, "")


def test_the_schemas_list_the_repository_s_vocabularies_for_editors(repo: Repo) -> None:
    config = (repo.root / "rollout.yaml").read_text() + "federations:\n  EGI: {name: EGI}\n  OSG: {name: OSG}\n"
    repo.write("rollout.yaml", config + "workflows:\n  ATLAS: {name: ATLAS}\n  CMS: {name: CMS}\n")
    assert repo.rollout("schema").returncode == 0
    team = json.loads((repo.root / "schema/team.schema.json").read_text())
    assert team["properties"]["federation"]["enum"] == ["EGI", "OSG"]
    assert team["properties"]["platforms"]["items"]["enum"] == ["el8", "el9"]
    report = json.loads((repo.root / "schema/report.schema.json").read_text())
    environment = report["$defs"]["Environment"]["properties"]
    assert environment["workflows"]["items"]["enum"] == ["ATLAS", "CMS"]
    # A misspelt workflow is refused by the schema as by `rollout validate`.
    misspelt = load(report_text("mwt2").replace("arch: x86_64", "arch: x86_64\n    workflows: [Atlas]").encode())
    assert [e.message for e in validator(repo.root, "report").iter_errors(misspelt)] == [
        "'Atlas' is not one of ['ATLAS', 'CMS']"
    ]
    # A new federation in rollout.yaml makes the committed schemas stale until written again.
    repo.write("rollout.yaml", config.replace("  OSG: {name: OSG}\n", "  OSG: {name: OSG}\n  NDGF: {name: NDGF}\n"))
    check = repo.rollout("schema", "--check")
    assert check.returncode == 1 and "schema/team.schema.json: stale" in check.stderr


def properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property of the schema and of its definitions, named `Model.field`."""
    found = [(f"{schema['title']}.{name}", value) for name, value in schema["properties"].items()]
    for definition in schema.get("$defs", {}).values():
        if "properties" in definition:
            found += [(f"{definition['title']}.{name}", value) for name, value in definition["properties"].items()]
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_has_help_for_editors(kind: str) -> None:
    schema = json.loads((PROJECT / "schema" / f"{kind}.schema.json").read_text())
    fields = properties(schema)
    assert len(fields) >= 3
    undescribed = [name for name, value in fields if not value.get("description", "").strip()]
    assert undescribed == []
    without_examples = [name for name, value in fields if not value.get("examples")]
    assert without_examples == []
    # Short sentences for a person hovering: a capital, a full stop, one or two lines.
    badly_written = [
        name
        for name, value in fields
        if not (
            value["description"][0].isupper()
            and value["description"].endswith(".")
            and len(value["description"]) <= 160
        )
    ]
    assert badly_written == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_is_a_value_the_field_accepts(kind: str) -> None:
    schema = json.loads((PROJECT / "schema" / f"{kind}.schema.json").read_text())
    checker = Draft202012Validator.FORMAT_CHECKER
    wrong = []
    for name, value in properties(schema):
        # Checked in the document's context, so that `$ref`s to its definitions resolve.
        field = Draft202012Validator({**value, "$defs": schema.get("$defs", {})}, format_checker=checker)
        wrong += [
            (name, example, error.message) for example in value["examples"] for error in field.iter_errors(example)
        ]
    assert wrong == []


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties":
                yield from value
            yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


@pytest.mark.parametrize("kind", KINDS)
def test_every_pattern_is_an_ecma_262_regular_expression(kind: str) -> None:
    """JSON Schema's patterns are JavaScript's, compiled by editors with the `u` flag, where an
    escape that means nothing (`\\"`) is an error: the whole pattern would be skipped or refused."""
    schema = json.loads((PROJECT / "schema" / f"{kind}.schema.json").read_text())
    found = sorted(set(patterns(schema)))
    assert found
    refused = []
    for pattern in found:
        try:
            regress.Regex(pattern, "u")
        except regress.RegressError as error:
            refused.append((pattern, str(error)))
    assert refused == []


def test_the_readme_s_editor_settings_map_each_kind_of_file_to_its_schema() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Editor support", 1)[1].split("\n## ", 1)[0]
    settings = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])["yaml.schemas"]
    mapped = {}
    for schema_path, glob in settings.items():
        kind = Path(schema_path).name.removesuffix(".schema.json")
        example = glob.removeprefix("**/").replace("*", "name")
        place = place_of(example)
        assert place is not None and place.kind == kind, (glob, example, place)
        assert (PROJECT / schema_path).is_file()
        mapped[kind] = glob
    assert sorted(mapped) == KINDS
    # `rollout new` points each file at the same schema through its first line.
    assert schemas.modeline("report", "releases/a/1.0/reports/t.yaml") == (
        "# yaml-language-server: $schema=../../../../schema/report.schema.json\n"
    )
    assert schemas.modeline("report", "releases/a/1.0/reports/t.yaml").strip() in section


def test_the_tool_itself_needs_no_json_schema_validator() -> None:
    """jsonschema checks the committed schemas in the tests: a test dependency, not the product's."""
    import ast
    import tomllib

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("jsonschema")]
    assert [d for d in project["optional-dependencies"]["test"] if d.startswith("jsonschema")]
    imported = {
        (path.name, alias.name.split(".")[0] if isinstance(node, ast.Import) else (node.module or "").split(".")[0])
        for path in (PROJECT / "rollout_tool").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert ("records.py", "pydantic") in imported  # the scan sees the imports
    assert [name for name in imported if name[1] in ("jsonschema", "regress")] == []


def test_the_schemas_list_the_repository_s_teams_and_products_for_editors(repo: Repo) -> None:
    assert repo.rollout("schema").returncode == 0
    teams = sorted(path.stem for path in (repo.root / "teams").glob("*.yaml"))
    products = sorted(path.parent.name for path in (repo.root / "releases").glob("*/product.yaml"))
    report = json.loads((repo.root / "schema/report.schema.json").read_text())
    assert report["properties"]["team"]["enum"] == teams
    release = json.loads((repo.root / "schema/release.schema.json").read_text())
    assert release["properties"]["teams"]["items"]["enum"] == teams
    team = json.loads((repo.root / "schema/team.schema.json").read_text())
    assert team["properties"]["products"]["items"]["enum"] == products
    # A misspelt team is refused by the schema as by `rollout validate`.
    misspelt = load(report_text("mwt2").replace("team: mwt2", "team: mtw2").encode())
    assert any("'mtw2' is not one of" in e.message for e in validator(repo.root, "report").iter_errors(misspelt))
    # A new team makes the committed schemas stale until written again, as it does CODEOWNERS.
    repo.write("teams/nikhef.yaml", (repo.root / "teams/mwt2.yaml").read_text())
    check = repo.rollout("schema", "--check")
    assert check.returncode == 1 and "schema/report.schema.json: stale" in check.stderr

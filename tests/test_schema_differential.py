"""The committed JSON Schemas and `rollout validate` agree on what they accept, wherever a schema can decide.

Documents are the project's own records (valid, and consistent with the
records around them), then mutated: a key dropped or added, a value replaced
by one of another type, a float for an integer, a misspelt enum value, a bad
pattern or a date that does not exist. Each is written in place in a copy of
the project and judged twice: by a Draft 2020-12 validator on the committed
schema, and by what `rollout validate` runs on that file (load and model,
then the rules that read other records).

What a schema cannot decide, and so where the two may differ, each with its reason:

- `INTEGRAL_FLOAT`: JSON Schema's numbers are mathematical, so 1.0 is an
  integer to every validator; `rollout validate` refuses `revision: 1.0`.
- `DUPLICATE_ENVIRONMENT`: a report lists each platform and arch once; JSON
  Schema's `uniqueItems` only compares whole items.
- Rules that read other records or compare two values (a report's team must
  be assigned to the release, a platform must have the arch named, the bot
  cannot be a coordinator, a policy covers federations rollout.yaml declares, states and dates against the policy): every rule
  but the vocabulary rules. The schema lists rollout.yaml's vocabularies, so
  a value outside them is refused by both.

Patterns are ECMA-262 regular expressions (JSON Schema says so, and editors
and check-jsonschema read them so): Python's `re` would let `$` match before
a final newline, and accept `el9\\n` where every editor refuses it.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regress  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError, validators

from rollout_tool import rules
from rollout_tool.loading import Positions, load
from rollout_tool.problems import Level, Problem
from rollout_tool.repository import Repository, place_of
from rollout_tool.sources import WorkTree

PROJECT = Path(__file__).resolve().parent.parent
KINDS = ["distribution", "product", "release", "report", "rollout", "team"]

INTEGRAL_FLOAT = "JSON Schema reads 1.0 as the integer 1"
DUPLICATE_ENVIRONMENT = "JSON Schema's uniqueItems compares whole items, not a platform and arch in them"

# The rules that check a value against rollout.yaml's vocabularies and the repository's teams
# and products: the schema lists them too.
_VOCABULARY_MESSAGE = re.compile(
    r"^no (platform|group|federation|workflow) '[^']*' in rollout\.yaml|^no (team '[^']*' under teams/|product '[^']*' under releases/)"
)


@functools.cache
def _ecma(pattern: str) -> Any:
    return regress.Regex(pattern, "u")


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _ecma(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@functools.cache
def schema_validator(kind: str) -> Any:
    schema = json.loads((PROJECT / "schema" / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return EcmaValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def seeds(kind: str) -> list[tuple[str, Any]]:
    """The project's own records of a kind: (path, value)."""
    found = []
    for path in sorted(PROJECT.glob("**/*.yaml")):
        relative = path.relative_to(PROJECT).as_posix()
        if relative.startswith((".", "tests/", "rollout_tool/", "benchmarks/")):
            continue
        place = place_of(relative)
        if place is not None and place.kind == kind:
            found.append((relative, load(path.read_bytes())))
    return found


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shutil.copy(PROJECT / "rollout.yaml", root / "rollout.yaml")
    for folder in ("teams", "releases", "distributions"):
        shutil.copytree(PROJECT / folder, root / folder)
    return root


# What YAML may not hold as written (C1 controls, DEL, YAML 1.1's line breaks, non-characters):
# escaped, as a person would have to write them.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def text_of(value: Any) -> bytes:
    # JSON is YAML 1.2: what the schema sees is exactly what `rollout validate` loads.
    text = json.dumps(value, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text).encode()


def judged_by_validate(root: Path, path: str, value: Any) -> tuple[list[Problem], list[Problem]]:
    """The errors `rollout validate` gives the file: of the file alone, and of the rules that read other records."""
    original = (root / path).read_bytes()
    (root / path).write_bytes(text_of(value))
    try:
        repo = Repository(WorkTree(root))
        doc = repo.document(path)
        assert doc is not None
        everything = rules.check(repo, doc)
    finally:
        (root / path).write_bytes(original)
    errors = [p for p in everything if p.level is Level.error]
    alone = [p for p in errors if p in doc.problems]
    return alone, [p for p in errors if p not in doc.problems]


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def _one_environment_each(value: Any) -> Any:
    if not (isinstance(value, dict) and isinstance(value.get("environments"), list)):
        return value
    seen, kept = set(), []
    for environment in value["environments"]:
        key = (environment.get("platform"), environment.get("arch")) if isinstance(environment, dict) else None
        if key is None or key not in seen or not all(isinstance(part, str) for part in key):
            kept.append(environment)
        if key is not None:
            seen.add(key)
    return {**value, "environments": kept}


def disagreement(root: Path, kind: str, path: str, value: Any) -> str | None:
    """None when the schema and `rollout validate` agree on the document; else what they say."""
    errors = list(schema_validator(kind).iter_errors(value))
    alone, others = judged_by_validate(root, path, value)
    # rollout.yaml's own policies naming its federations compare two of its values: no schema lists them.
    vocabulary = [p for p in others if _VOCABULARY_MESSAGE.match(p.message) and kind != "rollout"]
    if not errors:
        if not alone and not vocabulary:
            return None
        return f"the schema accepts what validate refuses: {[p.message for p in alone + vocabulary]}"
    if alone:
        return None
    # The schema refuses a value that only the rules reading other records look at (the
    # platforms and workflows rollout.yaml declares): validate must refuse that same value.
    positions = Positions(text_of(value))
    places = {positions.find(tuple(error.absolute_path))[:2] for error in errors}
    if any((p.line, p.column) in places for p in others):
        return None
    return f"validate accepts what the schema refuses: {[e.message for e in errors]}"


def undecidable(root: Path, kind: str, path: str, value: Any) -> str | None:
    """The named reasons a disagreement on this document is one a schema cannot settle, if it is."""
    reasons, changed = [], value
    for reason, same_but_decidable in (
        (INTEGRAL_FLOAT, _integral_floats_as_ints),
        (DUPLICATE_ENVIRONMENT, _one_environment_each),
    ):
        before, changed = changed, same_but_decidable(changed)
        if text_of(changed) != text_of(before):  # compared as written: 1.0 == 1 in Python
            reasons.append(reason)
    # The schema says the same of both; validate agrees with it once what it cannot see is gone.
    schema_same = bool(list(schema_validator(kind).iter_errors(value))) == bool(
        list(schema_validator(kind).iter_errors(changed))
    )
    if reasons and schema_same and disagreement(root, kind, path, changed) is None:
        return "; ".join(reasons)
    return None


# ---------------------------------------------------------------- mutations

_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
TRICKY = [
    "",
    " ",
    "2026-02-30",
    "2026-1-05",
    "2026-11-25\n",
    "2026-11-25T10:00:00",
    "20261125",
    "٢٠٢٦-١١-٢٥",
    "el9",
    "el9\n",
    "EL9",
    "el 9",
    "-el9",
    "x" * 101,
    "1.0",
    "true",
    "accept",
    "acept",
    "released",
    "ATLAS",
    "Atlas",
    "EGI",
    "ops@example.org",
    "not an address",
    "https://example.org/a b",
    "https://example.org/\ufeff",
    "http://example.org/",
    "13.26.1",
    "6.10",
    "gridftp/13.26.1",
    "gridftp/",
    "rollout-bot[bot]",
    "a--b",
    "-login",
    "fresh",
]
_SCALARS = st.one_of(
    st.integers(min_value=-3, max_value=10_005),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 2.0, 1.5, -1.0]),
    st.booleans(),
    st.none(),
    _SAFE_TEXT,
    st.sampled_from(TRICKY),
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "x", "el9"]), inner, max_size=2)
    ),
    max_leaves=4,
)
UNKNOWN_KEYS = st.sampled_from(["verdcit", "Version", "notes ", "platform", "release", "x-extra"])


def places(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a document: a key of a mapping or an index of a list."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*at, key)
            yield from places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*at, index)
            yield from places(item, (*at, index))


def _parent(value: Any, at: tuple[Any, ...]) -> Any:
    for step in at[:-1]:
        value = value[step]
    return value


@functools.cache
def written_as(kind: str) -> dict[str, list[Any]]:
    """Each key's values in the project's records of a kind and in the schema's examples: mostly valid elsewhere."""
    found: dict[str, list[Any]] = {}

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if item not in found.setdefault(str(key), []):
                    found[str(key)].append(item)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for _, value in seeds(kind):
        collect(value)
    schema = json.loads((PROJECT / "schema" / f"{kind}.schema.json").read_text())
    for node in [schema, *schema.get("$defs", {}).values()]:
        for key, field in node.get("properties", {}).items():
            found.setdefault(key, []).extend(example for example in field["examples"] if example not in found[key])
    return found


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> tuple[str, Any]:
    path, value = draw(st.sampled_from(seeds(kind)))
    value = copy.deepcopy(value)
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        where = list(places(value))
        operation = draw(st.sampled_from(["drop", "replace", "replace", "add", "swap", "swap", "float", "copy"]))
        if operation == "copy":  # an item listed twice
            lists = [
                at for at in where if isinstance(_parent(value, (*at, None)), list) and _parent(value, (*at, None))
            ]
            if lists:
                items = _parent(value, (*draw(st.sampled_from(lists)), None))
                items.append(copy.deepcopy(draw(st.sampled_from(items))))
            continue
        if operation == "float":  # 1 written 1.0 or 1.5
            numbers = [at for at in where if type(_parent(value, (*at, None))) is int]
            if numbers:
                at = draw(st.sampled_from(numbers))
                _parent(value, at)[at[-1]] += draw(st.sampled_from([0.0, 0.5]))
            continue
        if operation == "swap":  # a value written elsewhere for the same key: valid there, maybe here
            keyed = [at for at in where if isinstance(at[-1], str) and written_as(kind).get(at[-1])]
            if keyed:
                at = draw(st.sampled_from(keyed))
                _parent(value, at)[at[-1]] = copy.deepcopy(draw(st.sampled_from(written_as(kind)[at[-1]])))
            continue
        if operation == "add" or not where:
            containers = [()] + [at for at in where if isinstance(_parent(value, (*at, None)), dict)]
            at = draw(st.sampled_from(containers))
            target = _parent(value, (*at, None))
            if isinstance(target, dict):
                target[draw(UNKNOWN_KEYS)] = draw(VALUES)
            continue
        at = draw(st.sampled_from(where))
        parent = _parent(value, at)
        if operation == "drop":
            del parent[at[-1]]
        else:
            parent[at[-1]] = draw(VALUES)
    return path, value


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("kind", KINDS)
def test_the_project_s_records_are_accepted_by_both(project_copy: Path, kind: str) -> None:
    found = seeds(kind)
    assert found
    for path, value in found:
        assert disagreement(project_copy, kind, path, value) is None, path
        assert list(schema_validator(kind).iter_errors(value)) == [], path


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_schema_and_validate_agree_on_mutated_records(project_copy: Path, kind: str, data: st.DataObject) -> None:
    path, value = data.draw(mutated(kind))
    found = disagreement(project_copy, kind, path, value)
    if found is not None:
        reason = undecidable(project_copy, kind, path, value)
        assert reason is not None, (path, value, found)


REPORT = "releases/gridftp/13.26.1/reports/nebraska.yaml"


def _report(project_copy: Path) -> Any:
    return load((project_copy / REPORT).read_bytes())


def test_a_platform_named_outside_the_identifier_pattern_is_refused_by_both(project_copy: Path) -> None:
    # pydantic wrote the mapping's key pattern as patternProperties, which left other keys unchecked.
    config = load((project_copy / "rollout.yaml").read_bytes())
    config["platforms"]["EL10"] = {"name": "Enterprise Linux 10", "arches": ["x86_64"]}
    errors = [error.message for error in schema_validator("rollout").iter_errors(config)]
    assert errors == ["'EL10' does not match '^[a-z0-9][a-z0-9._-]*$'"]
    alone, _ = judged_by_validate(project_copy, "rollout.yaml", config)
    assert [(p.rule, "EL10" in p.message) for p in alone] == [("format", True)]
    assert disagreement(project_copy, "rollout", "rollout.yaml", config) is None


def test_a_trailing_newline_is_refused_by_both(project_copy: Path) -> None:
    report = _report(project_copy)
    report["environments"][0]["arch"] = "x86_64\n"
    assert list(schema_validator("report").iter_errors(report)) != []
    assert judged_by_validate(project_copy, REPORT, report)[0] != []
    # Python's `re` lets `$` match before a final newline: a validator that uses it misses this.
    python_re = Draft202012Validator(json.loads((PROJECT / "schema/report.schema.json").read_text()))
    assert list(python_re.iter_errors(report)) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda report: report.update(revision=1.0), INTEGRAL_FLOAT),
        (
            lambda report: report["environments"].append({**report["environments"][0], "install": "fresh"}),
            DUPLICATE_ENVIRONMENT,
        ),
    ],
    ids=["integral-float", "duplicate-environment"],
)
def test_what_the_schema_cannot_decide_is_named(project_copy: Path, change: Any, reason: str) -> None:
    report = _report(project_copy)
    change(report)
    assert list(schema_validator("report").iter_errors(report)) == []
    assert judged_by_validate(project_copy, REPORT, report)[0] != []
    assert disagreement(project_copy, "report", REPORT, report) is not None
    assert undecidable(project_copy, "report", REPORT, report) == reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda report: report.update(revision=1.5), "1.5 is not of type 'integer'"),
        (lambda report: report.update(revision="1"), "'1' is not of type 'integer'"),
        (lambda report: report.update(date="2026-02-30"), "'2026-02-30' is not a 'date'"),
        (lambda report: report.update(date="2026-2-3"), "'2026-2-3' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"),
        (lambda report: report.update(date="٢٠٢٦-١١-٢٥"), "'٢٠٢٦-١١-٢٥' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"),
        (
            lambda report: report.update(date="2026-11-25\n"),
            "'2026-11-25\\n' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'",
        ),
        (
            lambda report: report["environments"][0].update(workflows=["Atlas"]),
            "'Atlas' is not one of ['ALICE', 'ATLAS', 'CMS', 'LHCb', 'ops']",
        ),
        (
            lambda report: report["environments"][0].update(platform="el7"),
            "'el7' is not one of ['el8', 'el9', 'ubuntu-22.04', 'ubuntu-24.04']",
        ),
    ],
    ids=[
        "fraction",
        "string-for-int",
        "no-such-date",
        "date-pattern",
        "arabic-digits",
        "newline",
        "vocabulary",
        "platform",
    ],
)
def test_the_schema_refuses_what_validate_refuses(project_copy: Path, change: Any, message: str) -> None:
    report = _report(project_copy)
    change(report)
    assert [error.message for error in schema_validator("report").iter_errors(report)][-1:] == [message]
    alone, others = judged_by_validate(project_copy, REPORT, report)
    assert alone or others
    if "[0-9]{4}" in message:  # said as the ISO date it should be
        assert [p.message for p in alone] == ["date: expected an ISO date such as 2026-11-25"]
    assert disagreement(project_copy, "report", REPORT, report) is None


def test_a_policy_covering_an_undeclared_federation_is_left_to_validate(project_copy: Path) -> None:
    # Two values of rollout.yaml compared: a schema cannot, so the rule is not held against it.
    config = load((project_copy / "rollout.yaml").read_bytes())
    config["policies"]["grid"] = {"cover_federations": ["NDGF"]}
    assert list(schema_validator("rollout").iter_errors(config)) == []
    alone, others = judged_by_validate(project_copy, "rollout.yaml", config)
    assert alone == [] and [p.message for p in others] == ["no federation 'NDGF' in rollout.yaml"]
    assert disagreement(project_copy, "rollout", "rollout.yaml", config) is None

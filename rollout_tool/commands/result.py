"""`rollout result from-junit|from-json`: a CI run or a monitoring probe, written as an automated result record.

The record goes to `releases/<product>/<version>/results/<team>--<check>--<platform>.yaml`,
replacing the earlier run of the same check on the same platform by the same
team; it is validated in the repository's context before it is written, atomically.

JUnit XML comes from whatever ran the tests, so it is parsed as hostile:
at most `MAX_INPUT` bytes, no DTD, no entities, no external references
(`defusedxml`). The outcome is `fail` when any test case failed or erred,
`pass` when test cases ran and none did, and `missing` when the file holds no
test case at all: an empty run never passes.

The JSON form is one object, documented in the README:

    {"outcome": "pass" | "fail" | "pending" | "missing",
     "tests": 12, "failures": 0, "errors": 0, "skipped": 1,
     "failing": ["name of a failing test", ...], "url": "https://...", "summary": "one line"}

Only `outcome` is required.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from rollout_tool import identifiers
from rollout_tool.commands.new import Overlay, Scaffold, release_in_rollout, render, split_release
from rollout_tool.commands.validate import validate_paths
from rollout_tool.errors import RefusedError, UsageError
from rollout_tool.placement import NAME_RULES
from rollout_tool.problems import has_errors
from rollout_tool.records import CHECK_PATTERN, CheckResult, Outcome
from rollout_tool.repository import Repository, result_path
from rollout_tool.sources import WorkTree
from rollout_tool.writing import atomic_write

MAX_INPUT = 20 * 1024 * 1024  # a CI report larger than this is not a result, it is an attack or a log
MAX_FAILING = CheckResult.model_fields["failing"].metadata[0].max_length
MAX_NAME = 200
CHECK_NAME = re.compile(CHECK_PATTERN)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
JSON_KEYS = ("outcome", "tests", "failures", "errors", "skipped", "failing", "url", "summary")


@dataclass(frozen=True)
class Run:
    """What a CI report says, before it is tied to a release."""

    outcome: Outcome
    tests: int | None = None
    failures: int | None = None
    errors: int | None = None
    skipped: int | None = None
    failing: tuple[str, ...] = ()
    url: str | None = None
    summary: str | None = None


def read_capped(path: Path) -> bytes:
    """The file's bytes, refused past MAX_INPUT without reading more than that."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_INPUT + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_INPUT:
        raise RefusedError(f"{path}: larger than {MAX_INPUT // (1024 * 1024)} MiB; not read")
    return data


def _name(text: str) -> str:
    """A test's name as one printable line that fits a record."""
    cleaned = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return cleaned[: MAX_NAME - 1] + "…" if len(cleaned) > MAX_NAME else cleaned


def _case_name(case: Element) -> str:
    name, kind = case.get("name") or "", case.get("classname") or ""
    return _name(f"{kind}.{name}" if kind and name else name or kind or "(unnamed test)")


def parse_junit(data: bytes, where: str) -> Run:
    """A JUnit XML report (`<testsuites>` or one `<testsuite>`) as a run: counts from its test cases."""
    try:
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line, column = exc.position
        raise RefusedError(f"{where}:{line}:{column + 1}: not well-formed XML ({exc.msg})") from None
    except defusedxml.DefusedXmlException as exc:
        raise RefusedError(
            f"{where}: refused: a JUnit report has no DTD, entities or external references ({type(exc).__name__})"
        ) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise RefusedError(f"{where}: not a JUnit report: its root is <{_name(root.tag)}>, not <testsuites>")
    tests = failures = errors = skipped = 0
    failing: list[str] = []
    for case in root.iter("testcase"):
        tests += 1
        children = {child.tag for child in case}
        if "failure" in children or "error" in children:
            failures += "failure" in children
            errors += "error" in children and "failure" not in children
            if len(failing) < MAX_FAILING:
                failing.append(_case_name(case))
        elif "skipped" in children:
            skipped += 1
    if tests == 0:
        outcome = Outcome.missing
        summary = "the JUnit report holds no test case"
    else:
        outcome = Outcome.failed if failures or errors else Outcome.passed
        summary = f"{tests} tests: {tests - failures - errors - skipped} passed, {failures} failed, {errors} errors, {skipped} skipped"
    return Run(outcome, tests, failures, errors, skipped, tuple(failing), None, summary)


def _count(value: Any, key: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RefusedError(f"{where}: {key} must be a whole number of tests, not {json.dumps(value)[:40]}")
    return value


def parse_json(data: bytes, where: str) -> Run:
    """The small JSON form (see the module's text) as a run."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RefusedError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RefusedError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise RefusedError(f"{where}: nested too deeply for a result") from None
    if not isinstance(value, dict):
        raise RefusedError(f'{where}: a result is one JSON object, such as {{"outcome": "pass"}}')
    unknown = sorted(set(value) - set(JSON_KEYS))
    if unknown:
        raise RefusedError(f"{where}: unknown key {_name(unknown[0])!r}; a result has {', '.join(JSON_KEYS)}")
    outcomes = [o.value for o in Outcome]
    if value.get("outcome") not in outcomes:
        raise RefusedError(f"{where}: outcome must be one of {', '.join(outcomes)}")
    failing = value.get("failing", [])
    if not isinstance(failing, list) or not all(isinstance(item, str) for item in failing):
        raise RefusedError(f"{where}: failing is a list of test names")
    for key in ("url", "summary"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise RefusedError(f"{where}: {key} is a string")
    tests, failures, errors, skipped = (_count(value.get(key), key, where) for key in JSON_KEYS[1:5])
    return Run(
        Outcome(value["outcome"]),
        tests,
        failures,
        errors,
        skipped,
        tuple(name for item in failing[:MAX_FAILING] if (name := _name(item))),
        value.get("url"),
        _name(value["summary"]) if value.get("summary") else None,
    )


def write_result(
    root: Path,
    run: Run,
    *,
    release: str,
    check: str,
    platform: str,
    team: str,
    by: str,
    today: dt.date,
    revision: int | None = None,
    url: str | None = None,
) -> Scaffold:
    """Validate the record in the repository's context, then write it (replacing an earlier run) if it is valid."""
    product, version = split_release(release)
    for option, value, valid in (
        ("--release", product, identifiers.is_identifier(product)),
        ("--release", version, identifiers.is_version(version)),
        ("--team", team, identifiers.is_identifier(team)),
        ("--platform", platform, identifiers.is_identifier(platform)),
        ("--check", check, CHECK_NAME.fullmatch(check) is not None and len(check) <= identifiers.MAX_LENGTH),
    ):
        if not valid:
            raise UsageError(f"{option} {value!r}: {NAME_RULES['identifier']}; a check's name has no '--'")
    fields: dict[str, Any] = {
        "team": team,
        "check": check,
        "platform": platform,
        "revision": release_in_rollout(
            root, product, version, revision, "result", "run the check on it again"
        ).revision,
        "outcome": run.outcome.value,
        "date": today,
        "by": by,
        "tests": run.tests,
        "failures": run.failures,
        "errors": run.errors,
        "skipped": run.skipped,
        "failing": list(run.failing),
        "url": url or run.url,
        "summary": run.summary,
    }
    path = result_path(product, version, team, check, platform)
    target = root / path
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise RefusedError(f"{path}: not a regular file; not replaced")
    text = render("result", path, fields)
    problems = validate_paths(Repository(Overlay(WorkTree(root), {path: text.encode()})), [path]).problems
    if not has_errors(problems):
        atomic_write(target, text.encode())
    return Scaffold(path, text, problems)

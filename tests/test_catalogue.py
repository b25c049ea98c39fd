"""The rule catalogue: each rule's failing example makes it report, its passing example makes nothing report."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rollout_tool import catalogue
from rollout_tool.catalogue import BASE, RULES, Example, Link, Rule
from rollout_tool.commands.validate import Validation, validate
from rollout_tool.sources import WorkTree

README = Path(__file__).resolve().parent.parent / "README.md"


def plant(root: Path, example: Example) -> Validation:
    for path, content in {**BASE, **example}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target.unlink()
        if isinstance(content, Link):
            os.symlink(content.target, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return validate(WorkTree(root))


def test_the_base_repository_is_valid(tmp_path: Path) -> None:
    assert plant(tmp_path, {}).problems == []


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_the_failing_example_reports_the_rule(tmp_path: Path, rule: Rule) -> None:
    found = plant(tmp_path, rule.failing).problems
    assert [p.level for p in found if p.rule == rule.id][:1] == [rule.level], found
    assert {p.rule for p in found} <= set(catalogue.BY_ID)


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_the_passing_example_reports_nothing(tmp_path: Path, rule: Rule) -> None:
    assert plant(tmp_path, rule.passing).problems == []


def test_rule_ids_are_unique_and_examples_differ() -> None:
    assert len(catalogue.BY_ID) == len(RULES)
    assert all(rule.failing != rule.passing for rule in RULES)


def test_the_readme_lists_the_rules_of_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- rules -->\n(.*?)<!-- end rules -->", text, re.DOTALL)
    assert found is not None, "README.md has no <!-- rules --> section"
    assert found.group(1) == catalogue.markdown(), "run `python -m rollout_tool.catalogue` and paste its output"

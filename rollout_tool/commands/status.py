"""`rollout status`: every release with its state, verdict, reasons and late teams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rollout_tool import reporting
from rollout_tool.errors import EXIT_OK, UsageError
from rollout_tool.identifiers import version_key
from rollout_tool.policy import Evaluation, evaluate
from rollout_tool.problems import Problem
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


@dataclass(frozen=True)
class Status:
    releases: list[Evaluation]
    invalid: list[str]  # releases whose release.yaml does not load: no verdict without a record


def status(source: Source, selection: str | None, today: dt.date) -> Status:
    repo = Repository(source)
    product, _, version = (selection or "").partition("/")
    if product and not repo.has_product(product):
        raise UsageError(f"no product {product!r} under releases/")
    if version and not repo.has_release(product, version):
        raise UsageError(f"no release {product}/{version}")
    found, invalid = [], []
    for name in [product] if product else repo.product_ids():
        for number in [version] if version else sorted(repo.versions(name), key=version_key):
            if repo.release(name, number) is not None and repo.config() is not None:
                found.append(evaluate(repo, name, number, today))
            elif repo.has_release(name, number):
                invalid.append(f"{name}/{number}")
    return Status(found, invalid)


@dataclass(frozen=True)
class StatusReport:
    """`rollout status`'s result for the reporters: the releases as of `today`."""

    found: Status
    today: dt.date

    @property
    def problems(self) -> list[Problem]:
        return []

    def lines(self) -> list[str]:
        lines = []
        for e in self.found.releases:
            lines.append(f"{e.product}/{e.version}: {e.state.value}, {e.verdict.value} (policy {e.policy_name})")
            lines.extend(f"  - {reason}" for reason in e.reasons)
        lines.extend(f"{name}: not valid; run `rollout validate`" for name in self.found.invalid)
        return lines or ["no releases"]

    def notices(self) -> list[tuple[str, str]]:
        return [("status", line) for line in self.lines()]

    def closing(self) -> tuple[str, bool]:
        return "", False

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "releases": [e.as_dict() for e in self.found.releases],
            "invalid": self.found.invalid,
        }

    def exit_code(self) -> int:
        return EXIT_OK


def render(found: Status, output_format: str, today: dt.date) -> str:
    return reporting.render(StatusReport(found, today), output_format)

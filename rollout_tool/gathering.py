"""Every release's facts (and, for the site, its figures): read back when unchanged, worked out otherwise.

With the repository's cache, a release's facts are read back when nothing
they were worked out from has changed (rollout_tool.derived): the files each
kept value read are hashed over the cores, and what is still current comes
back as JSON, validated in the main process. The releases left are worked
out here, their records loaded ahead over the cores. Without a cache every
release is worked out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pydantic

from rollout_tool import metrics, parallel
from rollout_tool.derived import Derived
from rollout_tool.notes import DistributionFacts, ReleaseFacts, distribution_facts, release_facts
from rollout_tool.repository import Repository, team_path

FACTS = pydantic.TypeAdapter(ReleaseFacts | None)
FIGURES = pydantic.TypeAdapter(metrics.ReleaseFigures | None)
DISTRIBUTION = pydantic.TypeAdapter(DistributionFacts | None)


@dataclass(frozen=True)
class Gathered:
    """A release's facts (None when its record is not valid), a hash of them, and its figures when asked for."""

    facts: ReleaseFacts | None
    digest: bytes
    figures: metrics.ReleaseFigures | None = None
    lacks_figures: bool = False  # read back without the figures asked for


def derived_of(repo: Repository, today: dt.date) -> Derived | None:
    """The derived values of `repo` on `today`, kept in its cache; None without one."""
    return None if repo.cache is None else Derived(repo, repo.cache, today.isoformat())


def gather(
    repo: Repository,
    named: list[tuple[str, str]],
    today: dt.date,
    jobs: int = 1,
    measure: metrics.Measurer | None = None,
    derived: Derived | None = None,
) -> list[Gathered]:
    """The facts of each (product, version) in `named`, in that order; their figures too given `measure`."""
    # Figures read every team's record (their sites, who is inactive): any team's change is theirs.
    teams_read = "" if derived is None or measure is None else _teams_hash(repo, derived)
    found: list[Gathered | None] = [None] * len(named)
    if derived is not None:
        # A release's facts and figures side by side: the process that checks one has hashed the other's files.
        names = [_facts_name(product_id, version) for product_id, version in named]
        if measure is not None:
            names = [
                name
                for facts, (product_id, version) in zip(names, named, strict=True)
                for name in (facts, _figures_name(product_id, version, teams_read))
            ]
        # Each release's kept JSON is validated here as it comes, while the workers hash the files of the next.
        kept = derived.cached_many(names, jobs)
        for index in range(len(named)):
            facts = next(kept)
            figures = None if measure is None else next(kept)
            found[index] = _kept(derived, facts, figures, measure is not None)
    # Facts kept without their figures (kept by `rollout notes`) are not worked out again; their figures are.
    missing = {release for release, hit in zip(named, found, strict=True) if hit is None or hit.lacks_figures}

    ahead = parallel.load_ahead(repo, jobs, missing) if missing else None
    try:
        for index, (product_id, version) in enumerate(named):
            hit = found[index]
            if hit is None or hit.lacks_figures:
                found[index] = _work_out(repo, derived, measure, product_id, version, today, teams_read, hit)
    finally:
        if ahead is not None:
            ahead.close()
    return [hit for hit in found if hit is not None]


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _facts_name(product_id: str, version: str) -> str:
    return f"facts {product_id}/{version}"


def _figures_name(product_id: str, version: str, teams_read: str) -> str:
    return f"figures {product_id}/{version} {teams_read}"


def _teams_hash(repo: Repository, derived: Derived) -> str:
    found = hashlib.blake2b(derived.folder_hash("teams").encode(), digest_size=16)
    for team in repo.team_ids():
        found.update(derived.document_hash(team_path(team)).encode())
    return found.hexdigest()


def _kept(derived: Derived, facts: bytes | None, figures: bytes | None, measured: bool) -> Gathered | None:
    """A release's facts (and figures) as kept by an earlier run, from their JSON; None when missing."""
    release = derived.read(facts, FACTS)
    if release is None:
        return None
    if not measured:
        return Gathered(release[0], digest(release[1]))
    found = derived.read(figures, FIGURES)
    if found is None:
        return Gathered(release[0], digest(release[1]), lacks_figures=True)
    return Gathered(release[0], digest(release[1]), found[0])


def _work_out(
    repo: Repository,
    derived: Derived | None,
    measure: metrics.Measurer | None,
    product_id: str,
    version: str,
    today: dt.date,
    teams_read: str,
    kept: Gathered | None = None,
) -> Gathered:
    """A release's facts (and figures), worked out and kept; the facts of `kept` are taken as they are."""

    def facts() -> ReleaseFacts | None:
        if repo.release(product_id, version) is None:
            return None
        return release_facts(repo, product_id, version, today)

    def figures() -> metrics.ReleaseFigures | None:
        return None if measure is None else measure(product_id, version)

    if derived is None:
        worked = facts()
        found = Gathered(worked, digest(repr(worked).encode("utf-8", "surrogateescape")), figures())
    else:
        if kept is None:
            worked, data = derived.work_out(_facts_name(product_id, version), FACTS, facts)
            kept = Gathered(worked, digest(data))
        measured = None
        if measure is not None:
            measured = derived.work_out(_figures_name(product_id, version, teams_read), FIGURES, figures)[0]
        found = Gathered(kept.facts, kept.digest, measured)
    repo.forget_reports(product_id, version)  # the facts keep what is shown of the reports
    return found


def distribution(
    repo: Repository, distribution: str, version: str, today: dt.date, derived: Derived | None = None
) -> DistributionFacts | None:
    """The facts of a distribution release and what it ships (None when its record is not valid), kept like a
    release's."""

    def work() -> DistributionFacts | None:
        if repo.distribution(distribution, version) is None:
            return None
        return distribution_facts(repo, distribution, version, today)

    return work() if derived is None else derived.get(f"distribution {distribution}/{version}", DISTRIBUTION, work)[0]

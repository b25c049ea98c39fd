"""Automated results and waivers: what a site's CI or monitoring says of a release, and what it does to the verdict.

A result is one check, run by one team's automation on one platform, for one
revision of a release: `releases/<product>/<version>/results/<team>--<check>--<platform>.yaml`,
so a re-run replaces the earlier result. A required check (the policy's
`required_checks`) holds a release on every platform it ships for:

- `fail` on the current revision blocks it, unless a coordinator's waiver for
  that check and platform still counts (`waiver_counts`: until the end of its
  `expires` day, never after);
- `pending` (still running) waits, and never reads as a failure;
- `missing` (no result on the current revision, or the automation could not
  reach its source) waits while the policy says `when_source_down: hold`, and
  is only noted when it says `ignore`.

Results of other checks are shown, and a failure among them is noted, but
they decide nothing. A result on an older revision is stale: it counts for nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from rollout_tool.placement import RESULT_SEPARATOR
from rollout_tool.problems import Problem
from rollout_tool.records import CheckResult, Outcome, Policy, Release, Waiver
from rollout_tool.repository import Document, Repository, place_of, waiver_path

# Of several teams' results for one check and platform, the one that says most: a failure first.
_PRECEDENCE = (Outcome.failed, Outcome.passed, Outcome.pending, Outcome.missing)


def waiver_counts(waiver: Waiver, today: dt.date) -> bool:
    """A waiver counts up to and including its `expires` day; the day after, it stops by itself."""
    return waiver.date <= today <= waiver.expires


def waives(waiver: Waiver | None, platform: str, today: dt.date) -> bool:
    return (
        waiver is not None and (not waiver.platforms or platform in waiver.platforms) and waiver_counts(waiver, today)
    )


@dataclass(frozen=True)
class CheckStatus:
    """One check on one platform: its outcome over the teams' current results, and what it does."""

    check: str
    platform: str
    outcome: Outcome
    required: bool
    teams: tuple[str, ...]  # the teams whose current results give the outcome
    failing: tuple[str, ...] = ()  # the failing tests they name
    waiver: Waiver | None = None  # the waiver in force, when it fails and is waived
    url: str | None = None
    since: dt.date | None = None  # the earliest date of the results that give the outcome

    @property
    def blocks(self) -> bool:
        return self.required and self.outcome is Outcome.failed and self.waiver is None

    @property
    def brief(self) -> str:
        """`functional` on el9: fail, waived until 2026-12-01 — for a one-line list."""
        waived = f", waived until {self.waiver.expires.isoformat()}" if self.waiver is not None else ""
        return f"`{self.check}` on {self.platform}: {self.outcome.value}{waived}"

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "platform": self.platform,
            "outcome": self.outcome.value,
            "required": self.required,
            "teams": list(self.teams),
            "failing": list(self.failing),
            "waived_until": self.waiver.expires.isoformat() if self.waiver is not None else None,
            "url": self.url,
        }


def statuses(
    policy: Policy, release: Release, results: list[CheckResult], waivers: Mapping[str, Waiver], today: dt.date
) -> list[CheckStatus]:
    """Every required check on every platform the release ships for, then the other checks with current results."""
    current: dict[tuple[str, str], list[CheckResult]] = {}
    for result in results:
        if result.revision == release.revision and result.platform in release.platforms:
            current.setdefault((result.check, result.platform), []).append(result)
    wanted = {(check, platform): None for check in policy.required_checks for platform in release.platforms}
    wanted.update(dict.fromkeys(sorted(current)))
    found = []
    for check, platform in wanted:
        mine = current.get((check, platform), [])
        outcome = next((o for o in _PRECEDENCE if any(r.outcome is o for r in mine)), Outcome.missing)
        giving = [r for r in mine if r.outcome is outcome]
        waiver = waivers.get(check)
        found.append(
            CheckStatus(
                check,
                platform,
                outcome,
                check in policy.required_checks,
                tuple(r.team for r in giving),
                tuple(name for r in giving for name in r.failing),
                waiver if outcome is Outcome.failed and waives(waiver, platform, today) else None,
                next((r.url for r in giving if r.url is not None), None),
                min((r.date for r in giving), default=None),
            )
        )
    return found


@dataclass(frozen=True)
class CheckReasons:
    blocking: list[str]
    waiting: list[str]
    notes: list[str]


def _by(status: CheckStatus) -> str:
    teams = ", ".join(f"`{t}`" for t in status.teams)
    return f" (team {teams})" if len(status.teams) == 1 else f" (teams {teams})" if status.teams else ""


def _failing(status: CheckStatus) -> str:
    shown = ", ".join(status.failing[:3])
    more = f" and {len(status.failing) - 3} more" if len(status.failing) > 3 else ""
    return f": {shown}{more}" if shown else ""


def reasons(policy: Policy, release: Release, found: list[CheckStatus]) -> CheckReasons:
    """Each check's effect as a sentence: what blocks, what the release waits for, what is only noted."""
    blocking, waiting, notes = [], [], []
    revision = release.revision
    for s in found:
        name = f"check `{s.check}` on {s.platform}"
        if s.outcome is Outcome.failed and s.waiver is not None:
            notes.append(
                f"{name} fails{_by(s)}, waived until {s.waiver.expires.isoformat()} by {s.waiver.by}: {s.waiver.reason}"
            )
        elif s.outcome is Outcome.failed and s.required:
            blocking.append(
                f"required {name} fails on revision {revision}{_by(s)}{_failing(s)}:"
                " fix it and run it again, or a coordinator waives it"
            )
        elif s.outcome is Outcome.failed:
            notes.append(f"{name} fails on revision {revision}{_by(s)}{_failing(s)} (not required)")
        elif s.outcome is Outcome.pending and s.required:
            waiting.append(f"required {name} is still running on revision {revision}{_by(s)}")
        elif s.outcome is Outcome.missing and s.required:
            sentence = f"required {name} has no result on revision {revision} yet"
            if policy.when_source_down == "hold":
                waiting.append(sentence)
            else:
                notes.append(f"{sentence}; the policy does not wait for it (when_source_down: ignore)")
    return CheckReasons(blocking, waiting, notes)


def judge(
    policy: Policy, release: Release, results: list[CheckResult], waivers: Mapping[str, Waiver], today: dt.date
) -> tuple[list[CheckStatus], CheckReasons]:
    found = statuses(policy, release, results, waivers, today)
    return found, reasons(policy, release, found)


def release_checks(
    repo: Repository, product: str, version: str, policy: Policy, today: dt.date
) -> tuple[CheckStatus, ...]:
    """The checks of a release outside rollout, read from its folder; none when it has no result."""
    release = repo.release(product, version)
    results = repo.results(product, version)
    if release is None or not results:
        return ()
    return tuple(statuses(policy, release, results, repo.waivers(product, version), today))


# ---------------------------------------------------------------- pull requests


def automated_paths(repo: Repository, product: str, version: str, team: str | None = None) -> list[str]:
    """The release's result and waiver files, whose validity depends on the release; with `team`, its results only."""
    folder = f"releases/{product}/{version}/results"
    if team is not None:
        mine = (name for name in repo.result_names(product, version) if name.startswith(f"{team}{RESULT_SEPARATOR}"))
        return [f"{folder}/{name}.yaml" for name in mine]
    found = [f"{folder}/{name}.yaml" for name in repo.result_names(product, version)]
    return found + [waiver_path(product, version, check) for check in repo.waiver_checks(product, version)]


def describe_automated(repo: Repository, path: str, kind: str, ids: tuple[str, ...], status: str) -> tuple[str, str]:
    """What a change to a result or a waiver does, in a line: (change kind, summary)."""
    name = f"{ids[0]}/{ids[1]}"
    doc = repo.document(path) if status != "deleted" else None
    record = doc.record if doc is not None else None
    if kind == "result":
        team, check, platform = ids[2:]
        what = f"{record.outcome.value} on revision {record.revision}" if isinstance(record, CheckResult) else "invalid"
        if status == "deleted":
            return "result-deleted", f"automated result of check `{check}` on {platform} by team `{team}` deleted"
        return (
            f"result-{status}",
            f"automated result of check `{check}` on {platform} by team `{team}` on {name}: {what}",
        )
    check = ids[2]
    if status == "deleted":
        return "waiver-deleted", f"waiver of check `{check}` on {name} deleted"
    until = f"until {record.expires.isoformat()}" if isinstance(record, Waiver) else "invalid"
    return f"waiver-{status}", f"waiver of check `{check}` on {name} {status}: {until}"


# ---------------------------------------------------------------- cross-file rules


def _release(repo: Repository, doc: Document, product: str, version: str) -> tuple[Release | None, list[Problem]]:
    """The release a result or a waiver is about, or the problem that it is not there."""
    release = repo.release(product, version)
    if release is None and not repo.has_release(product, version):
        return None, [Problem(doc.path, 1, 1, "reference", f"no release.yaml in releases/{product}/{version}/")]
    return release, []


def _ships(
    repo: Repository, doc: Document, at: tuple[str | int, ...], platform: str, release: Release, name: str
) -> Iterator[Problem]:
    if platform not in release.platforms:
        shipped = ", ".join(release.platforms)
        yield repo.problem_at(
            doc.path, at, "reference", f"{name} does not ship for {platform!r} (it ships for {shipped})"
        )


def check_result(repo: Repository, doc: Document, result: CheckResult) -> Iterator[Problem]:
    place = place_of(doc.path)
    assert place is not None
    product, version, team, check, platform = place.ids
    file_name = doc.path.rpartition("/")[2]
    for key, written, named in (
        ("team", result.team, team),
        ("check", result.check, check),
        ("platform", result.platform, platform),
    ):
        if written != named:
            message = f"{key} {written!r} does not match the file name {file_name}"
            yield repo.problem_at(doc.path, (key,), "path-mismatch", message)
    if not repo.has_team(team):
        yield repo.problem_at(doc.path, ("team",), "reference", f"no team {team!r} under teams/")
    if result.outcome is not Outcome.failed and (result.failures or result.errors):
        message = f"the result says {result.outcome.value}, but counts failures or errors"
        yield repo.problem_at(doc.path, ("outcome",), "value", message)
    release, missing = _release(repo, doc, product, version)
    yield from missing
    if release is None:
        return
    name = f"{product}/{version}"
    if team not in release.teams:
        message = f"team {team!r} is not assigned to {name}; a coordinator adds it to the release's teams first"
        yield repo.problem_at(doc.path, ("team",), "unassigned-team", message)
    if result.revision > release.revision:
        message = f"{name} has no revision {result.revision}: its current revision is {release.revision}"
        yield repo.problem_at(doc.path, ("revision",), "revision", message)
    yield from _ships(repo, doc, ("platform",), result.platform, release, name)


def check_waiver(repo: Repository, doc: Document, waiver: Waiver) -> Iterator[Problem]:
    place = place_of(doc.path)
    assert place is not None
    product, version, check = place.ids
    if waiver.check != check:
        message = f"check {waiver.check!r} does not match the file name {check}.yaml"
        yield repo.problem_at(doc.path, ("check",), "path-mismatch", message)
    if waiver.expires < waiver.date:
        message = f"the waiver expires on {waiver.expires}, before it was made ({waiver.date})"
        yield repo.problem_at(doc.path, ("expires",), "value", message)
    release, missing = _release(repo, doc, product, version)
    yield from missing
    if release is not None:
        for index, platform in enumerate(waiver.platforms):
            yield from _ships(repo, doc, ("platforms", index), platform, release, f"{product}/{version}")

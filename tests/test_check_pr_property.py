"""No sequence of changes check-pr allows leaves main invalid or walks around a gate.

Hypothesis draws sequences of pull requests (ordinary ones and every class
of attack: stale branches, `-s ours` merges of main's history, records that
break others, revision games, forged or back-dated history and decisions,
reports out of their rollout, policy and coverage picks, look-alike names)
by drawn authors, on a real git repository. Each one check-pr allows is
merged into main with git; after each merge the whole repository must
validate and every gate must have held.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rollout_tool.authorization import TEAM_MEMBER_FIELDS
from rollout_tool.commands.check_pr import check_pr
from rollout_tool.commands.validate import validate_repository
from rollout_tool.lifecycle import TRANSITIONS
from rollout_tool.policy import rollout_started
from rollout_tool.problems import has_errors
from rollout_tool.records import Config, Report, State, Team
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.repos import TEAMS, Repo, build_repo

TODAY = dt.date(2026, 11, 20)
RELEASE = "releases/arc-ce/6.19.0/release.yaml"
REPORTS = "releases/arc-ce/6.19.0/reports"
COORDINATORS = {"carla-coord", "dmitri-coord"}
AUTHORS = ["carla-coord", "dmitri-coord", "nordu-maint", "jan-cz", "ana-pt", "bob-osg", "mallory", "rollout-bot"]
DATES = ["2026-11-01", "2026-11-10", "2026-11-19", "2026-11-20", "2026-11-25", "2030-01-01"]
EXAMPLES = int(os.environ.get("ROLLOUT_PROPERTY_EXAMPLES", "12"))


def load(root: Path, path: str) -> Any:
    return yaml.safe_load((root / path).read_text())


def dump(root: Path, path: str, data: Any) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None))


# ---------------------------------------------------------------- changes a pull request may make

Draw = Callable[..., Any]  # hypothesis' data.draw
Edit = Callable[[Path, Draw, str], None]


def honest(draw: Draw) -> bool:
    """Most changes are what their author may make: an attack needs ordinary changes around it."""
    return bool(draw(st.sampled_from([True, True, False])))


def write_report(root: Path, draw: Draw, author: str) -> None:
    release = load(root, RELEASE)
    own = [team for team, (_, _, members, _) in TEAMS.items() if author in members]
    if honest(draw) and own:
        team = own[0]
        revision, date = release.get("revision", 1), "2026-11-20"
        platform = draw(st.sampled_from(TEAMS[team][3]))
    else:
        team = draw(st.sampled_from(sorted(TEAMS)))
        revision = max(1, release.get("revision", 1) + draw(st.sampled_from([0, 0, -1, 1])))
        date = draw(st.sampled_from(DATES))
        platform = draw(st.sampled_from(["el8", "el9"]))
    report = {
        "team": team,
        "revision": revision,
        "verdict": draw(st.sampled_from(["accept", "accept", "reject"])),
        "date": date,
        "environment": {"platform": platform, "arch": "x86_64", "install": "fresh"},
    }
    dump(root, f"{REPORTS}/{team}.yaml", report)


def delete_report(root: Path, draw: Draw, author: str) -> None:
    reports = sorted((root / REPORTS).glob("*.yaml")) if (root / REPORTS).is_dir() else []
    if reports:
        draw(st.sampled_from(reports)).unlink()


def edit_release(root: Path, draw: Draw, author: str) -> None:
    release = load(root, RELEASE)
    what = draw(st.sampled_from(["platforms", "revision", "type", "policy", "teams", "repository", "decision"]))
    if what == "platforms":
        release["platforms"] = draw(st.sampled_from([["el8"], ["el9"], ["el8", "el9"]]))
    elif what == "revision":
        revision = max(1, release.get("revision", 1) + draw(st.sampled_from([-1, 1, 2])))
        release["revision"] = revision
        if draw(st.booleans()):
            entry = {
                "state": release["state"],
                "date": draw(st.sampled_from(DATES)),
                "by": author,
                "revision": revision,
            }
            if draw(st.booleans()):
                entry["note"] = "rebuilt"
            release["history"].append(entry)
    elif what == "type":
        release["type"] = draw(st.sampled_from(["emergency", "major", "security"]))
    elif what == "policy":
        release["policy"] = "emergency"
    elif what == "teams":
        release["teams"] = draw(st.sampled_from([["ncg-ingrid-pt"], ["ncg-ingrid-pt", "praguelcg2", "mwt2"]]))
    elif what == "repository":
        release["repository"] = "https://example.org/arc"
    else:
        action = draw(st.sampled_from(["accept", "reject"]))
        by = draw(st.sampled_from([author, "dmitri-coord"]))
        release.setdefault("decisions", []).append(
            {"action": action, "by": by, "date": draw(st.sampled_from(DATES)), "reason": "decided"}
        )
    dump(root, RELEASE, release)


def transition(root: Path, draw: Draw, author: str) -> None:
    release = load(root, RELEASE)
    fair = honest(draw)
    if fair:
        following = [target.value for (source, target) in TRANSITIONS if source.value == release["state"]]
        target = draw(st.sampled_from(following or ["candidate"]))
        by, date = author, "2026-11-20"
    else:
        target = draw(st.sampled_from(["rollout", "accepted", "rejected", "released", "withdrawn", "candidate"]))
        by = draw(st.sampled_from([author, author, "carla-coord", "rollout-bot"]))
        date = draw(st.sampled_from(DATES))
    release["state"] = target
    release["history"].append({"state": target, "date": date, "by": by})
    if (fair and target in ("rejected", "recalled")) or draw(st.booleans()):
        action = {"rejected": "reject", "withdrawn": "withdraw", "recalled": "recall"}.get(target, "accept")
        release.setdefault("decisions", []).append(
            {
                "action": action,
                "by": by,
                "date": date if fair else draw(st.sampled_from(DATES)),
                "reason": "as discussed",
            }
        )
    if not fair and draw(st.booleans()):
        release["history"] = release["history"][1:]  # a rewritten past
    dump(root, RELEASE, release)


def edit_team(root: Path, draw: Draw, author: str) -> None:
    team = draw(st.sampled_from(sorted(TEAMS)))
    path = f"teams/{team}.yaml"
    if draw(st.integers(0, 9)) == 0:
        (root / path).unlink()
        return
    record = load(root, path)
    what = draw(st.sampled_from(["active", "platforms", "members", "contact", "site", "federation"]))
    record[what] = {
        "active": False,
        "platforms": ["el8"],
        "members": [*record["members"], "mallory"],
        "contact": "team@example.org",
        "site": "renamed",
        "federation": "WLCG",
    }[what]
    dump(root, path, record)


def new_release(root: Path, draw: Draw, author: str) -> None:
    fair = honest(draw)
    version = "6.20.0" if fair else draw(st.sampled_from(["6.20.0", "6-19-0", "6.19.0-1"]))
    entries = [{"state": "candidate", "date": "2026-11-20" if fair else draw(st.sampled_from(DATES)), "by": author}]
    if not fair and draw(st.booleans()):
        entries += [
            {"state": "rollout", "date": "2026-11-20", "by": "carla-coord"},
            {"state": "candidate", "date": "2026-11-20", "by": "dmitri-coord"},
        ]
    release = {
        "version": version,
        "type": "minor" if fair else draw(st.sampled_from(["minor", "emergency"])),
        "state": "candidate",
        "platforms": ["el9"],
        "summary": "next",
        "history": entries,
    }
    dump(root, f"releases/arc-ce/{version}/release.yaml", release)


def edit_config(root: Path, draw: Draw, author: str) -> None:
    config = load(root, "rollout.yaml")
    what = draw(st.sampled_from(["quorum", "coordinator", "platform"]))
    if what == "quorum":
        config["policy"]["quorum"] = 1
    elif what == "coordinator":
        config["coordinators"].append(author if author != "rollout-bot" else "mallory")
    else:
        del config["platforms"]["el8"]
    dump(root, "rollout.yaml", config)


def edit_product(root: Path, draw: Draw, author: str) -> None:
    path = "releases/arc-ce/product.yaml"
    product = load(root, path)
    what = draw(st.sampled_from(["policy", "group", "description", "maintainers"]))
    product[what] = {"policy": "emergency", "group": "opstools", "description": "new", "maintainers": [author]}[what]
    dump(root, path, product)


EDITS: list[Edit] = [
    write_report,
    write_report,
    delete_report,
    edit_release,
    transition,
    transition,
    edit_team,
    new_release,
    edit_config,
    edit_product,
]

MEMBERS = ["jan-cz", "eva-cz", "ana-pt", "bob-osg"]
LIKELY_AUTHORS = {
    "write_report": MEMBERS,
    "delete_report": ["carla-coord"],
    "edit_release": ["nordu-maint", "carla-coord"],
    "transition": ["carla-coord", "dmitri-coord", "nordu-maint", "rollout-bot"],
    "edit_team": MEMBERS,
    "new_release": ["nordu-maint"],
    "edit_config": ["carla-coord"],
    "edit_product": ["nordu-maint"],
}


# ---------------------------------------------------------------- the gates, checked on main after each merge


def records(root: Path) -> Repository:
    return Repository(WorkTree(root))


def check_gates(before: Repository, after: Repository, author: str) -> None:
    coordinator = author in COORDINATORS
    config_before, config_after = before.config(), after.config()
    assert isinstance(config_before, Config) and isinstance(config_after, Config)
    if not coordinator:
        assert config_before == config_after
        assert before.team_ids() == after.team_ids()
        for team in before.team_ids():
            old_team, new_team = before.team(team), after.team(team)
            assert isinstance(old_team, Team) and isinstance(new_team, Team)
            for name in Team.model_fields:
                if name not in TEAM_MEMBER_FIELDS:
                    assert getattr(old_team, name) == getattr(new_team, name), name
        old_product, new_product = before.product("arc-ce"), after.product("arc-ce")
        assert old_product is not None and new_product is not None
        assert (old_product.maintainers, old_product.policy, old_product.group) == (
            new_product.maintainers,
            new_product.policy,
            new_product.group,
        )
    for version in after.versions("arc-ce"):
        new = after.release("arc-ce", version)
        assert new is not None
        old = before.release("arc-ce", version)
        if old is None:
            assert [e.state for e in new.history] == [State.candidate] and not new.decisions
            assert new.history[0].by == author and new.history[0].date == TODAY
            if not coordinator:
                assert new.policy is None
            continue
        assert new.history[: len(old.history)] == old.history
        assert new.decisions[: len(old.decisions)] == old.decisions
        assert new.revision >= old.revision
        added = new.history[len(old.history) :]
        signed = [(e.by, e.date) for e in added] + [(d.by, d.date) for d in new.decisions[len(old.decisions) :]]
        assert all(signed_by == (author, TODAY) for signed_by in signed)
        if new.revision > old.revision:
            assert any(item.revision == new.revision and item.note for item in added)
        if new.state is not old.state:
            states = [old.state, *(item.state for item in added if item.revision is None)]
            assert all(pair in TRANSITIONS for pair in itertools.pairwise(states))
        if not coordinator:
            assert (new.policy, new.teams) == (old.policy, old.teams)
            if old.state is not State.candidate:
                assert new.platforms == old.platforms
        if new.state is State.accepted and old.state is State.rollout:
            overridden = new.decision is not None and new.decision.action == "accept"
            reports = after.reports("arc-ce", version)
            assert overridden or all(r.verdict.value == "accept" for r in reports.values())
        reports_before = before.reports("arc-ce", version)
        for team, report in after.reports("arc-ce", version).items():
            if reports_before.get(team) == report:
                continue
            assert isinstance(report, Report)
            record = before.team(team)
            started = rollout_started(new)
            assert report.revision == new.revision and report.date <= TODAY
            assert started is not None and report.date >= started
            assert record is not None and report.environment.platform in record.platforms
    if author == "mallory":
        raise AssertionError("an outsider's change was allowed")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("ROLLOUT_PROPERTY_RANDOM") is None,
)
@given(st.data())
def test_no_allowed_sequence_breaks_main_or_a_gate(data: st.DataObject) -> None:
    folder = Path(tempfile.mkdtemp(prefix="rollout-property-"))
    try:
        repo: Repo = build_repo(folder / "repo")
        root = repo.root
        for step in range(data.draw(st.integers(2, 5), label="steps")):
            edits = [data.draw(st.sampled_from(EDITS), label="edit") for _ in range(data.draw(st.integers(1, 2)))]
            # Mostly someone who may make the first edit, sometimes anyone at all.
            likely = st.sampled_from(LIKELY_AUTHORS[edits[0].__name__])
            author = data.draw(st.one_of(likely, likely, st.sampled_from(AUTHORS)), label="author")
            start = data.draw(st.sampled_from(["tip", "tip", "stale", "ours"]), label="start")
            main_commits = git(root, "rev-list", "--first-parent", "main").split()
            merges = git(root, "rev-list", "--merges", "main").split()
            if start == "stale" and len(main_commits) > 1:
                git(root, "checkout", "-q", "-b", f"pr{step}", main_commits[1])
            elif start == "ours" and merges:
                merge = data.draw(st.sampled_from(merges), label="merge")
                first, second = git(root, "rev-parse", f"{merge}^1", f"{merge}^2").split()
                git(root, "checkout", "-q", "-b", f"pr{step}", first)
                git(root, "merge", "-q", "-s", "ours", second, "-m", "ours")
            else:
                git(root, "checkout", "-q", "-b", f"pr{step}", "main")
            for edit in edits:
                edit(root, data.draw, author)
            repo.commit(f"pull request {step}")
            result = check_pr(root, "main", f"pr{step}", author, TODAY)
            git(root, "checkout", "-q", "main")
            if not result.allowed:
                event("refused")
                continue
            event(f"allowed: {author} from {start}")
            before = records(root)
            before.load_all()
            git(root, "merge", "-q", "--no-ff", f"pr{step}", "-m", f"merge pull request {step}")
            after = records(root)
            validation = validate_repository(records(root))
            assert not has_errors(validation.problems), (author, validation.problems)
            check_gates(before, after, author)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

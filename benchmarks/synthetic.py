"""A valid synthetic rollout repository of any size, for benchmarks.

    python benchmarks/synthetic.py DIR [--releases 10000] [--reports 100000] [--seed 1]

Written with plain string templates (a YAML dumper would dominate the run):
about 200 teams, 500 products, releases spread over products and every state
with a history that holds together, and realistic ~25-line reports by teams
that are assigned to the release they report on. `rollout validate` finds no
problem in the result; `tests/test_validate.py` checks that on a small one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
from pathlib import Path

TEAMS = 200
PRODUCTS = 500
RELEASES_PER_PRODUCT = 20

PLATFORMS = {
    "el7": ("Enterprise Linux 7", ["x86_64"]),
    "el8": ("Enterprise Linux 8", ["x86_64", "aarch64"]),
    "el9": ("Enterprise Linux 9", ["x86_64", "aarch64", "ppc64le"]),
    "ubuntu-22.04": ("Ubuntu 22.04 LTS", ["x86_64"]),
    "ubuntu-24.04": ("Ubuntu 24.04 LTS", ["x86_64", "aarch64"]),
}
GROUPS = {
    "arc": "ARC",
    "globus": "Globus",
    "glite": "gLite",
    "storage": "Storage",
    "opstools": "Operational tools",
    "unicore": "UNICORE",
    "cloud": "Cloud",
}
FEDERATIONS = ["EGI", "EGI", "EGI", "OSG", "WLCG", "NorduGrid"]
COORDINATORS = ["carla-coord", "dmitri-coord", "sofia-coord"]
BOT = "rollout-bot"
SERVICES = ["a-rex", "gridftp", "condor-ce", "dcache-pool", "storm-backend", "xrootd", "bdii", "apel-client"]
BATCH = ["Slurm", "HTCondor", "PBS Pro", "LSF", "SGE"]
WORKFLOWS = ["ATLAS", "CMS", "LHCb", "ALICE", "biomed", "ops"]
TESTS = ["job submission", "data staging", "accounting records", "information system", "token authentication"]

# States and how often they occur; the states after `rollout` carry reports.
STATES = [
    ("released", 55),
    ("rollout", 10),
    ("superseded", 10),
    ("accepted", 8),
    ("candidate", 7),
    ("rejected", 5),
    ("withdrawn", 3),
    ("recalled", 2),
]
PATHS = {
    "candidate": ["candidate"],
    "rollout": ["candidate", "rollout"],
    "accepted": ["candidate", "rollout", "accepted"],
    "rejected": ["candidate", "rollout", "rejected"],
    "released": ["candidate", "rollout", "accepted", "released"],
    "recalled": ["candidate", "rollout", "accepted", "released", "recalled"],
    "withdrawn": ["candidate", "withdrawn"],
    "superseded": ["candidate", "rollout", "superseded"],
}
DECISIONS = {
    "accepted": ("accept", "quorum met on every platform"),
    "released": ("accept", "quorum met on every platform"),
    "rejected": ("reject", "an EA team found the update breaks job submission"),
    "recalled": ("recall", "a regression in production after release"),
}
BASE_DATE = dt.date(2018, 1, 1)

CONFIG = """\
# yaml-language-server: $schema=schema/rollout.schema.json
name: Synthetic infrastructure
coordinators: [{coordinators}]
bot: {bot}
url: https://rollout.example.org/
platforms:
{platforms}
groups:
{groups}
policy:
  quorum: 2
  cover_platforms: true
  soak_days: 7
  report_days: 14
  escalate_days: 7
policies:
  critical: {{quorum: 3, soak_days: 14}}
  emergency: {{quorum: 1, cover_platforms: false, soak_days: 0, report_days: 2, auto_accept: true}}
type_policies:
  emergency: emergency
  security: critical
"""

TEAM = """\
# yaml-language-server: $schema=../schema/team.schema.json
name: {site} early adopters
site: {site}
federation: {federation}
members: [{members}]
contact: ea-{team}@example.org
groups: [{groups}]
platforms: [{platforms}]
active: true
"""

PRODUCT = """\
# yaml-language-server: $schema=../../schema/product.schema.json
name: {name}
group: {group}
provider: {provider}
description: >
  {name} is a synthetic middleware component used to measure how the
  rollout tool behaves on a very large repository.
maintainers: [{maintainer}]
homepage: https://example.org/{product}
"""

RELEASE = """\
# yaml-language-server: $schema=../../../schema/release.schema.json
version: "{version}"
type: {type}
state: {state}
revision: {revision}
platforms: [{platforms}]
summary: {name} {version}, a {type} update
notes: |
  Fixes for the issues reported since the previous version, and updated
  dependencies. See the changelog for details.
changelog:
  - Fixed a crash when the configuration holds an empty section
  - Updated the bundled certificates
repository: https://repo.example.org/{product}/{version}/
teams: [{teams}]
history:
{history}{decision}{supersedes}"""

REPORT = """\
# yaml-language-server: $schema=../../../../schema/report.schema.json
team: {team}
revision: {revision}
verdict: {verdict}
date: {date}
environments:
  - platform: {platform}
    arch: {arch}
    install: upgrade
    from_version: "{from_version}"
    services: [{services}]
    batch_system: {batch}
    workflows: [{workflows}]
in_production_since: {since}
tests:
  - name: {test1}
    result: pass
    notes: {jobs} jobs over 3 days without failures
  - name: {test2}
    result: {result2}
issues:
  - summary: {issue}
    severity: {severity}
    workaround: restart the service after the upgrade
    known_issue: {known}
comments: |
  Installed on the production cluster and ran the usual workload.
"""

DISTRIBUTION = """\
version: "{version}"
date: {date}
description: Synthetic distribution release {version}
state: released
releases:
{releases}"""


def _day(offset: int) -> str:
    return (BASE_DATE + dt.timedelta(days=offset)).isoformat()


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _spread(total: int, buckets: int) -> list[int]:
    """`total` split into `buckets` counts that differ by at most one."""
    if buckets <= 0:
        return []
    base, extra = divmod(total, buckets)
    return [base + (1 if index < extra else 0) for index in range(buckets)]


def generate(root: Path, releases: int = 10_000, reports: int = 100_000, seed: int = 1) -> None:
    """Write a valid repository with `releases` releases and `reports` reports under `root`."""
    rng = random.Random(seed)
    root = Path(root)
    os.makedirs(root / "teams", exist_ok=True)
    platform_ids = list(PLATFORMS)
    group_ids = list(GROUPS)

    _write(
        str(root / "rollout.yaml"),
        CONFIG.format(
            coordinators=", ".join(COORDINATORS),
            bot=BOT,
            platforms="\n".join(
                f"  {pid}: {{name: {name}, arches: [{', '.join(arches)}]}}" for pid, (name, arches) in PLATFORMS.items()
            ),
            groups="\n".join(f"  {gid}: {{name: {name}}}" for gid, name in GROUPS.items()),
        ),
    )

    team_ids = [f"site-{index:03d}" for index in range(TEAMS)]
    for index, team in enumerate(team_ids):
        _write(
            str(root / "teams" / f"{team}.yaml"),
            TEAM.format(
                team=team,
                site=f"SITE-{index:03d}",
                federation=FEDERATIONS[index % len(FEDERATIONS)],
                members=", ".join(f"admin{index}-{n}" for n in range(1 + index % 3)),
                groups=", ".join(rng.sample(group_ids, 2)),
                platforms=", ".join(sorted(rng.sample(platform_ids, 2))),
            ),
        )

    products = max(1, min(PRODUCTS, releases // RELEASES_PER_PRODUCT)) if releases else 0
    product_ids = [f"product-{index:03d}" for index in range(products)]
    # product, version, state, revision, platforms, date it entered rollout, the version before it
    plan: list[tuple[str, str, str, int, list[str], str, str]] = []
    release_fields: dict[tuple[str, str], dict[str, object]] = {}
    weights = [weight for _, weight in STATES]
    names = [state for state, _ in STATES]
    for product_index, (product, count) in enumerate(zip(product_ids, _spread(releases, products), strict=True)):
        folder = root / "releases" / product
        os.makedirs(folder, exist_ok=True)
        _write(
            str(folder / "product.yaml"),
            PRODUCT.format(
                product=product,
                name=f"Product {product_index}",
                group=group_ids[product_index % len(group_ids)],
                provider=f"Provider {product_index % 40}",
                maintainer=f"maint-{product_index % 60}",
            ),
        )
        start = product_index % 365
        for index in range(count):
            version = f"{1 + index // 10}.{index % 10}.0"
            state = rng.choices(names, weights)[0]
            revision = 2 if rng.random() < 0.1 else 1
            shipped = sorted(rng.sample(platform_ids, 2))
            day = start + index * 30
            history = "".join(
                f"  - {{state: {step}, date: {_day(day + n * 3)}, by: "
                f"{'maint-' + str(product_index % 60) if n == 0 else COORDINATORS[n % len(COORDINATORS)]}}}\n"
                for n, step in enumerate(PATHS[state])
            )
            decision = ""
            if state in DECISIONS:
                action, reason = DECISIONS[state]
                when = _day(day + (len(PATHS[state]) - 1) * 3)
                decision = (
                    f"decisions:\n  - action: {action}\n    by: carla-coord\n    date: {when}\n    reason: {reason}\n"
                )
            previous = f"{1 + (index - 1) // 10}.{(index - 1) % 10}.0" if index else "0.9.0"
            plan.append((product, version, state, revision, shipped, _day(day + 3), previous))
            release_fields[(product, version)] = dict(
                version=version,
                type="security" if index % 7 == 3 else "minor",
                state=state,
                revision=revision,
                platforms=", ".join(shipped),
                name=f"Product {product_index}",
                product=product,
                history=history,
                decision=decision,
                supersedes=f'supersedes: "{previous}"\n' if index else "",
            )
            os.makedirs(folder / version, exist_ok=True)

    eligible = [entry for entry in plan if "rollout" in PATHS[entry[2]]]
    per_release = _spread(reports, len(eligible)) if eligible else []
    assigned: dict[tuple[str, str], list[str]] = {}
    for (product, version, state, revision, shipped, entered, previous), count in zip(
        eligible, per_release, strict=True
    ):
        count = min(count, TEAMS)
        teams = sorted(rng.sample(team_ids, min(TEAMS, count + 1)))
        assigned[(product, version)] = teams
        if not count:
            continue
        reports_folder = root / "releases" / product / version / "reports"
        os.makedirs(reports_folder, exist_ok=True)
        entered_day = (dt.date.fromisoformat(entered) - BASE_DATE).days
        for team in teams[:count]:
            platform = shipped[rng.randrange(2)]
            arches = PLATFORMS[platform][1]
            verdict = "reject" if state == "rejected" and rng.random() < 0.5 else "accept"
            _write(
                str(reports_folder / f"{team}.yaml"),
                REPORT.format(
                    team=team,
                    revision=revision,
                    verdict=verdict,
                    date=_day(entered_day + 2 + rng.randrange(10)),
                    since=_day(entered_day + 1),
                    platform=platform,
                    arch=arches[rng.randrange(len(arches))],
                    from_version=previous,
                    services=", ".join(rng.sample(SERVICES, 2)),
                    batch=BATCH[rng.randrange(len(BATCH))],
                    workflows=", ".join(rng.sample(WORKFLOWS, 2)),
                    test1=TESTS[rng.randrange(len(TESTS))],
                    test2=TESTS[rng.randrange(len(TESTS))],
                    result2="fail" if verdict == "reject" else "pass",
                    jobs=100 + rng.randrange(5000),
                    issue="log rotation stops after the upgrade",
                    severity="high" if verdict == "reject" else "low",
                    known="true" if verdict == "accept" else "false",
                ),
            )

    # Releases are written last: their teams are known once the reports are placed.
    for product, version, *_ in plan:
        team_list = ", ".join(assigned.get((product, version), []))
        text = RELEASE.format(teams=team_list, **release_fields[(product, version)])
        _write(str(root / "releases" / product / version / "release.yaml"), text)

    released = [f"{product}/{version}" for product, version, state, *_ in plan if state == "released"]
    if released:
        os.makedirs(root / "distributions" / "umd", exist_ok=True)
        for index in range(max(1, len(released) // 200)):
            chosen = released[index * 200 : index * 200 + 20] or released[:20]
            _write(
                str(root / "distributions" / "umd" / f"{4 + index // 10}.{index % 10}.0.yaml"),
                DISTRIBUTION.format(
                    version=f"{4 + index // 10}.{index % 10}.0",
                    date=_day(900 + index * 30),
                    releases="".join(f"  - {{release: {name}, status: released}}\n" for name in chosen),
                ),
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("root", type=Path)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.root.exists() and any(args.root.iterdir()):
        print(f"{args.root}: not empty", file=sys.stderr)
        return 2
    generate(args.root, args.releases, args.reports, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

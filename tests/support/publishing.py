"""A richer repository for notes, feed and site: known issues, a reject, an override, a stale report."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.repos import Repo, build_repo, report_text

# A string a page must never run: it appears in a known issue and its workaround.
HOSTILE = "<script>alert('x')</script> | *bold* [link](javascript:alert(1))"
QUOTED = '"' + HOSTILE.replace('"', '\\"') + '"'
QUOTED_WORKAROUND = '"' + HOSTILE.replace('"', '\\"') + ' then restart"'

EXTRA_PRODUCT = """\
name: StoRM
group: opstools
provider: INFN
description: The StoRM storage resource manager.
maintainers: [infn-maint]
"""


def _report(
    team: str, verdict: str, platform: str, revision: int, date: str, issues: str = "", arch: str = "x86_64"
) -> str:
    text = report_text(
        team, verdict=verdict, platform=platform, revision=revision, date=date, arch=arch, from_version="1.0"
    )
    token = "fail" if verdict == "reject" else "pass"
    return (
        text
        + "    workflows: [ATLAS, CMS]\ntests:\n  - {name: submit a job, result: pass}\n"
        + f"  - {{name: token auth, result: {token}}}\n"
        + textwrap.dedent(issues)
    )


def build_rich_repo(root: Path) -> Repo:
    repo = build_repo(root)
    # arc-ce 6.18.0: released, two accepting reports, one published known issue.
    repo.write(
        "releases/arc-ce/6.18.0/release.yaml",
        textwrap.dedent(
            """\
            version: 6.18.0
            type: minor
            state: released
            platforms: [el8, el9]
            summary: ARC CE 6.18.0, a maintenance release
            notes: |
              This release fixes the accounting publisher.

              Sites running el8 should upgrade soon.
            changelog:
              - Fix the accounting publisher for APEL
              - Token support in the REST interface
            repository: https://download.nordugrid.org/repos/6
            teams: [ncg-ingrid-pt, praguelcg2]
            history:
              - {state: candidate, date: 2026-09-01, by: nordu-maint}
              - {state: rollout, date: 2026-09-02, by: carla-coord}
              - {state: accepted, date: 2026-09-20, by: carla-coord}
              - {state: released, date: 2026-09-22, by: rollout-bot}
            decisions: [{action: accept, by: carla-coord, date: 2026-09-20, reason: quorum and platforms covered}]
            """
        ),
    )
    repo.write(
        "releases/arc-ce/6.18.0/reports/ncg-ingrid-pt.yaml",
        _report(
            "ncg-ingrid-pt",
            "accept",
            "el9",
            1,
            "2026-09-10",
            """\
            issues:
              - summary: A-REX restarts lose the job queue
                severity: high
                details: After a restart the queue is rebuilt from the control directory.
                workaround: Run arcctl jobs resync after each restart.
                ticket: https://ggus.example.org/ticket/1234
                known_issue: true
              - summary: A private cosmetic glitch
                severity: low
            """,
        ),
    )
    repo.write(
        "releases/arc-ce/6.18.0/reports/praguelcg2.yaml", _report("praguelcg2", "accept", "el8", 1, "2026-09-12")
    )
    # arc-ce 6.17.0: rejected after a rejecting report.
    repo.write(
        "releases/arc-ce/6.17.0/release.yaml",
        textwrap.dedent(
            """\
            version: 6.17.0
            type: revision
            state: rejected
            platforms: [el9]
            summary: ARC CE 6.17.0
            teams: [praguelcg2]
            history:
              - {state: candidate, date: 2026-07-01, by: nordu-maint}
              - {state: rollout, date: 2026-07-02, by: carla-coord}
              - {state: rejected, date: 2026-07-15, by: carla-coord}
            decisions: [{action: reject, by: carla-coord, date: 2026-07-15, reason: jobs are lost on upgrade}]
            """
        ),
    )
    repo.write(
        "releases/arc-ce/6.17.0/reports/praguelcg2.yaml",
        _report(
            "praguelcg2",
            "reject",
            "el9",
            1,
            "2026-07-10",
            """\
            issues:
              - summary: Jobs lost on upgrade
                severity: critical
                known_issue: true
            """,
        ),
    )
    # storm 1.11.22: revision 2, a stale report, a current reject overridden by the coordinator.
    repo.write("releases/storm/product.yaml", EXTRA_PRODUCT)
    repo.write(
        "releases/storm/1.11.22/release.yaml",
        textwrap.dedent(
            """\
            version: 1.11.22
            type: security
            state: released
            revision: 2
            platforms: [el9]
            summary: StoRM 1.11.22 security update
            teams: [ncg-ingrid-pt, mwt2, praguelcg2]
            history:
              - {state: candidate, date: 2026-10-01, by: infn-maint}
              - {state: rollout, date: 2026-10-02, by: carla-coord}
              - {state: accepted, date: 2026-10-12, by: dmitri-coord}
              - {state: released, date: 2026-10-13, by: dmitri-coord}
            decisions:
              - action: accept
                by: dmitri-coord
                date: 2026-10-12
                reason: the rejecting site runs an unsupported gridftp setup
            """
        ),
    )
    repo.write(
        "releases/storm/1.11.22/reports/ncg-ingrid-pt.yaml",
        _report(
            "ncg-ingrid-pt",
            "accept",
            "el9",
            1,
            "2026-10-05",
            f"""\
            issues:
              - summary: {QUOTED}
                severity: medium
                workaround: {QUOTED_WORKAROUND}
                known_issue: true
            """,
        ),
    )
    repo.write(
        "releases/storm/1.11.22/reports/praguelcg2.yaml",
        _report("praguelcg2", "accept", "el9", 2, "2026-10-08", arch="aarch64"),
    )
    repo.write(
        "releases/storm/1.11.22/reports/mwt2.yaml",
        _report(
            "mwt2",
            "reject",
            "el9",
            2,
            "2026-10-09",
            """\
            issues:
              - summary: GridFTP transfers fail with a custom plugin
                severity: high
                workaround: Disable the plugin before upgrading.
                known_issue: true
            """,
        ),
    )
    repo.write(
        "distributions/umd/4.1.0.yaml",
        textwrap.dedent(
            """\
            version: 4.1.0
            date: 2026-10-20
            description: UMD 4.1.0 ships the autumn updates.
            state: released
            releases:
              - {release: arc-ce/6.18.0, status: released}
              - {release: storm/1.11.22, status: released}
            """
        ),
    )
    repo.commit("rich data")
    return repo

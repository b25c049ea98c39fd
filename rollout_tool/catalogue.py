"""Every rule `rollout validate` applies: its id, level, what it asks, and an example each way.

As yamllint's rules carry theirs. An example is a few files planted over
`BASE`, a small valid repository: the failing one makes the rule report, the
passing one, the same thing done right, makes nothing report. The README's
rule list is `markdown()` (print it with `python -m rollout_tool.catalogue`),
and the tests run every example.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollout_tool.loading import MAX_BYTES, MAX_DEPTH
from rollout_tool.problems import Level


@dataclass(frozen=True)
class Link:
    """A symbolic link in an example, pointing at `target`."""

    target: str


Content = str | bytes | Link
Example = dict[str, Content]


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    description: str
    failing: Example
    passing: Example


CONFIG = """\
coordinators: [carla-coord]
bot: rollout-bot
platforms:
  el9: {name: Enterprise Linux 9, arches: [x86_64]}
groups:
  arc: {name: ARC}
"""
TEAM = "name: praguelcg2\nsite: praguelcg2\nfederation: EGI\nmembers: [jan-cz]\nplatforms: [el9]\n"
PRODUCT = "name: ARC CE\ngroup: arc\nprovider: NorduGrid\ndescription: The ARC compute element.\n"
RELEASE = """\
version: 6.19.0
type: minor
state: rollout
platforms: [el9]
summary: ARC CE 6.19.0
teams: [praguelcg2]
history:
  - {state: candidate, date: 2026-11-01, by: nordu-maint}
  - {state: rollout, date: 2026-11-02, by: carla-coord}
"""
REPORT = """\
team: praguelcg2
revision: 1
verdict: accept
date: 2026-11-10
environments: [{platform: el9, arch: x86_64, install: fresh}]
"""

R = "releases/arc-ce/6.19.0"
RELEASE_PATH = f"{R}/release.yaml"
REPORT_PATH = f"{R}/reports/praguelcg2.yaml"
BASE: Example = {
    "rollout.yaml": CONFIG,
    "teams/praguelcg2.yaml": TEAM,
    "releases/arc-ce/product.yaml": PRODUCT,
    RELEASE_PATH: RELEASE,
    REPORT_PATH: REPORT,
}
MWT2 = TEAM.replace("praguelcg2", "mwt2")
DECIDED = "decisions: [{action: reject, by: carla-coord, date: 2026-11-20, reason: jobs are lost}]\n"
REJECTED = RELEASE.replace("state: rollout\n", "state: rejected\n") + (
    "  - {state: rejected, date: 2026-11-20, by: carla-coord}\n"
)
DEEP = "comments: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"

E = Level.error

RULES: list[Rule] = [
    # ------------------------------------------------ reading a file
    Rule(
        "yaml-syntax",
        E,
        "the file is YAML",
        {REPORT_PATH: REPORT + "comments: [unclosed\n"},
        {REPORT_PATH: REPORT + 'comments: "[closed]"\n'},
    ),
    Rule(
        "duplicate-key",
        E,
        "a key appears once in its mapping",
        {REPORT_PATH: REPORT + "verdict: reject\n"},
        {REPORT_PATH: REPORT.replace("verdict: accept", "verdict: reject")},
    ),
    Rule(
        "yaml-tag",
        E,
        "no explicit tags: records are plain mappings, lists and scalars",
        {REPORT_PATH: REPORT + "comments: !!binary aGk=\n"},
        {REPORT_PATH: REPORT + "comments: aGk=\n"},
    ),
    Rule(
        "yaml-alias",
        E,
        "no anchors or aliases: each value is written where it is used",
        {REPORT_PATH: REPORT + "tests:\n  - &ok {name: a, result: pass}\n  - *ok\n"},
        {REPORT_PATH: REPORT + "tests:\n  - {name: a, result: pass}\n  - {name: a, result: pass}\n"},
    ),
    Rule(
        "yaml-depth",
        E,
        f"values nest at most {MAX_DEPTH} levels deep",
        {REPORT_PATH: REPORT + DEEP},
        {REPORT_PATH: REPORT + "comments: '[[]]'\n"},
    ),
    Rule(
        "yaml-key",
        E,
        "a key is a plain scalar, not a list or a mapping",
        {REPORT_PATH: REPORT + "? [comments]\n: x\n"},
        {REPORT_PATH: REPORT + "comments: x\n"},
    ),
    Rule(
        "too-large",
        E,
        f"a record holds at most {MAX_BYTES:,} bytes",
        {REPORT_PATH: REPORT + "comments: " + "x" * MAX_BYTES + "\n"},
        {REPORT_PATH: REPORT + "comments: " + "x" * 1000 + "\n"},
    ),
    Rule(
        "binary",
        E,
        "a record is text: no NUL byte",
        {REPORT_PATH: REPORT + "comments: a\0b\n"},
        {REPORT_PATH: REPORT + "comments: a b\n"},
    ),
    Rule(
        "encoding",
        E,
        "a record is UTF-8, with no line break that YAML 1.1 parsers read differently",
        {REPORT_PATH: REPORT.encode() + b"comments: caf\xe9\n"},
        {REPORT_PATH: REPORT + "comments: caf\u00e9\n"},
    ),
    Rule("empty", E, "a record file is not empty", {REPORT_PATH: ""}, {REPORT_PATH: REPORT}),
    # ------------------------------------------------ the schema
    Rule(
        "type",
        E,
        "a value has the type its key needs (a version in quotes is text, 1.10 unquoted is a number)",
        {REPORT_PATH: REPORT + "comments: 1.10\n"},
        {REPORT_PATH: REPORT + 'comments: "1.10"\n'},
    ),
    Rule(
        "unknown-key",
        E,
        "every key is one the record knows; a misspelt one is told the key it meant",
        {REPORT_PATH: REPORT + "coments: fine\n"},
        {REPORT_PATH: REPORT + "comments: fine\n"},
    ),
    Rule(
        "required",
        E,
        "every required key is there and not empty (a release in rollout has assigned teams)",
        {REPORT_PATH: REPORT.replace("verdict: accept\n", "")},
        {REPORT_PATH: REPORT},
    ),
    Rule(
        "vocabulary",
        E,
        "a value from a fixed list is one of them, with a did-you-mean",
        {REPORT_PATH: REPORT.replace("verdict: accept", "verdict: acept")},
        {REPORT_PATH: REPORT},
    ),
    Rule(
        "format",
        E,
        "identifiers, versions, logins, addresses and URLs are written as they must be",
        {"teams/praguelcg2.yaml": TEAM + "contact: not-an-address\n"},
        {"teams/praguelcg2.yaml": TEAM + "contact: ea-team@example.org\n"},
    ),
    Rule(
        "value",
        E,
        "a value makes sense (real dates, nothing listed twice, in production before the report);"
        " a current report dated before its rollout started is a warning",
        {REPORT_PATH: REPORT + "in_production_since: 2026-11-12\n"},
        {REPORT_PATH: REPORT + "in_production_since: 2026-11-09\n"},
    ),
    # ------------------------------------------------ where files are
    Rule(
        "symlink",
        E,
        "no symbolic links anywhere in the records: commit the file itself",
        {REPORT_PATH: Link("../release.yaml")},
        {REPORT_PATH: REPORT},
    ),
    Rule(
        "misplaced-file",
        E,
        "each folder holds only the records that belong there",
        {f"{R}/notes.md": "# notes\n"},
        {"notes.md": "# notes\n"},
    ),
    Rule(
        "yml-extension",
        E,
        "records end in .yaml, not .yml",
        {"teams/mwt2.yml": MWT2},
        {"teams/mwt2.yaml": MWT2},
    ),
    Rule(
        "identifier",
        E,
        "file and folder names are lower-case identifiers (versions may hold upper case, '+' and '~')",
        {"teams/MWT2.yaml": MWT2},
        {"teams/mwt2.yaml": MWT2},
    ),
    Rule(
        "identifier-collision",
        E,
        "no two names in a folder differ only by case or by look-alike characters",
        {"teams/prague1cg2.yaml": TEAM.replace("praguelcg2", "prague1cg2")},
        {"teams/prague-cz.yaml": TEAM.replace("praguelcg2", "prague-cz")},
    ),
    Rule(
        "missing-record",
        E,
        "a product folder holds product.yaml and a release folder release.yaml",
        {"releases/dcache/9.2.0/release.yaml": RELEASE.replace("6.19.0", "9.2.0")},
        {
            "releases/dcache/product.yaml": PRODUCT.replace("ARC CE", "dCache"),
            "releases/dcache/9.2.0/release.yaml": RELEASE.replace("6.19.0", "9.2.0"),
        },
    ),
    # ------------------------------------------------ records that refer to others
    Rule(
        "path-mismatch",
        E,
        "a field that repeats an identifier of the path matches it",
        {RELEASE_PATH: RELEASE.replace("version: 6.19.0", 'version: "6.19.1"')},
        {RELEASE_PATH: RELEASE},
    ),
    Rule(
        "reference",
        E,
        "every team, product, release, group, platform and policy named exists and fits",
        {RELEASE_PATH: RELEASE.replace("teams: [praguelcg2]", "teams: [praguelcg]")},
        {RELEASE_PATH: RELEASE},
    ),
    Rule(
        "unassigned-team",
        E,
        "a report comes from a team assigned to the release",
        {"teams/mwt2.yaml": MWT2, f"{R}/reports/mwt2.yaml": REPORT.replace("praguelcg2", "mwt2")},
        {
            "teams/mwt2.yaml": MWT2,
            f"{R}/reports/mwt2.yaml": REPORT.replace("praguelcg2", "mwt2"),
            RELEASE_PATH: RELEASE.replace("teams: [praguelcg2]", "teams: [praguelcg2, mwt2]"),
        },
    ),
    Rule(
        "revision",
        E,
        "a report tests a revision the release has had",
        {REPORT_PATH: REPORT.replace("revision: 1", "revision: 2")},
        {REPORT_PATH: REPORT},
    ),
    Rule(
        "history",
        E,
        "history starts as a candidate, never goes back in time, and ends in the release's state",
        {RELEASE_PATH: RELEASE.replace("state: rollout\n", "state: accepted\n")},
        {
            RELEASE_PATH: RELEASE.replace("state: rollout\n", "state: accepted\n")
            + "  - {state: accepted, date: 2026-11-20, by: carla-coord}\n"
        },
    ),
    Rule(
        "decision",
        E,
        "a rejected or recalled release carries that decision last; reject, recall and withdraw give a reason",
        {RELEASE_PATH: REJECTED},
        {RELEASE_PATH: REJECTED + DECIDED},
    ),
]

BY_ID = {rule.id: rule for rule in RULES}


def markdown() -> str:
    """The README's rule list."""
    lines = ["| rule | level | checks that |", "| --- | --- | --- |"]
    lines += [f"| `{rule.id}` | {rule.level.value} | {rule.description} |" for rule in RULES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

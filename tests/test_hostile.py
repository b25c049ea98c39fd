"""Hostile input (DESIGN.md §11): each case gets a located, readable error and exit 1, quickly.

Every test plants one hostile file in the fixture repository (real git) and
runs the real `rollout validate`, on the whole tree and, where it makes sense,
on the planted file alone. A subprocess timeout turns a hang into a failure;
a FIFO as a link's target turns "the target was opened" into a hang.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable

import pytest

from rollout_tool.commands.validate import validate
from rollout_tool.problems import Problem
from rollout_tool.sources import GitRevision
from tests.support.repos import RELEASE, Repo, report_text

TIMEOUT = 30  # seconds of wall time: generous for a loaded machine; every case takes well under one
# Seconds of the command's own CPU time: what "within a few seconds" means here. CPU time, not wall
# time, so that other work on a shared machine does not count against the command.
FAST = 10

REPORTS = "releases/arc-ce/6.19.0/reports"
REPORT = f"{REPORTS}/praguelcg2.yaml"
VALID_REPORT = report_text("praguelcg2")  # 9 lines: what is appended lands on line 10
TEAM = "name: MWT2 EA team\nsite: MWT2\nfederation: OSG\nmembers: [bob-osg]\nplatforms: [el9]\n"

LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): \[(?P<level>\w+)\] (?P<message>.*) \((?P<rule>[\w-]+)\)$"
)


def run_validate(repo: Repo, *args: str) -> tuple[int, list[tuple[str, int, int, str]], list[str]]:
    """The real command; returns the exit code, the problems (path, line, column, rule) and their messages."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_REPO")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "rollout_tool", "validate", *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert spent < FAST, f"took {spent:.1f} s of CPU time"
    problems, messages = [], []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        assert match is not None, f"not a problem line: {line!r}"
        problems.append((match["path"], int(match["line"]), int(match["column"]), match["rule"]))
        messages.append(match["message"])
    return result.returncode, problems, messages


def plant(repo: Repo, path: str, data: bytes | str) -> None:
    target = repo.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode() if isinstance(data, str) else data)


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index, name in enumerate("bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{'abcdefghi'[index]}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# (id, path, content, [(line, column, rule)], a message the user reads, or None)
CONTENT_CASES: list[tuple[str, str, bytes | str, list[tuple[int, int, str]], str | None]] = [
    (
        "malformed",
        REPORT,
        VALID_REPORT + "tests: [a, b\n",
        [(11, 1, "yaml-syntax")],
        "while parsing a flow sequence did not find expected ',' or ']'",
    ),
    (
        "duplicate-key",
        REPORT,
        VALID_REPORT + "verdict: reject\n",
        [(10, 1, "duplicate-key")],
        "duplicate key 'verdict': each key may appear once",
    ),
    (
        "no-is-not-false",
        "teams/mwt2.yaml",
        TEAM + "active: no\n",
        [(6, 9, "type")],
        "active: expected true or false, got the string 'no' (YAML 1.2 reads no as text): write false",
    ),
    (
        "on-is-not-true",
        "teams/mwt2.yaml",
        TEAM + "active: on\n",
        [(6, 9, "type")],
        "active: expected true or false, got the string 'on' (YAML 1.2 reads on as text): write true",
    ),
    (
        "010-is-a-number",
        "releases/arc-ce/6.19.0/release.yaml",
        RELEASE.replace("version: 6.19.0", "version: 010"),
        [(2, 10, "type")],
        'version: expected text, got the number 10; write it in quotes: version: "010"',
    ),
    (
        "alias-bomb",
        REPORT,
        VALID_REPORT + billion_laughs(),
        [(11, 8, "yaml-alias")],
        "alias *a is not allowed: anchors and aliases are refused, write the value out",
    ),
    (
        "binary",
        REPORT,
        bytes(range(256)) * 64,
        [(1, 1, "binary")],
        "this is a binary file (it holds a NUL byte), not YAML text",
    ),
    (
        "not-utf-8",
        REPORT,
        VALID_REPORT.encode() + "comments: café\n".encode("latin-1"),
        [(10, 14, "encoding")],
        "not UTF-8: byte 0xe9 cannot be decoded",
    ),
    (
        "tag-python",
        REPORT,
        VALID_REPORT + 'comments: !!python/object/apply:os.system ["touch pwned"]\n',
        [(10, 11, "yaml-tag")],
        "the tag !!python/object/apply:os.system is not allowed: records use plain lists",
    ),
    (
        "tag-binary",
        REPORT,
        VALID_REPORT + "comments: !!binary aGVsbG8=\n",
        [(10, 11, "yaml-tag")],
        "the tag !!binary is not allowed: records use plain YAML values",
    ),
    (
        "tag-custom",
        REPORT,
        VALID_REPORT + "comments: !foo bar\n",
        [(10, 11, "yaml-tag")],
        "the tag !foo is not allowed: records use plain YAML values",
    ),
    (
        # A core tag on a value that is not of its type crashed the loader once.
        "tag-core-int",
        REPORT,
        VALID_REPORT + "comments: !!int abc\n",
        [(10, 11, "yaml-tag")],
        "the tag !!int is not allowed: records use plain YAML values",
    ),
    (
        "deep-flow-nesting",
        REPORT,
        VALID_REPORT + "comments: " + "[" * 100_000 + "\n",
        # The top mapping is the first level: the 32nd `[` (column 42) is the 33rd.
        [(10, 42, "yaml-depth")],
        "nested deeper than 32 levels",
    ),
    (
        "deep-block-nesting",
        REPORT,
        VALID_REPORT + "comments:\n" + "- " * 100_000 + "x\n",
        [(11, 63, "yaml-depth")],
        "nested deeper than 32 levels",
    ),
    (
        "multi-document",
        REPORT,
        VALID_REPORT + "---\n" + VALID_REPORT,
        [(10, 1, "yaml-syntax")],
        "expected a single document in the stream but found another document",
    ),
    ("empty", REPORT, "", [(1, 1, "empty")], "the file is empty: a record is a YAML mapping"),
    ("only-comments", REPORT, "# nothing yet\n", [(1, 1, "empty")], None),
    (
        "top-level-list",
        REPORT,
        "- team: praguelcg2\n",
        [(1, 1, "type")],
        "a record is a YAML mapping of keys to values, not a list",
    ),
    ("top-level-scalar", REPORT, "praguelcg2\n", [(1, 1, "type")], None),
    ("nul-byte", REPORT, VALID_REPORT + "comments: a\0b\n", [(10, 12, "binary")], None),
    (
        "very-long-line",
        REPORT,
        VALID_REPORT + "comments: " + "x" * 900_000 + "\n",
        [(10, 11, "format")],
        "comments: too long (string should have at most 100000 characters)",
    ),
    (
        "yaml-1.1-line-break",
        REPORT,
        VALID_REPORT + "comments: 'one\u2028two'\n",
        [(10, 15, "encoding")],
        None,
    ),
]


@pytest.mark.parametrize("mode", ["tree", "path"])
@pytest.mark.parametrize(
    ("path", "content", "expected", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CONTENT_CASES],
)
def test_hostile_content(
    repo: Repo,
    mode: str,
    path: str,
    content: bytes | str,
    expected: list[tuple[int, int, str]],
    message: str | None,
) -> None:
    plant(repo, path, content)
    code, problems, messages = run_validate(repo, *([path] if mode == "path" else []))
    assert code == 1
    assert problems == [(path, line, column, rule) for line, column, rule in expected]
    if message is not None:
        assert messages == [message]
    assert not (repo.root / "pwned").exists()


def test_huge_file_is_refused_by_size_without_reading_it(repo: Repo) -> None:
    # 50 MB of a valid start, then a sparse 20 GB one: reading either in
    # full would take far longer than the time allowed, and the memory.
    with open(repo.root / REPORT, "wb") as handle:
        handle.write(VALID_REPORT.encode() + b'comments: "')
        handle.truncate(50 * 1024 * 1024)
    plant(repo, f"{REPORTS}/mwt2.yaml", b"")
    with open(repo.root / f"{REPORTS}/mwt2.yaml", "wb") as handle:
        handle.truncate(20 * 1024**3)
    code, problems, messages = run_validate(repo)
    assert code == 1
    assert problems == [(f"{REPORTS}/mwt2.yaml", 1, 1, "too-large"), (REPORT, 1, 1, "too-large")]
    assert set(messages) == {"the file is larger than 1,048,576 bytes, the most a record may hold"}
    code, problems, _ = run_validate(repo, REPORT)
    assert (code, problems) == (1, [(REPORT, 1, 1, "too-large")])


# ---------------------------------------------------------------- links

LINK = "symbolic links are not allowed in a rollout repository; commit the file itself"


def test_report_linked_to_etc_passwd(repo: Repo) -> None:
    os.symlink("/etc/passwd", repo.root / REPORT)
    for args in ((), (REPORT,)):
        code, problems, messages = run_validate(repo, *args)
        assert code == 1
        assert problems == [(REPORT, 1, 1, "symlink")]
        assert messages == [LINK]
        assert not any("root" in message for message in messages)


def test_link_target_is_never_opened(repo: Repo) -> None:
    # Opening a FIFO for reading blocks until someone writes: following the
    # link would hang the command past its timeout.
    fifo = repo.root.parent / "fifo"
    os.mkfifo(fifo)
    os.symlink(fifo, repo.root / REPORT)
    for args in ((), (REPORT,)):
        code, problems, _ = run_validate(repo, *args)
        assert (code, problems) == (1, [(REPORT, 1, 1, "symlink")])


def test_linked_teams_folder(repo: Repo) -> None:
    (repo.root / "teams").rename(repo.root / "teams-real")
    os.symlink("teams-real", repo.root / "teams")
    # Were the link followed, this FIFO would be listed (and reported) or opened (and hang).
    os.mkfifo(repo.root / "teams-real" / "trap.yaml")
    code, problems, messages = run_validate(repo)
    assert code == 1
    assert ("teams", 1, 1, "symlink") in problems
    assert not any(path.startswith("teams/") for path, *_ in problems)
    assert messages[problems.index(("teams", 1, 1, "symlink"))] == LINK
    # The teams behind the link do not exist for the repository.
    assert ("releases/arc-ce/6.19.0/release.yaml", 8, 9, "reference") in problems
    code, problems, _ = run_validate(repo, "teams/mwt2.yaml")
    assert (code, problems) == (1, [("teams", 1, 1, "symlink")])


def test_link_to_a_folder_outside_the_repository(repo: Repo) -> None:
    outside = repo.root.parent / "outside"
    outside.mkdir()
    (outside / "praguelcg2.yaml").write_text("verdict: [unclosed\n")
    os.mkfifo(outside / "trap.yaml")
    for name in os.listdir(repo.root / REPORTS):
        (repo.root / REPORTS / name).unlink()
    (repo.root / REPORTS).rmdir()
    os.symlink(outside, repo.root / REPORTS)
    code, problems, messages = run_validate(repo)
    assert (code, problems, messages) == (1, [(REPORTS, 1, 1, "symlink")], [LINK])
    code, problems, _ = run_validate(repo, REPORT)
    assert (code, problems) == (1, [(REPORTS, 1, 1, "symlink")])


def test_linked_product_folder(repo: Repo) -> None:
    real = repo.root.parent / "arc-ce-elsewhere"
    (repo.root / "releases" / "arc-ce").rename(real)
    os.symlink(real, repo.root / "releases" / "arc-ce")
    code, problems, _ = run_validate(repo, "releases/arc-ce/6.19.0/release.yaml")
    assert (code, problems) == (1, [("releases/arc-ce", 1, 1, "symlink")])


def test_linked_rollout_yaml(repo: Repo) -> None:
    (repo.root / "rollout.yaml").rename(repo.root / "real.yaml")
    os.symlink("real.yaml", repo.root / "rollout.yaml")
    code, problems, messages = run_validate(repo)
    assert (code, problems, messages) == (1, [("rollout.yaml", 1, 1, "symlink")], [LINK])


def test_links_committed_to_git_are_reported_from_the_revision(repo: Repo) -> None:
    os.symlink("/etc/passwd", repo.root / REPORT)
    (repo.root / "teams").rename(repo.root / "teams-real")
    os.symlink("teams-real", repo.root / "teams")
    repo.commit("links")
    assert repo.git("ls-tree", "HEAD", "teams").startswith("120000 blob")
    assert repo.git("ls-tree", "HEAD", REPORT).startswith("120000 blob")
    # The work tree no longer has them: what is reported comes from git.
    (repo.root / REPORT).unlink()
    (repo.root / "teams").unlink()
    (repo.root / "teams-real").rename(repo.root / "teams")
    source = GitRevision(repo.root, "HEAD")
    try:
        result = validate(source)
    finally:
        source.close()
    links = [p for p in result.problems if p.rule == "symlink"]
    assert links == [Problem(REPORT, 1, 1, "symlink", LINK), Problem("teams", 1, 1, "symlink", LINK)]


def test_huge_blob_in_git_is_refused_and_the_batch_stays_in_step(repo: Repo) -> None:
    with open(repo.root / REPORT, "wb") as handle:
        handle.write(VALID_REPORT.encode() + b"comments: " + b"x" * (3 * 1024 * 1024) + b"\n")
    repo.commit("huge")
    source = GitRevision(repo.root, "HEAD")
    try:
        result = validate(source)
        # A file read after the huge one is read whole and right.
        assert source.read("teams/mwt2.yaml") == (repo.root / "teams/mwt2.yaml").read_bytes()
    finally:
        source.close()
    assert [(p.path, p.line, p.column, p.rule) for p in result.problems] == [(REPORT, 1, 1, "too-large")]


# ---------------------------------------------------------------- names and places


Setup = Callable[[Repo], None]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            lambda repo: plant(repo, "releases/arc-ce/6.19.0/praguelcg2.yaml", VALID_REPORT),
            [("releases/arc-ce/6.19.0/praguelcg2.yaml", 1, 1, "misplaced-file")],
            id="report-beside-release",
        ),
        pytest.param(
            lambda repo: plant(repo, "teams/extra/mwt3.yaml", TEAM),
            # Given the folder: the folder, and what it holds.
            [("teams/extra", 1, 1, "misplaced-file"), ("teams/extra/mwt3.yaml", 1, 1, "misplaced-file")],
            id="folder-in-teams",
        ),
        pytest.param(
            lambda repo: plant(repo, "teams/README.md", "# teams\n"),
            [("teams/README.md", 1, 1, "misplaced-file")],
            id="non-yaml-in-teams",
        ),
        pytest.param(
            lambda repo: plant(repo, f"{REPORTS}/praguelcg2.yml", VALID_REPORT),
            [(f"{REPORTS}/praguelcg2.yml", 1, 1, "yml-extension")],
            id="yml-ending",
        ),
        pytest.param(
            lambda repo: plant(repo, "teams/MWT2.yaml", TEAM),
            [("teams/MWT2.yaml", 1, 1, "identifier"), ("teams/MWT2.yaml", 1, 1, "identifier-collision")],
            id="differs-by-case",
        ),
        pytest.param(
            lambda repo: plant(repo, "teams/pr\u0430guelcg2.yaml", TEAM),
            [
                ("teams/pr\u0430guelcg2.yaml", 1, 1, "identifier"),
                ("teams/pr\u0430guelcg2.yaml", 1, 1, "identifier-collision"),
            ],
            id="cyrillic-a",
        ),
        pytest.param(
            # Both valid identifiers; the look-alike sorts first ('1' < 'l').
            lambda repo: plant(repo, "teams/prague1cg2.yaml", TEAM),
            [("teams/prague1cg2.yaml", 1, 1, "identifier-collision")],
            id="digit-one-for-l",
        ),
    ],
)
def test_names_and_places(repo: Repo, setup: Setup, expected: list[tuple[str, int, int, str]]) -> None:
    setup(repo)
    code, problems, _ = run_validate(repo, expected[0][0])
    assert (code, problems) == (1, expected)


def test_fifo_and_folder_where_records_belong(repo: Repo) -> None:
    os.mkfifo(repo.root / "teams" / "fifo.yaml")
    (repo.root / "releases/arc-ce/6.19.0/release.yaml").unlink()
    (repo.root / "releases/arc-ce/6.19.0/release.yaml").mkdir()
    code, problems, messages = run_validate(repo)
    assert code == 1
    assert problems == [
        ("releases/arc-ce/6.19.0", 1, 1, "missing-record"),
        ("releases/arc-ce/6.19.0/release.yaml", 1, 1, "misplaced-file"),
        ("releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml", 1, 1, "reference"),
        ("teams/fifo.yaml", 1, 1, "misplaced-file"),
    ]
    assert messages == [
        "releases/arc-ce/6.19.0/ has no release.yaml",
        "release.yaml must be a file",
        "no release.yaml in releases/arc-ce/6.19.0/",
        "not a regular file or folder",
    ]
    code, problems, _ = run_validate(repo, "teams/fifo.yaml")
    assert (code, problems) == (1, [("teams/fifo.yaml", 1, 1, "misplaced-file")])


def test_whole_tree_blames_one_name_of_a_look_alike_pair(repo: Repo) -> None:
    plant(repo, "teams/pr\u0430guelcg2.yaml", TEAM)
    code, problems, messages = run_validate(repo)
    assert code == 1
    assert problems == [
        ("teams/pr\u0430guelcg2.yaml", 1, 1, "identifier"),
        ("teams/pr\u0430guelcg2.yaml", 1, 1, "identifier-collision"),
    ]
    assert messages[1] == (
        "'pr\u0430guelcg2' differs from 'praguelcg2' only by look-alike characters;"
        " choose a name that cannot be mistaken for it"
    )


def test_case_collision_message(repo: Repo) -> None:
    plant(repo, "teams/MWT2.yaml", TEAM)
    _, _, messages = run_validate(repo)
    assert messages == [
        "'MWT2' is not a valid team name: use lower-case ASCII letters, digits, '.', '_' and '-',"
        " starting with a letter or digit",
        "'MWT2' differs from 'mwt2' only by case; choose a name that cannot be mistaken for it",
    ]


def test_path_outside_the_repository_is_a_usage_error(repo: Repo) -> None:
    (repo.root.parent / "elsewhere.yaml").write_text(VALID_REPORT)
    result = subprocess.run(
        [sys.executable, "-m", "rollout_tool", "validate", "../elsewhere.yaml"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"rollout: ../elsewhere.yaml: not inside the repository {repo.root}\n"


def test_names_that_are_not_utf_8_or_hold_a_line_break(repo: Repo) -> None:
    teams = os.fsencode(repo.root / "teams")
    with open(os.path.join(teams, b"\xff\xfe.yaml"), "wb") as handle:
        handle.write(TEAM.encode())
    with open(os.path.join(teams, b"new\nline.yaml"), "wb") as handle:
        handle.write(TEAM.encode())
    result = subprocess.run(
        [sys.executable, "-m", "rollout_tool", "validate", "--format", "json"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [(p["path"], p["line"], p["column"], p["rule"]) for p in problems] == [
        ("teams/new\nline.yaml", 1, 1, "identifier"),
        ("teams/\udcff\udcfe.yaml", 1, 1, "identifier"),
    ]


def test_git_revision_answers_stay_in_step_after_odd_requests(repo: Repo) -> None:
    source = GitRevision(repo.root, "HEAD")
    try:
        with pytest.raises(FileNotFoundError):
            source.read("teams")  # a tree, not a file: its body must still be drained
        with pytest.raises(FileNotFoundError):
            source.read("teams/ghost.yaml")
        with pytest.raises(FileNotFoundError):
            source.read("teams/new\nline.yaml")  # would be two requests to the batch
        assert source.listdir("teams/mwt2.yaml") == []
        assert source.listdir("nowhere") == []
        assert [entry.name for entry in source.listdir("teams")] == [
            "mwt2.yaml",
            "ncg-ingrid-pt.yaml",
            "praguelcg2.yaml",
        ]
        assert source.read("teams/mwt2.yaml") == (repo.root / "teams/mwt2.yaml").read_bytes()
    finally:
        source.close()


# A file name as git and the file system hold it, how the text format shows it,
# and how a workflow annotation names the file (GitHub's own escapes for line
# breaks, `%`, `:` and `,`; everything unprintable as its escape).
ODD_NAMES = [
    (b"new\nline", "new\\nline", "new%0Aline"),
    (b"cr\r", "cr\\r", "cr%0D"),
    (b"tab\tx", "tab\\tx", "tab\\tx"),
    (b"esc\x1b[31mred", "esc\\x1b[31mred", "esc\\x1b[31mred"),
    (b"\xff\xfe", "\\xff\\xfe", "\\xff\\xfe"),
    (b"bidi\xe2\x80\xaeflip", "bidi\\u202eflip", "bidi\\u202eflip"),
    (b"pct%0A", "pct%0A", "pct%250A"),
    (b"a::b,c", "a::b,c", "a%3A%3Ab%2Cc"),
    (b"`tick`", "`tick`", "`tick`"),
    (b"<script>", "<script>", "<script>"),
    (b"[x](https:--e.org)", "[x](https:--e.org)", "[x](https%3A--e.org)"),
    (b"@org", "@org", "@org"),
]


def plant_odd_names(repo: Repo, folder: str) -> None:
    for name, _, _ in ODD_NAMES:
        with open(os.path.join(os.fsencode(repo.root / folder), name + b".yaml"), "wb") as handle:
            handle.write(TEAM.encode() if folder == "teams" else VALID_REPORT.encode())


def run_bytes(repo: Repo, *args: str) -> tuple[int, str]:
    """The real command; its output must be UTF-8 text, whatever the names it reports."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "ROLLOUT_REPO", "ROLLOUT_TODAY")}
    result = subprocess.run(
        [sys.executable, "-m", "rollout_tool", *args], cwd=repo.root, capture_output=True, env=env, timeout=TIMEOUT
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    return result.returncode, result.stdout.decode("utf-8")


def odd_paths(folder: str, column: int) -> list[str]:
    return [f"{folder}/{names[column]}.yaml" for names in ODD_NAMES]


def check_every_format(repo: Repo, *args: str, changes: int = 0) -> None:
    """Each odd name is a located problem in text, json and github output, one line each."""
    code, output = run_bytes(repo, *args, "--format", "json")
    assert code == 1
    payload = json.loads(output)
    located = {(p["path"], p["line"], p["column"], p["rule"]) for p in payload["problems"]}
    for folder in ("teams", REPORTS):
        paths = [f"{folder}/{os.fsdecode(name)}.yaml" for name, _, _ in ODD_NAMES]
        assert {(path, 1, 1, "identifier") for path in paths} <= located

    code, output = run_bytes(repo, *args, "--format", "text")
    assert code == 1
    lines = output.splitlines()
    # One line a problem (and a change, and the verdict): no name breaks a line.
    verdict = 1 if args[0] == "check-pr" else 0
    assert len(lines) == len(payload["problems"]) + changes + verdict
    problems = {(m["path"], m["rule"]) for m in map(LINE.match, lines) if m is not None}
    for folder in ("teams", REPORTS):
        assert {(path, "identifier") for path in odd_paths(folder, 1)} <= problems

    code, output = run_bytes(repo, *args, "--format", "github")
    assert code == 1
    lines = output.splitlines()
    assert len(lines) == len(payload["problems"]) + changes + verdict
    annotated = {line.split(",line=")[0] for line in lines if line.startswith("::error file=")}
    for folder in ("teams", REPORTS):
        assert {f"::error file={path}" for path in odd_paths(folder, 2)} <= annotated
    assert all(line.isprintable() for line in lines)


def test_odd_file_names_are_located_problems_in_every_format_of_validate(repo: Repo) -> None:
    plant_odd_names(repo, "teams")
    plant_odd_names(repo, REPORTS)
    check_every_format(repo, "validate")
    repo.commit("odd names")
    check_every_format(repo, "validate", "--rev", "HEAD")


def test_odd_file_names_are_located_problems_in_every_format_of_check_pr(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    plant_odd_names(repo, "teams")
    plant_odd_names(repo, REPORTS)
    repo.commit("odd names")
    args = ("check-pr", "--base", base, "--author", "carla-coord")
    # Each new file is a change of its own: a team, a report.
    check_every_format(repo, *args, changes=2 * len(ODD_NAMES))

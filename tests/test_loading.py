"""`loading.load` reads plain scalars by the YAML 1.2.2 core schema, checked against ruamel.yaml.

ruamel.yaml's safe loader in 1.2 mode is the reference; where it departs from
the spec (https://yaml.org/spec/1.2.2/#103-core-schema) the spec decides, and
each such case is listed in SPEC_OVER_RUAMEL with the reason.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from rollout_tool import loading
from rollout_tool.commands.validate import validate
from rollout_tool.loading import MAX_BYTES, MAX_DEPTH, LoadError, load, locate
from rollout_tool.problems import Problem
from rollout_tool.sources import WorkTree
from tests.support.repos import Repo, report_text


def ruamel_load(text: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    return yaml.load(text)


def ours(text: str) -> Any:
    value = load(text.encode("utf-8"))
    assert not isinstance(value, LoadError), value
    return value


def same(left: Any, right: Any) -> bool:
    """Equal values of equal types (1, 1.0 and True are three different things), NaN equal to NaN."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


# Plain scalars where ruamel.yaml 1.2 and the spec agree.
AGREED = [
    "no",
    "No",
    "NO",
    "on",
    "off",
    "yes",
    "y",
    "n",
    "010",
    "00",
    "-0",
    "+1",
    "-17",
    "0o10",
    "0x1F",
    "0xff",
    "1.10",
    "1.",
    "-.5",
    "+.5",
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    ".inf",
    "-.inf",
    "+.inf",
    ".Inf",
    ".INF",
    ".nan",
    ".NaN",
    ".NAN",
    "~",
    "null",
    "Null",
    "NULL",
    "nUll",
    "",
    "true",
    "True",
    "TRUE",
    "tRue",
    "false",
    "FALSE",
    "0o",
    "0x",
    "0B1",
    "0O7",
    "0X1f",
    "1e3.5",
    ".e3",
    "+",
    ".",
    "1:20",
    "6.19.0",
    "1.10.0",
    "x86_64",
    "2026-11",
    "12:30:00",
]

# Where ruamel.yaml 1.2 departs from the core schema: (text, the spec's value, why).
SPEC_OVER_RUAMEL = [
    ("2026-11-25", "2026-11-25", "the core schema has no timestamp type; ruamel keeps YAML 1.1's"),
    ("2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z", "no timestamps in the core schema"),
    ("1_000", "1_000", "core-schema integers have no '_' separators (YAML 1.1 had them)"),
    ("0.1_0", "0.1_0", "core-schema floats have no '_' separators"),
    ("1_2.0", "1_2.0", "core-schema floats have no '_' separators"),
    ("0b101", "0b101", "the core schema has no binary integers (YAML 1.1 had 0b)"),
    ("-0x1F", "-0x1F", "core-schema hexadecimal integers take no sign: 0x[0-9a-fA-F]+"),
    ("+0o7", "+0o7", "core-schema octal integers take no sign: 0o[0-7]+"),
    (".5e3", 500.0, "[-+]?(\\.[0-9]+|...)([eE][-+]?[0-9]+)? matches .5e3: a float"),
    ("._", "._", "a string (ruamel raises ValueError on it)"),
]


@pytest.mark.parametrize("text", AGREED)
def test_plain_scalar_as_ruamel_yaml_12_reads_it(text: str) -> None:
    document = f"value: {text}\n"
    assert same(ours(document)["value"], ruamel_load(document)["value"])


@pytest.mark.parametrize(("text", "expected", "why"), SPEC_OVER_RUAMEL)
def test_plain_scalar_where_the_spec_overrules_ruamel_yaml(text: str, expected: Any, why: str) -> None:
    document = f"value: {text}\n"
    assert same(ours(document)["value"], expected), why
    try:
        theirs = ruamel_load(document)["value"]
    except ValueError:
        return
    # If ruamel.yaml ever follows the spec here, this case moves to AGREED.
    assert not same(theirs, expected), f"ruamel.yaml now agrees on {text!r}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no", "no"),
        ("on", "on"),
        ("010", 10),
        ("0o10", 8),
        ("0x1F", 31),
        ("1.10", 1.1),
        ("1e3", 1000.0),
        ("~", None),
        ("", None),
        ("+1", 1),
        ("-.5", -0.5),
        ("TRUE", True),
        ("False", False),
        ("2026-11-25", "2026-11-25"),
    ],
)
def test_plain_scalar_types_word_for_word(text: str, expected: Any) -> None:
    # The same facts as above without a reference implementation in between.
    assert same(ours(f"value: {text}\n")["value"], expected)


@pytest.mark.parametrize("text", ['"010"', "'no'", '"1.10"', '"true"', "'~'", '""'])
def test_quoted_scalars_are_strings(text: str) -> None:
    assert same(ours(f"value: {text}\n")["value"], ruamel_load(f"value: {text}\n")["value"])
    assert isinstance(ours(f"value: {text}\n")["value"], str)


def test_infinities_and_nan() -> None:
    values = ours("a: .inf\nb: -.Inf\nc: .NaN\n")
    assert values["a"] == math.inf and values["b"] == -math.inf and math.isnan(values["c"])


def test_keys_follow_the_same_schema() -> None:
    assert ours("010: a\nno: b\ntrue: c\n~: d\n") == {10: "a", "no": "b", True: "c", None: "d"}


def test_byte_order_mark_is_skipped() -> None:
    assert ours("\ufeffteam: mwt2\n") == {"team": "mwt2"}


# ---------------------------------------------------------------- refusals, located


@pytest.mark.parametrize(
    ("data", "line", "column", "rule"),
    [
        (b"a: 1\nb: 2\na: 3\n", 3, 1, "duplicate-key"),
        (b"env:\n  arch: x\n  arch: y\n", 3, 3, "duplicate-key"),
        (b"a: &x [1]\nb: *x\n", 2, 4, "yaml-alias"),
        (b"a: !!binary aGk=\n", 1, 4, "yaml-tag"),
        (b"a: !foo x\n", 1, 4, "yaml-tag"),
        (b"a: !!python/object/apply:os.system [ls]\n", 1, 4, "yaml-tag"),
        (b"a: !!set {x}\n", 1, 4, "yaml-tag"),
        # Core-schema tags too: `!!int abc` has no value at all, and `! 12` is a
        # string to YAML 1.2 but an integer to libyaml (it reports the
        # non-specific tag as plain): no tag, no ambiguity.
        (b"a: !!int abc\n", 1, 4, "yaml-tag"),
        (b"a: !!float x\n", 1, 4, "yaml-tag"),
        (b"a: !!bool maybe\n", 1, 4, "yaml-tag"),
        (b"a: !!str 12\n", 1, 4, "yaml-tag"),
        (b"a: ! 12\n", 1, 4, "yaml-tag"),
        (b"a: 1\nb: [x, !<tag:yaml.org,2002:int> 7]\n", 2, 8, "yaml-tag"),
        (b"!!int 5: x\n", 1, 1, "yaml-tag"),
        (b"--- !!map\na: 1\n", 1, 5, "yaml-tag"),
        (b"a: b: c\n", 1, 5, "yaml-syntax"),
        (b"a: [1, 2\n", 2, 1, "yaml-syntax"),
        (b"[" * 100, 1, MAX_DEPTH + 1, "yaml-depth"),
        (b"- " * 50_000 + b"x\n", 1, 2 * MAX_DEPTH + 1, "yaml-depth"),
        (b"? " * 50_000 + b"x\n", 1, 2 * MAX_DEPTH + 1, "yaml-depth"),
        (b"a: 1\n---\nb: 2\n", 2, 1, "yaml-syntax"),
        (b"", 1, 1, "empty"),
        (b"# only a comment\n", 1, 1, "empty"),
        (b"a: 1\nb: \xff\n", 2, 4, "encoding"),
        (b"a: 1\nb: x\x00y\n", 2, 5, "binary"),
        (b"a: " + b"x" * MAX_BYTES, 1, 1, "too-large"),
        (b"[a]: 1\n", 1, 1, "yaml-key"),
    ],
)
def test_refused_with_location(data: bytes, line: int, column: int, rule: str) -> None:
    error = load(data)
    assert isinstance(error, LoadError)
    assert (error.line, error.column, error.rule) == (line, column, rule), error


@pytest.mark.parametrize(("char", "escape"), [("\x85", "N"), ("\u2028", "L"), ("\u2029", "P")])
def test_yaml11_line_breaks_are_refused(char: str, escape: str) -> None:
    # YAML 1.1 (libyaml) folds them as line breaks, YAML 1.2 keeps them as text:
    # the same file would hold two different values. The escape is unambiguous.
    error = load(f"\ufeffteam: mwt2\ncomments: 'caf\u00e9 {char} ok'\n".encode())
    assert isinstance(error, LoadError)
    assert (error.line, error.column, error.rule) == (2, 17, "encoding")
    assert error.message.endswith(f'write it as the escape "\\{escape}" in double quotes')
    assert ours(f'comments: "a\\{escape}b"\n') == {"comments": f"a{char}b"}


def test_deep_indentation_is_refused_before_composing() -> None:
    text = "a:\n" + "".join(" " * depth + "k:\n" for depth in range(1, 200))
    error = load(text.encode())
    assert isinstance(error, LoadError) and error.rule == "yaml-depth"
    assert (error.line, error.column) == (MAX_DEPTH + 1, MAX_DEPTH + 1)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    flow = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert not isinstance(load(flow.encode()), LoadError)
    block = "".join("  " * depth + f"k{depth}:\n" for depth in range(MAX_DEPTH)) + "  " * MAX_DEPTH + "x\n"
    loaded = load(block.encode())
    assert not isinstance(loaded, LoadError), loaded


def test_billion_laughs_is_refused_at_the_first_alias() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[index]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    error = load("\n".join(lines).encode())
    assert isinstance(error, LoadError)
    assert (error.line, error.column, error.rule) == (2, 8, "yaml-alias")
    assert error.message == "alias *a is not allowed: anchors and aliases are refused, write the value out"


def test_star_in_text_is_not_an_alias() -> None:
    assert ours('a: x*y\nb: "*a"\nc: |\n  *b\n') == {"a": "x*y", "b": "*a", "c": "*b\n"}


def test_exclamation_mark_in_text_is_not_a_tag() -> None:
    assert ours('a: Works!\n# really!\nb: "!!str"\nc: x !y\n') == {"a": "Works!", "b": "!!str", "c": "x !y"}


def test_tag_message() -> None:
    error = load(b"a: !!int abc\n")
    assert isinstance(error, LoadError)
    assert error.message == "the tag !!int is not allowed: records use plain YAML values"


def test_locate_finds_values_and_keys() -> None:
    data = b"team: mwt2\nenvironment:\n  platform: el9\n  arch: x86_64\ntests:\n  - {name: a, result: pass}\n"
    assert locate(data, ("environment", "arch")) == (4, 9, "x86_64")
    assert locate(data, ("environment", "arch"), key=True) == (4, 3, "arch")
    assert locate(data, ("tests", 0, "result")) == (6, 23, "pass")
    # A missing key: the deepest node that exists.
    assert locate(data, ("environment", "services", 0))[:2] == (3, 3)


# ---------------------------------------------------------------- property: ruamel dumps, we load

_NON_STRING = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def _plain_for_ruamel(text: str) -> bool:
    """Strings that ruamel.yaml writes in a form that does not read back as the same string.

    - it writes a string unquoted when its own resolver reads it as a string;
      the core-schema float its resolver misses is the leading-dot form with an
      unsigned exponent (.5e3, see SPEC_OVER_RUAMEL);
    - it writes `?x` unquoted inside flow collections, where its own parser
      (like libyaml) reads `?` as the explicit-key indicator: `{?0: null}`
      loads as {0: None} in ruamel.yaml too;
    - it writes `:x` unquoted inside flow collections, which YAML 1.2 allows
      and libyaml refuses: a located yaml-syntax error, never another value.
    """
    return bool(re.fullmatch(r"[-+]?\.[0-9]+[eE][0-9]+", text)) or text.startswith(("?", ":"))


# U+0085, U+2028 and U+2029 are refused (see test_yaml11_line_breaks_are_refused):
# ruamel.yaml writes them raw, and libyaml would fold them as line breaks.
text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x85\u2028\u2029"), max_size=30)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    text.filter(lambda s: not _plain_for_ruamel(s)),
    st.sampled_from(["no", "on", "yes", "010", "0o10", "0x1F", "1.10", "1_000", "0b101", "2026-11-25", "~", ""]),
)
keys = st.one_of(text.filter(lambda s: bool(s) and not _plain_for_ruamel(s)), st.integers(0, 100))
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
        max_leaves=20,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_ruamel_dump_then_our_load_gives_the_same_value(document: dict[Any, Any]) -> None:
    dumper = YAML(typ="safe", pure=True)
    dumper.version = (1, 2)
    # No line wrapping: ruamel.yaml wraps a long plain key inside a flow
    # mapping over two lines (not YAML; libyaml refuses it, located), and
    # folds a double-quoted string at a point with no space, which adds one
    # (its own loader reads that back changed too).
    dumper.width = 1_000_000
    stream = io.StringIO()
    dumper.dump(document, stream)
    text = stream.getvalue()
    assert text.startswith("%YAML 1.2\n")
    assert same(ours(text), document), text


def test_plain_colon_first_scalar_in_flow_is_refused_not_misread() -> None:
    error = load(b"a: {k: :0}\n")
    assert isinstance(error, LoadError) and (error.line, error.column, error.rule) == (1, 8, "yaml-syntax")


def test_a_yaml_11_directive_does_not_bring_back_yaml_11() -> None:
    # One loader, one set of rules: a file cannot opt into `no` meaning false.
    assert ours("%YAML 1.1\n---\nactive: no\nversion: 010\n") == {"active": "no", "version": 10}


# ---------------------------------------------------------------- property: nothing raises

REPORT = (
    "team: mwt2\nrevision: 1\nverdict: accept\ndate: 2026-11-10\nenvironment:\n  platform: el9\n"
    "  arch: x86_64\n  install: upgrade\n  from_version: '6.18.0'\ntests:\n  - {name: jobs, result: pass}\n"
    'comments: |\n  fine "so far"\n'
)
YAML_BITS = ["[", "]", "{", "}", "&a ", "*a", "!!int ", "! ", "- ", "? ", ": ", "'", '"', "\n  ", "\t", "#", "%", "\\"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(REPORT.encode())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        bit = draw(st.one_of(st.sampled_from(YAML_BITS).map(str.encode), st.binary(max_size=3)))
        cut = draw(st.integers(0, 3))
        data[at : at + cut] = bit
    return bytes(data)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(mutated(), st.binary(max_size=200)))
def test_load_never_raises(data: bytes) -> None:
    from rollout_tool.repository import parse_document

    value = load(data)
    if isinstance(value, LoadError):
        assert value.line >= 1 and value.column >= 1 and value.message
    document = parse_document("releases/p/1.0/reports/mwt2.yaml", "report", data)
    for problem in document.problems:
        assert problem.line >= 1 and problem.column >= 1


# ---------------------------------------------------------------- cost: one parse per file, whatever its problems


def _validate_counting_composes(
    repo: Repo, problems: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, list[Problem]]:
    """Validate a tree whose report has `problems` schema errors and whose team has as many rule problems."""
    repo.write(
        "releases/arc-ce/6.19.0/reports/praguelcg2.yaml",
        report_text("praguelcg2")
        + "tests:\n"
        + "".join(f"  - {{name: t{i}, result: maybe}}\n" for i in range(problems)),
    )
    platforms = ", ".join(f"os{i}" for i in range(problems))
    repo.write(
        "teams/mwt2.yaml",
        f"name: MWT2 EA team\nsite: MWT2\nfederation: OSG\nmembers: [bob-osg]\ngroups: [arc]\nplatforms: [{platforms}]\n",
    )
    calls = 0
    real = loading.compose

    def counted(text: str) -> Any:
        nonlocal calls
        calls += 1
        return real(text)

    monkeypatch.setattr(loading, "compose", counted)
    found = validate(WorkTree(repo.root)).problems
    return calls, found


def test_a_file_is_composed_once_whatever_the_number_of_its_problems(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    few_calls, few = _validate_counting_composes(repo, 3, monkeypatch)
    many_calls, many = _validate_counting_composes(repo, 400, monkeypatch)
    assert (len(few), len(many)) == (6, 800)
    # Loading each file, and locating the problems of each failing file: the same count.
    assert many_calls == few_calls
    report = [p for p in many if p.path.endswith("praguelcg2.yaml")]
    team = [p for p in many if p.path == "teams/mwt2.yaml"]
    # Every problem still at its own value: entry i on line 11 + i, after `result: `.
    assert sorted((p.line, p.column) for p in report) == [
        (11 + i, len(f"  - {{name: t{i}, result: ") + 1) for i in range(400)
    ]
    line = "platforms: [" + ", ".join(f"os{i}" for i in range(400))
    assert sorted(p.column for p in team) == [line.index(f"os{i},") + 1 for i in range(399)] + [len(line) - 4]


def test_forgetting_a_document_forgets_its_positions(repo: Repo) -> None:
    from rollout_tool.repository import Repository

    tree = Repository(WorkTree(repo.root))
    path = "releases/arc-ce/6.19.0/reports/ncg-ingrid-pt.yaml"
    assert tree.problem_at(path, ("verdict",), "value", "x").line == 3
    repo.write(path, "# moved down\n" + report_text("ncg-ingrid-pt"))
    assert tree.problem_at(path, ("verdict",), "value", "x").line == 3  # one snapshot per pass
    tree.forget(path)
    assert tree.problem_at(path, ("verdict",), "value", "x").line == 4

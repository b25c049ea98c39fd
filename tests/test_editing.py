"""`editing`: the bot's and the coordinators' edits change only the lines they mean.

The property: whatever valid YAML a record holds (our own data files, and
files generated in every style YAML allows: block or flow lists, quoting,
folded and block scalars, comments after tabs, CRLF, a byte order mark), an
edit leaves every line outside the edited values as it was, and the result
reads back as the intended document.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_tool.editing import Append, Edit, EditError, ReplaceList, Scalar, SetScalar, apply
from rollout_tool.loading import compose, load

ROOT = Path(__file__).resolve().parent.parent
OWN_RELEASES = sorted(ROOT.glob("releases/*/*/release.yaml"))
TODAY = dt.date(2026, 11, 30)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _allowed(text: str, edits: list[Edit]) -> tuple[set[int], set[int]]:
    """Old lines an edit may rewrite, and the old line numbers before which it may insert lines.

    Worked out from the parsed nodes, not from the editor: a set value's
    lines; a replaced list's lines; for an appended flow list, its last entry
    to its closing bracket; insertions between a list's key and the line
    after its last entry, or anywhere for a key that is new.
    """
    body = text.removeprefix("\ufeff")
    root = compose(body)
    assert isinstance(root, yaml.MappingNode)
    rewrite: set[int] = set()
    insert: set[int] = set()
    for change in edits:
        found = [(k, v) for k, v in root.value if k.value == change.key]
        if not found:
            insert.update(range(len(_lines(text)) + 1))
            continue
        key, value = found[0]
        last_line = _last_line(body, value)
        if isinstance(change, (SetScalar, ReplaceList)):
            rewrite.update(range(value.start_mark.line, last_line + 1))
            insert.update(range(value.start_mark.line, last_line + 2))
        elif value.flow_style:
            first = value.value[-1].start_mark.line if value.value else value.start_mark.line
            rewrite.update(range(first, value.end_mark.line + 1))
            insert.update(range(first, value.end_mark.line + 2))
        else:
            insert.update(range(key.start_mark.line, last_line + 2))
    return rewrite, insert


def _last_line(text: str, node: yaml.Node) -> int:
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    # A block scalar's span runs over the line breaks after it.
    return len(_lines(text[: node.end_mark.index].rstrip(" \t\r\n"))) - 1


def _intended(document: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    result = dict(document)
    for change in edits:
        if isinstance(change, SetScalar):
            result[change.key] = plain(change.value)
        elif isinstance(change, Append):
            result[change.key] = [*result.get(change.key, []), plain(change.entry)]
        else:
            result[change.key] = list(change.items)
    return result


def check_edit(data: bytes, edits: list[Edit]) -> bytes:
    before = load(data)
    assert isinstance(before, dict)
    after = apply(data, edits)
    assert load(after) == _intended(before, edits)
    old, new = data.decode(), after.decode()
    assert old.startswith("\ufeff") == new.startswith("\ufeff")
    rewrite, insert = _allowed(old, edits)
    newline = "\r\n" if "\r\n" in old else "\n"
    if not old.endswith(("\n", "\r")):
        # Lines added after a last line without a line break give it one.
        old, new = old + newline, new if new.endswith(("\n", "\r")) else new + newline
    matcher = difflib.SequenceMatcher(None, _lines(old), _lines(new), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            assert set(range(i1, i2)) <= rewrite, (tag, i1, i2, old, new)
        elif tag == "insert":
            assert i1 in insert, (tag, i1, old, new)
    added = "".join(line for line in _lines(new) if line not in _lines(old))
    assert added.count("\n") == added.count(newline)  # new lines end as the file's lines do
    return after


# ---------------------------------------------------------------- what is written


HOSTILE_TEXT = ["no", "on", "~", "null", "1.0", "0x1f", "1_000", "12:30", "a: b", "a #b", "#x", "'q'", '"q"', "[x]"]
HOSTILE_TEXT += [
    "{x}",
    "- x",
    "x\ty",
    "two\nlines",
    " lead",
    "trail ",
    "",
    "@x",
    "`x`",
    "é ✓",
    "\u2028",
    "\x85",
    "\ufeff",
]
HOSTILE_TEXT += ["|", ">", "*x", "&x", "!x", "%x", "---", "...", "a,b", "x\\y", "\x00", "\x7f", "😀"]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_a_value_that_yaml_would_read_otherwise_is_quoted(text: str) -> None:
    data = b"state: rollout\nhistory: [{state: candidate}]\nteams:\n  - a\n"
    edits: list[Edit] = [
        SetScalar("state", text),
        Append("history", {"state": "rollout", "note": text}),
        Append("decisions", {"action": "accept", "reason": text}),
        ReplaceList("teams", (text, "b")),
    ]
    after = check_edit(data, edits)
    # What other YAML readers (1.1, PyYAML's own) see is the same string.
    if "\x85" not in text and "\u2028" not in text:
        assert yaml.safe_load(after)["state"] == text


def test_a_date_is_written_as_an_iso_date() -> None:
    after = apply(b"history:\n  - {state: candidate, date: 2026-11-01}\n", [Append("history", {"date": TODAY})])
    assert after == b"history:\n  - {state: candidate, date: 2026-11-01}\n  - {date: 2026-11-30}\n"


def test_a_file_that_does_not_load_is_refused_with_its_place() -> None:
    with pytest.raises(EditError, match=r"^x.yaml:2:1: cannot be edited"):
        apply(b"state: a\n\tstate: b\n", [SetScalar("state", "c")], name="x.yaml")


def test_a_value_of_another_kind_is_refused() -> None:
    with pytest.raises(EditError, match=r"`history` is not a list"):
        apply(b"history: none\n", [Append("history", {"state": "x"})])
    with pytest.raises(EditError, match=r"`state` is not a single value"):
        apply(b"state: [a]\n", [SetScalar("state", "x")])


def test_an_unchanged_value_keeps_its_quotes() -> None:
    data = b"state: 'rollout'\nrevision: 2\n"
    assert apply(data, [SetScalar("state", "rollout"), SetScalar("revision", 2)]) == data


# ---------------------------------------------------------------- our own data


STATES = ["candidate", "rollout", "accepted", "rejected", "released", "recalled", "withdrawn", "superseded"]


@pytest.mark.parametrize("path", OWN_RELEASES, ids=[str(p.relative_to(ROOT / "releases").parent) for p in OWN_RELEASES])
def test_every_edit_of_our_own_releases_touches_only_its_lines(path: Path) -> None:
    data = path.read_bytes()
    document = load(data)
    assert isinstance(document, dict)
    target = next(s for s in STATES if s != document["state"])
    entry: dict[str, Scalar] = {"state": target, "date": TODAY, "by": "rollout-bot"}
    decision: dict[str, Scalar] = {
        "action": "accept",
        "by": "carla-coord",
        "date": TODAY,
        "reason": "el9: covered; see #12",
    }
    cases: list[list[Edit]] = [
        [SetScalar("state", target), Append("history", entry)],
        [SetScalar("revision", document.get("revision", 1) + 1, after=("state",)), Append("history", entry)],
        [Append("decisions", decision, after=("history",))],
        [ReplaceList("teams", ("praguelcg2", "ncg-ingrid-pt"), after=("platforms",))],
        [ReplaceList("teams", (), after=("platforms",))],
    ]
    for edits in cases:
        check_edit(data, edits)
        check_edit(data.replace(b"\n", b"\r\n"), edits)


# ---------------------------------------------------------------- generated files


WORDS = st.sampled_from(["el8", "el9", "arc", "ce", "token", "fix", "no", "on", "1.0", "x86_64", "a-b", "null"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


@st.composite
def scalars(draw: st.DrawFn, value: str, indent: str, *, flow: bool) -> str:
    forms = [json.dumps(value), "'" + value.replace("'", "''") + "'"]
    if load(f"v: {value}".encode()) == {"v": value} and not any(c in value for c in ",[]{}#:"):
        forms.append(value)
    if " " in value and value.strip() == value and "  " not in value:
        head, _, tail = value.partition(" ")
        forms.append(json.dumps(head)[:-1] + "\n" + indent + "  " + tail + '"')  # folded over two lines
    if not flow:
        forms.append("|-\n" + indent + "  " + value) if value.strip() == value and value else None
    return draw(st.sampled_from(forms))


def comment(draw: st.DrawFn, written: str = "") -> str:
    if written.startswith("|"):
        return ""  # a block scalar's lines run to the end of the line
    return draw(st.sampled_from(["", "", " # c", "\t# after a tab", "  #: odd ' comment"]))


@st.composite
def block_list(draw: st.DrawFn, items: list[Any], indent: str) -> str:
    dash = indent + draw(st.sampled_from(["", "  ", "    "]))
    lines = []
    for item in items:
        if draw(st.booleans()):
            lines.append(f"{dash}# a comment between entries\n")
        if isinstance(item, dict):
            if draw(st.booleans()):
                pairs = [f"{k}: {draw(scalars(v, dash, flow=True))}" for k, v in item.items()]
                lines.append(f"{dash}- {{{', '.join(pairs)}}}{comment(draw)}\n")
            else:
                keys = dash + " " * draw(st.sampled_from([2, 4]))
                for n, (k, v) in enumerate(item.items()):
                    lead = dash + "-" + " " * (len(keys) - len(dash) - 1) if n == 0 else keys
                    written = draw(scalars(v, keys, flow=False))
                    lines.append(f"{lead}{k}: {written}{comment(draw, written)}\n")
        else:
            written = draw(scalars(item, dash, flow=False))
            lines.append(f"{dash}- {written}{comment(draw, written)}\n")
    return "\n" + "".join(lines)


@st.composite
def flow_list(draw: st.DrawFn, items: list[Any]) -> str:
    def written(item: Any) -> str:
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k}: {draw(scalars(v, '  ', flow=True))}" for k, v in item.items()) + "}"
        return str(draw(scalars(item, "  ", flow=True)))

    if not items or draw(st.booleans()):
        return " [" + ", ".join(written(item) for item in items) + "]" + comment(draw) + "\n"
    entries = [f"  {written(item)}," for item in items]
    if draw(st.booleans()):
        entries[-1] = entries[-1][:-1]
    return " [\n" + "\n".join(entry + comment(draw) for entry in entries) + "\n]\n"


@st.composite
def documents(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    history = draw(
        st.lists(
            st.fixed_dictionaries(
                {"state": st.sampled_from(STATES), "date": st.just("2026-11-01"), "by": WORDS},
                optional={"note": TEXT},
            ),
            min_size=1,
            max_size=3,
        )
    )
    fields: dict[str, Any] = {
        "version": draw(st.sampled_from(["6.19.0", "1.9.1~rc1", "2.0"])),
        "state": draw(st.sampled_from(STATES)),
        "summary": draw(TEXT),
        "teams": draw(st.lists(st.sampled_from(["ncg", "prague", "mwt2"]), unique=True, max_size=3)),
        "history": history,
    }
    if draw(st.booleans()):
        fields["revision"] = draw(st.integers(1, 9))
    if draw(st.booleans()):
        fields["notes"] = draw(st.lists(TEXT, min_size=1, max_size=3).map(lambda lines: "\n".join(lines) + "\n"))
    order = draw(st.permutations(list(fields)))
    text = "# a release\n" if draw(st.booleans()) else ""
    for key in order:
        value = fields[key]
        if isinstance(value, list):
            style = draw(st.sampled_from(["flow", "block"])) if value else "flow"
            body = draw(flow_list(value) if style == "flow" else block_list(value, ""))
            text += f"{key}:{body}"
        elif key == "notes":
            chomp = draw(st.sampled_from(["|", "|+", ">"]))
            lines = value.rstrip("\n").split("\n")
            sep = "\n\n  " if chomp == ">" else "\n  "
            text += f"notes: {chomp}{comment(draw)}\n  " + sep.join(lines) + "\n"
            if chomp == "|+" and draw(st.booleans()):
                text += "\n"
                fields["notes"] = value + "\n"
        elif isinstance(value, int):
            text += f"{key}: {value}{comment(draw)}\n"
        else:
            written = draw(scalars(value, "", flow=False))
            text += f"{key}: {written}{comment(draw, written)}\n"
        if draw(st.integers(0, 5)) == 0:
            text += "# between keys\n\n"
    if order[-1] != "notes" and draw(st.booleans()):
        text = text.rstrip("\n")
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    data = text.encode()
    assert load(data) == fields, text
    return data, fields


EDITS = st.lists(
    st.one_of(
        st.builds(SetScalar, st.just("state"), st.sampled_from(STATES)),
        st.builds(SetScalar, st.just("revision"), st.integers(1, 20), st.just(("state",))),
        st.builds(
            Append,
            st.just("history"),
            st.fixed_dictionaries({"state": st.sampled_from(STATES), "date": st.just(TODAY), "by": WORDS}),
        ),
        st.builds(
            Append,
            st.just("decisions"),
            st.fixed_dictionaries({"action": st.just("reject"), "by": WORDS, "reason": st.sampled_from(HOSTILE_TEXT)}),
            st.just(("history",)),
        ),
        st.builds(ReplaceList, st.just("teams"), st.lists(WORDS, unique=True, max_size=3).map(tuple)),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), EDITS)
def test_every_edit_of_any_valid_file_touches_only_its_lines(
    document: tuple[bytes, dict[str, Any]], edits: list[Edit]
) -> None:
    data, _ = document
    # One edit at a time, so that each is judged against the nodes it edits.
    for change in edits:
        data = check_edit(data, [change])

"""Text from records and file names reaches GitHub inert (DESIGN.md §7): shown as written, never obeyed.

Everything the bot writes is parsed here by a real CommonMark renderer with
GitHub's extensions (markdown-it-py: tables, strikethrough, bare-address
links, task lists), and what GitHub links after parsing (mentions, issue
references, `www.` addresses) is looked for in the text it leaves. No link,
image, raw HTML, heading, task box or mention may come from record text; the
text itself must read as it was written (zero-width joiners aside).
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.tasklists import tasklists_plugin

from rollout_tool import markdown, policy
from rollout_tool.github import messages
from rollout_tool.repository import Repository
from rollout_tool.sources import WorkTree
from tests.support.repos import PRODUCT, RELEASE, Repo, report_text

ROOT = Path(__file__).resolve().parent.parent
REPORTS = "releases/arc-ce/6.19.0/reports"

# GitHub links bare `http(s)://` and `www.` addresses and e-mail addresses;
# linkify-it's fuzzy links (`example.org`) are not GitHub's, the `www.` ones
# are looked for below.
GFM = MarkdownIt("gfm-like").use(tasklists_plugin)
GFM.linkify.set({"fuzzy_link": False})

# What GitHub links in the text Markdown leaves, outside code and links.
MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][A-Za-z0-9-]*)")
REFERENCE = re.compile(r"(?<![\w&])#[0-9]|\bGH-[0-9]", re.IGNORECASE)
ADDRESS = re.compile(r"\bwww\.|\b[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass
class Rendered:
    """What a Markdown text becomes: its structure, and the text a reader sees."""

    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""


TASK_BOX = '<input class="task-list-item-checkbox"'  # what the task-list plugin writes for `- [ ]`


def render(source: str) -> Rendered:
    found = Rendered()
    seen: list[str] = []
    tokens = GFM.parse(source)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            found.headings.append(tokens[index + 1].content)
        elif token.type == "html_block":
            found.html.append(token.content)
        elif token.type.endswith("_open") and token.type != "paragraph_open":
            found.blocks.append(token.type)
        if token.type == "list_item_open" and "task-list-item" in str(token.attrs.get("class", "")):
            found.tasks.append(tokens[index + 2].content)
        if token.type == "inline":
            _inline(token.children or [], found, seen)
            seen.append("\n")
    found.text = "".join(seen).replace(markdown.ZWJ, "")
    return found


def _inline(children: list[Token], found: Rendered, seen: list[str]) -> None:
    in_link = 0
    for child in children:
        if child.type == "link_open":
            found.links.append(str(child.attrs["href"]))
            in_link += 1
        elif child.type == "link_close":
            in_link -= 1
        elif child.type == "image":
            found.images.append(str(child.attrs["src"]))
        elif child.type == "html_inline" and not child.content.startswith(TASK_BOX):
            found.html.append(child.content)
        elif child.type == "code_inline":
            found.code.append(child.content)
            seen.append(child.content)
        elif child.type == "text":
            seen.append(child.content)
            if not in_link:
                found.mentions += MENTION.findall(child.content)
                found.references += REFERENCE.findall(child.content) + ADDRESS.findall(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            seen.append("\n")


def assert_inert(rendered: Rendered, *, links: tuple[str, ...] = (), headings: tuple[str, ...] = ()) -> None:
    assert rendered.images == []
    assert rendered.html == []
    assert rendered.headings == list(headings)
    assert rendered.tasks == []
    assert rendered.mentions == []
    assert rendered.references == []
    assert rendered.links == list(links)


HOSTILE = [
    "# Heading",
    "###### small heading",
    "- [x] done",
    "* [ ] open",
    "+ item",
    "1. first",
    "2) second",
    "> quoted",
    "---",
    "===",
    "@org/team and @user please look",
    "mail admin@example.org",
    "fixes #123, see owner/repo#4 and GH-56",
    "[click](https://evil.example)",
    "![pixel](https://evil.example/p.png)",
    "[ref]: https://evil.example",
    "[x][ref]",
    "<https://evil.example>",
    "<mailto:a@b.c>",
    "www.evil.example/path",
    "HTTPS://EVIL.EXAMPLE",
    "ftp://files.example/x",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<!-- hidden --> shown",
    "&lt;script&gt; &amp; &#64;user &#x23;1",
    "| a | b |",
    "**bold** _em_ ~~strike~~ ~sub~",
    "back\\slash \\* \\[ \\",
    "trailing two spaces  ",
    "`unclosed code",
    "x` ![i](https://e.x/i.png) `",
    ":shipit: :+1:",
    "a\nb\r\nc\u2028d",
]


# A bare http(s) address that passes the records' URL check may stay a link
# (and only that address, never the label or image around it).
LINKED = {
    "[click](https://evil.example)": ("https://evil.example",),
    "![pixel](https://evil.example/p.png)": ("https://evil.example/p.png",),
    "[ref]: https://evil.example": ("https://evil.example",),
    "<https://evil.example>": ("https://evil.example",),
}


@pytest.mark.parametrize("value", HOSTILE)
def test_text_shows_hostile_strings_as_written(value: str) -> None:
    rendered = render(markdown.text(value))
    assert_inert(rendered, links=LINKED.get(value, ()))
    assert rendered.blocks == []
    if "`" not in value and "<http" not in value:  # code spans and autolinks as meant
        assert rendered.text == " ".join(value.split()) + "\n"


@pytest.mark.parametrize("value", HOSTILE)
def test_text_in_a_table_cell_stays_in_its_cell(value: str) -> None:
    rendered = render(f"| head |\n| --- |\n| {markdown.text(value, table=True)} |\n")
    assert_inert(rendered, links=LINKED.get(value, ()))
    assert rendered.blocks.count("td_open") == 1
    if "`" not in value and "<http" not in value:
        assert rendered.text == "head\n" + " ".join(value.split()) + "\n"


FRAGMENTS = ["#", "# ", "- ", "[x]", "[", "]", "(", ")", "!", "<", ">", "`", "``", "@", "a", "1", ". ", "|",
             "*", "_", "~", "\\", "&", ";", "www.", "https://e.x", ":", "/", " ", "\n", "-->", "<!--", "GH-"]  # fmt: skip


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_no_string_gains_structure(value: str) -> None:
    rendered = render(markdown.text(value))
    assert rendered.images == [] and rendered.html == [] and rendered.headings == [] and rendered.tasks == []
    assert rendered.mentions == [] and rendered.references == [] and rendered.blocks == []
    # A bare https:// address may stay a link: the only kind that passes the records' URL check.
    assert all(link.startswith("https://e.x") for link in rendered.links)
    if "`" not in value and "<http" not in value:
        shown = " ".join(value.split())
        assert rendered.text == (shown + "\n" if shown else "")


@pytest.mark.parametrize("value", ["a`b", "``", "` x `", "`", " lead", "x ``` y", "a|b", "<b>&amp;</b> @u #1"])
def test_a_code_span_holds_any_text_exactly(value: str) -> None:
    for table in (False, True):
        span = markdown.code(value, table=table)
        source = f"| h |\n| - |\n| {span} |\n" if table else span
        rendered = render(source)
        assert rendered.code == [value]
        assert rendered.links == rendered.html == rendered.mentions == []


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="`| <>@#[]()!\\ab\n", min_size=1, max_size=12), st.booleans())
def test_any_text_in_a_code_span_reads_back_exactly(value: str, table: bool) -> None:
    span = markdown.code(value, table=table)
    rendered = render(f"| h |\n| - |\n| {span} |\n" if table else span)
    assert rendered.code == [value.replace("\n", " ")]


def test_free_text_keeps_its_paragraphs_and_lists_and_nothing_else() -> None:
    rendered = render(markdown.block("Upgrade first.\n\n- [x] stop a-rex\n* then `start`\n# Heading\n1. one\n> quote"))
    assert_inert(rendered)
    assert rendered.blocks == ["bullet_list_open", "list_item_open", "list_item_open"]
    assert rendered.code == ["start"]
    assert rendered.text == "Upgrade first.\n[x] stop a-rex\nthen start\n# Heading\n1. one\n> quote\n"


def test_a_records_intended_code_spans_still_read_as_code() -> None:
    rendered = render(markdown.text("restart `a-rex` then run ``grep `x` log``"))
    assert rendered.code == ["a-rex", "grep `x` log"]
    assert "\\" not in rendered.text
    assert rendered.text == "restart a-rex then run grep `x` log\n"


@pytest.mark.parametrize(
    "url",
    [
        'https://x.example/a>"<script>alert(1)</script>',
        "https://x.example/a b",
        "javascript:alert(1)",
        "https://x.example/\x01",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_a_link_is_made_only_from_a_validated_url(url: str) -> None:
    rendered = render(markdown.link(url))
    assert rendered.links == [] and rendered.html == [] and rendered.images == []


def test_a_validated_url_is_one_link_even_in_a_table() -> None:
    url = "https://ggus.example.org/ticket?id=1|2&x=(3)"
    rendered = render(f"| h |\n| - |\n| {markdown.link(url)} |\n")
    assert rendered.links == ["https://ggus.example.org/ticket?id=1%7C2&x=(3)"]
    assert rendered.blocks.count("td_open") == 1


# ------------------------------------------------------------------ where the bot writes


SITE = "MWT2 @org/team\n# Heading\n- [x] done <img src=x> [x](https://evil.example)"


def test_a_teams_site_shows_as_written_in_the_tracking_issue(repo: Repo) -> None:
    repo.write(
        "teams/praguelcg2.yaml",
        f"name: praguelcg2 EA team\nsite: {json.dumps(SITE)}\nfederation: EGI\n"
        "members: [jan-cz, eva-cz]\ngroups: [arc]\nplatforms: [el8, el9]\n",
    )
    issue = messages.tracking_issue(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", TODAY)
    rendered = render(issue.body)
    # The bot's own structure: its two headings and one task box per assigned team, unticked
    # but for the team that reported; its mentions are the members' validated logins.
    assert rendered.headings == ["Reports", "Verdict: waiting"]
    assert len(rendered.tasks) == 2
    assert sorted(rendered.mentions) == ["ana-pt", "eva-cz", "jan-cz"]
    assert rendered.html == [messages.tracking_marker("arc-ce", "6.19.0") + "\n"]
    assert rendered.images == []
    assert rendered.links == ["https://evil.example"]  # the bare address only, not `[x](...)` as a whole
    assert f"praguelcg2 ({' '.join(SITE.split())}): @jan-cz @eva-cz" in rendered.text


def test_a_reminder_shows_the_products_name_as_written(repo: Repo) -> None:
    repo.write("releases/arc-ce/product.yaml", PRODUCT.replace("name: ARC CE", f"name: {json.dumps(SITE)}"))
    late = policy.LateTeam("praguelcg2", TODAY, 3, escalate=True)
    text = messages.reminder(Repository(WorkTree(repo.root)), "arc-ce", "6.19.0", late)
    rendered = render(text)
    assert rendered.headings == rendered.tasks == rendered.html == rendered.images == []
    # The bot's own mentions: the team's members, then the coordinators.
    assert rendered.mentions == ["jan-cz", "eva-cz", "carla-coord", "dmitri-coord"]
    assert " ".join(SITE.split()) in rendered.text
    assert rendered.code == ["praguelcg2", f"{REPORTS}/praguelcg2.yaml"]


TODAY = __import__("datetime").date(2026, 11, 20)

ODD_NAMES = ["[x](https:--e.org)", "![i](x.png)", "a`b", "``", "` <img src=x> `", "<b>", "@org-team", "#12", "x|y"]


def test_file_names_in_the_comment_show_as_written(repo: Repo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD")
    for name in ODD_NAMES:
        repo.write(f"{REPORTS}/{name}.yaml", report_text("praguelcg2"))
    repo.commit("odd names")
    check = repo.rollout("check-pr", "--base", base, "--author", "carla-coord", "--format", "markdown")
    assert check.returncode == 1, check.stderr
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "comment.md").write_text(check.stdout)
    rendered = render((tmp_path / "out" / "comment.md").read_text())
    assert_inert(rendered, headings=("Rollout check: refused ❌",))
    # Each problem's path reads as written (a name with backticks shows them as a code span's edges).
    for name in ODD_NAMES:
        if "`" not in name:
            assert f"{REPORTS}/{name}.yaml:1" in rendered.text


# ------------------------------------------------------------------ the release notes


def test_a_ticket_url_that_could_end_its_link_is_refused(repo: Repo) -> None:
    for ticket in ["https://t.example/1><script>alert(1)</script>", "https://t.example/a b", 'https://t.example/"x']:
        repo.write(
            f"{REPORTS}/praguelcg2.yaml",
            report_text("praguelcg2")
            + f"issues:\n  - summary: s\n    severity: low\n    ticket: {json.dumps(ticket)}\n",
        )
        result = repo.rollout("validate", "--format", "json", f"{REPORTS}/praguelcg2.yaml")
        problems = json.loads(result.stdout)["problems"]
        assert result.returncode == 1
        assert [(p["line"], p["column"], p["rule"]) for p in problems] == [(13, 13, "format")]
        assert problems[0]["message"].endswith(
            "is not an http:// or https:// URL without spaces, quotes or angle brackets"
        )


HOSTILE_TEXT = "@org/team #12 <script>alert(1)</script> [x](https://evil.example) ![i](https://evil.example/i.png)"


def test_the_notes_show_hostile_record_text_as_written(repo: Repo) -> None:
    hostile = json.dumps(HOSTILE_TEXT)
    repo.write(
        "releases/arc-ce/6.19.0/release.yaml",
        RELEASE.replace("summary: ARC CE 6.19.0 with token support", f"summary: {json.dumps('# ' + HOSTILE_TEXT)}")
        + f"notes: {json.dumps('- [x] ' + HOSTILE_TEXT + chr(10) + '# Heading' + chr(10) + '<!-- hidden -->')}\n"
        + f"changelog: [{hostile}]\nrepository: https://repo.example/arc\n",
    )
    repo.write(
        f"{REPORTS}/praguelcg2.yaml",
        report_text("praguelcg2")
        + textwrap.dedent(
            f"""\
            issues:
              - summary: {hostile}
                severity: high
                details: {hostile}
                workaround: {json.dumps("run `systemctl restart a-rex` " + HOSTILE_TEXT)}
                ticket: https://ggus.example.org/ticket/1234
                known_issue: true
            """
        ),
    )
    repo.write(
        "teams/praguelcg2.yaml",
        f"name: praguelcg2\nsite: {hostile}\nfederation: EGI\nmembers: [jan-cz]\ngroups: [arc]\nplatforms: [el9]\n",
    )
    assert repo.rollout("validate").returncode == 0, repo.rollout("validate").stdout
    result = repo.rollout("notes", "arc-ce/6.19.0", "--today", "2026-11-20")
    assert result.returncode == 0, result.stderr
    rendered = render(result.stdout)
    assert rendered.images == rendered.html == rendered.references == []
    # The template's own mentions: the logins of the history, which the records validated.
    assert sorted(set(rendered.mentions)) == ["carla-coord", "nordu-maint"]
    assert rendered.tasks == []
    # Links only from URLs that pass the records' check: the ticket, the repository, and the
    # bare addresses in the text (never their labels, never as images); headings only the template's.
    assert sorted(set(rendered.links)) == [
        "https://evil.example",
        "https://evil.example/i.png",
        "https://ggus.example.org/ticket/1234",
        "https://repo.example/arc",
    ]
    assert HOSTILE_TEXT.replace(" #12", "") not in rendered.headings
    assert all(not heading.startswith(("Heading", "@org")) for heading in rendered.headings)
    assert rendered.text.count(HOSTILE_TEXT) >= 6  # summary, notes, changelog, issue, details, site...
    assert "systemctl restart a-rex" in rendered.code

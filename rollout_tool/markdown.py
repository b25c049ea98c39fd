"""Text from records and file names as inert GitHub-flavoured Markdown.

Whatever a record or a file name holds is shown as written wherever the bot
writes (comments, tracking issues, release bodies) and in the release notes:
it never becomes HTML, a link or an image, a heading, a list item or a ticked
box, a table cell of its own, a mention or an issue reference. Only what the
tool builds itself has structure: code spans the writer meant (balanced
backticks), links to URLs that pass the records' own validation, and the
bot's deliberate mentions of validated logins (not made here).

Backslash escapes are used only where CommonMark hides them from the reader
(before ASCII punctuation); where an escape would not work, because GitHub
links mentions, issue references and bare addresses after Markdown is parsed,
an invisible zero-width joiner breaks the pattern instead.
"""

from __future__ import annotations

import re

from rollout_tool.records import URL_PATTERN

_URL = re.compile(URL_PATTERN)

ZWJ = "\u200d"

# Inline punctuation that makes structure: emphasis, links and images, code,
# tables, strikethrough, raw HTML and entities (as entities), escapes.
_ESCAPED = {char: "\\" + char for char in "\\`*_[]|~!"}
_ESCAPED.update({"<": "&lt;", ">": "&gt;", "&": "&amp;"})
_INLINE = re.compile(r"[\\`*_\[\]|~!<>&]")

# What GitHub turns into links after parsing, found in plain text: bare
# addresses (only validated http(s) ones are kept, as explicit autolinks),
# mentions and e-mail addresses, issue and pull-request references.
_BARE_URL = re.compile(
    r"<(?P<autolink>https?://[^\s<>\"\x00-\x1f\x7f]+)>"  # written as an autolink: kept as one
    r"|https?://[^\s<>\"\x00-\x1f\x7f]*[^\s<>\"\x00-\x1f\x7f.,;:!?)'*_~]"
)
_LINKISH = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*:)(?=//)"  # any other scheme's address
    r"|(?P<www>\bwww)(?=\.)"  # www.example.org
    r"|(?P<at>@)"  # @user, @org/team, user@example.org
    r"|(?P<hash>#)(?=[0-9])"  # #123, owner/repo#123
    r"|(?P<gh>\bGH)(?=-[0-9])",  # GH-123
    re.IGNORECASE,
)

# What starts a block when it opens a line: headings, lists, thematic breaks
# and setext underlines, ordered lists (`1.` or `1)`). A quote's `>` and
# `*`, `_` are always escaped.
_LINE_START = re.compile(r"^(?:#{1,6}(?= |$)|[-+](?= |$)|[-=]{2,}|\d{1,9}(?=[.)](?: |$)))")


def text(value: object, *, table: bool = False) -> str:
    """A user's string as one line of inert Markdown; its balanced code spans stay code.

    In a table cell (`table`), a pipe inside a code span is escaped too: GitHub
    splits the row before it reads code spans.
    """
    one_line = " ".join(str(value).split())
    out = []
    position = 0
    for start, end, content in _code_spans(one_line):
        out.append(_plain(one_line[position:start]))
        out.append(code(content, table=table))
        position = end
    out.append(_plain(one_line[position:]))
    result = "".join(out)
    start_of_block = _LINE_START.match(result)
    if start_of_block is not None:
        # `# x`, `- [x]`, `1. x` and `+ x` would start a block where the line starts one.
        at = start_of_block.end() if result[0].isdigit() else 0
        result = result[:at] + "\\" + result[at:]
    return result


def _plain(value: str) -> str:
    out = []
    position = 0
    for match in _BARE_URL.finditer(value):
        out.append(_inert(value[position : match.start()]))
        out.append(link(match.group("autolink") or match.group()))
        position = match.end()
    out.append(_inert(value[position:]))
    return "".join(out)


def _inert(value: str) -> str:
    escaped = _INLINE.sub(lambda m: _ESCAPED[m.group()], value)
    return _LINKISH.sub(_break, escaped)


def _break(match: re.Match[str]) -> str:
    # `@` on both sides: neither a mention (a login after it) nor an e-mail
    # address (a name before it) is read across a zero-width joiner.
    return f"{ZWJ}@{ZWJ}" if match.group() == "@" else match.group() + ZWJ


def code(value: object, *, table: bool = False) -> str:
    """A code span showing `value` exactly (on one line), whatever backticks it holds.

    The fence is one backtick longer than the longest run inside, and padded
    with a space when the content starts or ends with a backtick (CommonMark
    strips one space from each side of such a span). In a table cell a pipe
    is written `\\|`, which GitHub shows as `|` there.
    """
    content = str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if table:
        content = content.replace("|", "\\|")
    if not content.strip(" "):
        return f"`{content or ' '}`"
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    if content[0] == "`" or content[-1] == "`" or (content[0] == " " and content[-1] == " "):
        content = f" {content} "
    return f"{fence}{content}{fence}"


def link(url: object, label: object | None = None) -> str:
    """A link to `url` only when it passes the records' URL validation; otherwise its text, inert."""
    address = str(url)
    if not _URL.match(address):
        return _inert(" ".join(address.split()))
    # The same address, but a pipe would end a table cell around it.
    address = address.replace("|", "%7C")
    if label is None:
        return f"<{address}>"
    return f"[{text(label)}](<{address}>)"


def block(value: object) -> str:
    """Free text (notes, details, workarounds) as inert Markdown: paragraphs and `- ` lists kept.

    Each line goes through `text`: headings, quotes, tables, HTML and links
    from the writer show as written; blank lines still part paragraphs, and
    lines starting with `- ` or `* ` still read as a list.
    """
    lines = []
    for line in str(value).strip().splitlines():
        item = _ITEM.match(line)
        lines.append("- " + text(line[item.end() :]) if item is not None else text(line))
    return "\n".join(lines)


_ITEM = re.compile(r"^\s*[-*]\s+")


def _code_spans(value: str) -> list[tuple[int, int, str]]:
    """The code spans CommonMark finds: a run of n backticks up to the next run of exactly n."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", value)]
    # Each run's next run of the same length, found in one pass from the end.
    following: list[int | None] = [None] * len(runs)
    last: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        following[index] = last.get(length)
        last[length] = index
    spans = []
    index = 0
    while index < len(runs):
        closing = following[index]
        if closing is None:
            index += 1
            continue
        content = value[runs[index][1] : runs[closing][0]]
        if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
            content = content[1:-1]
        spans.append((runs[index][0], runs[closing][1], content))
        index = closing + 1
    return spans

"""Templates: the package's own, overridable by the repository's `templates/` folder.

Grouping and sorting happen in Python; templates only lay out what they are
given. A repository overrides a template by committing one with the same name
under `templates/` at its top; it is read through the repository's source, so
notes built from a git revision use that revision's templates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable
from typing import cast
from urllib.parse import quote

import jinja2
import markupsafe

from rollout_tool import markdown
from rollout_tool.sources import Kind, Source

OVERRIDE_FOLDER = "templates"


class SourceLoader(jinja2.BaseLoader):
    """Templates committed in the repository, never through a link."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if ".." in template.split("/") or template.startswith("/"):
            raise jinja2.TemplateNotFound(template)
        path = f"{OVERRIDE_FOLDER}/{template}"
        if self.source.kind(path) is not Kind.file:
            raise jinja2.TemplateNotFound(template)
        text = self.source.read(path).decode("utf-8", "replace")
        return text, None, lambda: True


# Text from records in Markdown: one line, or a block of free text (see markdown.py).
md_inline = markdown.text
md_block = markdown.block


def one_line(value: object) -> str:
    """Text the tool wrote itself (policy reasons), folded to one line."""
    return " ".join(str(value).split())


def paragraphs(value: object) -> list[str]:
    """Free text split at blank lines, for HTML paragraphs."""
    blocks = re.split(r"\n\s*\n", str(value).strip())
    return [block.strip() for block in blocks if block.strip()]


_PAST = {"accept": "accepted", "reject": "rejected", "recall": "recalled", "withdraw": "withdrawn"}


def past(action: object) -> str:
    """A decision's action as what happened: accept -> accepted."""
    return _PAST.get(str(action), str(action))


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(value: object) -> markupsafe.Markup:
    """Tool-written text (policy reasons) as HTML: escaped, with `names` set as code."""
    escaped = str(markupsafe.escape(str(value)))
    return markupsafe.Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


_LINK = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_ITEM = re.compile(r"^\s*[-*]\s+")


_TOKEN = re.compile(rf"`(?P<code>[^`]+)`|(?P<link>{_LINK.pattern})")


def _inline(text: str) -> str:
    """Escaped text with `code` spans and bare http(s) addresses as links, found before escaping."""
    out = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(str(markupsafe.escape(text[position : match.start()])))
        if match.group("code") is not None:
            out.append(f"<code>{markupsafe.escape(match.group('code'))}</code>")
        else:
            link = markupsafe.escape(match.group("link"))
            out.append(f'<a href="{link}">{link}</a>')
        position = match.end()
    out.append(str(markupsafe.escape(text[position:])))
    return "".join(out)


def prose(value: object) -> markupsafe.Markup:
    """Free text as HTML: paragraphs at blank lines, `- ` lines as lists, nothing the writer did not mean.

    Everything is escaped first; only code spans, links and the block structure
    are added, so a record can never inject markup into the page.
    """
    out = []
    for block in paragraphs(value):
        lines = block.splitlines()
        if all(_ITEM.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_ITEM.sub('', line))}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f'<p class="prose">{_inline(" ".join(line.strip() for line in lines))}</p>')
    return markupsafe.Markup("".join(out))


def url_path(value: object) -> str:
    return quote(str(value), safe="/")


def environment(source: Source | None, *, html: bool) -> jinja2.Environment:
    """One environment per source, so each template is compiled once per run."""
    # Sources compare by identity: a cached environment never serves another repository.
    return _environment(cast(Hashable, source), html)


@functools.lru_cache(maxsize=16)
def _environment(source: Hashable, html: bool) -> jinja2.Environment:
    return new_environment(cast(Source | None, source), html=html)


def new_environment(source: Source | None, *, html: bool) -> jinja2.Environment:
    """An environment of one's own, for a caller that adds globals to it."""
    loaders: list[jinja2.BaseLoader] = []
    if source is not None:
        loaders.append(SourceLoader(source))
    loaders.append(jinja2.PackageLoader("rollout_tool", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown.text
    env.filters["md_cell"] = functools.partial(markdown.text, table=True)
    env.filters["md_block"] = markdown.block
    env.filters["md_code"] = markdown.code
    env.filters["md_link"] = markdown.link
    env.filters["one_line"] = one_line
    env.filters["paragraphs"] = paragraphs
    env.filters["url"] = url_path
    env.filters["past"] = past
    env.filters["code_spans"] = code_spans
    env.filters["prose"] = prose
    return env

"""Charts as inline SVG, drawn at build time: no script, readable by a screen reader.

A chart is horizontal bars, one per label, so long labels fit on a phone; it
carries a <title> and a <desc> that say what it shows, and its page puts the
numbers beside it in a table. Every piece of text is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 46  # a label line above a bar line, in CSS pixels
BAR = 16
PAD = 4
SPAN = 78  # the longest bar, in percent of the width: the value is written right of it


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no figure (nothing to measure), drawn as "no data", never as zero
    text: str  # the value as the table says it


def bar_chart(ident: str, title: str, description: str, bars: list[Bar], *, maximum: float | None = None) -> Markup:
    """Horizontal bars scaled to `maximum` (else the largest value); `ident` makes the ids unique in a page.

    No viewBox: lengths across are percentages of the chart's width and text
    keeps the page's size, so a phone shows it as legible as a desktop does.
    """
    values = [b.value for b in bars if b.value is not None]
    top = maximum if maximum is not None else max(values, default=0.0)
    height = PAD * 2 + ROW * max(len(bars), 1)
    ids = f"{escape(ident)}-t {escape(ident)}-d"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" height="{height}"'
        f' aria-labelledby="{ids}">',
        f'<title id="{escape(ident)}-t">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-d">{escape(description)}</desc>',
    ]
    for index, item in enumerate(bars):
        y = PAD + ROW * index
        parts.append(f'<text class="label" x="0" y="{y + 15}">{escape(item.label)}</text>')
        bar_y = y + 22
        middle = bar_y + BAR / 2
        if item.value is None:
            parts.append(f'<text class="none" x="0" y="{middle:g}" dominant-baseline="middle">no data</text>')
            continue
        length = SPAN * item.value / top if top > 0 else 0.0
        parts.append(f'<rect x="0" y="{bar_y}" width="{length:.2f}%" height="{BAR}" rx="2"/>')
        parts.append(
            f'<text class="value" x="100%" y="{middle:g}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(item.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))

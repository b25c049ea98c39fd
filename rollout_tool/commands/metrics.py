"""`rollout metrics`: process figures per product family and per year, as text or JSON."""

from __future__ import annotations

import datetime as dt
import json

from rollout_tool.metrics import Metrics, Summary, measure
from rollout_tool.repository import Repository
from rollout_tool.sources import Source


def run(source: Source, today: dt.date) -> Metrics:
    return measure(Repository(source), today)


def _number(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:g}{suffix}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


COLUMNS: list[tuple[str, str]] = [
    ("releases", "releases"),
    ("tested", "tested"),
    ("days", "median days in EA testing (mean)"),
    ("reports", "reports per release"),
    ("sites", "EA sites per release"),
    ("platforms", "platforms per release"),
    ("rejected", "rejected of decided"),
    ("recalled", "recalled of released"),
    ("late", "late of judged team assignments"),
]


def _cells(s: Summary) -> list[str]:
    return [
        str(s.releases),
        str(s.tested),
        f"{_number(s.days_median)} ({_number(s.days_mean)})",
        _number(s.reports_per_release),
        _number(s.sites_per_release),
        _number(s.platforms_per_release),
        f"{s.rejected}/{s.decided} {_percent(s.reject_rate)}",
        f"{s.recalled}/{s.released} {_percent(s.recall_rate)}",
        f"{s.late}/{s.judged} {_percent(s.late_rate)}",
    ]


def _table(title: str, rows: list[tuple[str, Summary]]) -> list[str]:
    header = [title, *(short for short, _ in COLUMNS)]
    body = [[label, *_cells(summary)] for label, summary in rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip() + "\n"

    return [line(header), *(line(row) for row in body)]


def render(found: Metrics, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(found.as_dict(), indent=2) + "\n"
    lines = [f"Process figures as of {found.today.isoformat()}\n", "\n"]
    lines += _table("family", [(g.name, g.summary) for g in found.groups] + [("all", found.overall)])
    lines.append("\n")
    lines += _table("year", [(str(year), summary) for year, summary in found.years])
    lines.append("\n")
    lines.extend(f"{short}: {meaning}\n" for short, meaning in COLUMNS[2:])
    return "".join(lines)

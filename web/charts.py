"""Charts for members as inline SVG, drawn on the server: no JavaScript, readable without
hovering (every value is written on the chart, next to its mark), each with a text alternative
(``<title>`` and ``<desc>``, referenced by ``aria-labelledby``) and a table beside it on the
page. The Content-Security-Policy allows inline SVG in the page (``web/security.py``); no
``style`` attribute is used, only presentation attributes and the site's classes.

Every text that comes from data is escaped here (``markupsafe.escape``) before it is put in
the markup this returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: The console's charts' width, in the SVG's units; shown at most as many CSS pixels wide.
WIDTH = 640
#: The members' charts are narrower, drawn for a phone: at most as many CSS pixels wide too
#: (``svg.chart-narrow`` in the style sheet), so their 14-unit text is 14 px on a wide screen
#: and never under 12 px in a 320 px column (a 375 px phone, an indented block): drawn 640
#: wide, it was 7 px there.
NARROW = 360
#: A bar's row: its label on a line of its own, then the bar with its value after it.
ROW = 46
#: Room for a value written after its bar: per character at 14 px (bold digits are the widest).
CHARACTER = 10


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None          # None: no value (suppressed, or nothing to show)
    text: str                    # what is written at the end of the bar
    low: float | None = None     # an interval around the value, if it has one
    high: float | None = None
    kind: str = "own"            # the class of the bar: own | community


def _head(chart_id: str, title: str, description: str, height: int, *,
          width: int = WIDTH) -> str:
    narrow = " chart-narrow" if width == NARROW else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart{narrow}" role="img"'
            f' viewBox="0 0 {width} {height}" width="100%"'
            f' aria-labelledby="{chart_id}-title {chart_id}-desc">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(description)}</desc>')


def bars(chart_id: str, title: str, description: str, rows: Sequence[Bar], *,
         lowest: float, highest: float) -> Markup:
    """Horizontal bars from ``lowest`` to ``highest``, each labelled above it and its value
    written after it, on a chart :data:`NARROW` wide. A scale that spans zero (an NPS, -100
    to 100) draws each bar from zero, left for a negative value, right for a positive one,
    with the zero line marked beside the bars."""
    height = ROW * len(rows) + 4
    # The bars end where the longest value written after one still fits (at most half-way).
    room = min(NARROW // 2, max([CHARACTER * len(row.text) + 6 for row in rows
                                 if row.value is not None or row.high is not None] + [0]))
    span = 0, NARROW - room
    scale = (span[1] - span[0]) / (highest - lowest)

    def x(value: float) -> float:
        return span[0] + (min(max(value, lowest), highest) - lowest) * scale

    origin = x(0.0) if lowest < 0 < highest else span[0]
    parts = [_head(chart_id, title, description, height, width=NARROW)]
    for number, row in enumerate(rows):
        top = number * ROW
        bar_top, middle = top + 22, top + 32
        parts.append(f'<text x="0" y="{top + 16}" class="chart-label">'
                     f'{escape(row.label)}</text>')
        if origin != span[0]:
            parts.append(f'<line x1="{origin:.1f}" x2="{origin:.1f}" y1="{bar_top - 2}"'
                         f' y2="{bar_top + 22}" class="chart-interval"/>')
        end = origin
        if row.value is not None:
            mark = x(row.value)
            end = max(mark, origin)
            parts.append(f'<rect x="{min(mark, origin):.1f}" y="{bar_top}"'
                         f' width="{abs(mark - origin):.1f}" height="20"'
                         f' class="chart-bar chart-{escape(row.kind)}"/>')
        if row.low is not None and row.high is not None:
            low, high = x(row.low), x(row.high)
            parts.append(f'<line x1="{low:.1f}" x2="{high:.1f}" y1="{middle}"'
                         f' y2="{middle}" class="chart-interval"/>')
            end = max(end, high)
        parts.append(f'<text x="{end + 6:.1f}" y="{middle + 5}"'
                     f' class="chart-value">{escape(row.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


#: A group's bars, one per series, and the room between groups.
SERIES_ROW = 22
GROUP_GAP = 12


def grouped_bars(chart_id: str, title: str, description: str,
                 series: Sequence[tuple[str, str]],
                 groups: Sequence[tuple[str, Sequence[float]]]) -> Markup:
    """Groups of horizontal bars, one bar per series in each (a month: given, withdrawn,
    expired), every bar on one scale from zero so that their lengths compare; ``series`` is
    ``(name, kind)`` pairs, drawn as a legend on top and written before each bar, so nothing
    depends on telling colours apart. A value of 0 is still a row, written 0."""
    top = 30                           # the legend's row
    height = top + sum(len(series) * SERIES_ROW + GROUP_GAP for _ in groups) + 4
    group_label, series_label, start, end = 0, 190, 200, WIDTH - 60
    highest = max([v for _, values in groups for v in values] + [1])
    scale = (end - start) / highest
    parts = [_head(chart_id, title, description, height)]
    x = 0.0
    for name, kind in series:          # the legend: a square of the bar's colour, its name
        parts.append(f'<rect x="{x:.1f}" y="6" width="14" height="14"'
                     f' class="chart-bar chart-{escape(kind)}"/>'
                     f'<text x="{x + 20:.1f}" y="18" class="chart-label">{escape(name)}</text>')
        x += 20 + 9 * len(name) + 24
    y = float(top)
    for label, values in groups:
        parts.append(f'<line x1="0" x2="{WIDTH}" y1="{y - GROUP_GAP / 2:.1f}"'
                     f' y2="{y - GROUP_GAP / 2:.1f}" class="chart-grid"/>'
                     f'<text x="{group_label}" y="{y + SERIES_ROW / 2 + 5:.1f}"'
                     f' class="chart-value">{escape(label)}</text>')
        for (name, kind), value in zip(series, values, strict=True):
            middle = y + SERIES_ROW / 2
            width = value * scale
            parts.append(f'<text x="{series_label}" y="{middle + 5:.1f}" text-anchor="end"'
                         f' class="chart-label">{escape(name)}</text>'
                         f'<rect x="{start}" y="{y + 3:.1f}" width="{width:.1f}"'
                         f' height="{SERIES_ROW - 6}" class="chart-bar chart-{escape(kind)}"/>'
                         f'<text x="{start + width + 6:.1f}" y="{middle + 5:.1f}"'
                         f' class="chart-value">{value:g}</text>')
            y += SERIES_ROW
        y += GROUP_GAP
    parts.append("</svg>")
    return Markup("".join(parts))


#: The dates written under a timeline: the first, the last and evenly spaced ones between.
TIMELINE_DATES = 3
#: Two equal ratings whose dots are closer than this share one written value (one would hide
#: the other, digit on digit).
VALUE_ROOM = 12


def timeline(chart_id: str, title: str, description: str,
             points: Sequence[tuple[str, int, str]]) -> Markup:
    """Ratings 1-5 over time, oldest left: one dot per ``(day, rating, label)`` (``day`` an
    ISO 8601 date), its rating written above it. The axis is time: a dot's distance from the
    first is its days since the first, so nine months between two entries are drawn wider
    than a week; below, the first and last days and evenly spaced days between, each at its
    own place (all the points are in the description and the table beside the chart).
    Entries of one day share a place; equal ratings close together share one written value."""
    height = 220
    left, right, top, bottom = 30, NARROW - 10, 30, height - 40
    parts = [_head(chart_id, title, description, height, width=NARROW)]
    for level in range(1, 6):
        y = bottom - (level - 1) * (bottom - top) / 4
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"'
                     f' class="chart-grid"/><text x="{left - 8}" y="{y + 4:.1f}"'
                     f' text-anchor="end" class="chart-label">{level}</text>')
    days = [dt.date.fromisoformat(day).toordinal() for day, _, _ in points]
    first, span = min(days, default=0), max(days, default=0) - min(days, default=0)

    def x(ordinal: int) -> float:
        return left + (ordinal - first) * (right - left) / span if span else (left + right) / 2

    previous: tuple[float, float] | None = None
    written: dict[int, float] = {}           # rating -> where its value was written last
    for ordinal, (_, rating, label) in zip(days, points, strict=True):
        here, y = x(ordinal), bottom - (rating - 1) * (bottom - top) / 4
        if previous is not None:
            parts.append(f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}"'
                         f' x2="{here:.1f}" y2="{y:.1f}" class="chart-line"/>')
        previous = (here, y)
        parts.append(f'<circle cx="{here:.1f}" cy="{y:.1f}" r="5" class="chart-dot">'
                     f'<title>{escape(label)}</title></circle>')
        if here - written.get(rating, -VALUE_ROOM) >= VALUE_ROOM:
            written[rating] = here
            parts.append(f'<text x="{here:.1f}" y="{y - 10:.1f}" text-anchor="middle"'
                         f' class="chart-value">{rating}</text>')
    ticks = sorted({first + round(span * number / (TIMELINE_DATES - 1))
                    for number in range(TIMELINE_DATES)}) if points else []
    for ordinal in ticks:
        anchor = "middle" if not span else "start" if ordinal == first else \
            "end" if ordinal == first + span else "middle"
        parts.append(f'<line x1="{x(ordinal):.1f}" x2="{x(ordinal):.1f}" y1="{bottom}"'
                     f' y2="{bottom + 6}" class="chart-grid"/>'
                     f'<text x="{x(ordinal):.1f}" y="{bottom + 22}" text-anchor="{anchor}"'
                     f' class="chart-label">{dt.date.fromordinal(ordinal).isoformat()}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

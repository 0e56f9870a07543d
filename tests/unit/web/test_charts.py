"""Members' charts as SVG: bars on a scale that spans zero start at zero, and every value is
written on the chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from web.charts import Bar, bars, grouped_bars, timeline

SVG = "{http://www.w3.org/2000/svg}"


def drawn(rows: list[Bar], lowest: float, highest: float) -> ET.Element:
    return ET.fromstring(str(bars("c", "NPS", "NPS of two groups", rows, lowest=lowest,
                                  highest=highest)))


def test_a_scale_across_zero_draws_each_bar_from_zero() -> None:
    svg = drawn([Bar("Detractors win", -40.0, "-40"), Bar("Promoters win", 50.0, "50")],
                -100.0, 100.0)
    # The zero line, beside each bar.
    [origin] = {float(line.get(end, "nan")) for line in svg.iter(SVG + "line")
                for end in ("x1", "x2")}
    negative, positive = svg.iter(SVG + "rect")
    # -40 of a -100..100 scale is a fifth of the half-width left of zero; 50 a quarter right.
    assert abs(float(negative.get("x", "nan")) + float(negative.get("width", "nan"))
               - origin) < 0.11                  # both written to a tenth
    assert float(negative.get("x", "nan")) < origin
    assert float(positive.get("x", "nan")) == origin
    assert float(positive.get("width", "nan")) > float(negative.get("width", "nan"))
    assert [t.text for t in svg.iter(SVG + "text")] == [
        "Detractors win", "-40", "Promoters win", "50"]


def test_a_scale_from_one_draws_bars_from_its_left_end_with_no_zero_line() -> None:
    svg = drawn([Bar("You", 4.0, "4 of 5"), Bar("Suppressed", None, "too few")], 1.0, 5.0)
    assert list(svg.iter(SVG + "line")) == []
    [rect] = svg.iter(SVG + "rect")                   # no bar for a value that is not shown
    assert float(rect.get("width", "nan")) > 0
    assert "too few" in [t.text for t in svg.iter(SVG + "text")]


def test_grouped_bars_share_one_scale_and_keep_a_zero() -> None:
    svg = ET.fromstring(str(grouped_bars(
        "g", "Grants", "per month", (("Given", "given"), ("Withdrawn <x>", "withdrawn")),
        [("2026-11", (672, 1)), ("2026-12", (336, 0))])))
    widths = [float(r.get("width", "nan")) for r in svg.iter(SVG + "rect")][2:]  # after legend
    # One scale: 336 is half of 672's bar, 1 a sliver, 0 none; every value written.
    assert widths[2] == widths[0] / 2 and 0 < widths[1] < 1 and widths[3] == 0
    texts = [t.text for t in svg.iter(SVG + "text")]
    assert texts[:2] == ["Given", "Withdrawn <x>"]                # the legend, escaped
    assert ["672", "1", "336", "0"] == [t for t in texts if t and t.isdigit()]


def drawn_timeline(days_and_ratings: list[tuple[str, int]]) -> ET.Element:
    return ET.fromstring(str(timeline("t", "Ratings", "over time", [
        (day, rating, f"<b>{day}</b>") for day, rating in days_and_ratings])))


def test_a_timeline_places_each_rating_by_its_date() -> None:
    """Nine months between two entries are drawn wider than six weeks: the demo's entries,
    spaced one step apart, drew 2025-10-31 to 2026-08-09 as wide as 2026-10-27 to 12-07."""
    svg = drawn_timeline([("2025-10-31", 3), ("2026-08-09", 4), ("2026-10-27", 2),
                          ("2026-12-07", 5)])
    dots = [float(c.get("cx", "nan")) for c in svg.iter(SVG + "circle")]
    days = [0, 282, 361, 402]               # days since 2025-10-31
    for dot, day in zip(dots, days, strict=True):
        assert abs((dot - dots[0]) - (dots[-1] - dots[0]) * day / days[-1]) < 0.06
    # The dates written under it are where those days are: first, last and evenly between.
    labels = {t.text: float(t.get("x", "nan")) for t in svg.iter(SVG + "text")
              if t.text and t.text.startswith("20")}
    assert list(labels) == ["2025-10-31", "2026-05-20", "2026-12-07"]
    assert labels["2025-10-31"] == dots[0] and labels["2026-12-07"] == dots[-1]
    assert abs(labels["2026-05-20"] - (dots[0] + dots[-1]) / 2) < 0.06
    # Every rating is written above its dot, and the labels are escaped.
    assert [t.text for t in svg.iter(SVG + "text") if t.get("class") == "chart-value"] == [
        "3", "4", "2", "5"]
    assert [t.text for t in svg.iter(SVG + "title")][1:] == [
        f"<b>{day}</b>" for day in ("2025-10-31", "2026-08-09", "2026-10-27", "2026-12-07")]


def test_a_timeline_of_one_day_or_close_equal_ratings_writes_each_value_once() -> None:
    svg = drawn_timeline([("2026-12-07", 4), ("2026-12-07", 4), ("2026-12-07", 2)])
    assert len({c.get("cx") for c in svg.iter(SVG + "circle")}) == 1
    assert sorted(t.text or "" for t in svg.iter(SVG + "text")
                  if t.get("class") == "chart-value") == ["2", "4"]
    assert [t.text for t in svg.iter(SVG + "text") if (t.text or "").startswith("20")] == [
        "2026-12-07"]

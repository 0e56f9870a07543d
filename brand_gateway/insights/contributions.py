"""Bounding each member's contribution, before any measurement: the member is the privacy unit.

Callers hand in rows ``(member, group, value)``, oldest first, keyed by an opaque member key
(the store's integer key, say); one member may have any number of rows. This module reduces
them to *cells*: integers ``group_index * width + position``, where each group has a block of
``width`` cells (one per category, rating level or NPS class). Whatever a member's rows,
their cells are bounded:

- per group, one value (:class:`PerMember`: the member's latest row, or the mean of their
  values, clipped to the public bounds), which lands in ``per_group`` cells at most (one for a
  count, a category, a rating or an NPS class; for a multiple choice, one respondent cell plus
  at most ``choices`` distinct choices);
- at most ``max_groups`` groups per member: those of their latest rows; the rest are dropped.

So a member contributes at most ``per_group * max_groups`` cells
(:attr:`BoundedCells.contributions`), 500 rows or one; the noise is derived from that number,
never from the count of rows. Groups and categories are public lists the caller declares (a
group or category seen only in the data would itself tell that someone is in it); a row
outside them is the caller's error (``ValueError``, naming no member). Member keys never leave
this module: the cells are anonymous integers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Row = tuple[Hashable, Hashable, Any]         # (member key, group, value)


class PerMember(StrEnum):
    """Which one value stands for a member in a group."""

    LATEST = "latest"          # the member's last row (rows come oldest first)
    MEAN = "mean"              # the mean of the member's values, for numeric values


@dataclass(frozen=True)
class Layout:
    """The public shape of a release: its groups, each a block of ``width`` cells."""

    groups: tuple[Hashable, ...]
    width: int

    @property
    def cells(self) -> int:
        return len(self.groups) * self.width

    def block(self, counts: Sequence[int], group_index: int) -> Sequence[int]:
        return counts[group_index * self.width:(group_index + 1) * self.width]


@dataclass(frozen=True)
class BoundedCells:
    """The anonymous, bounded rows a measurement sees, and the bound it is calibrated to."""

    cells: list[int]
    layout: Layout
    contributions: int         # cells one member may add or remove, at most


def layout(groups: Sequence[Hashable] | None, width: int) -> Layout:
    labels = (None,) if groups is None else tuple(groups)
    if not labels:
        raise ValueError("a release has at least one group")
    if len(set(labels)) != len(labels):
        raise ValueError("the groups of a release are distinct")
    return Layout(labels, width)


def bound(rows: Iterable[Row], shape: Layout, *, reduce: PerMember, per_group: int,
          max_groups: int, positions: Callable[[Any], Sequence[int]]) -> BoundedCells:
    """The cells of ``rows``: per member and group one value (``reduce``), turned into at most
    ``per_group`` positions of the group's block by ``positions``; per member the
    ``max_groups`` groups of their latest rows."""
    if max_groups < 1 or per_group < 1:
        raise ValueError("a member contributes to one group and one cell at least")
    cells: list[int] = []
    known: dict[Any, Sequence[int]] = {}        # positions of values seen, while few
    for number, value in _member_values(rows, shape, reduce, max_groups):
        try:
            found = known[value]
        except (KeyError, TypeError):             # new, or unhashable (a set of choices)
            found = positions(value)
            if len(found) > per_group:
                raise ValueError("a value fell in more cells than a member may add") from None
            if len(known) < _KNOWN_VALUES and isinstance(value, Hashable):
                known[value] = found
        offset = number * shape.width
        cells.extend(offset + position for position in found)
    return BoundedCells(cells, shape, per_group * max_groups)


_KNOWN_VALUES = 4096


def _member_values(rows: Iterable[Row], shape: Layout, reduce: PerMember,
                   max_groups: int) -> Iterable[tuple[int, Any]]:
    """``(group number, value)``: one per member and group, for at most ``max_groups`` groups
    per member (those of their latest rows). Without groups, a row's group is not read."""
    try:
        return _reduced(rows, shape, reduce, max_groups)
    except TypeError:            # float() of something that is no number
        raise ValueError("a value to average is a number") from None


def _reduced(rows: Iterable[Row], shape: Layout, reduce: PerMember,
             max_groups: int) -> Iterable[tuple[int, Any]]:
    if shape.groups == (None,):
        # One group: a member's rows all fall in it (the common case, kept fast).
        if reduce is PerMember.LATEST:
            latest = {member: value for member, _group, value in rows}
            return ((0, value) for value in latest.values())
        totals: dict[Hashable, float] = {}
        counts: dict[Hashable, int] = {}
        for member, _group, value in rows:
            totals[member] = totals.get(member, 0.0) + float(value)
            counts[member] = counts.get(member, 0) + 1
        return ((0, _mean(total, counts[member])) for member, total in totals.items())
    index = {label: number for number, label in enumerate(shape.groups)}
    members: dict[Hashable, dict[int, Any]] = {}
    for member, group, value in rows:
        number = index.get(group)
        if number is None:
            raise ValueError("a row is of a group the release does not declare")
        kept = members.setdefault(member, {})
        previous = kept.pop(number, None)        # re-inserted: the dict keeps latest last
        if reduce is PerMember.LATEST:
            kept[number] = value
        else:
            total, count = previous if previous is not None else (0.0, 0)
            kept[number] = (total + float(value), count + 1)
    return ((number, kept[number] if reduce is PerMember.LATEST else _mean(*kept[number]))
            for kept in members.values() for number in list(kept)[-max_groups:])


def _mean(total: float, count: int) -> float:
    if not math.isfinite(total):
        raise ValueError("a value to average is a finite number")
    return total / count


# -- positions within a group's block, per kind of release -------------------------------------

def category_position(categories: Sequence[Hashable]) -> Callable[[Any], Sequence[int]]:
    """One category per member: its position among ``categories``."""
    index = _index(categories)

    def position(value: Any) -> Sequence[int]:
        found = index.get(value)
        if found is None:
            raise ValueError("a value is not one of the categories the release declares")
        return (found,)
    return position


def choice_positions(categories: Sequence[Hashable],
                     choices: int) -> Callable[[Any], Sequence[int]]:
    """A set of categories per member: the respondent cell (0), then at most ``choices`` of
    their distinct choices, in the order of ``categories`` (1 onwards)."""
    index = _index(categories)

    def positions(value: Any) -> Sequence[int]:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ValueError("a multiple-choice answer is a collection of categories")
        picked = set()
        for choice in value:
            found = index.get(choice)
            if found is None:
                raise ValueError("a value is not one of the categories the release declares")
            picked.add(found)
        return (0, *(1 + found for found in sorted(picked)[:choices]))
    return positions


def level_position(levels: Sequence[float]) -> Callable[[Any], Sequence[int]]:
    """A number per member, clipped to the levels' range and rounded to the nearest level."""
    lowest, highest = levels[0], levels[-1]
    step = (highest - lowest) / (len(levels) - 1) if len(levels) > 1 else 1.0

    def position(value: Any) -> Sequence[int]:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("a value is a finite number")
        clipped = min(max(number, lowest), highest)
        return (min(len(levels) - 1, math.floor((clipped - lowest) / step + 0.5)),)
    return position


def _index(categories: Sequence[Hashable]) -> dict[Hashable, int]:
    index = {category: number for number, category in enumerate(categories)}
    if not index or len(index) != len(categories):
        raise ValueError("a release declares distinct categories, one at least")
    return index


def nps_position(value: Any) -> Sequence[int]:
    """A 0-10 score per member (clipped): detractor (0) below 7, passive (1) below 9, else
    promoter (2), as the Net Promoter Score classes integer scores."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("a score is a finite number")
    score = min(max(number, 0.0), 10.0)
    return (0,) if score < 7 else (1,) if score < 9 else (2,)

"""Differentially private releases for brands' insights, computed with OpenDP, paid for from
the brand's privacy budget, with small groups suppressed.

Every release is one histogram: each member's rows are bounded first (``contributions.py``:
at most :attr:`~.contributions.BoundedCells.contributions` anonymous cells per member), then
one OpenDP measurement releases the count of every cell with discrete Laplace noise:

- ``dp.Context.compositor`` over the bounded cells with privacy unit
  ``dp.unit_of(contributions=k)`` (a member adds or removes at most ``k`` cells) and loss
  ``dp.loss_of(epsilon=epsilon)`` (a privacy filter of that budget): pure epsilon-DP, delta 0;
- one query, ``count_by_categories`` over the public cells, then ``laplace``: on integer counts
  OpenDP adds discrete Laplace noise and itself derives its scale from ``k`` (the L1
  sensitivity it reports for ``k``) and epsilon, never from the number of rows;
- 95% accuracy from ``dp.discrete_laplacian_scale_to_accuracy`` at that scale. An estimate
  built from several cells (a group's respondents, a mean, an NPS) takes each cell at
  ``alpha / cells`` (a union bound), so its interval holds with 95% as a whole.

Everything else is post-processing of those noisy counts, which costs no epsilon and reveals
nothing more: the respondents of a group are its one noisy group-count cell; a mean or an NPS
is the weighted mean of its noisy classes.

Minimum cohort: every group has one cell that counts its members (a count's one cell, a
multiple choice's respondent cell, or a cell this module adds in front of a histogram's, a
mean's or an NPS's classes: :func:`with_group_counts`), measured in the same OpenDP query with
its own noise. A group is released only when that one noisy count reaches
:meth:`ReleaseSettings.threshold`: the minimum cohort, raised where the noise is wide to the
count that noise alone reaches with probability at most ``false_release`` (OpenDP's own
accuracy of the scale). So a group without a single member is released with probability at
most ``false_release`` (one in a million by default), whatever the epsilon and the number of
groups; deciding on the sum of a group's noisy cells, as before, let noise alone pass (at
epsilon 0.5 over ten touchpoints, a per-cell accuracy of +/- 60 against a minimum of 50). The
decision is post-processing of the release itself, so it is paid for by the release's one
epsilon and no count is ever looked at without noise.

Budget: the brand pays the release's epsilon (:class:`~.budget.PrivacyBudget`) after its input
is checked and before anything is measured; a refusal releases nothing.

No member key leaves this module: results hold the caller's public groups and categories and
noisy numbers only. Intervals cover the bounded aggregate (each member's one value, rounded to
its level), which is what the release measures.

Use (the insights API): read the rows of the members who may count now (oldest first, each
keyed by an opaque member key), build a plan (:func:`count_plan`, :func:`histogram_plan`,
:func:`multiple_choice_plan`, :func:`mean_plan`, :func:`nps_plan`; bad input raises
``ValueError`` before anything is spent), then :meth:`PrivateReleases.release`, which raises
:class:`~brand_gateway.errors.PrivacyBudgetSpentError` when the period cannot pay. Where the
store tallied the bounded cells already (the read model of ``read_model.py``), a
:func:`tallied_plan` measures its counts instead (:class:`TalliedCells`: OpenDP's unit is then
``l1=k`` over the counts, the same bound and scale as ``contributions=k`` over the cells).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from .budget import BudgetState, PrivacyBudget
from .contributions import (
    BoundedCells,
    Layout,
    PerMember,
    Row,
    bound,
    category_position,
    choice_positions,
    layout,
    level_position,
    nps_position,
)


@functools.cache
def _opendp() -> tuple[ModuleType, Any, Any]:
    """OpenDP, its domain of bounded cells and of tallied counts (:class:`TalliedCells`):
    imported on the first release, not by every process that imports this module (its native
    library is about 14 MB of a server process that may never release an insight)."""
    import opendp.prelude as dp

    # The Context API, count_by_categories and the noise measurements are OpenDP's "contrib"
    # features (not yet vetted by its own review); enabled once, for the process.
    dp.enable_features("contrib")
    return (dp, dp.vector_domain(dp.atom_domain(T=dp.i32)),
            dp.vector_domain(dp.atom_domain(T=dp.i64)))

NPS_SCORES = (-100.0, 0.0, 100.0)             # detractor, passive, promoter


class ReleaseKind(StrEnum):
    COUNT = "count"
    HISTOGRAM = "histogram"
    MULTIPLE_CHOICE = "multiple-choice"
    MEAN = "mean"
    NPS = "nps"


@dataclass(frozen=True)
class ReleaseSettings:
    minimum_cohort: int = 50
    confidence: float = 0.95
    #: The most likely a group of no member at all is released (noise alone reaching
    #: :meth:`threshold`), per group and release.
    false_release: float = 1e-6

    def __post_init__(self) -> None:
        if self.minimum_cohort < 1:
            raise ValueError("the minimum cohort is one member at least")
        if not 0 < self.confidence < 1:
            raise ValueError("the confidence is between 0 and 1")
        if not 0 < self.false_release < 0.5:
            raise ValueError("the false-release probability is between 0 and one half")

    def threshold(self, scale: float) -> int:
        """The noisy group count from which a group is released, at noise ``scale``.

        OpenDP's accuracy ``a`` of discrete Laplace noise ``Z`` at ``alpha`` bounds
        ``P(|Z| > a) <= alpha``, and ``Z`` is symmetric, so ``P(Z > a) <= alpha / 2``. With
        ``alpha = 2 * false_release`` and the threshold at least ``floor(a) + 1``, a group of
        true count ``c`` is released with probability ``P(c + Z >= threshold)``: at most
        ``false_release`` for an empty group (``c = 0``), and less the fewer its members.
        Below it, the minimum cohort holds as ever (on the noisy count)."""
        noise_alone = math.floor(_accuracy(scale, 2 * self.false_release)) + 1
        return max(self.minimum_cohort, noise_alone)


@dataclass(frozen=True)
class Estimate:
    """A noisy value and the interval that holds the true one with the release's confidence."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class GroupResult:
    """One group of a release; a suppressed group carries nothing but its label."""

    group: Hashable                   # the caller's public label; None without a breakdown
    suppressed: bool
    respondents: Estimate | None = None
    value: Estimate | None = None     # the count, the mean or the NPS
    counts: tuple[tuple[Hashable, Estimate], ...] | None = None    # per category, in order


@dataclass(frozen=True)
class Release:
    kind: ReleaseKind
    epsilon: float
    delta: float
    noise_scale: float                # of the discrete Laplace noise on every cell
    contributions: int                # cells one member may add or remove, at most
    sensitivity: float                # the L1 distance OpenDP derives from ``contributions``
    confidence: float
    accuracy: float                   # half-width of one cell's interval at ``confidence``
    minimum_cohort: int
    groups: tuple[GroupResult, ...]
    budget: BudgetState               # the brand's budget after this release

    @property
    def suppressed(self) -> int:
        """How many groups were suppressed (what the ledger entry of a query records)."""
        return sum(1 for group in self.groups if group.suppressed)


Summary = tuple[Estimate, Estimate | None, tuple[tuple[Hashable, Estimate], ...] | None]
Summariser = Callable[[Sequence[int], float, float], Summary]


@dataclass(frozen=True)
class TalliedCells:
    """Cells counted already, by the store (the insights read model), over members each of
    whom adds at most ``contributions`` to the counts, one to a cell: exactly what
    :class:`~.contributions.BoundedCells` of the same members would count, without a row per
    member in memory. The histogram of those counts moves by at most ``contributions`` in L1
    distance when one member comes or goes, which is what OpenDP calibrates the noise to."""

    counts: list[int]
    layout: Layout
    contributions: int

    def __post_init__(self) -> None:
        if len(self.counts) != self.layout.cells:
            raise ValueError("a tally has one count per cell of its layout")
        if any(count < 0 for count in self.counts):
            raise ValueError("a count of members is never negative")
        if self.contributions < 1:
            raise ValueError("a member contributes one cell at least")


@dataclass(frozen=True)
class Plan:
    """A release prepared and bounded, not yet measured: what :meth:`PrivateReleases.release`
    measures, and how its groups are read from the noisy cells."""

    kind: ReleaseKind
    bounded: BoundedCells | TalliedCells
    summarise: Summariser
    #: Whether the first cell of each group counts its members already (a count, a multiple
    #: choice's respondent cell); if not, :func:`with_group_counts` adds one before measuring.
    group_cell: bool = False


def with_group_counts(bounded: BoundedCells | TalliedCells) -> BoundedCells | TalliedCells:
    """``bounded`` with one more cell in front of each group's block that counts the group's
    members: for plans where a member lands in one cell of each group they are in (a
    histogram, a mean, an NPS), that cell gets one more for each of theirs, so a member adds
    twice the cells (``contributions`` doubles, and OpenDP scales the noise to it)."""
    width = bounded.layout.width
    shape = Layout(bounded.layout.groups, width + 1)
    if isinstance(bounded, TalliedCells):
        counts: list[int] = []
        for number in range(len(bounded.layout.groups)):
            block = bounded.layout.block(bounded.counts, number)
            counts.extend([sum(block), *block])
        return TalliedCells(counts, shape, 2 * bounded.contributions)
    cells: list[int] = []
    for cell in bounded.cells:
        group, position = divmod(cell, width)
        cells.extend((group * (width + 1), group * (width + 1) + 1 + position))
    return BoundedCells(cells, shape, 2 * bounded.contributions)


def tallied_plan(kind: ReleaseKind, counts: Sequence[int], *, width: int,
                 groups: Sequence[Hashable] | None, max_groups: int,
                 levels: Sequence[float] | None = None,
                 categories: Sequence[Hashable] | None = None,
                 respondent_cell: bool = False, per_group: int = 1) -> Plan:
    """A plan over counts the store tallied (group by group, ``width`` cells each), each
    member bounded as :func:`nps_plan`, :func:`mean_plan` (``levels``) or
    :func:`histogram_plan` / :func:`multiple_choice_plan` (``categories``) would bound them:
    ``per_group`` cells in at most ``max_groups`` groups."""
    tallied = TalliedCells(list(counts), layout(groups, width), per_group * max_groups)
    return Plan(kind, tallied, summariser(kind, levels=levels, categories=categories,
                                          respondent_cell=respondent_cell),
                group_cell=respondent_cell or kind is ReleaseKind.COUNT)


def bounded_plan(kind: ReleaseKind, bounded: BoundedCells, *,
                 levels: Sequence[float] | None = None,
                 categories: Sequence[Hashable] | None = None,
                 respondent_cell: bool = False) -> Plan:
    """A plan over cells the caller bounded itself with :func:`~.contributions.bound`."""
    return Plan(kind, bounded, summariser(kind, levels=levels, categories=categories,
                                          respondent_cell=respondent_cell),
                group_cell=respondent_cell or kind is ReleaseKind.COUNT)


def summariser(kind: ReleaseKind, *, levels: Sequence[float] | None = None,
               categories: Sequence[Hashable] | None = None,
               respondent_cell: bool = False) -> Summariser:
    """How a group of ``kind`` is read from its noisy cells."""
    if kind is ReleaseKind.NPS:
        return _weighted(NPS_SCORES)
    if kind is ReleaseKind.MEAN and levels is not None:
        return _weighted(levels)
    if kind in (ReleaseKind.HISTOGRAM, ReleaseKind.MULTIPLE_CHOICE) and categories is not None:
        return _categories(categories, respondent_cell=respondent_cell)
    if kind is ReleaseKind.COUNT:
        return _count
    raise ValueError("a mean names its levels, a histogram its categories")


def rating_levels(lower: float, upper: float, step: float) -> tuple[float, ...]:
    """The levels :func:`mean_plan` rounds one value per member to."""
    return _levels(lower, upper, step)


def count_plan(rows: Iterable[Row], *, groups: Sequence[Hashable] | None = None,
               max_groups: int = 1) -> Plan:
    """How many members have a row (in each group); the rows' values are not read."""
    cells = bound(rows, layout(groups, 1), reduce=PerMember.LATEST, per_group=1,
                  max_groups=max_groups, positions=lambda value: (0,))
    return Plan(ReleaseKind.COUNT, cells, _count, group_cell=True)


def histogram_plan(rows: Iterable[Row], *, categories: Sequence[Hashable],
                   groups: Sequence[Hashable] | None = None, max_groups: int = 1) -> Plan:
    """Members per category, each by their latest value (a single choice, an attribute)."""
    cells = bound(rows, layout(groups, len(categories)), reduce=PerMember.LATEST, per_group=1,
                  max_groups=max_groups, positions=category_position(categories))
    return Plan(ReleaseKind.HISTOGRAM, cells, _categories(categories, respondent_cell=False))


def multiple_choice_plan(rows: Iterable[Row], *, categories: Sequence[Hashable], choices: int,
                         groups: Sequence[Hashable] | None = None,
                         max_groups: int = 1) -> Plan:
    """Members per category, each by their latest answer (a collection of categories) of which
    at most ``choices`` count, and the members who answered."""
    if not 1 <= choices <= len(categories):
        raise ValueError("a member counts in one category at least, and at most in all")
    cells = bound(rows, layout(groups, 1 + len(categories)), reduce=PerMember.LATEST,
                  per_group=1 + choices, max_groups=max_groups,
                  positions=choice_positions(categories, choices))
    return Plan(ReleaseKind.MULTIPLE_CHOICE, cells,
                _categories(categories, respondent_cell=True), group_cell=True)


def mean_plan(rows: Iterable[Row], *, lower: float, upper: float, step: float,
              reduce: PerMember = PerMember.MEAN, groups: Sequence[Hashable] | None = None,
              max_groups: int = 1) -> Plan:
    """The mean of one value per member (``reduce``), clipped to ``[lower, upper]`` and rounded
    to the nearest level ``lower + i * step`` (a rating 1-5: step 1 for answers, a finer step
    for members' own means)."""
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper and step > 0):
        raise ValueError("a mean needs finite bounds, lower below upper, and a step")
    levels = _levels(lower, upper, step)
    cells = bound(rows, layout(groups, len(levels)), reduce=reduce, per_group=1,
                  max_groups=max_groups, positions=level_position(levels))
    return Plan(ReleaseKind.MEAN, cells, _weighted(levels))


def nps_plan(rows: Iterable[Row], *, reduce: PerMember = PerMember.MEAN,
             groups: Sequence[Hashable] | None = None, max_groups: int = 1) -> Plan:
    """The Net Promoter Score (promoters minus detractors, in percent of respondents) of one
    0-10 score per member (``reduce``)."""
    cells = bound(rows, layout(groups, len(NPS_SCORES)), reduce=reduce, per_group=1,
                  max_groups=max_groups, positions=nps_position)
    return Plan(ReleaseKind.NPS, cells, _weighted(NPS_SCORES))


class PrivateReleases:
    """The releases the insights API makes, each paid from the brand's budget."""

    def __init__(self, *, budget: PrivacyBudget,
                 settings: ReleaseSettings | None = None) -> None:
        self.budget = budget
        self.settings = settings or ReleaseSettings()

    def release(self, brand_id: str, plan: Plan, epsilon: float) -> Release:
        """Pay ``epsilon`` from the brand's budget (or raise
        :class:`~brand_gateway.errors.PrivacyBudgetSpentError`, nothing released), then
        measure the plan's cells once and read its groups, small ones suppressed."""
        state = self.budget.spend(brand_id, epsilon)
        return self._measure(plan, epsilon, state)

    def release_many(self, brand_id: str, plans: Sequence[Plan],
                     epsilon: float) -> list[Release]:
        """Pay ``epsilon`` once for all ``plans`` (or raise, nothing released), then measure
        each with an equal share of it: by sequential composition their losses add up to
        ``epsilon`` (a survey's questions, each its own release)."""
        if not plans:
            raise ValueError("a release measures one plan at least")
        state = self.budget.spend(brand_id, epsilon)
        return [self._measure(plan, epsilon / len(plans), state) for plan in plans]

    def _measure(self, plan: Plan, epsilon: float, state: BudgetState) -> Release:
        """One OpenDP measurement of the plan's cells (a group-count cell added where the plan
        has none), then each group read, or suppressed on its one noisy group count."""
        bounded = plan.bounded if plan.group_cell else with_group_counts(plan.bounded)
        counts, scale = (noisy_counts(bounded, epsilon) if isinstance(bounded, TalliedCells)
                         else noisy_cells(bounded, epsilon))
        alpha = 1 - self.settings.confidence
        threshold = self.settings.threshold(scale)
        groups = []
        for number, label in enumerate(bounded.layout.groups):
            block = bounded.layout.block(counts, number)
            if plan.group_cell:
                respondents, value, per_category = plan.summarise(block, scale, alpha)
            else:
                _, value, per_category = plan.summarise(block[1:], scale, alpha)
                respondents = _cell(block[0], _accuracy(scale, alpha))
            if respondents.value < threshold or (
                    value is not None and math.isnan(value.value)):
                groups.append(GroupResult(label, suppressed=True))
            else:
                groups.append(GroupResult(label, False, _clipped(respondents), value,
                                          per_category))
        return Release(
            kind=plan.kind, epsilon=epsilon, delta=0.0, noise_scale=scale,
            contributions=bounded.contributions, sensitivity=sensitivity(bounded),
            confidence=self.settings.confidence, accuracy=_accuracy(scale, alpha),
            minimum_cohort=self.settings.minimum_cohort, groups=tuple(groups), budget=state)


def noisy_cells(bounded: BoundedCells, epsilon: float) -> tuple[list[int], float]:
    """Every cell's count with discrete Laplace noise, and the noise's scale, from one OpenDP
    measurement calibrated to ``bounded.contributions`` and ``epsilon``.

    The context is an OpenDP privacy filter (a compositor without a split) whose whole budget
    is ``epsilon``: the one query spends all of it, and the library itself would refuse a
    second. The brand's budget across releases and processes is the durable one of
    :class:`~.budget.PrivacyBudget`, paid before this runs."""
    dp, cells, _ = _opendp()
    context = dp.Context.compositor(
        data=bounded.cells, privacy_unit=dp.unit_of(contributions=bounded.contributions),
        privacy_loss=dp.loss_of(epsilon=epsilon), domain=cells)
    measurement = (context.query(epsilon=epsilon)
                   .count_by_categories(categories=list(range(bounded.layout.cells)),
                                        null_category=False)
                   .laplace()
                   .resolve())
    counts = context(measurement)
    return [int(count) for count in counts], float(measurement.param)


def noisy_counts(tallied: TalliedCells, epsilon: float) -> tuple[list[int], float]:
    """Every tallied count with discrete Laplace noise, and the noise's scale, from one OpenDP
    measurement: the same privacy filter as :func:`noisy_cells`, over the vector of counts with
    privacy unit ``dp.unit_of(l1=contributions)`` (one member moves the counts by that much at
    most), so the scale is the one :func:`noisy_cells` derives for the same bound."""
    dp, _, counts = _opendp()
    context = dp.Context.compositor(
        data=tallied.counts, privacy_unit=dp.unit_of(l1=tallied.contributions),
        privacy_loss=dp.loss_of(epsilon=epsilon), domain=counts)
    measurement = context.query(epsilon=epsilon).laplace().resolve()
    counts = context(measurement)
    return [int(count) for count in counts], float(measurement.param)


def sensitivity(bounded: BoundedCells | TalliedCells) -> float:
    """The L1 distance OpenDP's count of the cells moves by when one member's cells change."""
    dp, cells, _ = _opendp()
    counting = dp.t.make_count_by_categories(
        cells, dp.symmetric_distance(), categories=list(range(bounded.layout.cells)),
        null_category=False)
    return float(counting.map(bounded.contributions))


# -- post-processing: from a group's noisy cells to what the brand reads ------------------------



def _count(block: Sequence[int], scale: float, alpha: float) -> Summary:
    respondents = _cell(block[0], _accuracy(scale, alpha))
    return respondents, _clipped(respondents), None


def _categories(categories: Sequence[Hashable], *, respondent_cell: bool) -> Summariser:
    def summarise(block: Sequence[int], scale: float, alpha: float) -> Summary:
        accuracy = _accuracy(scale, alpha)
        if respondent_cell:
            respondents, classes = _cell(block[0], accuracy), block[1:]
        else:
            respondents, classes = _total(block, scale, alpha), block
        per_category = tuple((category, _clipped(_cell(count, accuracy)))
                             for category, count in zip(categories, classes, strict=True))
        return respondents, None, per_category
    return summarise


def _weighted(scores: Sequence[float]) -> Summariser:
    """The mean of ``scores`` weighted by the noisy counts (negative ones taken as 0); its
    interval is the least and greatest such mean over every count within its accuracy."""
    def summarise(block: Sequence[int], scale: float, alpha: float) -> Summary:
        accuracy = _accuracy(scale, alpha / len(block))
        counts = [max(0, count) for count in block]
        value = (sum(s * c for s, c in zip(scores, counts, strict=True)) / sum(counts)
                 if sum(counts) else math.nan)
        low, high = mean_range(scores, [max(0.0, c - accuracy) for c in block],
                                [c + accuracy for c in block])
        return _total(block, scale, alpha), Estimate(value, low, high), None
    return summarise


def mean_range(scores: Sequence[float], lows: Sequence[float],
                highs: Sequence[float]) -> tuple[float, float]:
    """The least and greatest weighted mean of ``scores`` with each weight in its range. A
    ratio of linear forms over a box is extreme at a corner where the weights of scores above
    a threshold are all high and those below all low (or the reverse), so the thresholds are
    all there is to try."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    least, greatest = max(scores), min(scores)
    for cut in range(len(order) + 1):
        for upward in (True, False):
            weights = {i: (lows[i] if (position < cut) == upward else highs[i])
                       for position, i in enumerate(order)}
            total = sum(weights.values())
            if total <= 0:
                return min(scores), max(scores)
            mean = sum(scores[i] * w for i, w in weights.items()) / total
            least, greatest = min(least, mean), max(greatest, mean)
    return least, greatest


def _total(block: Sequence[int], scale: float, alpha: float) -> Estimate:
    """The sum of a group's cells (its respondents, when a member is in one cell of it)."""
    accuracy = _accuracy(scale, alpha / len(block)) * len(block)
    total = sum(block)
    return Estimate(total, total - accuracy, total + accuracy)


def _cell(count: int, accuracy: float) -> Estimate:
    return Estimate(count, count - accuracy, count + accuracy)


def _clipped(estimate: Estimate) -> Estimate:
    """A count as the brand reads it: never below zero (post-processing)."""
    return Estimate(max(0.0, estimate.value), max(0.0, estimate.low), max(0.0, estimate.high))


def _accuracy(scale: float, alpha: float) -> float:
    return float(_opendp()[0].discrete_laplacian_scale_to_accuracy(scale, alpha))


def _levels(lower: float, upper: float, step: float) -> tuple[float, ...]:
    count = math.floor((upper - lower) / step + 1e-9) + 1
    if count > 1001:
        raise ValueError("a mean has at most 1001 levels")
    return tuple(lower + i * step for i in range(count))


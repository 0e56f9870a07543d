"""The noise has the spread the epsilon promises, and one member moves an answer no more than
its bound, however many rows they have (brand_gateway/insights/releases.py).

OpenDP draws discrete Laplace noise from a CSPRNG and cannot be seeded, so the spread is
checked statistically: many independent cells, each a draw of the noise, and the number of
draws beyond the library's own accuracy figure compared with the binomial distribution it
must follow. The acceptance bounds are that distribution's exact quantiles at 1e-10 on each
side, for two figures: a false failure has probability below 4e-10, however often it runs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import opendp.prelude as dp
import pytest

from brand_gateway.insights.contributions import Row
from brand_gateway.insights.releases import (
    Plan,
    PrivateReleases,
    ReleaseKind,
    count_plan,
    histogram_plan,
    mean_plan,
    multiple_choice_plan,
    noisy_cells,
    noisy_counts,
    nps_plan,
    sensitivity,
    tallied_plan,
)

TAIL = 1e-10                       # each side, each figure


def acceptance(draws: int, p: float) -> tuple[int, int]:
    """The least and greatest count of a Binomial(draws, p) outside which lies at most
    ``TAIL`` of its probability on each side."""
    log_pmf = [math.lgamma(draws + 1) - math.lgamma(k + 1) - math.lgamma(draws - k + 1)
               + k * math.log(p) + (draws - k) * math.log1p(-p) for k in range(draws + 1)]
    pmf = [math.exp(value) for value in log_pmf]
    below, low = 0.0, 0
    while below + pmf[low] <= TAIL:
        below += pmf[low]
        low += 1
    above, high = 0.0, draws
    while above + pmf[high] <= TAIL:
        above += pmf[high]
        high -= 1
    return low, high


def discrete_laplace_tail(scale: float, at_least: int) -> float:
    """P(|X| >= at_least) for X discrete Laplace of ``scale`` (P(x) proportional to
    e^-|x|/scale), at_least >= 1: the distribution the epsilon promises."""
    t = math.exp(-1 / scale)
    return 2 * t ** at_least / (1 + t)


def test_noise_has_the_spread_the_epsilon_promises(releases: PrivateReleases, brand) -> None:
    # 1,000 categories in 2 groups, 80 members in each category, each member in both groups
    # (at most 2 groups each): every member adds 4 cells (their category and the group's
    # count, in each group), so at epsilon 2 the scale is 2.
    # 20 releases of 2,000 cells: 40,000 draws of the noise. A release shows a count below
    # zero as zero; with 80 in every cell that happens with probability below 1e-13 in all.
    categories = [f"c{n}" for n in range(1_000)]
    members = [(member, group, categories[member % 1_000]) for member in range(80_000)
               for group in ("a", "b")]
    plan = histogram_plan(members, categories=categories, groups=("a", "b"), max_groups=2)
    draws: list[float] = []
    for _ in range(20):
        release = releases.release(brand.id, plan, epsilon=2.0)
        assert release.noise_scale == pytest.approx(2.0, rel=1e-6)
        assert release.contributions == release.sensitivity == 4
        for group in release.groups:
            assert group.counts is not None
            draws.extend(estimate.value - 80 for _, estimate in group.counts)
    scale = release.noise_scale
    # The release's own figure (at 95%), and the library's at 50%.
    assert release.accuracy == pytest.approx(dp.discrete_laplacian_scale_to_accuracy(scale, 0.05))
    for alpha, accuracy in ((0.05, release.accuracy),
                            (0.5, dp.discrete_laplacian_scale_to_accuracy(scale, 0.5))):
        # The library's promise: at most alpha of the draws beyond its figure; exactly this
        # share for noise of the scale epsilon calls for.
        share = discrete_laplace_tail(scale, math.ceil(accuracy))
        assert share <= alpha
        beyond = sum(1 for noise in draws if abs(noise) >= accuracy)
        low, high = acceptance(len(draws), share)
        assert low <= beyond <= high, (alpha, beyond, low, high)


def _with(extra: list[Row], base: list[Row]) -> list[Row]:
    return base + extra


PLANS: dict[str, Callable[[list[Row]], Plan]] = {
    "count": lambda data: count_plan(data, groups=("a", "b")),
    "histogram": lambda data: histogram_plan(
        [(m, g, ("x", "y", "z")[int(v) % 3]) for m, g, v in data], categories=("x", "y", "z"),
        groups=("a", "b")),
    "multiple choice": lambda data: multiple_choice_plan(
        [(m, g, ("x", "y", "z")[: int(v) % 3 + 1]) for m, g, v in data],
        categories=("x", "y", "z"), choices=2, groups=("a", "b")),
    "mean": lambda data: mean_plan(data, lower=1, upper=5, step=0.5, groups=("a", "b")),
    "nps": lambda data: nps_plan(data, groups=("a", "b")),
    "nps of two groups a member": lambda data: nps_plan(data, groups=("a", "b"),
                                                        max_groups=2),
}


@pytest.mark.parametrize("kind", sorted(PLANS))
def test_a_member_with_500_entries_moves_an_answer_no_more_than_one_entry_may(
        kind: str) -> None:
    make = PLANS[kind]
    base: list[Row] = [(member, "ab"[member % 2], member % 11) for member in range(200)]
    one = make(_with([("newcomer", "a", 7)], base))
    many = make(_with([("newcomer", "ab"[n % 2], n % 11) for n in range(500)], base))
    without = Counter(make(base).bounded.cells)
    bound = one.bounded.contributions
    assert many.bounded.contributions == bound
    for plan in (one, many):
        moved = Counter(plan.bounded.cells)
        distance = sum(abs(moved[cell] - without[cell]) for cell in moved.keys() | without)
        assert 1 <= distance <= bound
        # The sensitivity OpenDP derives, and so the noise, depend on the bound alone.
        assert sensitivity(plan.bounded) == bound
        _, scale = noisy_cells(plan.bounded, 1.0)
        assert scale == pytest.approx(bound, rel=1e-6)


def test_tallied_counts_get_the_spread_the_epsilon_promises(releases: PrivateReleases,
                                                            brand) -> None:
    """The read model's path (counts tallied by the store, ``TalliedCells``): the same noise,
    at the scale the bound calls for (the group counts added), checked as above on 40,000
    draws."""
    counts = [80] * 2_000
    plan = tallied_plan(ReleaseKind.HISTOGRAM, counts, width=1_000, groups=("a", "b"),
                        max_groups=2, categories=[f"c{n}" for n in range(1_000)])
    draws: list[float] = []
    for _ in range(20):
        release = releases.release(brand.id, plan, epsilon=2.0)
        assert release.noise_scale == pytest.approx(2.0, rel=1e-6)
        assert release.contributions == release.sensitivity == 4
        for group in release.groups:
            assert group.counts is not None
            draws.extend(estimate.value - 80 for _, estimate in group.counts)
    scale = release.noise_scale
    for alpha, accuracy in ((0.05, release.accuracy),
                            (0.5, dp.discrete_laplacian_scale_to_accuracy(scale, 0.5))):
        share = discrete_laplace_tail(scale, math.ceil(accuracy))
        assert share <= alpha
        beyond = sum(1 for noise in draws if abs(noise) >= accuracy)
        low, high = acceptance(len(draws), share)
        assert low <= beyond <= high, (alpha, beyond, low, high)


@pytest.mark.parametrize("contributions", [1, 3, 10])
def test_tallied_and_bounded_cells_get_the_same_noise_for_the_same_bound(
        contributions: int) -> None:
    cells = [0] * contributions
    bounded = histogram_plan([(0, g, "x") for g in range(contributions)], categories=("x",),
                             groups=range(contributions), max_groups=contributions).bounded
    assert bounded.contributions == contributions
    tallied = tallied_plan(ReleaseKind.HISTOGRAM, cells, width=1,
                           groups=range(contributions), max_groups=contributions,
                           categories=("x",)).bounded
    assert sensitivity(tallied) == sensitivity(bounded) == contributions
    assert noisy_counts(tallied, 0.5)[1] == pytest.approx(noisy_cells(bounded, 0.5)[1])

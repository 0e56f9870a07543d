"""A survey's audience and a community's size as their brand is told them
(brand_gateway/insights/audience.py): one differentially private count, paid from the brand's
insights budget; not told once it is spent.

OpenDP's noise cannot be seeded: each assertion about it holds with the probability beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from brand_gateway.insights.audience import (
    AUDIENCE_EPSILON,
    audience_measure,
    community_size_measure,
)
from brand_gateway.insights.budget import DAY, BudgetSettings, PrivacyBudget
from brand_gateway.insights.releases import (
    Estimate,
    GroupResult,
    Plan,
    PrivateReleases,
    Release,
    ReleaseKind,
    ReleaseSettings,
    TalliedCells,
    sensitivity,
)
from community.audience import Cohort
from community.communities import NOT_MEASURED, CommunitySize
from vault.clock import FrozenClock


class NoisyAs(PrivateReleases):
    """Releases as PrivateReleases makes them (paid, measured), each recorded with its plan
    and epsilon, and then told as if the noisy count had been ``noisy`` (None: suppressed):
    what the brand is told must follow from the release alone."""

    def __init__(self, budget: PrivacyBudget, noisy: int | None) -> None:
        super().__init__(budget=budget)
        self.noisy = noisy
        self.made: list[tuple[str, Plan, float]] = []

    def release(self, brand_id: str, plan: Plan, epsilon: float) -> Release:
        made = super().release(brand_id, plan, epsilon)
        self.made.append((brand_id, plan, epsilon))
        if self.noisy is None:
            return replace(made, groups=(GroupResult(None, suppressed=True),))
        count = Estimate(self.noisy, self.noisy - 12, self.noisy + 12)
        return replace(made, groups=(GroupResult(None, False, count, count),))


def test_each_count_is_paid_from_the_brands_budget(make_budget: Callable[..., PrivacyBudget],
                                                   brand) -> None:
    budget = make_budget()
    measure = audience_measure(PrivateReleases(budget=budget))
    measure(brand.id, 400)
    measure(brand.id, 400)
    assert budget.state(brand.id).spent == 2 * AUDIENCE_EPSILON


def test_one_member_more_or_less_is_not_a_threshold(make_budget: Callable[..., PrivacyBudget],
                                                    brand) -> None:
    # Exact counts of 49 and 50 were told apart every time ("fewer than 50" and "at least
    # 50"). At scale 4 the threshold is 54 (ReleaseSettings.threshold): 50 members are told
    # "at least 50" with probability about 0.21 a count and "fewer than 50" the rest, 49
    # members with about 0.16, so both answers show for each in 150 counts but for a chance
    # below 1e-11.
    measure = audience_measure(PrivateReleases(budget=make_budget(),
                                               settings=ReleaseSettings()))
    for eligible in (49, 50):
        told = {measure(brand.id, eligible).reported for _ in range(150)}
        assert None in told and told - {None} and min(told - {None}) >= 50, told


def test_a_spent_budget_publishes_without_telling(make_budget: Callable[..., PrivacyBudget],
                                                  brand) -> None:
    budget = make_budget(BudgetSettings(epsilon_per_period=0.3))
    measure = audience_measure(PrivateReleases(budget=budget))
    assert measure(brand.id, 400).measured
    assert measure(brand.id, 400) == Cohort.unmeasured(50)
    # A period's whole budget smaller than one count: never measured, never an error.
    tiny = make_budget(BudgetSettings(epsilon_per_period=0.1))
    assert audience_measure(PrivateReleases(budget=tiny))(brand.id, 400) == Cohort.unmeasured(50)


def test_a_community_size_is_one_count_of_its_members_at_audience_epsilon(
        make_budget: Callable[..., PrivacyBudget], brand) -> None:
    # 19 and 20 members, a step of the old exact figure (null, then 10): each is one COUNT
    # release of one tallied cell, the member its privacy unit (L1 sensitivity 1), at the
    # audience's epsilon, and what is told follows from the release's noisy count alone.
    budget = make_budget()
    releases = NoisyAs(budget, noisy=67)
    measure = community_size_measure(releases)
    assert [measure.count(brand.id, members) for members in (19, 20)] == [CommunitySize(60)] * 2
    for (brand_id, plan, epsilon), members in zip(releases.made, (19, 20), strict=True):
        assert (brand_id, plan.kind, epsilon) == (brand.id, ReleaseKind.COUNT, AUDIENCE_EPSILON)
        assert isinstance(plan.bounded, TalliedCells) and plan.bounded.counts == [members]
        assert plan.bounded.contributions == 1 and sensitivity(plan.bounded) == 1
    assert budget.state(brand.id).spent == 2 * AUDIENCE_EPSILON
    releases.noisy = None
    assert measure.count(brand.id, 400) == CommunitySize(None)      # suppressed: measured


def test_a_community_size_is_kept_per_period_of_the_budget(
        make_budget: Callable[..., PrivacyBudget], clock: FrozenClock) -> None:
    budget = make_budget(BudgetSettings(period_seconds=7 * DAY))
    period = community_size_measure(PrivateReleases(budget=budget)).period
    first = period()
    assert first == budget.state("any").period_start and first % (7 * DAY) == 0
    clock.advance(7 * DAY)
    assert period() == first + 7 * DAY == budget.state("any").period_start


def test_a_spent_budget_tells_no_community_size(make_budget: Callable[..., PrivacyBudget],
                                                brand) -> None:
    budget = make_budget(BudgetSettings(epsilon_per_period=0.3))
    measure = community_size_measure(PrivateReleases(budget=budget))
    assert measure.count(brand.id, 400).measured
    assert measure.count(brand.id, 400) == NOT_MEASURED
    assert budget.state(brand.id).spent == AUDIENCE_EPSILON

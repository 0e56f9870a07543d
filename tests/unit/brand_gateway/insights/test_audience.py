"""A survey's audience as its brand is told it (brand_gateway/insights/audience.py): one
differentially private count, paid from the brand's insights budget; not told once it is spent.

OpenDP's noise cannot be seeded: each assertion about it holds with the probability beside it.
"""

from __future__ import annotations

from collections.abc import Callable

from brand_gateway.insights.audience import AUDIENCE_EPSILON, audience_measure
from brand_gateway.insights.budget import BudgetSettings, PrivacyBudget
from brand_gateway.insights.releases import PrivateReleases, ReleaseSettings
from community.audience import Cohort


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

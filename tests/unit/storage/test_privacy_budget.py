"""Contract of the brands' privacy budgets (``brand_gateway/insights/repositories.py``): a
spend is granted only while it fits the allowance, and recorded only when granted, per brand
and per period."""

from __future__ import annotations

import pytest

from brand_gateway.insights.repositories import SpendOutcome
from vault.brands import Brand

from .conftest import Repositories


@pytest.fixture
def brands(repositories: Repositories) -> tuple[str, str]:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1", "brand_2"


def test_spends_add_up_to_the_allowance_and_no_further(repositories: Repositories,
                                                        brands: tuple[str, str]) -> None:
    spends = repositories.privacy_spends
    assert spends.spent("brand_1", 0) == 0
    assert spends.spend("brand_1", 0, 600, 1_000) == SpendOutcome(granted=True, spent=600)
    assert spends.spend("brand_1", 0, 500, 1_000) == SpendOutcome(granted=False, spent=600)
    assert spends.spent("brand_1", 0) == 600                      # a refusal records nothing
    assert spends.spend("brand_1", 0, 400, 1_000) == SpendOutcome(granted=True, spent=1_000)
    assert spends.spend("brand_1", 0, 1, 1_000) == SpendOutcome(granted=False, spent=1_000)


def test_each_brand_and_period_has_its_own_spend(repositories: Repositories,
                                                 brands: tuple[str, str]) -> None:
    spends = repositories.privacy_spends
    assert spends.spend("brand_1", 0, 1_000, 1_000).granted
    assert spends.spend("brand_2", 0, 1_000, 1_000).granted           # another brand
    assert spends.spend("brand_1", 86_400, 1_000, 1_000).granted      # another period
    assert spends.spent("brand_1", 0) == spends.spent("brand_1", 86_400) == 1_000
    assert spends.spent("brand_2", 86_400) == 0


def test_a_spend_rolls_back_with_the_transaction_it_joins(repositories: Repositories,
                                                          brands: tuple[str, str]) -> None:
    spends = repositories.privacy_spends
    with pytest.raises(RuntimeError), spends.transaction():
        assert spends.spend("brand_1", 0, 300, 1_000).granted
        raise RuntimeError("the caller failed")
    assert spends.spent("brand_1", 0) == 0

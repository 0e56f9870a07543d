"""Fixtures of the insights tests: budgets in the shared test vault's data store (the real
SQLCipher file), and the releases paid from them (the brand is ``tests/conftest.py``'s); a
brand's community of members (``tests/insights_support.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from brand_gateway.insights.budget import BudgetSettings, PrivacyBudget
from brand_gateway.insights.releases import PrivateReleases, ReleaseSettings
from brand_gateway.storage import privacy_budget
from consent.context import Consent
from tests.insights_support import Community, make_community
from vault.clock import FrozenClock
from vault.home import Vault

#: A period's budget large enough for the many releases a statistical test makes.
AMPLE = BudgetSettings(epsilon_per_period=1_000.0)


@pytest.fixture
def make_budget(vault: Vault, clock: FrozenClock) -> Callable[..., PrivacyBudget]:
    def make(settings: BudgetSettings = AMPLE) -> PrivacyBudget:
        return privacy_budget(database=vault.data, clock=clock, settings=settings)
    return make


@pytest.fixture
def releases(make_budget: Callable[..., PrivacyBudget]) -> PrivateReleases:
    return PrivateReleases(budget=make_budget(), settings=ReleaseSettings())


@pytest.fixture
def community(vault: Vault, consent: Consent) -> Community:
    return make_community(vault, consent)

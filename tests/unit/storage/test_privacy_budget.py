"""Contract of the brands' privacy budgets (``brand_gateway/insights/repositories.py``): a
spend is granted only while it fits the allowance, and recorded only when granted, per brand
and per period; on PostgreSQL, spends made at once over connections of their own (hosts) never
spend the same remainder twice."""

from __future__ import annotations

import threading

import pytest

from brand_gateway.insights.postgresql import PostgresqlPrivacySpends
from brand_gateway.insights.repositories import SpendOutcome
from tests.postgresql_server import Server
from vault.brands import Brand
from vault.postgresql.database import Database

from .conftest import Repositories, postgresql_data_template

HOSTS = 4
SPENDS_EACH = 10


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


def test_hosts_spending_at_once_never_spend_past_the_allowance(postgresql: Server) -> None:
    """Four connections (hosts) spend 100 each, ten times, from one allowance of 1,000 at
    once: exactly ten spends are granted, and the row holds exactly what they spent."""
    with postgresql.database(postgresql_data_template(postgresql)) as dsn:
        setup = Database.connect(dsn)
        try:
            setup.execute("INSERT INTO brands (id, name, categories, created_at)"
                          " VALUES (?, ?, ?, ?)", ("brand_1", "Velo", "[]", 1))
        finally:
            setup.close()
        start = threading.Barrier(HOSTS)
        outcomes: list[SpendOutcome] = []
        failures: list[BaseException] = []

        def host() -> None:
            try:
                database = Database.connect(dsn)
                try:
                    spends = PostgresqlPrivacySpends(database)
                    start.wait(timeout=10)
                    outcomes.extend(spends.spend("brand_1", 0, 100, 1_000)
                                    for _ in range(SPENDS_EACH))
                finally:
                    database.close()
            except BaseException as exc:        # reported below, in the test's own thread
                failures.append(exc)

        threads = [threading.Thread(target=host) for _ in range(HOSTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not failures, failures
        granted = [outcome for outcome in outcomes if outcome.granted]
        assert sorted(outcome.spent for outcome in granted) == list(range(100, 1_001, 100))
        assert all(outcome.spent == 1_000 for outcome in outcomes if not outcome.granted)
        check = Database.connect(dsn)
        try:
            assert tuple(check.one("SELECT spent, releases FROM privacy_budget_spends")) == (
                1_000, 10)
        finally:
            check.close()

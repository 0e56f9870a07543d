"""Privacy budgets (brand_gateway/insights/budget.py): every release is paid before it is made,
repeated queries stop at the budget (from two processes at once too, over the real SQLCipher
file), a refusal says what is left and when it renews, and the spend survives a restart."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from brand_gateway.errors import PrivacyBudgetSpentError
from brand_gateway.insights.budget import DAY, BudgetSettings, PrivacyBudget
from brand_gateway.insights.releases import PrivateReleases, count_plan
from brand_gateway.storage import privacy_budget
from tests.conftest import TEST_HASHING
from vault.clock import FrozenClock
from vault.errors import ValidationError
from vault.home import Vault, VaultHome

WEEKLY = BudgetSettings(epsilon_per_period=1.0, period_seconds=7 * DAY)
MEMBERS = [(member, None, None) for member in range(80)]


def test_repeated_queries_stop_at_the_budget(make_budget: Callable[..., PrivacyBudget],
                                             brand, clock: FrozenClock) -> None:
    releases = PrivateReleases(budget=make_budget(WEEKLY))
    plan = count_plan(MEMBERS)
    for _ in range(4):
        releases.release(brand.id, plan, epsilon=0.25)
    with pytest.raises(PrivacyBudgetSpentError) as refused:
        releases.release(brand.id, plan, epsilon=0.25)
    error = refused.value
    state = make_budget(WEEKLY).state(brand.id)
    assert (state.spent, state.remaining) == (1.0, 0.0)            # the refusal spent nothing
    assert error.remaining == 0.0 and error.requested == 0.25
    assert error.renews_at == state.renews_at > clock()
    assert error.headers() == {"Retry-After": str(int(state.renews_at - clock()))}
    assert error.extensions()["renews_at"] == error.renews
    assert "0.25" in error.message and error.renews in error.message
    assert error.status == 429


def test_a_refusal_says_what_is_left(make_budget: Callable[..., PrivacyBudget], brand) -> None:
    budget = make_budget(WEEKLY)
    budget.spend(brand.id, 0.7)
    with pytest.raises(PrivacyBudgetSpentError) as refused:
        budget.spend(brand.id, 0.5)
    assert refused.value.remaining == pytest.approx(0.3)
    assert budget.spend(brand.id, 0.3).remaining == 0.0              # what is left still goes


def test_the_budget_renews_with_the_period(make_budget: Callable[..., PrivacyBudget], brand,
                                           clock: FrozenClock) -> None:
    budget = make_budget(WEEKLY)
    budget.spend(brand.id, 1.0)
    renews_at = budget.state(brand.id).renews_at
    clock.now = renews_at - 1
    with pytest.raises(PrivacyBudgetSpentError):
        budget.spend(brand.id, 0.1)
    clock.now = renews_at
    state = budget.spend(brand.id, 0.1)
    assert (state.period_start, state.spent) == (renews_at, 0.1)
    assert state.renews_at == renews_at + 7 * DAY


def test_each_brand_has_its_own_budget(make_budget: Callable[..., PrivacyBudget], brand,
                                       vault: Vault) -> None:
    other = vault.brands.add("Atlas Outdoor", ("outdoor",))
    budget = make_budget(WEEKLY)
    budget.spend(brand.id, 1.0)
    assert budget.spend(other.id, 1.0).remaining == 0.0


def test_a_spend_is_rounded_up_to_the_millionth(make_budget: Callable[..., PrivacyBudget],
                                                brand) -> None:
    assert make_budget(WEEKLY).spend(brand.id, 0.1234561).spent == 0.123457


@pytest.mark.parametrize("epsilon", [0, -0.5, float("nan"), float("inf"), 1.5])
def test_an_epsilon_no_period_can_pay_is_bad_input(make_budget: Callable[..., PrivacyBudget],
                                                   brand, epsilon: float) -> None:
    budget = make_budget(WEEKLY)
    with pytest.raises(ValidationError) as refused:
        budget.spend(brand.id, epsilon)
    assert "epsilon" in refused.value.errors
    assert budget.state(brand.id).spent == 0


def test_the_spend_survives_a_restart(vault_home: VaultHome, brand, vault: Vault,
                                      clock: FrozenClock) -> None:
    privacy_budget(database=vault.data, clock=clock, settings=WEEKLY).spend(brand.id, 0.4)
    reopened = vault_home.open(clock=clock, hashing=TEST_HASHING)
    try:
        state = privacy_budget(database=reopened.data, clock=clock, settings=WEEKLY).state(
            brand.id)
    finally:
        reopened.close()
    assert state.spent == 0.4


def _spend_until_refused(home_root: str, brand_id: str, start: float, go: object,
                         results: object) -> None:
    """A worker of its own: its own connection to the data store, releasing until refused."""
    home = VaultHome(Path(home_root))
    clock = FrozenClock(start)
    opened = home.open(clock=clock, hashing=TEST_HASHING)
    try:
        releases = PrivateReleases(budget=privacy_budget(
            database=opened.data, clock=clock,
            settings=BudgetSettings(epsilon_per_period=3.0, period_seconds=7 * DAY)))
        plan = count_plan(MEMBERS)
        go.wait()                                                # type: ignore[attr-defined]
        granted = 0
        while True:
            try:
                releases.release(brand_id, plan, epsilon=0.1)
            except PrivacyBudgetSpentError:
                break
            granted += 1
        results.put(granted)                                     # type: ignore[attr-defined]
    finally:
        opened.close()


def test_two_processes_at_once_stop_at_the_budget_together(vault_home: VaultHome, brand,
                                                           clock: FrozenClock) -> None:
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    workers = [context.Process(target=_spend_until_refused,
                               args=(str(vault_home.root), brand.id, clock(), go, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    go.set()
    granted = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    # 3.0 of epsilon in releases of 0.1: exactly 30, however the two interleaved.
    assert sum(granted) == 30, granted
    opened = vault_home.open(clock=clock, hashing=TEST_HASHING)
    try:
        state = privacy_budget(database=opened.data, clock=clock, settings=BudgetSettings(
            epsilon_per_period=3.0, period_seconds=7 * DAY)).state(brand.id)
    finally:
        opened.close()
    assert state.spent == pytest.approx(3.0) and state.remaining == pytest.approx(0.0)

"""Each brand's differential-privacy budget: epsilon per period, spent before anything is
released, durable in the data store.

Invariants:
- A release is paid for before it is computed (:meth:`PrivacyBudget.spend`), in one write
  transaction of the store that checks the remainder and records the spend, so workers and
  processes sharing the store never spend one remainder twice, and a spend survives a restart.
  A release that fails after its spend stays paid for: the budget errs on the side of the
  members, never of the brand.
- Periods are fixed slices of ``period_seconds`` from the Unix epoch (UTC), read off the
  injected clock; a new period starts with the whole allowance, whatever was spent before.
- Amounts are kept in millionths of epsilon; a spend is rounded up to the next millionth, so
  the recorded spend is never less than the loss the release may cause.
- A refusal (:class:`~brand_gateway.errors.PrivacyBudgetSpentError`) says what is left of the
  period and when it renews; an epsilon that no period could ever pay for is bad input
  (:class:`~vault.errors.ValidationError`), not a refusal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vault.clock import Clock
from vault.errors import ValidationError

from ..errors import PrivacyBudgetSpentError
from .repositories import MICRO, PrivacySpendRepository

DAY = 86_400


@dataclass(frozen=True)
class BudgetSettings:
    """What each brand may spend: ``epsilon_per_period`` in every ``period_seconds``."""

    epsilon_per_period: float = 10.0
    period_seconds: int = 30 * DAY

    def __post_init__(self) -> None:
        if not (math.isfinite(self.epsilon_per_period) and self.epsilon_per_period > 0):
            raise ValueError("the epsilon of a period is a positive number")
        if self.period_seconds < 1:
            raise ValueError("a budget period lasts at least a second")


@dataclass(frozen=True)
class BudgetState:
    """A brand's budget in the current period, in epsilon."""

    allowance: float
    spent: float
    remaining: float
    period_start: int
    renews_at: int


class PrivacyBudget:
    """Check-and-spend of the brands' budgets over a :class:`PrivacySpendRepository`."""

    def __init__(self, *, spends: PrivacySpendRepository, clock: Clock,
                 settings: BudgetSettings | None = None) -> None:
        self._spends = spends
        self._clock = clock
        self.settings = settings or BudgetSettings()

    def spend(self, brand_id: str, epsilon: float) -> BudgetState:
        """Record ``epsilon`` spent by the brand now, or raise
        :class:`~brand_gateway.errors.PrivacyBudgetSpentError` (nothing spent) when the period
        has less left; the state after the spend."""
        amount = self._amount(epsilon)
        start = self.period_start()
        outcome = self._spends.spend(brand_id, start, amount, self._allowance())
        state = self._state(start, outcome.spent)
        if not outcome.granted:
            raise PrivacyBudgetSpentError(
                requested=epsilon, remaining=state.remaining, renews_at=state.renews_at,
                retry_after=max(1, math.ceil(state.renews_at - self._clock())))
        return state

    def state(self, brand_id: str) -> BudgetState:
        """The brand's budget in the current period (a read; nothing is spent)."""
        start = self.period_start()
        return self._state(start, self._spends.spent(brand_id, start))

    def period_start(self) -> int:
        """The start of the current period (read off the injected clock), in Unix seconds."""
        length = self.settings.period_seconds
        return math.floor(self._clock() // length) * length

    # -- arithmetic ----------------------------------------------------------------------
    def _amount(self, epsilon: float) -> int:
        if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
            raise ValidationError({"epsilon": ["Epsilon is a positive number."]})
        amount = math.ceil(epsilon * MICRO)
        if amount > self._allowance():
            raise ValidationError({"epsilon": [
                f"Epsilon is at most {self.settings.epsilon_per_period:g}, the budget of a"
                " whole period."]})
        return amount

    def _allowance(self) -> int:
        return math.floor(self.settings.epsilon_per_period * MICRO)

    def _state(self, start: int, spent: int) -> BudgetState:
        allowance = self._allowance()
        return BudgetState(allowance=allowance / MICRO, spent=spent / MICRO,
                           remaining=max(0, allowance - spent) / MICRO, period_start=start,
                           renews_at=start + self.settings.period_seconds)

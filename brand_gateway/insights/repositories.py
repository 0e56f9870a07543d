"""What the insights services may ask of storage: the brands' privacy budgets, as one
repository contract.

The same seam as ``vault/repositories.py`` (its docstring states the invariants every
implementation keeps: one store's repositories share its transactions, results come in a
stated order). ``budget.py`` holds no SQL; SQLCipher's implementation is
``brand_gateway/insights/sqlcipher.py`` and passes the conformance suite in
``tests/unit/storage/``.

Amounts are integers in millionths of epsilon (:data:`MICRO`), so that spends add up exactly;
the service rounds a spend up, never down, before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional

MICRO = 1_000_000          # amounts are stored in millionths of epsilon


@dataclass(frozen=True)
class SpendOutcome:
    """What one check-and-spend found: whether it was granted, and the brand's spend of the
    period after it (before it, when refused)."""

    granted: bool
    spent: int


class PrivacySpendRepository(Transactional, Protocol):
    """Each brand's spend of its privacy budget, per period (by the period's start)."""

    def spend(self, brand_id: str, period_start: int, amount: int,
              allowance: int) -> SpendOutcome:
        """In one write transaction of the store (two processes can never both pass the check
        on the same remainder): the brand's spend of the period starting at ``period_start``;
        if that plus ``amount`` is at most ``allowance``, record it (and one more release) and
        grant it, else change nothing and refuse."""

    def spent(self, brand_id: str, period_start: int) -> int:
        """The brand's spend of the period (0 when it spent nothing in it)."""

"""The brands' privacy budgets in SQLCipher, over the data store's
:class:`vault.sqlcipher.database.Database`: :class:`SqlcipherPrivacySpends`
(``brand_gateway/insights/repositories.py``).

A spend is the write lock (``BEGIN IMMEDIATE``, :mod:`vault.sqlcipher.database`) around
reading the period's spend and writing it back raised, so two workers never spend the same
remainder twice.
"""

from __future__ import annotations

from vault.sqlcipher import SqlcipherRepository

from .repositories import SpendOutcome


class SqlcipherPrivacySpends(SqlcipherRepository):
    def spend(self, brand_id: str, period_start: int, amount: int,
              allowance: int) -> SpendOutcome:
        with self._db.transaction():
            spent = self.spent(brand_id, period_start)
            if spent + amount > allowance:
                return SpendOutcome(granted=False, spent=spent)
            self._db.execute(
                "INSERT INTO privacy_budget_spends (brand_id, period_start, spent, releases)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (brand_id, period_start) DO UPDATE SET"
                " spent = spent + excluded.spent, releases = releases + 1",
                (brand_id, period_start, amount))
        return SpendOutcome(granted=True, spent=spent + amount)

    def spent(self, brand_id: str, period_start: int) -> int:
        row = self._db.one("SELECT spent FROM privacy_budget_spends"
                           " WHERE brand_id = ? AND period_start = ?", (brand_id, period_start))
        return 0 if row is None else int(row[0])

"""The brands' privacy budgets and the insights read model in SQLCipher, over the data store's
:class:`vault.sqlcipher.database.Database`: :class:`SqlcipherPrivacySpends` and
:class:`SqlcipherInsightReadModel` (what both engines share is in :mod:`.sql`).

A spend is the write lock (``BEGIN IMMEDIATE``, :mod:`vault.sqlcipher.database`) around
reading the period's spend and writing it back raised, so two workers never spend the same
remainder twice. The read model (``vault/schema/sqlite/data/0006_insights_read_model.sql``)
keys members by ``member_num`` and names the eligibility index each read walks (``INDEXED
BY``).
"""

from __future__ import annotations

from .repositories import SURVEYS, SpendOutcome
from .sql import SqlInsightReadModel, SqlPrivacySpends


class SqlcipherPrivacySpends(SqlPrivacySpends):
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


class SqlcipherInsightReadModel(SqlInsightReadModel):
    _MEMBER = "member_num"

    def _indexed(self, index: str) -> str:
        return f" INDEXED BY {index}"

    def counting_members(self, brand_id: str, purpose: str, field: str,
                         now: int) -> dict[int, str]:
        return {int(row[0]): row[1] for row in self._db.all(
            "SELECT DISTINCT e.member_num, m.id FROM insight_eligibility AS e"
            " JOIN members AS m ON m.num = e.member_num"
            " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ? ORDER BY e.member_num",
            (brand_id, purpose, field, now, now))}

    def survey_touchpoint_values(self, brand_id: str, purpose: str, kind: str,
                                 now: int) -> list[tuple[int, str, int]]:
        return [(int(row[0]), row[1], int(row[2])) for row in self._db.all(
            "SELECT a.member_num, s.touchpoint, a.value FROM surveys AS s"
            " JOIN survey_questions AS q ON q.survey_id = s.id"
            " JOIN survey_answers AS a ON a.survey_id = q.survey_id AND a.position = q.position"
            " WHERE s.brand_id = ? AND s.touchpoint IS NOT NULL AND q.kind = ?"
            "   AND a.value IS NOT NULL AND EXISTS (SELECT 1 FROM insight_eligibility AS e"
            "     WHERE e.member_num = a.member_num AND e.brand_id = s.brand_id"
            "       AND e.purpose = ? AND e.field = ? AND e.starts_at <= ? AND e.ends_at > ?)"
            " ORDER BY a.answered_at, a.survey_id, a.position",
            (brand_id, kind, purpose, SURVEYS, now, now))]

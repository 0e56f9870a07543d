"""The brands' privacy budgets and the insights read model in PostgreSQL, over the data store's
:class:`vault.postgresql.database.Database`: :class:`PostgresqlPrivacySpends` and
:class:`PostgresqlInsightReadModel` (what both engines share is in :mod:`.sql`).

A spend is one conditional upsert of the period's row, where SQLCipher reads the spend and
writes it back under its one write lock: the upsert locks the row it finds (or inserts it), and
raises the spend only if the sum stays within the allowance, reading the latest committed
spend; so two hosts never spend the same remainder twice. A refused spend leaves the row
locked, and the spend reported is read under that lock.

The read model is migration 6 (``vault/schema/postgresql/data/0006_insights_read_model.sql``),
kept by its triggers. Its member-owned tables (eligibility, tallies, the answers under the
answer-cells view) are joined on ``member_id`` (one member's rows, one shard under Citus); the
member key the contract hands out is ``member_num``, as on SQLCipher. PostgreSQL takes no index
hints: the planner picks the eligibility index a read walks.
"""

from __future__ import annotations

from .repositories import SURVEYS, SpendOutcome
from .sql import SqlInsightReadModel, SqlPrivacySpends


class PostgresqlPrivacySpends(SqlPrivacySpends):
    def spend(self, brand_id: str, period_start: int, amount: int,
              allowance: int) -> SpendOutcome:
        with self._db.transaction():
            row = self._db.one(
                "INSERT INTO privacy_budget_spends AS p (brand_id, period_start, spent, releases)"
                " SELECT ?, ?, ?, 1 WHERE ? <= ?"
                " ON CONFLICT (brand_id, period_start) DO UPDATE SET"
                " spent = p.spent + excluded.spent, releases = p.releases + 1"
                " WHERE p.spent + excluded.spent <= ? RETURNING spent",
                (brand_id, period_start, amount, amount, allowance, allowance))
            if row is None:
                return SpendOutcome(granted=False, spent=self.spent(brand_id, period_start))
        return SpendOutcome(granted=True, spent=int(row[0]))


class PostgresqlInsightReadModel(SqlInsightReadModel):
    _MEMBER = "member_id"

    def counting_members(self, brand_id: str, purpose: str, field: str,
                         now: int) -> dict[int, str]:
        return {int(row[0]): row[1] for row in self._db.all(
            "SELECT DISTINCT e.member_num, e.member_id FROM insight_eligibility AS e"
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
            "     WHERE e.member_id = a.member_id AND e.brand_id = s.brand_id"
            "       AND e.purpose = ? AND e.field = ? AND e.starts_at <= ? AND e.ends_at > ?)"
            " ORDER BY a.answered_at, a.survey_id, a.position, a.member_num",
            (brand_id, kind, purpose, SURVEYS, now, now))]

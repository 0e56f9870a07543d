"""The brands' privacy budgets and the insights read model in PostgreSQL, over the data store's
:class:`vault.postgresql.database.Database`: :class:`PostgresqlPrivacySpends` and
:class:`PostgresqlInsightReadModel` (``brand_gateway/insights/repositories.py``).

A spend is one conditional upsert of the period's row, where SQLCipher reads the spend and
writes it back under its one write lock: the upsert locks the row it finds (or inserts it), and
raises the spend only if the sum stays within the allowance, reading the latest committed
spend; so two hosts never spend the same remainder twice. A refused spend leaves the row
locked, and the spend reported is read under that lock.

The read model is migration 6 (``vault/schema/postgresql/data/0006_insights_read_model.sql``),
kept by its triggers. Its member-owned tables (eligibility, tallies, the answers under the
answer-cells view) are joined on ``member_id`` (one member's rows, one shard under Citus); the
member key the contract hands out is ``member_num``, as on SQLCipher.
"""

from __future__ import annotations

import json

from vault.postgresql import PostgresqlRepository

from .repositories import JOURNAL, SURVEYS, JournalValue, SpendOutcome, SurveyQuestion


class PostgresqlPrivacySpends(PostgresqlRepository):
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

    def spent(self, brand_id: str, period_start: int) -> int:
        row = self._db.one("SELECT spent FROM privacy_budget_spends"
                           " WHERE brand_id = ? AND period_start = ?", (brand_id, period_start))
        return 0 if row is None else int(row[0])


class PostgresqlInsightReadModel(PostgresqlRepository):
    """The read model of migration 6: eligibility, tallies and cells kept by triggers; each
    read is one snapshot, and the window of every eligibility row (``starts_at <= now <
    ends_at``) is checked here, at query time.

    ``journal_counts`` reads the precomputed cells of a brand and purpose and subtracts, from
    the same snapshot, the pairs whose eligibility row is out of its window now, found through
    the ``by_end`` and ``by_start`` indexes (the planner's choice: PostgreSQL takes no index
    hints)."""

    def journal_counts(self, brand_id: str, purpose: str, measure: str,
                       now: int) -> dict[tuple[str, int], int]:
        if measure not in _MEASURES:
            raise ValueError("a journal measure is nps or rating")
        column = _MEASURES[measure]
        with self._db.snapshot():
            counts = {(row[0], int(row[1])): int(row[2]) for row in self._db.all(
                "SELECT touchpoint, cell, members FROM insight_feedback_cells"
                " WHERE brand_id = ? AND purpose = ? AND measure = ? AND members <> 0",
                (brand_id, purpose, measure))}
            # The pairs counted above whose grant is out of its window now: ended (its end
            # passed, the expiry perhaps not yet recorded), or not yet started.
            outside = self._db.all(
                f"SELECT t.touchpoint, t.{column}, count(*)"
                " FROM insight_eligibility AS e JOIN insight_feedback_tallies AS t"
                "   ON t.member_id = e.member_id AND t.brand_id = e.brand_id"
                " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ? AND e.ends_at <= ?"
                f"   AND t.{column} IS NOT NULL GROUP BY t.touchpoint, t.{column}"
                " UNION ALL"
                f" SELECT t.touchpoint, t.{column}, count(*)"
                " FROM insight_eligibility AS e JOIN insight_feedback_tallies AS t"
                "   ON t.member_id = e.member_id AND t.brand_id = e.brand_id"
                " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ? AND e.starts_at > ?"
                f"   AND e.ends_at > ? AND t.{column} IS NOT NULL"
                f" GROUP BY t.touchpoint, t.{column}",
                (brand_id, purpose, JOURNAL, now, brand_id, purpose, JOURNAL, now, now))
        for touchpoint, cell, members in outside:
            key = (touchpoint, int(cell))
            counts[key] = counts.get(key, 0) - int(members)
        return {key: count for key, count in counts.items() if count}

    def journal_values(self, brand_id: str, purpose: str, now: int) -> list[JournalValue]:
        return [JournalValue(int(row[0]), row[1], row[2], int(row[3])) for row in self._db.all(
            "SELECT DISTINCT t.member_num, t.touchpoint, t.nps_class, t.rating_level"
            " FROM insight_eligibility AS e JOIN insight_feedback_tallies AS t"
            "   ON t.member_id = e.member_id AND t.brand_id = e.brand_id"
            " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ?"
            " ORDER BY t.member_num, t.touchpoint",
            (brand_id, purpose, JOURNAL, now, now))]

    def counting_members(self, brand_id: str, purpose: str, field: str,
                         now: int) -> dict[int, str]:
        return {int(row[0]): row[1] for row in self._db.all(
            "SELECT DISTINCT e.member_num, e.member_id FROM insight_eligibility AS e"
            " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ? ORDER BY e.member_num",
            (brand_id, purpose, field, now, now))}

    # -- survey answers -----------------------------------------------------------------------
    def survey_questions(self, brand_id: str, survey_id: str) -> list[SurveyQuestion] | None:
        with self._db.snapshot():
            if self._db.one("SELECT 1 FROM surveys WHERE id = ? AND brand_id = ?",
                            (survey_id, brand_id)) is None:
                return None
            return [SurveyQuestion(int(row[0]), row[1], tuple(json.loads(row[2])))
                    for row in self._db.all(
                        "SELECT position, kind, choices FROM survey_questions"
                        " WHERE survey_id = ? AND kind <> 'text' ORDER BY position",
                        (survey_id,))]

    def survey_counts(self, brand_id: str, survey_id: str, purpose: str,
                      now: int) -> dict[tuple[int, int], int]:
        with self._db.snapshot():
            counts = {(int(row[0]), int(row[1])): int(row[2]) for row in self._db.all(
                "SELECT c.position, c.cell, c.members FROM insight_survey_cells AS c"
                " JOIN surveys AS s ON s.id = c.survey_id"
                " WHERE c.survey_id = ? AND s.brand_id = ? AND c.purpose = ?"
                " AND c.members <> 0", (survey_id, brand_id, purpose))}
            outside = self._db.all(
                "SELECT v.position, v.cell, count(*)"
                " FROM insight_eligibility AS e JOIN insight_survey_answer_cells AS v"
                "   ON v.member_id = e.member_id AND v.brand_id = e.brand_id"
                " WHERE v.survey_id = ? AND e.brand_id = ? AND e.purpose = ? AND e.field = ?"
                "   AND e.ends_at <= ? GROUP BY v.position, v.cell"
                " UNION ALL"
                " SELECT v.position, v.cell, count(*)"
                " FROM insight_eligibility AS e JOIN insight_survey_answer_cells AS v"
                "   ON v.member_id = e.member_id AND v.brand_id = e.brand_id"
                " WHERE v.survey_id = ? AND e.brand_id = ? AND e.purpose = ? AND e.field = ?"
                "   AND e.starts_at > ? AND e.ends_at > ? GROUP BY v.position, v.cell",
                (survey_id, brand_id, purpose, SURVEYS, now,
                 survey_id, brand_id, purpose, SURVEYS, now, now))
        for position, cell, members in outside:
            key = (int(position), int(cell))
            counts[key] = counts.get(key, 0) - int(members)
        return {key: count for key, count in counts.items() if count}

    def survey_cells(self, brand_id: str, survey_id: str, purpose: str,
                     now: int) -> list[tuple[int, int, int]]:
        return [(int(row[0]), int(row[1]), int(row[2])) for row in self._db.all(
            "SELECT DISTINCT v.member_num, v.position, v.cell"
            " FROM insight_survey_answer_cells AS v"
            " JOIN insight_eligibility AS e"
            "   ON e.member_id = v.member_id AND e.brand_id = v.brand_id"
            " WHERE v.survey_id = ? AND v.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ?"
            " ORDER BY v.member_num, v.position, v.cell",
            (survey_id, brand_id, purpose, SURVEYS, now, now))]

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


_MEASURES = {"nps": "nps_class", "rating": "rating_level"}

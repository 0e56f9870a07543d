"""The brands' privacy budgets and the insights read model, what both engines share:
:class:`SqlPrivacySpends` and :class:`SqlInsightReadModel`
(``brand_gateway/insights/repositories.py``; the engines' are in ``sqlcipher.py`` and
``postgresql.py``).

A spend never takes a period's total past its allowance, even with two workers or hosts
spending at once (each engine says how). The read model is data migration 6, kept by its
triggers.
"""

from __future__ import annotations

import json
from typing import ClassVar

from vault.sql import SqlRepository

from .repositories import JOURNAL, SURVEYS, JournalValue, SurveyQuestion

_MEASURES = {"nps": "nps_class", "rating": "rating_level"}


class SqlPrivacySpends(SqlRepository):
    def spent(self, brand_id: str, period_start: int) -> int:
        row = self._db.one("SELECT spent FROM privacy_budget_spends"
                           " WHERE brand_id = ? AND period_start = ?", (brand_id, period_start))
        return 0 if row is None else int(row[0])


class SqlInsightReadModel(SqlRepository):
    """The read model of migration 6: eligibility, tallies and cells kept by triggers; each
    read is one snapshot, and the window of every eligibility row (``starts_at <= now <
    ends_at``) is checked here, at query time.

    ``journal_counts`` reads the precomputed cells of a brand and purpose (a few dozen rows)
    and subtracts, from the same snapshot, the pairs whose eligibility row is out of its window
    now, found through the ``by_end`` and ``by_start`` indexes, and the rows beyond the first
    of each member whose grants hold twice now (migration 17's list): its cost follows the
    number of touchpoints, of grants ended but not yet recorded and of members holding two
    grants for the purpose, never the number of members. ``survey_counts`` reads the same way."""

    # The column the read model's member-owned tables are joined on: the member's.
    _MEMBER: ClassVar[str]

    def _indexed(self, index: str) -> str:
        """What names the index a read of ``insight_eligibility`` walks, where the engine
        takes the hint; here nothing (the planner's choice)."""
        return ""

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
                f" FROM insight_eligibility AS e{self._indexed('insight_eligibility_by_end')}"
                " JOIN insight_feedback_tallies AS t"
                f"   ON t.brand_id = e.brand_id AND t.{self._MEMBER} = e.{self._MEMBER}"
                " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ? AND e.ends_at <= ?"
                f"   AND t.{column} IS NOT NULL GROUP BY t.touchpoint, t.{column}"
                " UNION ALL"
                f" SELECT t.touchpoint, t.{column}, count(*)"
                f" FROM insight_eligibility AS e{self._indexed('insight_eligibility_by_start')}"
                " JOIN insight_feedback_tallies AS t"
                f"   ON t.brand_id = e.brand_id AND t.{self._MEMBER} = e.{self._MEMBER}"
                " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ? AND e.starts_at > ?"
                f"   AND e.ends_at > ? AND t.{column} IS NOT NULL"
                f" GROUP BY t.touchpoint, t.{column}",
                (brand_id, purpose, JOURNAL, now, brand_id, purpose, JOURNAL, now, now))
            # A member whose grants of the journal hold twice now (their app's and their
            # community's, side by side) is in the cells once per grant: once is all they are.
            repeated = self._db.all(
                f"SELECT t.touchpoint, t.{column}, sum(d.live - 1)"
                f" FROM ({self._live_repeats()}) AS d"
                " JOIN insight_feedback_tallies AS t"
                f"   ON t.brand_id = ? AND t.{self._MEMBER} = d.member"
                f" WHERE t.{column} IS NOT NULL GROUP BY t.touchpoint, t.{column}",
                (brand_id, purpose, JOURNAL, now, now, brand_id))
        for touchpoint, cell, members in [*outside, *repeated]:
            key = (touchpoint, int(cell))
            counts[key] = counts.get(key, 0) - int(members)
        return {key: count for key, count in counts.items() if count}

    def _live_repeats(self) -> str:
        """The members listed in ``insight_eligibility_repeats`` (migration 17) for a brand,
        purpose and field (the first three parameters) with more than one eligibility row
        whose window holds now (the next two): ``member`` and ``live``, how many. A member
        listed nowhere has one row at most, which the cells count once."""
        return (f"SELECT r.{self._MEMBER} AS member, count(*) AS live"
                " FROM insight_eligibility_repeats AS r"
                " JOIN insight_eligibility AS e"
                f"   ON e.{self._MEMBER} = r.{self._MEMBER} AND e.brand_id = r.brand_id"
                "   AND e.purpose = r.purpose AND e.field = r.field"
                " WHERE r.brand_id = ? AND r.purpose = ? AND r.field = ?"
                "   AND e.starts_at <= ? AND e.ends_at > ?"
                f" GROUP BY r.{self._MEMBER} HAVING count(*) > 1")

    def journal_values(self, brand_id: str, purpose: str, now: int) -> list[JournalValue]:
        return [JournalValue(int(row[0]), row[1], row[2], int(row[3])) for row in self._db.all(
            "SELECT DISTINCT t.member_num, t.touchpoint, t.nps_class, t.rating_level"
            " FROM insight_eligibility AS e JOIN insight_feedback_tallies AS t"
            f"   ON t.brand_id = e.brand_id AND t.{self._MEMBER} = e.{self._MEMBER}"
            " WHERE e.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ?"
            " ORDER BY t.member_num, t.touchpoint",
            (brand_id, purpose, JOURNAL, now, now))]

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
                f" FROM insight_eligibility AS e{self._indexed('insight_eligibility_by_end')}"
                " JOIN insight_survey_answer_cells AS v"
                f"   ON v.{self._MEMBER} = e.{self._MEMBER} AND v.brand_id = e.brand_id"
                " WHERE v.survey_id = ? AND e.brand_id = ? AND e.purpose = ? AND e.field = ?"
                "   AND e.ends_at <= ? GROUP BY v.position, v.cell"
                " UNION ALL"
                " SELECT v.position, v.cell, count(*)"
                f" FROM insight_eligibility AS e{self._indexed('insight_eligibility_by_start')}"
                " JOIN insight_survey_answer_cells AS v"
                f"   ON v.{self._MEMBER} = e.{self._MEMBER} AND v.brand_id = e.brand_id"
                " WHERE v.survey_id = ? AND e.brand_id = ? AND e.purpose = ? AND e.field = ?"
                "   AND e.starts_at > ? AND e.ends_at > ? GROUP BY v.position, v.cell",
                (survey_id, brand_id, purpose, SURVEYS, now,
                 survey_id, brand_id, purpose, SURVEYS, now, now))
            # As for the journal: a member counted once per grant holding now counts once.
            repeated = self._db.all(
                "SELECT v.position, v.cell, sum(d.live - 1)"
                f" FROM ({self._live_repeats()}) AS d"
                " JOIN insight_survey_answer_cells AS v"
                f"   ON v.{self._MEMBER} = d.member AND v.brand_id = ?"
                " WHERE v.survey_id = ? GROUP BY v.position, v.cell",
                (brand_id, purpose, SURVEYS, now, now, brand_id, survey_id))
        for position, cell, members in [*outside, *repeated]:
            key = (int(position), int(cell))
            counts[key] = counts.get(key, 0) - int(members)
        return {key: count for key, count in counts.items() if count}

    def survey_cells(self, brand_id: str, survey_id: str, purpose: str,
                     now: int) -> list[tuple[int, int, int]]:
        return [(int(row[0]), int(row[1]), int(row[2])) for row in self._db.all(
            "SELECT DISTINCT v.member_num, v.position, v.cell"
            " FROM insight_survey_answer_cells AS v"
            " JOIN insight_eligibility AS e"
            f"   ON e.{self._MEMBER} = v.{self._MEMBER} AND e.brand_id = v.brand_id"
            " WHERE v.survey_id = ? AND v.brand_id = ? AND e.purpose = ? AND e.field = ?"
            "   AND e.starts_at <= ? AND e.ends_at > ?"
            " ORDER BY v.member_num, v.position, v.cell",
            (survey_id, brand_id, purpose, SURVEYS, now, now))]

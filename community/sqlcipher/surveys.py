"""Surveys, feedback requests and attribute requests in SQLCipher:
:class:`community.repositories.SurveyRepository` and
:class:`community.repositories.AttributeRequestRepository` (what both engines share is in
:mod:`community.sql.surveys`).

Answers, skips, journal links and responses reference their member by ``members.num``: a
member's id is read through ``members``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..repositories import AnswerRow
from ..sql.surveys import MEMBER_TABLES, SqlAttributeRequests, SqlCommunityReads, SqlSurveys


class SqlcipherCommunityReads(SqlCommunityReads):
    """What both repositories read of community membership, on SQLCipher."""

    def community_members(self, community_id: str) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in self._db.all(
            "SELECT m.num, m.id FROM community_members c JOIN members m ON m.num = c.member_num"
            " WHERE c.community_id = ? ORDER BY m.num", (community_id,))]

    def member_communities(self, member_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT community_id FROM community_members"
            " WHERE member_num = (SELECT num FROM members WHERE id = ?) ORDER BY community_id",
            (member_id,))]


class SqlcipherSurveys(SqlcipherCommunityReads, SqlSurveys):
    def _respondent_rows(self, survey_id: str) -> Sequence[Any]:
        return self._db.all(
            "SELECT a.member_num, m.id, a.position, a.value, a.choices, a.text_sealed,"
            " a.answered_at FROM survey_answers a JOIN members m ON m.num = a.member_num"
            " WHERE a.survey_id = ? ORDER BY a.member_num, a.position", (survey_id,))

    def insert_answers(self, rows: Iterable[tuple[str, int, AnswerRow]]) -> None:
        self._db.executemany(
            "INSERT INTO survey_answers (survey_id, member_num, position, value, choices,"
            " text_sealed, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((survey_id, number, r.position, r.value, r.choices, r.text_sealed, r.answered_at)
             for survey_id, number, r in rows))

    def skip(self, survey_id: str, member_num: int, at: int) -> None:
        self._db.execute("INSERT OR IGNORE INTO survey_skips (survey_id, member_num, skipped_at)"
                         " VALUES (?, ?, ?)", (survey_id, member_num, at))

    def link_journal_entry(self, survey_id: str, member_num: int, feedback_id: int) -> None:
        self._db.execute(
            "INSERT INTO survey_journal_entries (survey_id, member_num, feedback_id)"
            " VALUES (?, ?, ?) ON CONFLICT (survey_id, member_num)"
            " DO UPDATE SET feedback_id = excluded.feedback_id",
            (survey_id, member_num, feedback_id))

    def delete_member_rows(self, member_id: str) -> int:
        number = self.member_number(member_id)
        if number is None:
            return 0
        with self._db.transaction():
            return sum(int(self._db.execute(f"DELETE FROM {table} WHERE member_num = ?",
                                            (number,)).rowcount)
                       for table in MEMBER_TABLES)


class SqlcipherAttributeRequests(SqlcipherCommunityReads, SqlAttributeRequests):
    def respond(self, request_id: str, member_num: int, outcome: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO attribute_request_responses (request_id, member_num, outcome,"
            " responded_at) VALUES (?, ?, ?, ?) ON CONFLICT (request_id, member_num)"
            " DO UPDATE SET outcome = excluded.outcome, responded_at = excluded.responded_at",
            (request_id, member_num, outcome, at))

"""Surveys, feedback requests and attribute requests in PostgreSQL:
:class:`community.repositories.SurveyRepository` and
:class:`community.repositories.AttributeRequestRepository` (what both engines share is in
:mod:`community.sql.surveys`).

Surveys, their questions and attribute requests are shared; answers, skips, journal links and
responses are the member's rows (``member_id`` first in their keys, ``member_num`` carried).
``choices`` is a BIGINT, as SQLite's integer.

Where SQLCipher's write lock covers the read, :meth:`PostgresqlSurveys.replace_answers` and
:meth:`PostgresqlSurveys.journal_entry` (read in a write transaction) lock the member first
(:func:`community.postgresql.lock_member`): answering and withdrawing read the journal link
that decides whether to make, change or delete an entry, and two answers of one member at once
take turns instead of making two entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vault.postgresql.database import Database

from ..repositories import AnswerRow
from ..sql.surveys import MEMBER_TABLES, SqlAttributeRequests, SqlCommunityReads, SqlSurveys
from . import MEMBER_ID, lock_member


class PostgresqlCommunityReads(SqlCommunityReads):
    """What both repositories read of community membership, on PostgreSQL."""

    _db: Database

    def community_members(self, community_id: str) -> list[tuple[int, str]]:
        return [(int(row[0]), row[1]) for row in self._db.all(
            "SELECT member_num, member_id FROM community_members WHERE community_id = ?"
            " ORDER BY member_num", (community_id,))]

    def member_communities(self, member_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT community_id FROM community_members WHERE member_id = ?"
            " ORDER BY community_id", (member_id,))]


class PostgresqlSurveys(PostgresqlCommunityReads, SqlSurveys):
    def _respondent_rows(self, survey_id: str) -> Sequence[Any]:
        return self._db.all(
            "SELECT member_num, member_id, position, value, choices, text_sealed,"
            " answered_at FROM survey_answers WHERE survey_id = ?"
            " ORDER BY member_num, position", (survey_id,))

    def replace_answers(self, survey_id: str, member_num: int, rows: Sequence[AnswerRow]
                        ) -> None:
        with self._db.transaction():
            lock_member(self._db, member_num)
            super().replace_answers(survey_id, member_num, rows)

    def insert_answers(self, rows: Iterable[tuple[str, int, AnswerRow]]) -> None:
        values = [(number, survey_id, r.position, number, r.value, r.choices, r.text_sealed,
                   r.answered_at) for survey_id, number, r in rows]
        if values:
            self._db.executemany(
                "INSERT INTO survey_answers (member_id, survey_id, position, member_num, value,"
                f" choices, text_sealed, answered_at) VALUES ({MEMBER_ID}, ?, ?, ?, ?, ?, ?, ?)",
                values)

    def skip(self, survey_id: str, member_num: int, at: int) -> None:
        self._db.execute(
            "INSERT INTO survey_skips (member_id, survey_id, member_num, skipped_at)"
            f" VALUES ({MEMBER_ID}, ?, ?, ?) ON CONFLICT (member_id, survey_id) DO NOTHING",
            (member_num, survey_id, member_num, at))

    def journal_entry(self, survey_id: str, member_num: int) -> int | None:
        lock_member(self._db, member_num)
        return super().journal_entry(survey_id, member_num)

    def link_journal_entry(self, survey_id: str, member_num: int, feedback_id: int) -> None:
        self._db.execute(
            "INSERT INTO survey_journal_entries (member_id, survey_id, member_num, feedback_id)"
            f" VALUES ({MEMBER_ID}, ?, ?, ?) ON CONFLICT (member_id, survey_id)"
            " DO UPDATE SET feedback_id = excluded.feedback_id",
            (member_num, survey_id, member_num, feedback_id))

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            return sum(int(self._db.execute(f"DELETE FROM {table} WHERE member_id = ?",
                                            (member_id,)).rowcount)
                       for table in MEMBER_TABLES)


class PostgresqlAttributeRequests(PostgresqlCommunityReads, SqlAttributeRequests):
    def respond(self, request_id: str, member_num: int, outcome: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO attribute_request_responses (member_id, request_id, member_num, outcome,"
            f" responded_at) VALUES ({MEMBER_ID}, ?, ?, ?, ?) ON CONFLICT (member_id, request_id)"
            " DO UPDATE SET outcome = excluded.outcome, responded_at = excluded.responded_at",
            (member_num, request_id, member_num, outcome, at))

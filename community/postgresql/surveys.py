"""Surveys, feedback requests and attribute requests in PostgreSQL:
:class:`community.repositories.SurveyRepository` and
:class:`community.repositories.AttributeRequestRepository`.

Surveys, their questions and attribute requests are shared; answers, skips, journal links and
responses are the member's rows (``member_id`` first in their keys, ``member_num`` carried),
and cascade with the member (migration 5). A member's answer to a survey is their rows of it,
replaced whole inside one transaction, so a reader never sees half of a changed answer.
Multiple-choice answers are one bitmask column (``choices``, BIGINT as SQLite's integer).

Where SQLCipher's write lock covers the read, :meth:`PostgresqlSurveys.replace_answers` and
:meth:`PostgresqlSurveys.journal_entry` (read in a write transaction) lock the member first
(:func:`community.postgresql.lock_member`): answering and withdrawing read the journal link
that decides whether to make, change or delete an entry, and two answers of one member at once
take turns instead of making two entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from vault.postgresql import PostgresqlRepository

from ..repositories import (
    AnswerRow,
    AttributeRequestRecord,
    CommunityFacts,
    QuestionRecord,
    Respondent,
    SurveyRecord,
)
from . import lock_member

_SURVEY = ("SELECT id, brand_id, community_id, title, touchpoint, kind, opens_at, closes_at,"
           " criteria, published_at FROM surveys")
_REQUEST = ("SELECT id, brand_id, community_id, attribute, reason, created_at, closes_at"
            " FROM attribute_requests")
_MEMBER_ID = "(SELECT id FROM members WHERE num = ?)"


def _survey(row: Any) -> SurveyRecord:
    return SurveyRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                        row[9])


def _request(row: Any) -> AttributeRequestRecord:
    return AttributeRequestRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]), row[4])


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class PostgresqlCommunityReads(PostgresqlRepository):
    """The reads of communities and membership both repositories share."""

    def community(self, community_id: str) -> CommunityFacts | None:
        row = self._db.one("SELECT id, brand_id, purposes, closed_at FROM communities"
                           " WHERE id = ?", (community_id,))
        if row is None:
            return None
        return CommunityFacts(row[0], row[1], tuple(json.loads(row[2])), row[3])

    def community_members(self, community_id: str) -> list[tuple[int, str]]:
        return [(int(row[0]), row[1]) for row in self._db.all(
            "SELECT member_num, member_id FROM community_members WHERE community_id = ?"
            " ORDER BY member_num", (community_id,))]

    def member_communities(self, member_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT community_id FROM community_members WHERE member_id = ?"
            " ORDER BY community_id", (member_id,))]

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])


class PostgresqlSurveys(PostgresqlCommunityReads):
    def insert(self, survey: SurveyRecord, questions: Sequence[QuestionRecord]) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO surveys (id, brand_id, community_id, title, touchpoint, kind,"
                " opens_at, closes_at, criteria, published_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (survey.id, survey.brand_id, survey.community_id, survey.title,
                 survey.touchpoint, survey.kind, survey.opens_at, survey.closes_at,
                 survey.criteria, survey.published_at))
            if questions:
                self._db.executemany(
                    "INSERT INTO survey_questions (survey_id, position, kind, prompt, choices)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(survey.id, q.position, q.kind, q.prompt, json.dumps(list(q.choices)))
                     for q in questions])

    def get(self, survey_id: str) -> SurveyRecord | None:
        row = self._db.one(f"{_SURVEY} WHERE id = ?", (survey_id,))
        return None if row is None else _survey(row)

    def questions(self, survey_id: str) -> list[QuestionRecord]:
        return [QuestionRecord(row[0], row[1], row[2], tuple(json.loads(row[3])))
                for row in self._db.all(
                    "SELECT position, kind, prompt, choices FROM survey_questions"
                    " WHERE survey_id = ? ORDER BY position", (survey_id,))]

    def for_brand(self, brand_id: str, *, limit: int, offset: int) -> list[SurveyRecord]:
        return [_survey(row) for row in self._db.all(
            f"{_SURVEY} WHERE brand_id = ? ORDER BY published_at DESC, id LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def for_communities(self, community_ids: Sequence[str], *, closes_after: int
                        ) -> list[SurveyRecord]:
        if not community_ids:
            return []
        return [_survey(row) for row in self._db.all(
            f"{_SURVEY} WHERE community_id IN ({_placeholders(community_ids)})"
            " AND closes_at > ? ORDER BY closes_at, id", (*community_ids, closes_after))]

    def answers(self, survey_id: str, member_num: int) -> list[AnswerRow]:
        return [_answer(row) for row in self._db.all(
            "SELECT position, value, choices, text_sealed, answered_at FROM survey_answers"
            " WHERE survey_id = ? AND member_num = ? ORDER BY position",
            (survey_id, member_num))]

    def answered(self, member_num: int) -> dict[str, int]:
        return {row[0]: int(row[1]) for row in self._db.all(
            "SELECT survey_id, max(answered_at) FROM survey_answers WHERE member_num = ?"
            " GROUP BY survey_id", (member_num,))}

    def replace_answers(self, survey_id: str, member_num: int, rows: Sequence[AnswerRow]
                        ) -> None:
        with self._db.transaction():
            lock_member(self._db, member_num)
            self._db.execute("DELETE FROM survey_answers WHERE survey_id = ? AND member_num = ?",
                             (survey_id, member_num))
            self.insert_answers((survey_id, member_num, row) for row in rows)

    def insert_answers(self, rows: Iterable[tuple[str, int, AnswerRow]]) -> None:
        values = [(number, survey_id, r.position, number, r.value, r.choices, r.text_sealed,
                   r.answered_at) for survey_id, number, r in rows]
        if values:
            self._db.executemany(
                "INSERT INTO survey_answers (member_id, survey_id, position, member_num, value,"
                f" choices, text_sealed, answered_at) VALUES ({_MEMBER_ID}, ?, ?, ?, ?, ?, ?, ?)",
                values)

    def delete_answers(self, survey_id: str, member_num: int) -> int:
        return int(self._db.execute(
            "DELETE FROM survey_answers WHERE survey_id = ? AND member_num = ?",
            (survey_id, member_num)).rowcount)

    def respondents(self, survey_id: str) -> list[Respondent]:
        found: list[Respondent] = []
        current: list[AnswerRow] = []
        last: tuple[int, str] | None = None
        for row in self._db.all(
                "SELECT member_num, member_id, position, value, choices, text_sealed,"
                " answered_at FROM survey_answers WHERE survey_id = ?"
                " ORDER BY member_num, position", (survey_id,)):
            if last is not None and row[0] != last[0]:
                found.append(Respondent(last[0], last[1], tuple(current)))
                current = []
            last = (int(row[0]), row[1])
            current.append(_answer(row[2:]))
        if last is not None:
            found.append(Respondent(last[0], last[1], tuple(current)))
        return found

    def skip(self, survey_id: str, member_num: int, at: int) -> None:
        self._db.execute(
            "INSERT INTO survey_skips (member_id, survey_id, member_num, skipped_at)"
            f" VALUES ({_MEMBER_ID}, ?, ?, ?) ON CONFLICT (member_id, survey_id) DO NOTHING",
            (member_num, survey_id, member_num, at))

    def unskip(self, survey_id: str, member_num: int) -> None:
        self._db.execute("DELETE FROM survey_skips WHERE survey_id = ? AND member_num = ?",
                         (survey_id, member_num))

    def skipped(self, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT survey_id FROM survey_skips WHERE member_num = ?", (member_num,))}

    def journal_entry(self, survey_id: str, member_num: int) -> int | None:
        lock_member(self._db, member_num)
        row = self._db.one("SELECT feedback_id FROM survey_journal_entries"
                           " WHERE survey_id = ? AND member_num = ?", (survey_id, member_num))
        return None if row is None else int(row[0])

    def link_journal_entry(self, survey_id: str, member_num: int, feedback_id: int) -> None:
        self._db.execute(
            "INSERT INTO survey_journal_entries (member_id, survey_id, member_num, feedback_id)"
            f" VALUES ({_MEMBER_ID}, ?, ?, ?) ON CONFLICT (member_id, survey_id)"
            " DO UPDATE SET feedback_id = excluded.feedback_id",
            (member_num, survey_id, member_num, feedback_id))

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            return sum(int(self._db.execute(f"DELETE FROM {table} WHERE member_id = ?",
                                            (member_id,)).rowcount)
                       for table in _MEMBER_TABLES)


# The member's rows of each table of migration 5, deleted at erasure.
_MEMBER_TABLES = ("survey_journal_entries", "survey_answers", "survey_skips",
                  "attribute_request_responses")


class PostgresqlAttributeRequests(PostgresqlCommunityReads):
    def insert(self, request: AttributeRequestRecord) -> None:
        self._db.execute(
            "INSERT INTO attribute_requests (id, brand_id, community_id, attribute, reason,"
            " created_at, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (request.id, request.brand_id, request.community_id, request.attribute,
             request.reason, request.created_at, request.closes_at))

    def get(self, request_id: str) -> AttributeRequestRecord | None:
        row = self._db.one(f"{_REQUEST} WHERE id = ?", (request_id,))
        return None if row is None else _request(row)

    def for_brand(self, brand_id: str, *, limit: int, offset: int
                  ) -> list[AttributeRequestRecord]:
        return [_request(row) for row in self._db.all(
            f"{_REQUEST} WHERE brand_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def for_communities(self, community_ids: Sequence[str], *, closes_after: int
                        ) -> list[AttributeRequestRecord]:
        if not community_ids:
            return []
        return [_request(row) for row in self._db.all(
            f"{_REQUEST} WHERE community_id IN ({_placeholders(community_ids)})"
            " AND closes_at > ? ORDER BY closes_at, id", (*community_ids, closes_after))]

    def responses(self, member_num: int) -> dict[str, str]:
        return {row[0]: row[1] for row in self._db.all(
            "SELECT request_id, outcome FROM attribute_request_responses WHERE member_num = ?",
            (member_num,))}

    def respond(self, request_id: str, member_num: int, outcome: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO attribute_request_responses (member_id, request_id, member_num, outcome,"
            f" responded_at) VALUES ({_MEMBER_ID}, ?, ?, ?, ?) ON CONFLICT (member_id, request_id)"
            " DO UPDATE SET outcome = excluded.outcome, responded_at = excluded.responded_at",
            (member_num, request_id, member_num, outcome, at))

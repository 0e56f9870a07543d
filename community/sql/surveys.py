"""Surveys, feedback requests and attribute requests, what both engines share:
:class:`community.repositories.SurveyRepository` and
:class:`community.repositories.AttributeRequestRepository`.

Answers, skips, journal links and responses are the member's rows and cascade with the member
(migration 5). A member's answer to a survey is their rows of it, replaced whole inside one
transaction, so a reader never sees half of a changed answer. Multiple-choice answers are one
bitmask column (``choices``), so a per-choice count is ``sum((choices >> i) & 1)`` over an
index-ordered scan.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from vault.sql import SqlRepository

from ..repositories import (
    AnswerRow,
    AttributeRequestRecord,
    CommunityFacts,
    QuestionRecord,
    Respondent,
    SurveyRecord,
)

_SURVEY = ("SELECT id, brand_id, community_id, title, touchpoint, kind, opens_at, closes_at,"
           " criteria, published_at, audience_measured, audience_reported FROM surveys")
_REQUEST = ("SELECT id, brand_id, community_id, attribute, reason, created_at, closes_at"
            " FROM attribute_requests")
# The member's rows of each table of migration 5, deleted at erasure.
MEMBER_TABLES = ("survey_journal_entries", "survey_answers", "survey_skips",
                 "attribute_request_responses")


def _survey(row: Any) -> SurveyRecord:
    return SurveyRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                        row[9], bool(row[10]), row[11])


def _request(row: Any) -> AttributeRequestRecord:
    return AttributeRequestRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]), row[4])


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class SqlCommunityReads(SqlRepository):
    """The reads of communities and membership both repositories share; each engine adds
    ``community_members`` and ``member_communities``."""

    def community(self, community_id: str) -> CommunityFacts | None:
        row = self._db.one("SELECT id, brand_id, purposes, closed_at FROM communities"
                           " WHERE id = ?", (community_id,))
        if row is None:
            return None
        return CommunityFacts(row[0], row[1], tuple(json.loads(row[2])), row[3])

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])


class SqlSurveys(SqlCommunityReads, ABC):
    @abstractmethod
    def _respondent_rows(self, survey_id: str) -> Sequence[Any]:
        """Every answer row of the survey as ``(member_num, member_id, position, value,
        choices, text_sealed, answered_at)``, by ``member_num`` then ``position``."""

    @abstractmethod
    def insert_answers(self, rows: Iterable[tuple[str, int, AnswerRow]]) -> None:
        """Add ``(survey_id, member_num, row)`` answers, with the member columns of the engine."""

    def insert(self, survey: SurveyRecord, questions: Sequence[QuestionRecord]) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO surveys (id, brand_id, community_id, title, touchpoint, kind,"
                " opens_at, closes_at, criteria, published_at, audience_measured,"
                " audience_reported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (survey.id, survey.brand_id, survey.community_id, survey.title,
                 survey.touchpoint, survey.kind, survey.opens_at, survey.closes_at,
                 survey.criteria, survey.published_at, int(survey.audience_measured),
                 survey.audience_reported))
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
            self._db.execute("DELETE FROM survey_answers WHERE survey_id = ? AND member_num = ?",
                             (survey_id, member_num))
            self.insert_answers((survey_id, member_num, row) for row in rows)

    def delete_answers(self, survey_id: str, member_num: int) -> int:
        return int(self._db.execute(
            "DELETE FROM survey_answers WHERE survey_id = ? AND member_num = ?",
            (survey_id, member_num)).rowcount)

    def respondents(self, survey_id: str) -> list[Respondent]:
        found: list[Respondent] = []
        current: list[AnswerRow] = []
        last: tuple[int, str] | None = None
        for row in self._respondent_rows(survey_id):
            if last is not None and row[0] != last[0]:
                found.append(Respondent(last[0], last[1], tuple(current)))
                current = []
            last = (int(row[0]), row[1])
            current.append(_answer(row[2:]))
        if last is not None:
            found.append(Respondent(last[0], last[1], tuple(current)))
        return found

    def unskip(self, survey_id: str, member_num: int) -> None:
        self._db.execute("DELETE FROM survey_skips WHERE survey_id = ? AND member_num = ?",
                         (survey_id, member_num))

    def skipped(self, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT survey_id FROM survey_skips WHERE member_num = ?", (member_num,))}

    def journal_entry(self, survey_id: str, member_num: int) -> int | None:
        row = self._db.one("SELECT feedback_id FROM survey_journal_entries"
                           " WHERE survey_id = ? AND member_num = ?", (survey_id, member_num))
        return None if row is None else int(row[0])


class SqlAttributeRequests(SqlCommunityReads):
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

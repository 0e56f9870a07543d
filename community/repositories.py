"""What the insight community's services may ask of storage: one repository contract per
aggregate, as ``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``community/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``community/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional

# -- Communities, membership and co-creation ----------------------------------------------

# -- Surveys, feedback requests and attribute requests ------------------------------------
@dataclass(frozen=True)
class CommunityFacts:
    """What surveys need of a community: whose it is, for which DPV purposes, and whether it is
    closed (Unix seconds, or None)."""

    id: str
    brand_id: str
    purposes: tuple[str, ...]
    closed_at: int | None


@dataclass(frozen=True)
class SurveyRecord:
    id: str
    brand_id: str
    community_id: str
    title: str
    touchpoint: str | None
    kind: str                      # 'survey' | 'feedback_request'
    opens_at: int
    closes_at: int
    criteria: str                  # JSON list (community/audience.py)
    published_at: int


@dataclass(frozen=True)
class QuestionRecord:
    position: int
    kind: str                      # 'rating' | 'nps' | 'single' | 'multiple' | 'text'
    prompt: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class AnswerRow:
    """One answered question: ``value`` (rating, NPS, single choice index), ``choices`` (the
    bitmask of a multiple choice) or ``text_sealed`` (sealed under the member's key)."""

    position: int
    value: int | None
    choices: int | None
    text_sealed: bytes | None
    answered_at: int


@dataclass(frozen=True)
class Respondent:
    """A member who answered a survey, with their rows of it."""

    member_num: int
    member_id: str
    rows: tuple[AnswerRow, ...]


class CommunityReads(Protocol):
    """What surveys and attribute requests read of communities and their membership (the
    communities themselves are written by the membership services)."""

    def community(self, community_id: str) -> CommunityFacts | None: ...

    def community_members(self, community_id: str) -> list[tuple[int, str]]:
        """``(member_num, member_id)`` of every member, by ``member_num``."""

    def member_communities(self, member_id: str) -> list[str]:
        """The ids of the communities the member is in."""

    def member_number(self, member_id: str) -> int | None: ...


class SurveyRepository(CommunityReads, Transactional, Protocol):
    def insert(self, survey: SurveyRecord, questions: Sequence[QuestionRecord]) -> None: ...

    def get(self, survey_id: str) -> SurveyRecord | None: ...

    def questions(self, survey_id: str) -> list[QuestionRecord]:
        """In position order."""

    def for_brand(self, brand_id: str, *, limit: int, offset: int) -> list[SurveyRecord]:
        """The brand's surveys, latest published first."""

    def for_communities(self, community_ids: Sequence[str], *, closes_after: int
                        ) -> list[SurveyRecord]:
        """The surveys of these communities that close after ``closes_after``, soonest
        closing first."""

    def answers(self, survey_id: str, member_num: int) -> list[AnswerRow]:
        """The member's rows of the survey, in position order."""

    def answered(self, member_num: int) -> dict[str, int]:
        """survey id -> when the member last answered it, for every survey they answered."""

    def replace_answers(self, survey_id: str, member_num: int, rows: Sequence[AnswerRow]
                        ) -> None:
        """The member's answer becomes ``rows`` (earlier rows of the survey deleted)."""

    def insert_answers(self, rows: Iterable[tuple[str, int, AnswerRow]]) -> None:
        """Add ``(survey_id, member_num, row)`` for answers not stored yet (a bulk load)."""

    def delete_answers(self, survey_id: str, member_num: int) -> int:
        """Delete the member's rows of the survey; how many there were."""

    def respondents(self, survey_id: str) -> list[Respondent]:
        """Everyone who answered the survey, with their rows, by ``member_num``."""

    def skip(self, survey_id: str, member_num: int, at: int) -> None: ...

    def unskip(self, survey_id: str, member_num: int) -> None: ...

    def skipped(self, member_num: int) -> set[str]: ...

    def journal_entry(self, survey_id: str, member_num: int) -> int | None:
        """The feedback journal entry the member's answer to a feedback request made."""

    def link_journal_entry(self, survey_id: str, member_num: int, feedback_id: int) -> None: ...

    def delete_member_rows(self, member_id: str) -> int:
        """Every survey answer, skip, journal link and attribute-request response of the
        member (erasure; the foreign keys' cascade would do it too); how many rows."""


@dataclass(frozen=True)
class AttributeRequestRecord:
    id: str
    brand_id: str
    community_id: str
    attribute: str
    reason: str
    created_at: int
    closes_at: int


class AttributeRequestRepository(CommunityReads, Transactional, Protocol):
    def insert(self, request: AttributeRequestRecord) -> None: ...

    def get(self, request_id: str) -> AttributeRequestRecord | None: ...

    def for_brand(self, brand_id: str, *, limit: int, offset: int
                  ) -> list[AttributeRequestRecord]:
        """Latest first."""

    def for_communities(self, community_ids: Sequence[str], *, closes_after: int
                        ) -> list[AttributeRequestRecord]:
        """Open ones of these communities, soonest closing first."""

    def responses(self, member_num: int) -> dict[str, str]:
        """request id -> the member's outcome ('shared', 'kept', 'declined')."""

    def respond(self, request_id: str, member_num: int, outcome: str, at: int) -> None:
        """Record (or change) the member's outcome."""


# -- Closing the loop: "you said, we did" and care cases ----------------------------------

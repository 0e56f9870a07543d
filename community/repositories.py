"""What the insight community's services may ask of storage: one repository contract per
aggregate, as ``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``community/`` hold no SQL and do not know the engine; the implementations are in
``community/sqlcipher/`` and ``community/postgresql/`` (what both share in ``community/sql/``),
one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional


# -- Communities, membership and co-creation ----------------------------------------------
@dataclass(frozen=True)
class Community:
    """A brand's insight community: what it is for (``purposes``, DPV codes, sorted) and
    whether it is still open (``closed_at`` None); the size its brand was last told, kept
    (``size_period``: the start of the privacy budget period it was measured in, None if it
    never was; ``size_reported``: the figure, None below the threshold)."""

    id: str
    brand_id: str
    name: str
    description: str
    purposes: tuple[str, ...]
    created_at: int
    closed_at: int | None = None
    size_period: int | None = None
    size_reported: int | None = None


@dataclass(frozen=True)
class Membership:
    """A member in a community, by the member's integer key; ``pseudonym`` is how the community
    knows them (community/pseudonyms.py)."""

    community_id: str
    member_num: int
    joined_at: int
    pseudonym: str


class CommunityRepository(Transactional, Protocol):
    """Communities, who is in them, and which of a member's grants each membership holds.

    A membership's rows go with the member (erasure) and with the membership (leaving): the
    grant links, ideas and votes of a membership are removed with it."""

    def insert(self, community: Community) -> None: ...

    def get(self, community_id: str) -> Community | None: ...

    def locked(self, community_id: str) -> Community | None:
        """Inside a write transaction: :meth:`get`, and no other transaction changes the
        community until this one ends (what a first read of a period decides from it)."""

    def keep_size(self, community_id: str, period_start: int, reported: int | None) -> None:
        """Keep the size its brand is told in the period starting at ``period_start``."""

    def for_brand(self, brand_id: str) -> list[Community]:
        """The brand's communities, newest first."""

    def open_communities(self) -> list[Community]:
        """Every community not closed, newest first."""

    def close(self, community_id: str, now: int) -> bool:
        """Mark it closed; False if it was closed already or does not exist."""

    def member_number(self, member_id: str) -> int | None:
        """The member's integer key, if the member exists."""

    def member_id(self, member_num: int) -> str | None:
        """The member's id from their integer key, if the member exists."""

    def add_member(self, membership: Membership) -> bool:
        """False if the member is in the community already."""

    def membership(self, community_id: str, member_num: int) -> Membership | None: ...

    def memberships(self, member_num: int) -> list[Membership]:
        """The member's memberships, the latest joined first."""

    def members(self, community_id: str) -> list[int]:
        """The community's members' integer keys, in order of joining."""

    def remove_member(self, community_id: str, member_num: int) -> bool:
        """Delete the membership with its grant links, ideas and votes; False if none."""

    def member_count(self, community_id: str, now: int) -> int:
        """The members of the community with a grant linked to it in force at ``now``
        (active, ``starts_at <= now < ends_at``): those it may count, as every insight."""

    def link_grant(self, community_id: str, member_num: int, grant_id: str) -> None:
        """Record that the membership holds ``grant_id`` (idempotent)."""

    def linked_grants(self, community_id: str, member_num: int) -> list[str]:
        """The grant ids the membership holds, sorted."""

    def holders(self, grant_id: str) -> list[str]:
        """The ids of the communities whose memberships hold ``grant_id``, sorted."""


@dataclass(frozen=True)
class Challenge:
    """A question a brand puts to its community."""

    id: str
    community_id: str
    title: str
    description: str
    created_at: int
    closed_at: int | None = None


@dataclass(frozen=True)
class IdeaRow:
    """An idea as stored: its text sealed with the author's member key; ``votes`` counted
    on reading (0 when written); ``released`` the version last released to the brand."""

    id: str
    challenge_id: str
    community_id: str
    member_num: int
    text_sealed: bytes
    version: int
    created_at: int
    updated_at: int
    released: int = 0
    taken_up_at: int | None = None
    votes: int = 0


class CoCreationRepository(Transactional, Protocol):
    """Challenges, ideas and votes. An idea's author and voters are members of its community
    (the store holds that: their rows go with the membership)."""

    def insert_challenge(self, challenge: Challenge) -> None: ...

    def challenge(self, challenge_id: str) -> Challenge | None: ...

    def challenges(self, community_id: str) -> list[Challenge]:
        """The community's challenges, newest first."""

    def close_challenge(self, challenge_id: str, now: int) -> bool:
        """False if it was closed already or does not exist."""

    def insert_idea(self, idea: IdeaRow) -> None: ...

    def idea(self, idea_id: str) -> IdeaRow | None:
        """The idea with its vote count."""

    def ideas(self, challenge_id: str) -> list[IdeaRow]:
        """The challenge's ideas with their vote counts, oldest first."""

    def update_idea(self, idea_id: str, member_num: int, text_sealed: bytes, now: int) -> bool:
        """Replace the author's text (the version goes up by one); False if the idea is not
        theirs or does not exist."""

    def delete_idea(self, idea_id: str, member_num: int) -> bool:
        """Delete the author's idea with its votes; False if it is not theirs."""

    def mark_released(self, idea_id: str, version: int) -> None:
        """Record that ``version`` of the idea was released to the brand."""

    def take_up(self, idea_id: str, now: int) -> bool:
        """Mark the idea taken up; False if it was already or does not exist."""

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        """False if the member voted for the idea already."""

    def unvote(self, idea_id: str, member_num: int) -> bool: ...

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        """The ids of the challenge's ideas the member voted for."""

    def member_ideas(self, member_num: int) -> list[IdeaRow]:
        """Every idea of the member, in every community, oldest first."""

    def member_votes(self, member_num: int) -> list[tuple[str, int]]:
        """(idea id, when) of every vote of the member, oldest first."""

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
    # What the brand is told of the audience, measured once at publication and kept
    # (community/audience.py: :class:`~community.audience.Cohort`).
    audience_measured: bool = False
    audience_reported: int | None = None


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


@dataclass(frozen=True)
class WeDidRow:
    """A "you said, we did" post as stored. ``release``: the JSON of the aggregate made when
    it was posted (``None``: none was released)."""

    id: str
    brand_id: str
    subject_kind: str            # 'touchpoint' | 'survey' | 'idea'
    subject_ref: str             # the touchpoint key, survey id or idea id
    said: str
    did: str
    changed_on: str              # YYYY-MM-DD
    release: str | None
    posted_at: int
    withdrawn_at: int | None


#: One member's rating and score at a touchpoint, keyed by an opaque member key: what a
#: release is computed from (``(member key, occurred_on, rating, nps)``, oldest first).
RatingRow = tuple[int, str, int, "int | None"]
#: One member's answer to one rating or NPS question of a survey: ``(member key, position,
#: value)``, oldest first.
SurveyValueRow = tuple[int, int, int]


class WeDidRepository(Transactional, Protocol):
    def insert(self, post: WeDidRow) -> None: ...

    def get(self, post_id: str) -> WeDidRow | None: ...

    def for_brand(self, brand_id: str, *, withdrawn: bool, limit: int,
                  offset: int) -> list[WeDidRow]:
        """The brand's posts, newest first; withdrawn ones only if ``withdrawn``."""

    def withdraw(self, post_id: str, brand_id: str, now: int) -> bool:
        """Mark the brand's live post withdrawn; False if it is not one."""

    def for_member(self, member_id: str) -> list[WeDidRow]:
        """The live posts about what the member took part in (a touchpoint of a brand they
        gave feedback on, a survey they answered, an idea they posted or voted for), newest
        first."""

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        """The feedback at ``touchpoint`` about ``brand_id`` of the members who count for the
        brand, ``purpose`` and the ``feedback`` field now (the counting rule: an active grant,
        started and not ended, covering the journal, in either mode), oldest first."""

    def subject_brand(self, subject_kind: str, subject_ref: str) -> str | None:
        """The brand a survey or an idea belongs to (an idea: its challenge's community's),
        or ``None`` if there is no such survey or idea."""

    def survey_questions(self, survey_id: str) -> list[tuple[int, str, str]]:
        """The survey's rating and NPS questions: ``(position, kind, prompt)``, in order."""

    def survey_values(self, survey_id: str, purpose: str, now: int) -> list[SurveyValueRow]:
        """The rating and NPS answers to the survey of the members who count for its brand,
        ``purpose`` and the ``survey`` field now (the counting rule), oldest first."""

    def idea_votes(self, idea_id: str) -> int:
        """The idea's votes, as its brand reads them."""


@dataclass(frozen=True)
class CareCaseRow:
    """A care case as stored; ``state`` is as written (an open case past ``ends_at`` is
    closed by expiry whether or not the sweep has written it)."""

    id: str
    member_id: str
    brand_id: str
    grant_id: str
    source: str                  # 'feedback' | 'survey'
    source_ref: str              # the feedback entry id or the survey id
    contact_field: str | None
    state: str                   # 'open' | 'answered' | 'closed'
    answer_sealed: bytes | None
    opened_at: int
    ends_at: int
    answered_at: int | None
    closed_at: int | None
    closed_by: str | None        # 'member' | 'brand' | 'expiry'


class CareCaseRepository(Transactional, Protocol):
    def insert(self, case: CareCaseRow) -> None: ...

    def get(self, case_id: str) -> CareCaseRow | None: ...

    def for_member(self, member_id: str) -> list[CareCaseRow]:
        """The member's cases, newest first."""

    def for_brand(self, brand_id: str, *, live_at: int | None, limit: int,
                  offset: int) -> list[CareCaseRow]:
        """The brand's cases, newest first; with ``live_at``, only those not closed and not
        ended at that time."""

    def live_for(self, member_id: str, brand_id: str, now: int) -> list[CareCaseRow]:
        """The member's cases with the brand that are neither closed nor past their end."""

    def answer(self, case_id: str, answer_sealed: bytes, now: int) -> bool:
        """Record the brand's answer on a case not closed and not ended; False otherwise."""

    def close(self, case_id: str, by: str, now: int) -> bool:
        """Close a case not closed yet; False if it was."""

    def ended_unclosed(self, now: int) -> Sequence[CareCaseRow]:
        """Cases past their end that no one closed (for the expiry sweep)."""

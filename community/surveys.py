"""Surveys and feedback requests: a brand publishes them to its community; members answer in
their own vault.

Invariants:

- A survey is put to a member only if they are in the community, their grants to the brand
  count survey answers now and they meet the criteria (community/audience.py); the brand is told
  only a thresholded differentially private count of them (:class:`~community.audience.Cohort`),
  measured once at publication and kept with the survey, never who and never a live count.
- Structured answers (rating 1-5, NPS 0-10, a choice's index, a multiple choice's bitmask) are
  columns inside SQLCipher; a text answer is sealed under the member's key, bound to (member,
  ``survey_answers``, survey and question, ``text``), and opened only for the member or for a
  release to a brand the member granted individual use (:meth:`SurveyService.release`).
- An answer can change until the survey closes; withdrawing it deletes its rows (and the
  journal entry a feedback request's answer made), whenever the member asks.
- Publication and delivery are ledger entries (ids, counts, the criteria's digest); so is
  every member whose answers are released individually, before they leave.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from consent.event_details import SurveyAnswerReleased, SurveyDelivered, SurveyPublished
from consent.model import Grant
from consent.repositories import GrantRepository
from consent.terms import EventLog
from consent.vocabulary import SURVEY
from vault.catalog import TOUCHPOINT_KEYS, clean_text
from vault.clock import Clock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.feedback import FeedbackInput, FeedbackService
from vault.keys import KeyStore
from vault.profile import ProfileService
from vault.sealing import associated_data

from .audience import (
    MINIMUM_COHORT,
    AudienceMeasure,
    Cohort,
    Criterion,
    counting_grants,
    criteria_digest,
    criteria_json,
    eligible,
    individual_grants,
    load_criteria,
    parse_criteria,
    unmeasured_audience,
)
from .repositories import AnswerRow, CommunityFacts, QuestionRecord, SurveyRecord, SurveyRepository

KINDS = ("survey", "feedback_request")
QUESTION_KINDS = ("rating", "nps", "single", "multiple", "text")
MAX_QUESTIONS = 20
MAX_CHOICES = 10
MAX_CHOICE = 80
MAX_PROMPT = 300
MAX_TITLE = 120
MAX_TEXT_ANSWER = 1000
MAX_DAYS_OPEN = 366
DAY = 86_400
ID_PREFIX = "srv_"
NO_SUCH_SURVEY = "There is no such survey, or it is not put to you."
_RANGES = {"rating": (1, 5), "nps": (0, 10)}


@dataclass(frozen=True)
class QuestionDraft:
    kind: str
    prompt: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurveyDraft:
    """What a brand publishes; the service checks it (:meth:`SurveyService.publish`)."""

    community_id: str
    title: str
    questions: tuple[QuestionDraft, ...]
    closes_at: int
    opens_at: int | None = None           # default: now
    touchpoint: str | None = None
    kind: str = "survey"
    criteria: Any = None                  # the JSON list (community/audience.py)


@dataclass(frozen=True)
class Survey:
    record: SurveyRecord
    questions: tuple[QuestionRecord, ...]
    criteria: tuple[Criterion, ...]

    @property
    def id(self) -> str:
        return self.record.id

    def is_open(self, now: float) -> bool:
        return self.record.opens_at <= now < self.record.closes_at


@dataclass(frozen=True)
class Published:
    survey: Survey
    cohort: Cohort


@dataclass(frozen=True)
class Answer:
    """One answered question, opened: ``value`` (rating, NPS, choice index), ``choices``
    (indexes of a multiple choice) or ``text``."""

    position: int
    value: int | None = None
    choices: tuple[int, ...] | None = None
    text: str | None = None


@dataclass(frozen=True)
class Asked:
    """A survey as a member sees it: their answers (empty: not answered) and when."""

    survey: Survey
    answers: tuple[Answer, ...] = ()
    answered_at: int | None = None
    skipped: bool = False
    journal_entry: int | None = None

    def answer(self, position: int) -> Answer | None:
        return next((a for a in self.answers if a.position == position), None)


@dataclass(frozen=True)
class Released:
    """One member's answers released to a brand (the member granted individual use)."""

    member_id: str
    answered_at: int
    answers: tuple[Answer, ...]
    grant_ids: tuple[str, ...] = field(default=())


def _aad(member_id: str, survey_id: str, position: int) -> bytes:
    return associated_data(member_id, "survey_answers", f"{survey_id}/{position}", "text")


def new_survey_id() -> str:
    return ID_PREFIX + os.urandom(12).hex()


class SurveyService:
    def __init__(self, *, surveys: SurveyRepository, grants: GrantRepository,
                 profile: ProfileService, feedback: FeedbackService, keys: KeyStore,
                 ledger: EventLog, principal: Callable[[str], str], clock: Clock,
                 minimum_cohort: int = MINIMUM_COHORT,
                 audience: AudienceMeasure = unmeasured_audience) -> None:
        self._surveys = surveys
        self._grants = grants
        self._profile = profile
        self._feedback = feedback
        self._keys = keys
        self._ledger = ledger
        self._principal = principal       # the member as the ledger names them
        self._clock = clock
        self.minimum_cohort = minimum_cohort
        self._audience = audience         # the one place an audience is measured

    # -- the brand's side ----------------------------------------------------------------------
    def publish(self, brand_id: str, draft: SurveyDraft) -> Published:
        """Check ``draft`` (one :class:`ValidationError` naming what is wrong), measure its
        audience once (a differentially private count paid from the brand's privacy budget;
        not told if the budget cannot pay), store both, record its publication and delivery
        in the ledger, and tell the thresholded noisy count of members it is put to."""
        now = int(self._clock())
        community = self._own_community(brand_id, draft.community_id)
        criteria = parse_criteria(draft.criteria)
        questions = _checked_questions(draft)
        errors: dict[str, list[str]] = {}
        opens = now if draft.opens_at is None else draft.opens_at
        if draft.kind not in KINDS:
            errors["kind"] = ["A survey or a feedback_request."]
        if draft.touchpoint is not None and draft.touchpoint not in TOUCHPOINT_KEYS:
            errors["touchpoint"] = ["One of: " + ", ".join(sorted(TOUCHPOINT_KEYS)) + "."]
        if draft.kind == "feedback_request" and draft.touchpoint is None:
            errors["touchpoint"] = ["A feedback request is about a touchpoint."]
        if not now - DAY <= opens <= now + MAX_DAYS_OPEN * DAY:
            errors["opens_at"] = ["Open it between yesterday and a year from now."]
        if not opens < draft.closes_at <= opens + MAX_DAYS_OPEN * DAY or draft.closes_at <= now:
            errors["closes_at"] = [f"Close it after it opens, in the future, and within"
                                   f" {MAX_DAYS_OPEN} days of opening."]
        try:
            title = clean_text(draft.title, max_length=MAX_TITLE)
            if not title:
                errors["title"] = ["Give the survey a title."]
        except ValueError as exc:
            errors["title"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        stored = criteria_json(criteria)
        record = SurveyRecord(new_survey_id(), brand_id, community.id, title, draft.touchpoint,
                              draft.kind, opens, draft.closes_at, stored, now)
        # Counted before the write lock is taken: it opens each member's sealed profile. The
        # exact count goes to the measure (and the vault's ledger), never to the brand.
        count = self._eligible_count(community, Survey(record, tuple(questions), criteria), now)
        cohort = self._audience(brand_id, count)
        record = replace(record, audience_measured=cohort.measured,
                         audience_reported=cohort.reported)
        survey = Survey(record, tuple(questions), criteria)
        with self._surveys.transaction():
            self._surveys.insert(record, questions)
            actor = "brand:" + brand_id
            self._ledger.record_event(actor=actor, details=SurveyPublished(
                survey=record.id, community=community.id, kind=record.kind,
                questions=len(questions), touchpoint=record.touchpoint,
                opens_at=record.opens_at, closes_at=record.closes_at,
                criteria=criteria_digest(stored)))
            self._ledger.record_event(actor=actor, details=SurveyDelivered(
                survey=record.id, community=community.id, eligible=count,
                reported=cohort.reported))
        return Published(survey, self.cohort(survey))

    def for_brand(self, brand_id: str, *, limit: int, offset: int) -> list[Survey]:
        return [self._survey(r) for r in self._surveys.for_brand(brand_id, limit=limit,
                                                                 offset=offset)]

    def brand_survey(self, brand_id: str, survey_id: str) -> Survey:
        """The brand's survey; another brand's is as unknown as a missing one."""
        record = self._surveys.get(survey_id)
        if record is None or record.brand_id != brand_id:
            raise NotFoundError("No survey with this id was published by this brand.")
        return self._survey(record)

    def cohort(self, survey: Survey) -> Cohort:
        """What the brand was told of the survey's audience when it was published, as it was
        kept then: never counted again (a live count would show one member leaving)."""
        record = survey.record
        if not record.audience_measured:
            return Cohort.unmeasured(self.minimum_cohort)
        return Cohort(record.audience_reported, self.minimum_cohort)

    def release(self, brand_id: str, survey_id: str, *, client_id: str, limit: int,
                offset: int) -> tuple[list[Released], bool]:
        """One page of the individual answers the brand may have: only of members whose grant
        to it allows survey answers individually now; each member released is a ledger entry,
        recorded before the answers leave. Whether there is a next page."""
        survey = self.brand_survey(brand_id, survey_id)
        community = self._community(survey.record.community_id)
        now = int(self._clock())
        allowed: list[tuple[Any, list[Grant]]] = []
        for respondent in self._surveys.respondents(survey.id):
            grants = individual_grants(counting_grants(
                self._grants.for_member_and_brand(respondent.member_id, brand_id), brand_id,
                community.purposes, now))
            if grants:
                allowed.append((respondent, grants))
        page = allowed[offset:offset + limit]
        released: list[Released] = []
        for respondent, grants in page:
            answers = self._opened(respondent.member_id, survey, respondent.rows)
            grant_ids = tuple(sorted(g.id for g in grants))
            self._ledger.record_event(actor="brand:" + brand_id, details=SurveyAnswerReleased(
                member=self._principal(respondent.member_id), client=client_id,
                purpose=min(g.purpose for g in grants), fields=[SURVEY],
                survey=survey.id, grants=list(grant_ids),
                questions=[a.position for a in answers],
                text=any(a.text is not None for a in answers)))
            released.append(Released(respondent.member_id,
                                     max(r.answered_at for r in respondent.rows), answers,
                                     grant_ids))
        return released, len(allowed) > offset + limit

    # -- the member's side ---------------------------------------------------------------------
    def asked(self, member_id: str) -> list[Asked]:
        """The surveys put to the member that have not closed, and those they answered (the
        answers shown, so they can be withdrawn), soonest closing first."""
        number = self._number(member_id)
        now = int(self._clock())
        communities = self._surveys.member_communities(member_id)
        answered = self._surveys.answered(number)
        skipped = self._surveys.skipped(number)
        found: list[Asked] = []
        for record in self._surveys.for_communities(communities, closes_after=now):
            survey = self._survey(record)
            if record.id in answered:
                found.append(self._asked(member_id, number, survey, skipped))
            elif record.opens_at <= now and self._puts_to(member_id, survey, now):
                found.append(Asked(survey, skipped=record.id in skipped))
        return found

    def answered_closed(self, member_id: str) -> list[Asked]:
        """Closed surveys the member answered (their answers can still be withdrawn)."""
        number = self._number(member_id)
        now = int(self._clock())
        found = []
        for survey_id in self._surveys.answered(number):
            record = self._surveys.get(survey_id)
            if record is not None and record.closes_at <= now:
                found.append(self._asked(member_id, number, self._survey(record), set()))
        return found

    def everything_answered(self, member_id: str) -> list[Asked]:
        """Every survey the member answered, open or closed, with the answers opened (their
        export); most recently answered first."""
        number = self._number(member_id)
        found = []
        for survey_id, _ in sorted(self._surveys.answered(number).items(),
                                   key=lambda item: (-item[1], item[0])):
            record = self._surveys.get(survey_id)
            if record is not None:
                found.append(self._asked(member_id, number, self._survey(record), set()))
        return found

    def skipped(self, member_id: str) -> list[str]:
        """The ids of the surveys the member skipped (their export)."""
        return sorted(self._surveys.skipped(self._number(member_id)))

    def for_member(self, member_id: str, survey_id: str) -> Asked:
        """One survey as the member sees it: one put to them now, or one they answered."""
        number = self._number(member_id)
        record = self._surveys.get(survey_id)
        if record is None:
            raise NotFoundError(NO_SUCH_SURVEY)
        survey = self._survey(record)
        if self._surveys.answers(survey_id, number):
            return self._asked(member_id, number, survey, self._surveys.skipped(number))
        now = int(self._clock())
        if not survey.is_open(now) or not self._puts_to(member_id, survey, now):
            raise NotFoundError(NO_SUCH_SURVEY)
        return Asked(survey, skipped=survey_id in self._surveys.skipped(number))

    def answer(self, member_id: str, survey_id: str, raw: Mapping[str, Any]) -> Asked:
        """Record (or change) the member's answer: ``raw`` maps ``q<position>`` to the form's
        value (a list for a multiple choice); an empty value leaves the question unanswered.
        One :class:`ValidationError` names every wrong answer; a closed survey is a
        :class:`ConflictError`."""
        asked = self.for_member(member_id, survey_id)
        survey = asked.survey
        now = int(self._clock())
        if not survey.is_open(now):
            raise ConflictError("This survey has closed: its answers can no longer change.")
        if asked.answers and not self._puts_to(member_id, survey, now):
            raise ConflictError("This survey is no longer put to you (what you share with the"
                                " brand changed): you can withdraw your answer, not change it.")
        answers = validate_answers(survey.questions, raw)
        number = self._number(member_id)
        cipher = self._keys.cipher(member_id)
        rows = [AnswerRow(a.position, a.value, _bitmask(a.choices),
                          cipher.seal(_aad(member_id, survey.id, a.position), a.text.encode())
                          if a.text is not None else None, now)
                for a in answers]
        with self._surveys.transaction():
            self._surveys.replace_answers(survey.id, number, rows)
            self._surveys.unskip(survey.id, number)
            if survey.record.kind == "feedback_request":
                self._journal(member_id, number, survey, answers)
        return self.for_member(member_id, survey_id)

    def answer_many(self, rows: Sequence[tuple[str, int, AnswerRow]]) -> None:
        """Store already-valid structured answers ``(survey_id, member_num, row)`` in bulk
        (the demo loader): no text, no journal, no checks."""
        with self._surveys.transaction():
            self._surveys.insert_answers(rows)

    def skip(self, member_id: str, survey_id: str) -> None:
        """The member chose not to answer: it leaves their list (answering stays possible)."""
        self.for_member(member_id, survey_id)
        self._surveys.skip(survey_id, self._number(member_id), int(self._clock()))

    def withdraw(self, member_id: str, survey_id: str) -> bool:
        """Delete the member's answer (and the journal entry a feedback request's answer
        made), open or closed; whether there was one."""
        number = self._number(member_id)
        with self._surveys.transaction():
            entry = self._surveys.journal_entry(survey_id, number)
            deleted = self._surveys.delete_answers(survey_id, number)
            if entry is not None:
                try:
                    self._feedback.delete(member_id, entry)
                except NotFoundError:       # the member deleted the entry already
                    pass
        return deleted > 0

    # -- helpers -------------------------------------------------------------------------------
    def _own_community(self, brand_id: str, community_id: str) -> CommunityFacts:
        community = self._surveys.community(community_id) if isinstance(community_id, str) \
            else None
        if community is None or community.brand_id != brand_id:
            raise ValidationError({"community_id": ["None of this brand's communities has"
                                                    " this id."]})
        if community.closed_at is not None:
            raise ValidationError({"community_id": ["This community is closed."]})
        return community

    def _community(self, community_id: str) -> CommunityFacts:
        community = self._surveys.community(community_id)
        if community is None:
            raise NotFoundError(NO_SUCH_SURVEY)
        return community

    def _number(self, member_id: str) -> int:
        number = self._surveys.member_number(member_id)
        if number is None:
            raise NotFoundError("no such member")
        return number

    def _survey(self, record: SurveyRecord) -> Survey:
        return Survey(record, tuple(self._surveys.questions(record.id)),
                      load_criteria(record.criteria))

    def _today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, dt.UTC).date()

    def _puts_to(self, member_id: str, survey: Survey, now: float) -> bool:
        """Whether the survey is put to this member now (community/audience.py)."""
        community = self._community(survey.record.community_id)
        if community.closed_at is not None:
            return False
        grants = counting_grants(self._grants.for_member_and_brand(member_id, community.brand_id),
                                 community.brand_id, community.purposes, now)
        if not grants:
            return False
        profile = self._profile.read(member_id, [c.attribute for c in survey.criteria]) \
            if survey.criteria else {}
        return eligible(grants, survey.criteria, profile, today=self._today(now))

    def _eligible_count(self, community: CommunityFacts, survey: Survey, now: float) -> int:
        if community.closed_at is not None:
            return 0
        count = 0
        for _number, member_id in self._surveys.community_members(community.id):
            grants = counting_grants(self._grants.for_member_and_brand(member_id,
                                                                        community.brand_id),
                                     community.brand_id, community.purposes, now)
            if not grants:
                continue
            profile = self._profile.read(member_id, [c.attribute for c in survey.criteria]) \
                if survey.criteria else {}
            if eligible(grants, survey.criteria, profile, today=self._today(now)):
                count += 1
        return count

    def _asked(self, member_id: str, number: int, survey: Survey, skipped: set[str]) -> Asked:
        rows = self._surveys.answers(survey.id, number)
        return Asked(survey, self._opened(member_id, survey, rows),
                     max((r.answered_at for r in rows), default=None), survey.id in skipped,
                     self._surveys.journal_entry(survey.id, number))

    def _opened(self, member_id: str, survey: Survey, rows: Sequence[AnswerRow]
                ) -> tuple[Answer, ...]:
        sealed = [(r.position, r.text_sealed) for r in rows if r.text_sealed is not None]
        texts: dict[int, str] = {}
        if sealed:
            opened = self._keys.cipher(member_id).open_many(
                [(_aad(member_id, survey.id, p), value) for p, value in sealed])
            texts = {p: t.decode() for (p, _), t in zip(sealed, opened, strict=True)}
        return tuple(Answer(r.position, r.value, _indexes(r.choices), texts.get(r.position))
                     for r in rows)

    def _journal(self, member_id: str, number: int, survey: Survey,
                 answers: Sequence[Answer]) -> None:
        """A feedback request's answer, also as an entry in the member's journal (changed with
        the answer; the entry's own comment and date are kept)."""
        rating = next((a.value for a in answers if a.value is not None), None)
        touchpoint = survey.record.touchpoint
        if rating is None or touchpoint is None:
            return
        entry_id = self._surveys.journal_entry(survey.id, number)
        if entry_id is not None:
            try:
                entry = self._feedback.get(member_id, entry_id)
            except NotFoundError:
                entry_id = None
            else:
                self._feedback.update(member_id, entry_id, {
                    "brand_id": survey.record.brand_id, "touchpoint": touchpoint,
                    "rating": rating, "nps": entry.nps, "comment": entry.comment,
                    "occurred_on": entry.occurred_on})
                return
        today = self._feedback.today().isoformat()
        (new_id,) = self._feedback.add_many([(member_id, FeedbackInput(
            survey.record.brand_id, touchpoint, rating, None, "", today))])
        self._surveys.link_journal_entry(survey.id, number, new_id)


def _checked_questions(draft: SurveyDraft) -> list[QuestionRecord]:
    errors: dict[str, list[str]] = {}
    if not draft.questions or len(draft.questions) > MAX_QUESTIONS:
        raise ValidationError({"questions": [f"Ask 1 to {MAX_QUESTIONS} questions."]})
    if draft.kind == "feedback_request" and (
            len(draft.questions) != 1 or draft.questions[0].kind != "rating"):
        raise ValidationError({"questions": ["A feedback request asks one rating question"
                                             " (1-5)."]})
    checked: list[QuestionRecord] = []
    for position, question in enumerate(draft.questions):
        where = f"questions.{position}"
        if question.kind not in QUESTION_KINDS:
            errors[where] = ["kind is one of: " + ", ".join(QUESTION_KINDS) + "."]
            continue
        try:
            prompt = clean_text(question.prompt, max_length=MAX_PROMPT)
            choices = tuple(clean_text(c, max_length=MAX_CHOICE) for c in question.choices)
        except ValueError as exc:
            errors[where] = [str(exc)]
            continue
        if not prompt:
            errors[where] = ["Every question has a prompt."]
        elif question.kind in ("single", "multiple"):
            if not 2 <= len(choices) <= MAX_CHOICES or not all(choices) \
                    or len(set(choices)) != len(choices):
                errors[where] = [f"A choice question offers 2 to {MAX_CHOICES} different"
                                 " choices."]
        elif choices:
            errors[where] = ["Only a choice question offers choices."]
        checked.append(QuestionRecord(position, question.kind, prompt, choices))
    if errors:
        raise ValidationError(errors)
    return checked


def validate_answers(questions: Sequence[QuestionRecord], raw: Mapping[str, Any]
                     ) -> list[Answer]:
    """The answers ``raw`` gives (keys ``q<position>``), or one :class:`ValidationError`
    naming each wrong one; at least one question must be answered."""
    errors: dict[str, list[str]] = {}
    answers: list[Answer] = []
    known = {f"q{q.position}" for q in questions}
    for key in sorted(set(raw) - known - {"csrf_token"}):
        errors[key[:40]] = ["Unknown question."]
    for question in questions:
        key = f"q{question.position}"
        value = raw.get(key)
        if value in (None, "", []):
            continue
        if question.kind in _RANGES:
            low, high = _RANGES[question.kind]
            number = _whole(value)
            if number is None or not low <= number <= high:
                errors[key] = [f"Choose a number from {low} to {high}."]
            else:
                answers.append(Answer(question.position, value=number))
        elif question.kind == "single":
            index = _whole(value)
            if index is None or not 0 <= index < len(question.choices):
                errors[key] = ["Choose one of the answers offered."]
            else:
                answers.append(Answer(question.position, value=index))
        elif question.kind == "multiple":
            items = value if isinstance(value, list | tuple) else [value]
            indexes = [_whole(v) for v in items]
            if any(i is None or not 0 <= i < len(question.choices) for i in indexes):
                errors[key] = ["Tick only answers offered."]
            else:
                answers.append(Answer(question.position,
                                      choices=tuple(sorted({i for i in indexes if i is not None}))))
        else:
            try:
                text = clean_text(value, max_length=MAX_TEXT_ANSWER, multiline=True) \
                    if isinstance(value, str) else None
            except ValueError as exc:
                errors[key] = [str(exc)]
                continue
            if text is None:
                errors[key] = ["Write your answer as text."]
            elif text:
                answers.append(Answer(question.position, text=text))
    if errors:
        raise ValidationError(errors)
    if not answers:
        raise ValidationError({"form": ["Answer at least one question, or skip the survey."]})
    return answers


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() \
            and len(value.strip()) <= 3:
        return int(value.strip())
    return None


def _bitmask(indexes: tuple[int, ...] | None) -> int | None:
    if indexes is None:
        return None
    mask = 0
    for index in indexes:
        mask |= 1 << index
    return mask


def _indexes(mask: int | None) -> tuple[int, ...] | None:
    if mask is None:
        return None
    return tuple(i for i in range(MAX_CHOICES) if mask >> i & 1)

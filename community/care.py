"""Care on the member's terms: a member who gave a brand a low score asks it to get back to them.

A case is an explicit, one-time, individual grant to that brand for ``dpv:CustomerCare``
(:data:`CARE_PURPOSE`), made through the consent services with its signed receipt and ledger
entries, covering the journal entry concerned and, only if the member chooses one, one contact
field (:data:`CONTACT_FIELDS`). It lasts :data:`CARE_DAYS` days at most.

Invariants:

- Only a low score may open a case: a feedback entry rated :data:`LOW_RATING` or less, or with
  an NPS of :data:`LOW_NPS` or less, or a survey answered with such a rating or NPS (the case
  then covers the member's answers to that survey: the ``survey`` field). A member has at
  most one live case per brand. A customer-care grant the member gave the brand's app lives
  beside the case's: neither replaces the other (consent/model.py ``GivenFor``), so the app's
  asking again never ends a case, and a case never changes what the app was given.
- The grant is the case's: it names the ``feedback`` (or ``survey``) field, but the brand has
  no token over it, so the brand reads nothing but the one entry (or the member's answers to
  the one survey), through the case
  (:meth:`CareService.brand_read`), each read a ledger entry under the brand's name as every
  brand read is (``access:feedback:read`` or ``survey:answer:released``, and
  ``access:profile:read`` for the contact field).
- The case closes when the member closes it (the grant is withdrawn), when the brand closes it
  (the grant is released, the brand giving it up: ``consent:grant:released``), or when it ends
  (the grant expires), each with its ``care:case:closed`` entry. A withdrawal of the case's
  grant on the Sharing page is the member closing it (web/consents.py closes the case). A case
  whose grant is no longer live counts as closed whatever its row says, and never stands in
  the way of a new one. A closed case releases nothing.
- What the member asks may need their terms relaxed for this brand: the asking is the member's
  explicit consent to that, and it is recorded as on a consent screen (the agreement on their
  standing IEEE 7012 term, if the brand accepts it as standing policy; customer care and the
  case's length accepted for this brand only, with their signed receipt). A brand that does
  not accept the member's term cannot be asked here: the member agrees terms first.
- The brand's answer is sealed under the member's key (bound to the case), so erasure shreds it;
  ledger entries carry case and grant ids and pseudonyms only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from consent.context import Consent
from consent.event_details import (
    CareCaseClosed,
    CareCaseOpened,
    FeedbackRead,
    ProfileRead,
    SurveyAnswerReleased,
)
from consent.events import SYSTEM_ACTOR
from consent.grants import BrandRequest, BreachKind
from consent.model import CARE_ASKED, AccessEnd, GivenFor, GrantStatus, Mode
from vault.catalog import BY_KEY, clean_text
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.feedback import FeedbackEntry
from vault.sealing import associated_data

from .repositories import CareCaseRepository, CareCaseRow
from .surveys import Asked, SurveyService

CARE_PURPOSE = "dpv:CustomerCare"
CARE_DAYS = 14
LOW_RATING = 2
LOW_NPS = 6
CONTACT_FIELDS = ("contact_email", "phone")
MAX_ANSWER = 2000
COLLECTION_METHOD = CARE_ASKED
#: What a brand or member is told of a case id that is none of theirs (or none at all).
NO_SUCH_CASE = "There is no such care case."
DAY = 86_400


class CaseState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class CareCase:
    """A case as its member or its brand sees it, with its state as of now."""

    id: str
    member_id: str
    brand_id: str
    grant_id: str
    source: str
    source_ref: str
    contact_field: str | None
    state: CaseState
    opened_at: int
    ends_at: int
    answered_at: int | None
    closed_at: int | None
    closed_by: str | None
    answer: str | None = None         # opened for the member only


@dataclass(frozen=True)
class CaseRead:
    """What a brand reads of a live case: the entry concerned and the chosen contact, the
    member named by the brand's pairwise pseudonym. Nothing of a closed case."""

    case: CareCase
    subject: str
    entry: FeedbackEntry | None
    contact: str | None
    survey: Asked | None = None       # a survey case: the member's answers to it, opened


def is_low(rating: int | None, nps: int | None) -> bool:
    """A score low enough to ask the brand to get back: rating 1-2, or NPS 0-6."""
    return (rating is not None and rating <= LOW_RATING) or (nps is not None and nps <= LOW_NPS)


def survey_is_low(asked: Asked) -> bool:
    """Whether the member's answers to the survey hold a low rating or NPS."""
    kinds = {q.position: q.kind for q in asked.survey.questions}
    return any(a.value is not None and is_low(a.value if kinds.get(a.position) == "rating"
                                              else None,
                                              a.value if kinds.get(a.position) == "nps"
                                              else None)
               for a in asked.answers)


_ONLY_LOW = ("You can ask a brand to get back to you after a low score only (a rating of "
             f"{LOW_RATING} or less, or {LOW_NPS} or less out of 10).")


def _answer_aad(member_id: str, case_id: str) -> bytes:
    return associated_data(member_id, "care_case", case_id, "answer")


class CareService:
    """Care cases over the consent services (``consent``, over the member's vault).

    ``accepts_term(brand_id, term)``: whether the brand accepts that IEEE 7012 term as standing
    policy (its OAuth client's accepted agreements, which the front door knows).
    """

    def __init__(self, *, cases: CareCaseRepository, consent: Consent,
                 accepts_term: Callable[[str, str], bool], surveys: SurveyService) -> None:
        self._cases = cases
        self._consent = consent
        self._vault = consent.vault
        self._accepts_term = accepts_term
        self._surveys = surveys

    def _now(self) -> int:
        return int(self._vault.clock())

    # -- the member ---------------------------------------------------------------------------
    def check(self, member_id: str, *, entry_id: int, contact_field: str | None
              ) -> FeedbackEntry:
        """The entry a case would be about, or a :class:`ValidationError` /
        :class:`NotFoundError` saying why none may be opened. Writes nothing."""
        entry = self._vault.feedback.get(member_id, entry_id)
        errors: dict[str, list[str]] = {}
        if not is_low(entry.rating, entry.nps):
            errors["entry"] = [_ONLY_LOW]
        self._check_contact(member_id, contact_field, errors)
        if errors:
            raise ValidationError(errors)
        return entry

    def check_survey(self, member_id: str, *, survey_id: str, contact_field: str | None
                     ) -> Asked:
        """The member's answers to a survey a case would be about (a low rating or NPS among
        them), or why none may be opened. Writes nothing."""
        asked = self._surveys.for_member(member_id, survey_id)
        errors: dict[str, list[str]] = {}
        if not survey_is_low(asked):
            errors["entry"] = [_ONLY_LOW]
        self._check_contact(member_id, contact_field, errors)
        if errors:
            raise ValidationError(errors)
        return asked

    def _check_contact(self, member_id: str, contact_field: str | None,
                       errors: dict[str, list[str]]) -> None:
        if contact_field not in (None, *CONTACT_FIELDS):
            errors["contact_field"] = ["Choose one of the ways to reach you on the list, or "
                                       "none."]
        elif contact_field is not None and contact_field not in self._vault.profile.read(
                member_id, [contact_field]):
            errors["contact_field"] = [f"Your {BY_KEY[contact_field].label.lower()} is not "
                                       "filled in: add it on your Profile page, or choose "
                                       "none."]

    def ask(self, member_id: str, *, entry_id: int, contact_field: str | None = None
            ) -> CareCase:
        """Open a case about the member's feedback entry ``entry_id``: the grant with its
        receipt, the case, a ``care:case:opened`` entry, in one data-store transaction."""
        entry = self.check(member_id, entry_id=entry_id, contact_field=contact_field)
        return self._open(member_id, entry.brand_id, "feedback", str(entry.id), contact_field)

    def ask_about_survey(self, member_id: str, *, survey_id: str,
                         contact_field: str | None = None) -> CareCase:
        """Open a case about the member's answers to a survey (the grant covers the
        ``survey`` field: their answers to it, and nothing else is readable through the case)."""
        asked = self.check_survey(member_id, survey_id=survey_id, contact_field=contact_field)
        return self._open(member_id, asked.survey.record.brand_id, "survey", survey_id,
                          contact_field)

    def _open(self, member_id: str, brand_id: str, source: str, source_ref: str,
              contact_field: str | None) -> CareCase:
        consent = self._consent
        fields = frozenset({source, *([contact_field] if contact_field else [])})
        request = BrandRequest(brand_id, CARE_PURPOSE, fields, Mode.INDIVIDUAL, days=CARE_DAYS,
                               retention_days=CARE_DAYS)
        with self._vault.data.transaction():
            now = self._now()
            # A row still open whose grant ended otherwise counts as closed (see _case).
            if any(self._case(row).state is not CaseState.CLOSED
                   for row in self._cases.live_for(member_id, brand_id, now)):
                raise ConflictError("You asked this brand to get back to you already; that "
                                    "case is still open.")
            if consent.grants.replaced_by_new(member_id, brand_id, CARE_PURPOSE,
                                              given_for=GivenFor.CARE, now=now):
                raise ConflictError("You already share with this brand for customer care (see "
                                    "your Sharing page): ask them there.")
            self._relax(member_id, request)
            grant, _receipt = consent.grants.grant(member_id, request,
                                                   collection_method=COLLECTION_METHOD)
            case_id = "care_" + os.urandom(12).hex()
            self._cases.insert(CareCaseRow(
                case_id, member_id, brand_id, grant.id, source, source_ref, contact_field,
                CaseState.OPEN.value, None, now, grant.ends_at, None, None, None))
            consent.ledger.record_event(actor=consent.principal(member_id), details=CareCaseOpened(
                case=case_id, brand=brand_id, grant=grant.id, source=source,
                contact=contact_field))
        return self.member_case(member_id, case_id)

    def _relax(self, member_id: str, request: BrandRequest) -> None:
        """Record what the member's asking accepts for this brand, as a consent screen would:
        the agreement on their standing term, then customer care and the case's length for
        this brand only. Absolute breaches are refused."""
        consent = self._consent
        breaches = consent.grants.breaches(member_id, request)
        absolute = [b.reason for b in breaches if not b.relaxable]
        if absolute:
            raise ValidationError({"request": absolute})
        kinds = {b.kind for b in breaches}
        brand_id = request.brand_id
        if BreachKind.AGREEMENT in kinds:
            term = consent.terms.get(member_id).agreement
            if not self._accepts_term(brand_id, term):
                raise ValidationError({"request": [
                    f"This brand has not accepted your terms ({term}): agree terms with it on "
                    "your Sharing page first."]})
            agreements = consent.agreements
            offer = agreements.open_offer(member_id, brand_id)
            if offer is not None and offer.proffered != term:
                raise ConflictError("An earlier offer of other terms to this brand is waiting; "
                                    "answer it on your Sharing page first.")
            agreements.brand_accepts((offer or agreements.proffer(member_id, brand_id)).id,
                                     brand_id)
        if kinds & {BreachKind.PURPOSE, BreachKind.DURATION}:
            agreed = consent.agreements.in_force(member_id, brand_id)
            assert agreed is not None and agreed.agreed is not None
            consent.terms.accept_for_brand(
                member_id, brand_id, agreement=agreed.agreed,
                purposes=[CARE_PURPOSE] if BreachKind.PURPOSE in kinds else [],
                max_days=CARE_DAYS if BreachKind.DURATION in kinds else None)

    def for_member(self, member_id: str) -> list[CareCase]:
        """The member's cases, newest first, with the brand's answers opened."""
        rows = self._cases.for_member(member_id)
        sealed = [(i, r) for i, r in enumerate(rows) if r.answer_sealed is not None]
        answers: dict[int, str] = {}
        if sealed:
            opened = self._vault.key_store.cipher(member_id).open_many(
                [(_answer_aad(member_id, r.id), r.answer_sealed) for _, r in sealed
                 if r.answer_sealed is not None])
            answers = {i: text.decode() for (i, _), text in zip(sealed, opened, strict=True)}
        return [self._case(row, answer=answers.get(i)) for i, row in enumerate(rows)]

    def member_case(self, member_id: str, case_id: str) -> CareCase:
        for case in self.for_member(member_id):
            if case.id == case_id:
                return case
        raise NotFoundError(NO_SUCH_CASE)

    def low_surveys(self, member_id: str) -> list[Asked]:
        """The surveys the member answered with a low rating or NPS and has not asked about."""
        asked_about = {c.source_ref for c in self.for_member(member_id) if c.source == "survey"}
        found: dict[str, Asked] = {}
        for asked in (*self._surveys.asked(member_id),
                      *self._surveys.answered_closed(member_id)):
            survey_id = asked.survey.record.id
            if asked.answers and survey_is_low(asked) and survey_id not in asked_about:
                found.setdefault(survey_id, asked)
        return list(found.values())

    def for_entry(self, member_id: str) -> dict[int, CareCase]:
        """The member's latest case per feedback entry id (for the journal page)."""
        found: dict[int, CareCase] = {}
        for case in self.for_member(member_id):
            if case.source == "feedback":
                found.setdefault(int(case.source_ref), case)
        return found

    def case_of_grant(self, member_id: str, grant_id: str) -> CareCase | None:
        """The member's case whose grant ``grant_id`` is, if any."""
        return next((c for c in self.for_member(member_id) if c.grant_id == grant_id), None)

    def close_by_member(self, member_id: str, case_id: str) -> CareCase:
        """Close the member's case and withdraw its grant (its receipt)."""
        case = self.member_case(member_id, case_id)
        self._close(case, by="member", actor=self._consent.principal(member_id))
        return self.member_case(member_id, case_id)

    # -- the brand ----------------------------------------------------------------------------
    def for_brand(self, brand_id: str, *, live_only: bool, limit: int, offset: int
                  ) -> list[CareCase]:
        now = self._now()
        rows = self._cases.for_brand(brand_id, live_at=now if live_only else None,
                                     limit=limit, offset=offset)
        cases = [self._case(row) for row in rows]
        # A case whose grant the member withdrew is closed, whatever its row says.
        return [c for c in cases if c.state is not CaseState.CLOSED] if live_only else cases

    def brand_case(self, brand_id: str, case_id: str) -> CareCase:
        """The brand's case; another brand's is as unknown as a missing one."""
        row = self._cases.get(case_id)
        if row is None or row.brand_id != brand_id:
            raise NotFoundError(NO_SUCH_CASE)
        return self._case(row)

    def subject(self, case: CareCase) -> str:
        """The member as the case's brand knows them: its pairwise pseudonym."""
        return self._consent.brand_subject(case.member_id, case.brand_id)

    def brand_read(self, brand_id: str, case_id: str, *, client_id: str) -> CaseRead:
        """The case, and while it is live the entry and chosen contact; each release a ledger
        entry under the brand's name (``client_id``: which of its clients read)."""
        case = self.brand_case(brand_id, case_id)
        subject = self.subject(case)
        if case.state is CaseState.CLOSED:
            return CaseRead(case, subject, None, None)
        member_id = case.member_id
        entry: FeedbackEntry | None = None
        survey: Asked | None = None
        try:
            if case.source == "survey":
                survey = self._surveys.for_member(member_id, case.source_ref)
            else:
                entry = self._vault.feedback.get(member_id, int(case.source_ref))
        except NotFoundError:
            pass                  # the member deleted or withdrew it since: nothing released
        contact = None
        if case.contact_field is not None:
            contact = self._vault.profile.read(member_id, [case.contact_field]).get(
                case.contact_field)
        consent = self._consent
        principal = consent.principal(member_id)
        actor = "brand:" + brand_id
        if case.source == "survey":
            answers = survey.answers if survey is not None else ()
            consent.ledger.record_event(actor=actor, details=SurveyAnswerReleased(
                member=principal, client=client_id, purpose=CARE_PURPOSE,
                fields=["survey"] if answers else [], grants=[case.grant_id],
                survey=case.source_ref, questions=[a.position for a in answers],
                text=any(a.text is not None for a in answers)))
        else:
            consent.ledger.record_event(actor=actor, details=FeedbackRead(
                member=principal, client=client_id, purpose=CARE_PURPOSE,
                fields=["feedback"] if entry else [], grants=[case.grant_id],
                entries=1 if entry else 0))
        if case.contact_field is not None:
            consent.ledger.record_event(actor=actor, details=ProfileRead(
                member=principal, client=client_id, purpose=CARE_PURPOSE,
                fields=[case.contact_field] if contact is not None else [],
                grants=[case.grant_id]))
        return CaseRead(case, subject, entry, None if contact is None else str(contact),
                        survey if survey is not None and survey.answers else None)

    def answer(self, brand_id: str, case_id: str, text: object) -> CareCase:
        """Record the brand's answer to the member (sealed under their key); the case is then
        ``answered``. A closed case cannot be answered (:class:`ConflictError`)."""
        try:
            message = clean_text(text, max_length=MAX_ANSWER, multiline=True)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValidationError({"message": [str(exc)]}) from None
        if not message:
            raise ValidationError({"message": ["Write what you want to tell the member."]})
        case = self.brand_case(brand_id, case_id)
        if case.state is CaseState.CLOSED:
            raise ConflictError("This case is closed: it cannot be answered.")
        sealed = self._vault.key_store.cipher(case.member_id).seal(
            _answer_aad(case.member_id, case.id), message.encode())
        if not self._cases.answer(case.id, sealed, self._now()):
            raise ConflictError("This case is closed: it cannot be answered.")
        return self.brand_case(brand_id, case_id)

    def close_by_brand(self, brand_id: str, case_id: str) -> CareCase:
        """Close the brand's case: its grant is released (the brand gives it up)."""
        case = self.brand_case(brand_id, case_id)
        if case.state is CaseState.CLOSED:
            raise ConflictError("This case is closed already.")
        self._close(case, by="brand", actor="brand:" + brand_id)
        return self.brand_case(brand_id, case_id)

    # -- expiry -------------------------------------------------------------------------------
    def close_ended(self) -> int:
        """Record the close of every case past its end (its grant expires on its own sweep,
        ``ConsentService.record_expiries``); how many. Idempotent."""
        closed = 0
        for row in self._cases.ended_unclosed(self._now()):
            case = self._case(row)
            if self._close(case, by="expiry", actor=SYSTEM_ACTOR):
                closed += 1
        return closed

    # -- helpers ------------------------------------------------------------------------------
    def _close(self, case: CareCase, *, by: str, actor: str) -> bool:
        consent = self._consent
        with self._vault.data.transaction():
            if not self._cases.close(case.id, by, self._now()):
                return False
            grant = consent.grants.get(case.member_id, case.grant_id)
            if grant.status is GrantStatus.ACTIVE and grant.ends_at > self._now():
                if by == "member":
                    consent.grants.withdraw(case.member_id, grant.id)
                elif by == "brand":
                    consent.grants.end_access(grant.id, AccessEnd.REVOKED_BY_BRAND)
            consent.ledger.record_event(actor=actor, details=CareCaseClosed(
                case=case.id, brand=case.brand_id, grant=case.grant_id, by=by))
        return True

    def _case(self, row: CareCaseRow, *, answer: str | None = None) -> CareCase:
        now = self._now()
        state = CaseState(row.state)
        closed_by = row.closed_by
        closed_at = row.closed_at
        if state is not CaseState.CLOSED:
            if row.ends_at <= now:
                state, closed_by, closed_at = CaseState.CLOSED, "expiry", row.ends_at
            else:
                grant = self._consent.grants.get(row.member_id, row.grant_id)
                if grant.status is not GrantStatus.ACTIVE:
                    # Released: the brand gave the grant up; withdrawn: the member did (nothing
                    # else ends a case's grant, consent/model.py GivenFor).
                    state, closed_at = CaseState.CLOSED, grant.withdrawn_at
                    closed_by = "brand" if grant.status is GrantStatus.RELEASED else "member"
        return CareCase(row.id, row.member_id, row.brand_id, row.grant_id, row.source,
                        row.source_ref, row.contact_field, state, row.opened_at, row.ends_at,
                        row.answered_at, closed_at, closed_by, answer)

"""Closing the loop on surveys and ideas, without Flask: a "we did" about a survey reaches
those who answered it (a withdrawn answer leaves the list) and releases its rating and NPS
questions over the members the counting rule lets count; one about an idea reaches its author
and voters with the vote count; a low survey answer can be a care case whose grant covers
those answers only."""

from __future__ import annotations

import pytest

from community.care import CaseState
from community.storage import care_service, cocreation_service, wedid_service
from consent.events import EventTag
from consent.model import Mode
from vault.errors import NotFoundError, ValidationError

from .survey_support import Community


@pytest.fixture
def club(consent, sharing) -> Community:
    return Community(consent, sharing)


def _answered(club: Community, answers: list[dict[str, str]], *,
              mode: Mode = Mode.AGGREGATE) -> tuple[str, list[str]]:
    survey = club.surveys.publish(club.brand.id, club.draft()).survey
    members = []
    for answer in answers:
        member = club.join(mode=mode)
        club.surveys.answer(member, survey.id, answer)
        members.append(member)
    return survey.id, members


def test_a_survey_we_did_releases_its_rating_and_nps_questions_over_who_counts(club, sharing):
    survey_id, members = _answered(club, [{"q0": "2", "q1": "3"}, {"q0": "4", "q1": "9"},
                                          {"q0": "5", "q1": "10"}])
    calls = []

    def release(brand_id, kind, rows):
        calls.append((kind, rows))
        return None

    service = wedid_service(consent=club.consent)
    post = service.post(club.brand.id, {"subject_kind": "survey", "subject": survey_id,
                                        "said": "Tyres slip.", "did": "New tyres.",
                                        "changed_on": "2027-01-01",
                                        "purpose": "dpv:ResearchAndDevelopment"},
                        release=release)
    [(kind, (questions, rows))] = calls
    assert kind == "survey"
    assert [(q[0], q[1]) for q in questions] == [(0, "rating"), (1, "nps")]
    assert sorted((position, value) for _member, position, value in rows) == [
        (0, 2), (0, 4), (0, 5), (1, 3), (1, 9), (1, 10)]
    for member in members:
        assert [p.id for p in service.for_member(member)] == [post.id]

    # Withdrawing the answer: the member no longer took part, and no longer counts.
    club.surveys.withdraw(members[0], survey_id)
    assert service.for_member(members[0]) == []
    calls.clear()
    service.post(club.brand.id, {"subject_kind": "survey", "subject": survey_id,
                                 "said": "a", "did": "b", "changed_on": "2027-01-01",
                                 "purpose": "dpv:ResearchAndDevelopment"}, release=release)
    assert len(calls[0][1][1]) == 4


def test_an_idea_we_did_reaches_its_author_and_voters_with_the_count(club, sharing):
    author, voter, bystander = club.join(), club.join(), club.join()
    ideas = cocreation_service(club.consent)
    challenge = ideas.open_challenge(club.brand.id, club.id, title="Repairs",
                                     description="How should repairs work?")
    idea = ideas.post(author, challenge.id, "Loan bikes during repairs.")
    ideas.vote(voter, idea.id)
    service = wedid_service(consent=club.consent)
    post = service.post(club.brand.id, {"subject_kind": "idea", "subject": idea.id,
                                        "said": "Loan bikes.", "did": "Done.",
                                        "changed_on": "2027-01-01"},
                        release=lambda b, k, r: pytest.fail("an idea spends nothing"))
    assert post.release is not None and post.release["votes"] == 1
    assert post.release["epsilon"] == 0.0
    assert [p.id for p in service.for_member(author)] == [post.id]
    assert [p.id for p in service.for_member(voter)] == [post.id]
    assert service.for_member(bystander) == []
    other = sharing.brand("Fresh Grocer")
    with pytest.raises(ValidationError) as refused:
        service.post(other.id, {"subject_kind": "idea", "subject": idea.id, "said": "a",
                                "did": "b", "changed_on": "2027-01-01"},
                     release=lambda b, k, r: None)
    assert "subject" in refused.value.errors


def test_a_low_survey_answer_opens_a_case_over_those_answers_only(club, sharing):
    survey_id, (low, high) = _answered(club, [{"q0": "1", "q4": "Slippery"},
                                              {"q0": "5", "q1": "9"}])
    care = care_service(consent=club.consent, accepts_term=lambda b, t: True)
    assert [a.survey.record.id for a in care.low_surveys(low)] == [survey_id]
    assert care.low_surveys(high) == []
    with pytest.raises(ValidationError):
        care.ask_about_survey(high, survey_id=survey_id)
    with pytest.raises(NotFoundError):
        care.ask_about_survey(sharing.member(), survey_id=survey_id)   # not put to them

    case = care.ask_about_survey(low, survey_id=survey_id)
    assert case.source == "survey" and case.state is CaseState.OPEN
    grant = club.consent.grants.get(low, case.grant_id)
    assert grant.fields == frozenset({"survey"}) and grant.purpose == "dpv:CustomerCare"
    assert care.low_surveys(low) == []                  # asked about already
    read = care.brand_read(club.brand.id, case.id, client_id="c")
    assert read.entry is None and read.survey is not None
    assert {a.position: (a.value, a.text) for a in read.survey.answers} == {
        0: (1, None), 4: (None, "Slippery")}
    ledger = club.consent.ledger
    assert EventTag.SURVEY_ANSWER_RELEASED in [ledger.entry(seq).tag
                                               for seq in range(ledger.size)]
    # The care grant is for customer care: the survey's own individual release (for the
    # community's purposes) still leaves this aggregate member's text out.
    released, _ = club.surveys.release(club.brand.id, survey_id, client_id="c", limit=10,
                                       offset=0)
    assert [r.member_id for r in released] == []

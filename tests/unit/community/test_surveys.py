"""community.surveys: publishing to a community, who is asked (the counting rule and the
criteria, decided inside the vault), answering, changing, skipping and withdrawing, feedback
requests in the journal, individual release, and erasure. Services only: no Flask."""

from __future__ import annotations

import pytest

from community.audience import Cohort
from community.storage import survey_service
from community.surveys import QuestionDraft, SurveyService
from consent.context import Consent
from consent.events import EventTag
from consent.model import Mode
from tests.unit.consent.conftest import Sharing
from tests.unit.consent.test_terms import ledger_entries
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError

from .survey_support import COMMUNITY_FIELDS, DAY, Community

ANSWERS = {"q0": "4", "q1": "9", "q2": "1", "q3": ["0", "2"], "q4": "The lights are dim"}


@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)


@pytest.fixture
def community(consent: Consent, sharing: Sharing) -> Community:
    return Community(consent, sharing)


def service(community: Community) -> SurveyService:
    return community.surveys


# -- publishing --------------------------------------------------------------------------------
def test_publishing_stores_the_survey_and_records_publication_and_delivery(
        community: Community, consent: Consent) -> None:
    members = [community.join() for _ in range(4)]
    published = community.surveys.publish(community.brand.id, community.draft())
    survey = published.survey
    assert survey.id.startswith("srv_") and len(survey.questions) == 5
    assert [q.kind for q in survey.questions] == ["rating", "nps", "single", "multiple", "text"]
    assert published.cohort == Cohort(3, 3)    # 4 members, told in steps of ten above the minimum
    assert community.measured == [(community.brand.id, 4)]       # measured once, at publication
    (entry,) = ledger_entries(consent, EventTag.SURVEY_PUBLISHED)
    assert entry.actor == "brand:" + community.brand.id
    assert entry.details["survey"] == survey.id and entry.details["questions"] == 5
    (delivered,) = ledger_entries(consent, EventTag.SURVEY_DELIVERED)
    assert delivered.details["eligible"] == 4
    body = entry.body + delivered.body
    for member_id in members:
        assert member_id.encode() not in body


def test_the_brand_is_told_only_fewer_than_the_minimum(consent: Consent,
                                                       sharing: Sharing) -> None:
    small = Community(consent, sharing, minimum_cohort=50)
    for _ in range(3):
        small.join()
    cohort = small.surveys.publish(small.brand.id, small.draft()).cohort
    assert cohort.reported is None and cohort.text == "fewer than 50"
    assert Cohort.of(57, 50) == Cohort(50, 50) and Cohort.of(123, 50).reported == 120


def test_the_audience_is_kept_as_measured_and_never_counted_again(community: Community
                                                                   ) -> None:
    # Three members at a minimum of three: counted live, one leaving would turn "at least 3"
    # into "fewer than 3" on the next read.
    members = [community.join() for _ in range(3)]
    published = community.surveys.publish(community.brand.id, community.draft())
    assert published.cohort == Cohort(3, 3)
    community.membership.leave(members[0], community.id)
    again = community.surveys.brand_survey(community.brand.id, published.survey.id)
    assert community.surveys.cohort(again) == Cohort(3, 3)
    assert community.measured == [(community.brand.id, 3)]


def test_without_a_measure_the_audience_is_not_told(community: Community,
                                                    consent: Consent) -> None:
    for _ in range(4):
        community.join()
    surveys = survey_service(consent=consent, minimum_cohort=3)
    published = surveys.publish(community.brand.id, community.draft())
    assert published.cohort == Cohort.unmeasured(3) == surveys.cohort(published.survey)
    assert published.cohort.reported is None and "not told" in published.cohort.text


@pytest.mark.parametrize(("criteria", "where"), [
    ([{"attribute": "religion", "any_of": ["x"]}], "criteria.0"),
    ([{"attribute": "health_conditions", "any_of": ["x"]}], "criteria.0"),
    ([{"attribute": "given_name", "any_of": ["Alice"]}], "criteria.0"),
    ([{"attribute": "household_size", "any_of": ["2"]}], "criteria.0"),
    ([{"attribute": "household_size", "min": 5, "max": 2}], "criteria.0"),
    ([{"attribute": "life_stage", "any_of": ["not-a-stage"]}], "criteria.0"),
    ([{"attribute": "country", "any_of": ["ZZ"]}], "criteria.0"),
    ([{"attribute": "country", "any_of": ["NL", "Netherlands"]}], "criteria.0"),
    ([{"attribute": "country", "any_of": ["NL"]}, {"attribute": "country", "any_of": ["BE"]}],
     "criteria"),
    ("country=NL", "criteria"),
])
def test_bad_or_sensitive_criteria_are_refused(community: Community, criteria, where) -> None:
    with pytest.raises(ValidationError) as raised:
        community.surveys.publish(community.brand.id, community.draft(criteria=criteria))
    assert where in raised.value.errors


def test_a_sensitive_criterion_says_why(community: Community) -> None:
    with pytest.raises(ValidationError) as raised:
        community.surveys.publish(community.brand.id, community.draft(
            criteria=[{"attribute": "religion", "any_of": ["x"]}]))
    assert "sensitive" in raised.value.errors["criteria.0"][0]


def test_only_the_brands_own_open_community(community: Community, consent: Consent,
                                            sharing: Sharing) -> None:
    other = Community(consent, sharing, brand_name="Other Brand")
    with pytest.raises(ValidationError) as raised:
        community.surveys.publish(other.brand.id, community.draft())
    assert "community_id" in raised.value.errors
    consent.vault.data.execute("UPDATE communities SET closed_at = 1 WHERE id = ?",
                               (community.id,))
    with pytest.raises(ValidationError) as raised:
        community.surveys.publish(community.brand.id, community.draft())
    assert raised.value.errors["community_id"] == ["This community is closed."]


@pytest.mark.parametrize(("changes", "where"), [
    ({"questions": ()}, "questions"),
    ({"questions": (QuestionDraft("single", "Pick", ("One",)),)}, "questions.0"),
    ({"questions": (QuestionDraft("rating", "Rate", ("One", "Two")),)}, "questions.0"),
    ({"questions": (QuestionDraft("slider", "Slide"),)}, "questions.0"),
    ({"questions": (QuestionDraft("rating", " "),)}, "questions.0"),
    ({"touchpoint": "teleport"}, "touchpoint"),
    ({"title": ""}, "title"),
    ({"closes_at": 0}, "closes_at"),
    ({"kind": "feedback_request", "touchpoint": "delivery"}, "questions"),
    ({"kind": "feedback_request", "questions": (QuestionDraft("rating", "How was it?"),)},
     "touchpoint"),
])
def test_bad_drafts_are_refused_naming_the_field(community: Community, changes, where) -> None:
    with pytest.raises(ValidationError) as raised:
        community.surveys.publish(community.brand.id, community.draft(**changes))
    assert where in raised.value.errors


# -- who is asked ------------------------------------------------------------------------------
def test_only_members_whose_grant_counts_survey_answers_are_asked(
        community: Community, consent: Consent, sharing: Sharing) -> None:
    asked = community.join()
    without_field = community.join(fields=[f for f in COMMUNITY_FIELDS if f != "survey"])
    withdrawn = community.join()
    for grant in community.grants(withdrawn):
        consent.grants.withdraw(withdrawn, grant.id)
    outsider = sharing.member()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    assert [a.survey.id for a in community.surveys.asked(asked)] == [survey.id]
    for member_id in (without_field, withdrawn, outsider):
        assert community.surveys.asked(member_id) == []
        with pytest.raises(NotFoundError):
            community.surveys.answer(member_id, survey.id, ANSWERS)


def test_an_expired_grant_stops_the_asking(community: Community, clock: FrozenClock) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft(
        closes_at=int(clock()) + 366 * DAY)).survey
    assert community.surveys.asked(member)
    clock.advance(365 * DAY + 1)
    assert community.surveys.asked(member) == []
    with pytest.raises(NotFoundError):
        community.surveys.for_member(member, survey.id)


def test_criteria_are_met_only_by_matching_attributes_the_member_lets_count(
        community: Community) -> None:
    matching = community.join(profile={"household_size": 3, "country": "NL"})
    too_small = community.join(profile={"household_size": 1, "country": "NL"})
    not_counted = community.join(profile={"household_size": 3, "country": "NL"},
                                 fields=["survey", "country"])
    unknown = community.join(profile={"country": "NL"})
    criteria = [{"attribute": "household_size", "min": 2, "max": 4},
                {"attribute": "country", "any_of": ["nl"]}]
    published = community.surveys.publish(community.brand.id, community.draft(criteria=criteria))
    assert community.surveys.asked(matching)
    for member_id in (too_small, not_counted, unknown):
        assert community.surveys.asked(member_id) == []
    assert published.cohort.reported is None          # one member: below the minimum of 3


def test_an_age_band_criterion(community: Community, clock: FrozenClock) -> None:
    young = community.join(profile={"date_of_birth": "2000-06-01"})
    old = community.join(profile={"date_of_birth": "1950-06-01"})
    community.surveys.publish(community.brand.id, community.draft(
        criteria=[{"attribute": "date_of_birth", "min": 18, "max": 40}]))
    assert community.surveys.asked(young) and not community.surveys.asked(old)


def test_a_survey_not_open_yet_is_not_asked(community: Community, clock: FrozenClock) -> None:
    member = community.join()
    now = int(clock())
    community.surveys.publish(community.brand.id, community.draft(
        opens_at=now + DAY, closes_at=now + 3 * DAY))
    assert community.surveys.asked(member) == []
    clock.advance(DAY)
    assert len(community.surveys.asked(member)) == 1


# -- answering ---------------------------------------------------------------------------------
def test_answers_are_columns_and_text_is_sealed(community: Community, consent: Consent) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    asked = community.surveys.answer(member, survey.id, ANSWERS)
    assert [(a.position, a.value, a.choices, a.text) for a in asked.answers] == [
        (0, 4, None, None), (1, 9, None, None), (2, 1, None, None), (3, None, (0, 2), None),
        (4, None, None, "The lights are dim")]
    rows = consent.vault.data.all("SELECT position, value, choices, text_sealed FROM"
                                  " survey_answers ORDER BY position")
    assert [(r[0], r[1], r[2]) for r in rows] == [(0, 4, None), (1, 9, None), (2, 1, None),
                                                  (3, None, 0b101), (4, None, None)]
    assert rows[4][3] and b"lights" not in rows[4][3]


def test_wrong_answers_are_named_and_nothing_is_stored(community: Community,
                                                       consent: Consent) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    with pytest.raises(ValidationError) as raised:
        community.surveys.answer(member, survey.id, {"q0": "6", "q1": "-1", "q2": "3",
                                                     "q3": ["7"], "q9": "1"})
    assert set(raised.value.errors) == {"q0", "q1", "q2", "q3", "q9"}
    with pytest.raises(ValidationError) as raised:
        community.surveys.answer(member, survey.id, {"q0": ""})
    assert "form" in raised.value.errors
    assert consent.vault.data.one("SELECT count(*) FROM survey_answers")[0] == 0


def test_an_answer_changes_until_the_close_and_is_withdrawn_whenever(
        community: Community, consent: Consent, clock: FrozenClock) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    community.surveys.answer(member, survey.id, ANSWERS)
    changed = community.surveys.answer(member, survey.id, {"q0": "2"})
    assert [(a.position, a.value) for a in changed.answers] == [(0, 2)]
    clock.advance(8 * DAY)
    with pytest.raises(ConflictError):
        community.surveys.answer(member, survey.id, {"q0": "5"})
    assert [a.survey.id for a in community.surveys.answered_closed(member)] == [survey.id]
    assert community.surveys.withdraw(member, survey.id)
    assert consent.vault.data.one("SELECT count(*) FROM survey_answers")[0] == 0
    assert not community.surveys.withdraw(member, survey.id)


def test_after_leaving_an_answer_can_be_withdrawn_not_changed(community: Community,
                                                              consent: Consent) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    community.surveys.answer(member, survey.id, ANSWERS)
    community.membership.leave(member, community.id)
    assert community.surveys.asked(member) == []
    assert [a.survey.id for a in community.surveys.everything_answered(member)] == [survey.id]
    with pytest.raises(ConflictError):
        community.surveys.answer(member, survey.id, {"q0": "1"})
    assert community.surveys.withdraw(member, survey.id)


def test_skipping_takes_it_off_the_list_and_answering_still_works(community: Community) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    community.surveys.skip(member, survey.id)
    (asked,) = community.surveys.asked(member)
    assert asked.skipped and not asked.answers
    assert not community.surveys.answer(member, survey.id, {"q0": "3"}).skipped


# -- feedback requests -------------------------------------------------------------------------
def test_a_feedback_request_answer_is_also_a_journal_entry(community: Community,
                                                           consent: Consent) -> None:
    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft(
        kind="feedback_request", touchpoint="delivery", title="Delivery",
        questions=(QuestionDraft("rating", "How was delivery?"),))).survey
    asked = community.surveys.answer(member, survey.id, {"q0": "2"})
    (entry,) = consent.vault.feedback.for_member(member)
    assert (entry.id, entry.brand_id, entry.touchpoint, entry.rating) == (
        asked.journal_entry, community.brand.id, "delivery", 2)
    community.surveys.answer(member, survey.id, {"q0": "5"})
    (entry,) = consent.vault.feedback.for_member(member)
    assert entry.rating == 5 and entry.id == asked.journal_entry
    community.surveys.withdraw(member, survey.id)
    assert consent.vault.feedback.for_member(member) == []


# -- individual release ------------------------------------------------------------------------
def test_only_individual_grants_release_answers_and_text(community: Community,
                                                         consent: Consent) -> None:
    individual = community.join(mode=Mode.INDIVIDUAL)
    aggregate = community.join(mode=Mode.AGGREGATE)
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    community.surveys.answer(individual, survey.id, ANSWERS)
    community.surveys.answer(aggregate, survey.id, {**ANSWERS, "q4": "aggregate secret"})
    released, more = community.surveys.release(community.brand.id, survey.id,
                                               client_id="client-1", limit=10, offset=0)
    assert not more
    assert [r.member_id for r in released] == [individual]
    assert released[0].answers[4].text == "The lights are dim"
    entries = ledger_entries(consent, EventTag.SURVEY_ANSWER_RELEASED)
    assert len(entries) == 1 and entries[0].details["text"] is True
    assert entries[0].details["member"] == consent.principal(individual)
    assert b"lights" not in entries[0].body and individual.encode() not in entries[0].body
    other = Community(consent, community.sharing, brand_name="Nosy Brand")
    with pytest.raises(NotFoundError):
        community.surveys.release(other.brand.id, survey.id, client_id="c", limit=10, offset=0)


def test_withdrawing_the_individual_grant_stops_the_release(community: Community,
                                                            consent: Consent) -> None:
    member = community.join(mode=Mode.INDIVIDUAL)
    survey = community.surveys.publish(community.brand.id, community.draft()).survey
    community.surveys.answer(member, survey.id, ANSWERS)
    for grant in community.grants(member):
        consent.grants.withdraw(member, grant.id)
    released, _ = community.surveys.release(community.brand.id, survey.id, client_id="c",
                                            limit=10, offset=0)
    assert released == []


# -- erasure -----------------------------------------------------------------------------------
def test_erasure_leaves_no_answer(community: Community, consent: Consent) -> None:
    from community.storage import survey_erasure_hook

    member = community.join()
    survey = community.surveys.publish(community.brand.id, community.draft(
        kind="feedback_request", touchpoint="delivery", title="Delivery",
        questions=(QuestionDraft("rating", "How was delivery?"),))).survey
    community.surveys.answer(member, survey.id, {"q0": "4"})
    community.surveys.skip(member, survey.id)
    vault = consent.vault
    vault.erasure.before_delete.append(survey_erasure_hook(vault.data))
    vault.erasure.erase(member)
    for table in ("survey_answers", "survey_skips", "survey_journal_entries", "feedback"):
        assert vault.data.one(f"SELECT count(*) FROM {table}")[0] == 0, table

"""community/care.py: a member asks a brand to get back to them after a low score, on their
terms; the brand reads the case while it is live, answers, closes; every step is consented,
receipted and in the ledger."""

from __future__ import annotations

import pytest

from community.care import CARE_DAYS, CARE_PURPOSE, CaseState, is_low
from community.storage import care_service
from consent.events import EventTag
from consent.model import AccessEnd, GrantStatus
from consent.receipts import DEFAULT_CONTROLLER
from vault.errors import ConflictError, NotFoundError, ValidationError

from .conftest import feedback


def _service(sharing, *, accepts=("SD-BASE",)):
    return care_service(consent=sharing.consent,
                        accepts_term=lambda brand_id, term: term in accepts)


def _tags(sharing) -> list[EventTag]:
    ledger = sharing.consent.ledger
    return [ledger.entry(seq).tag for seq in range(ledger.size)]


@pytest.mark.parametrize(("rating", "nps", "low"), [
    (1, None, True), (2, 9, True), (3, None, False), (5, 6, True), (4, 7, False),
    (3, 0, True)])
def test_only_a_low_score_is_low(rating, nps, low):
    assert is_low(rating, nps) is low


def test_a_new_member_asks_and_the_grant_is_one_time_individual_customer_care(sharing, shop):
    member = sharing.member()
    entry = feedback(sharing, member, shop.id, rating=1, comment="Late and damaged")
    care = _service(sharing)

    case = care.ask(member, entry_id=entry)

    assert case.state is CaseState.OPEN and case.brand_id == shop.id
    grant = sharing.consent.grants.get(member, case.grant_id)
    assert grant.purpose == CARE_PURPOSE and grant.mode.value == "individual"
    assert grant.fields == frozenset({"feedback"})
    assert grant.ends_at - grant.starts_at == CARE_DAYS * 86_400
    assert [r.event for r in sharing.consent.grants.receipts(member)] == ["given"]
    tags = _tags(sharing)
    assert EventTag.CARE_CASE_OPENED in tags and EventTag.CONSENT_GRANT_GIVEN in tags
    # The asking agreed the member's standing term and accepted customer care, for this brand
    # only: the standing terms are untouched.
    assert EventTag.CONSENT_TERMS_AGREED in tags and EventTag.CONSENT_TERMS_CHANGED in tags
    assert CARE_PURPOSE not in sharing.consent.terms.get(member).purposes


@pytest.mark.parametrize(("rating", "nps", "contact", "field"), [
    (3, 7, None, "entry"),
    (1, None, "given_name", "contact_field"),
    (1, None, "phone", "contact_field"),        # not filled in
])
def test_what_may_not_be_asked_is_refused_with_the_field_named(sharing, shop, rating, nps,
                                                               contact, field):
    member = sharing.member()
    entry = feedback(sharing, member, shop.id, rating=rating, nps=nps)
    with pytest.raises(ValidationError) as refused:
        _service(sharing).ask(member, entry_id=entry, contact_field=contact)
    assert field in refused.value.errors
    assert sharing.consent.grants.for_member(member) == []


def test_another_members_entry_is_not_found(sharing, shop):
    owner, other = sharing.member(), sharing.member()
    entry = feedback(sharing, owner, shop.id, rating=1)
    with pytest.raises(NotFoundError):
        _service(sharing).ask(other, entry_id=entry)


def test_a_brand_that_does_not_accept_the_members_term_cannot_be_asked(sharing, shop):
    member = sharing.member()
    entry = feedback(sharing, member, shop.id, rating=1)
    with pytest.raises(ValidationError) as refused:
        _service(sharing, accepts=()).ask(member, entry_id=entry)
    assert "Sharing page" in refused.value.errors["request"][0]
    assert sharing.consent.grants.for_member(member) == []
    assert sharing.consent.agreements.for_member(member) == []       # rolled back whole


def test_one_live_case_per_brand(sharing, shop):
    member = sharing.member()
    first = feedback(sharing, member, shop.id, rating=1)
    second = feedback(sharing, member, shop.id, rating=2)
    care = _service(sharing)
    care.ask(member, entry_id=first)
    with pytest.raises(ConflictError):
        care.ask(member, entry_id=second)


def test_a_case_and_the_apps_customer_care_grant_live_side_by_side(sharing, shop):
    """A trial found the app's authorization for customer care replacing the case's grant: the
    case read "closed by you", no care:case:closed entry was made, and no case could be
    opened with the brand again. Neither replaces the other now, whichever came first."""
    member = sharing.member()
    sharing.ready(member, shop.id)
    app_before, _ = sharing.grant(member, shop.id, CARE_PURPOSE, ("contact_email",))
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    app_after, _ = sharing.grant(member, shop.id, CARE_PURPOSE, ("given_name", "contact_email"))
    grants = sharing.consent.grants
    assert grants.get(member, app_before.id).replaced_by == app_after.id    # the app's own
    assert grants.get(member, case.grant_id).status is GrantStatus.ACTIVE
    assert care.brand_case(shop.id, case.id).state is CaseState.OPEN
    assert grants.settle_duplicates() == []
    closed = care.close_by_member(member, case.id)
    assert closed.closed_by == "member"
    assert grants.get(member, app_after.id).status is GrantStatus.ACTIVE


def test_a_case_whose_grant_ended_otherwise_never_blocks_a_new_one(sharing, shop):
    """Its row still says open; the grant says closed, and by whom."""
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    sharing.consent.grants.withdraw(member, case.grant_id)
    assert care.member_case(member, case.id).closed_by == "member"
    again = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=2))
    assert again.state is CaseState.OPEN and again.id != case.id
    sharing.consent.grants.end_access(again.grant_id, AccessEnd.REVOKED_BY_BRAND)
    assert care.member_case(member, again.id).closed_by == "brand"


def test_the_brand_reads_the_entry_and_chosen_contact_under_its_pseudonym(sharing, shop):
    member = sharing.member()
    sharing.vault.profile.update(member, {"phone": "+44 20 7946 0000",
                                          "contact_email": "me@example.org"})
    entry = feedback(sharing, member, shop.id, rating=1, nps=2, comment="Never arrived")
    care = _service(sharing)
    case = care.ask(member, entry_id=entry, contact_field="phone")

    [listed] = care.for_brand(shop.id, live_only=True, limit=10, offset=0)
    read = care.brand_read(shop.id, listed.id, client_id="client_x")

    assert read.entry is not None and read.entry.comment == "Never arrived"
    assert read.contact == "+44 20 7946 0000"              # the chosen field, and only it
    assert read.subject == sharing.consent.brand_subject(member, shop.id)
    assert member not in read.subject
    tags = _tags(sharing)
    assert tags.count(EventTag.ACCESS_FEEDBACK_READ) == 1
    assert tags.count(EventTag.ACCESS_PROFILE_READ) == 1
    assert case.contact_field == "phone"


def test_another_brand_sees_nothing_of_the_case(sharing, shop):
    other_brand = sharing.brand("Fresh Grocer")
    member = sharing.member()
    case = _service(sharing).ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    care = _service(sharing)
    assert care.for_brand(other_brand.id, live_only=False, limit=10, offset=0) == []
    with pytest.raises(NotFoundError):
        care.brand_read(other_brand.id, case.id, client_id="client_y")
    with pytest.raises(NotFoundError):
        care.close_by_brand(other_brand.id, case.id)


def test_the_brand_answers_then_closes_and_gives_the_grant_up(sharing, shop):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))

    answered = care.answer(shop.id, case.id, "We are sending a new wheel today.")
    assert answered.state is CaseState.ANSWERED
    assert care.member_case(member, case.id).answer == "We are sending a new wheel today."

    closed = care.close_by_brand(shop.id, case.id)
    assert closed.state is CaseState.CLOSED and closed.closed_by == "brand"
    assert sharing.consent.grants.get(member, case.grant_id).status is GrantStatus.RELEASED
    assert care.brand_read(shop.id, case.id, client_id="c").entry is None   # nothing released
    with pytest.raises(ConflictError):
        care.answer(shop.id, case.id, "Too late")
    with pytest.raises(ConflictError):
        care.close_by_brand(shop.id, case.id)
    assert EventTag.CARE_CASE_CLOSED in _tags(sharing)


def test_the_member_closes_and_the_grant_is_withdrawn(sharing, shop):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=2))
    closed = care.close_by_member(member, case.id)
    assert closed.state is CaseState.CLOSED and closed.closed_by == "member"
    assert sharing.consent.grants.get(member, case.grant_id).status is GrantStatus.WITHDRAWN
    assert care.for_brand(shop.id, live_only=True, limit=10, offset=0) == []


def test_a_withdrawal_on_the_sharing_page_closes_the_case_at_once(sharing, shop):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    sharing.consent.grants.withdraw(member, case.grant_id)
    assert care.brand_case(shop.id, case.id).state is CaseState.CLOSED
    assert care.brand_read(shop.id, case.id, client_id="c").entry is None


def test_a_case_ends_after_its_days_and_the_sweep_records_it_once(sharing, shop, clock):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    clock.advance(CARE_DAYS * 86_400)
    assert care.brand_case(shop.id, case.id).state is CaseState.CLOSED
    assert care.brand_read(shop.id, case.id, client_id="c").entry is None
    assert care.close_ended() == 1 and care.close_ended() == 0
    assert care.member_case(member, case.id).closed_by == "expiry"


def test_the_answer_is_sealed_and_gone_with_the_member(sharing, shop):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    care.answer(shop.id, case.id, "Sorry about that, here is a voucher")
    raw = sharing.vault.data.one("SELECT answer_sealed FROM care_cases WHERE id = ?",
                                 (case.id,))[0]
    assert b"voucher" not in bytes(raw)
    sharing.vault.data.execute("DELETE FROM members WHERE id = ?", (member,))
    assert sharing.vault.data.one("SELECT count(*) FROM care_cases")[0] == 0


@pytest.mark.parametrize("text", ["", "   ", 7, "x" * 2001, "bad\x00text"])
def test_an_answer_must_be_text(sharing, shop, text):
    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    with pytest.raises(ValidationError):
        care.answer(shop.id, case.id, text)


def test_the_endings_pass_records_a_case_closed_with_its_grant(sharing, shop, clock,
                                                               vault_home):
    from web.endings import record_endings

    member = sharing.member()
    care = _service(sharing)
    case = care.ask(member, entry_id=feedback(sharing, member, shop.id, rating=1))
    vault = sharing.vault
    assert record_endings(vault, vault_home, DEFAULT_CONTROLLER).care_cases_closed == 0
    clock.advance(CARE_DAYS * 86_400)
    ended = record_endings(vault, vault_home, DEFAULT_CONTROLLER)
    assert ended.grants_expired == 1 and ended.care_cases_closed == 1
    closed = care.member_case(member, case.id)
    assert closed.state is CaseState.CLOSED and closed.closed_by == "expiry"
    assert record_endings(vault, vault_home, DEFAULT_CONTROLLER).care_cases_closed == 0

"""What a member accepts for one brand only, and the ledger of offers and answers.

A purpose or a longer grant accepted for a brand widens the terms that brand's requests are
measured against, and no other brand's; each change has a signed receipt and a
``consent:terms:changed`` entry naming the brand; a request's breaches say which ones the member
may relax. Every IEEE 7012 offer and answer is a ledger entry, with the brand as actor for its
own answers.
"""

from __future__ import annotations

import pytest

from consent.context import Consent
from consent.events import EventTag
from consent.grants import BrandRequest, BreachKind
from consent.model import Mode
from vault.brands import Brand
from vault.errors import NotFoundError, ValidationError

from .conftest import Sharing
from .test_terms import ledger_entries

SERVICE = "dpv:ServiceProvision"


@pytest.fixture
def member(sharing: Sharing) -> str:
    return sharing.member("alice@example.org")       # new: nothing accepted


@pytest.fixture
def velo(sharing: Sharing) -> Brand:
    return sharing.brand("Velo Bikes")


@pytest.fixture
def grocer(sharing: Sharing) -> Brand:
    return sharing.brand("Fresh Grocer")


def kinds(consent: Consent, member: str, brand: Brand, **request: object) -> set[BreachKind]:
    values = {"purpose": SERVICE, "fields": frozenset({"given_name"})} | request
    return {b.kind for b in consent.grants.breaches(
        member, BrandRequest(brand.id, **values))}  # type: ignore[arg-type]


def test_a_new_members_breaches_are_all_relaxable(consent: Consent, member: str,
                                                  velo: Brand) -> None:
    found = consent.grants.breaches(member, BrandRequest(velo.id, SERVICE,
                                                         frozenset({"given_name"})))
    assert {b.kind for b in found} == {BreachKind.PURPOSE, BreachKind.DURATION,
                                       BreachKind.AGREEMENT}
    assert all(b.relaxable for b in found)


def test_gpc_and_aggregate_use_stay_absolute(consent: Consent, sharing: Sharing, member: str,
                                             velo: Brand) -> None:
    sharing.terms(member, aggregate_allowed=False, sale_sharing_opt_out=True)
    found = consent.grants.breaches(member, BrandRequest(
        velo.id, "dpv:Marketing", frozenset({"given_name"}), mode=Mode.AGGREGATE))
    absolute = [b.reason for b in found if not b.relaxable]
    assert any("GPC" in r for r in absolute)
    assert any("aggregate-only" in r for r in absolute)


def test_onward_sharing_without_s3p_is_absolute(consent: Consent, sharing: Sharing,
                                                member: str, velo: Brand) -> None:
    sharing.ready(member, velo.id, agreement="SD-BASE-ATP")
    found = consent.grants.breaches(member, BrandRequest(
        velo.id, SERVICE, frozenset({"given_name"}), mode=Mode.AGGREGATE, onward_sharing=True,
        third_party="Stats Ltd"))
    assert [b.kind for b in found] == [BreachKind.ABSOLUTE]
    assert "S3P" in found[0].reason


def test_accepting_for_one_brand_widens_only_that_brands_terms(
        consent: Consent, member: str, velo: Brand, grocer: Brand) -> None:
    receipt = consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE",
                                             purposes=[SERVICE], max_days=90)
    for_velo = consent.terms.for_brand(member, velo.id)
    assert SERVICE in for_velo.purposes and for_velo.max_days == 90
    for_grocer = consent.terms.for_brand(member, grocer.id)
    assert for_grocer.purposes == frozenset() and for_grocer.max_days == 0
    assert consent.terms.get(member).purposes == frozenset()    # the standing terms unchanged
    assert kinds(consent, member, velo, days=90) == {BreachKind.AGREEMENT}
    assert kinds(consent, member, grocer, days=90) == {
        BreachKind.PURPOSE, BreachKind.DURATION, BreachKind.AGREEMENT}

    payload = consent.signer.verify(receipt.token)
    assert payload["brand"] == {"id": velo.id, "name": "Velo Bikes"}
    assert payload["purposes_added"] == [SERVICE] and payload["max_days"] == 90
    assert payload["agreement"]["code"] == "SD-BASE"
    assert consent.terms.receipts(member) == [receipt]
    [entry] = ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED)
    assert entry.details["brand"] == velo.id and entry.details["receipt"] == receipt.id
    assert member not in entry.body.decode()


def test_a_second_acceptance_adds_and_never_narrows(consent: Consent, member: str,
                                                     velo: Brand) -> None:
    consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE-A",
                                   purposes=[SERVICE], max_days=90)
    second = consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE-A",
                                            purposes=["dpv:ServiceOptimisation"], max_days=30)
    terms = consent.terms.for_brand(member, velo.id)
    assert terms.purposes == {SERVICE, "dpv:ServiceOptimisation"} and terms.max_days == 90
    assert second.version == 2
    with pytest.raises(ValidationError):        # nothing new
        consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE-A",
                                       purposes=[SERVICE])


@pytest.mark.parametrize("changes, field", [
    ({"purposes": ["dpv:Personalisation"]}, "purposes"),       # SD-BASE permits no profiling
    ({"purposes": ["dpv:WorldDomination"]}, "purposes"),
    ({"max_days": 0}, "max_days"),
    ({"max_days": 3651}, "max_days"),
    ({"max_days": True}, "max_days"),
    ({"agreement": "SD-NOTHING"}, "agreement"),
])
def test_what_a_term_does_not_permit_is_refused_whole(consent: Consent, member: str,
                                                      velo: Brand, changes: dict,
                                                      field: str) -> None:
    values = {"agreement": "SD-BASE", "purposes": [SERVICE], "max_days": 30} | changes
    with pytest.raises(ValidationError) as raised:
        consent.terms.accept_for_brand(member, velo.id, **values)
    assert field in raised.value.errors
    assert consent.terms.for_brand(member, velo.id).purposes == frozenset()
    assert ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED) == []


def test_an_unknown_brand_is_not_found(consent: Consent, member: str) -> None:
    with pytest.raises(NotFoundError):
        consent.terms.accept_for_brand(member, "brand_nope", agreement="SD-BASE",
                                       purposes=[SERVICE])


def test_the_decision_point_honours_a_purpose_accepted_for_the_brand(
        consent: Consent, member: str, velo: Brand) -> None:
    offer = consent.agreements.proffer(member, velo.id)
    consent.agreements.brand_accepts(offer.id, velo.id)
    consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE", purposes=[SERVICE],
                                   max_days=30)
    grant, _ = consent.grants.grant(member, BrandRequest(velo.id, SERVICE,
                                                         frozenset({"given_name"})))
    decision = consent.decisions.decide(velo.id, SERVICE, member, "given_name",
                                        Mode.INDIVIDUAL, consent.vault.clock())
    assert decision.allowed and decision.grant_id == grant.id


def test_every_offer_and_answer_is_a_ledger_entry(consent: Consent, sharing: Sharing,
                                                  member: str, velo: Brand,
                                                  grocer: Brand) -> None:
    sharing.terms(member, agreement="SD-BASE", purposes=[SERVICE])
    offer = consent.agreements.proffer(member, velo.id)
    consent.agreements.brand_counters(offer.id, velo.id, "SD-BASE-A")
    consent.agreements.member_decides(offer.id, member, accept=False)
    other = consent.agreements.proffer(member, grocer.id, term="SD-BASE-DP")
    consent.agreements.brand_rejects(other.id, grocer.id)

    proffered = ledger_entries(consent, EventTag.CONSENT_AGREEMENT_PROFFERED)
    assert [e.details for e in proffered] == [
        {"agreement": offer.id, "brand": velo.id, "term": "SD-BASE"},
        {"agreement": other.id, "brand": grocer.id, "term": "SD-BASE-DP"}]
    assert all(e.actor == consent.principal(member) for e in proffered)
    [countered] = ledger_entries(consent, EventTag.CONSENT_AGREEMENT_COUNTERED)
    assert countered.actor == "brand:" + velo.id
    assert countered.details == {"agreement": offer.id, "brand": velo.id, "term": "SD-BASE-A"}
    rejected = ledger_entries(consent, EventTag.CONSENT_AGREEMENT_REJECTED)
    assert [(e.actor, e.details["by"]) for e in rejected] == [
        (consent.principal(member), "member"), ("brand:" + grocer.id, "brand")]
    assert consent.ledger.verify().ok


def test_the_brand_lists_its_own_agreements_only(consent: Consent, member: str, velo: Brand,
                                                 grocer: Brand) -> None:
    offer = consent.agreements.proffer(member, velo.id)
    assert [a.id for a in consent.agreements.for_brand(velo.id)] == [offer.id]
    assert consent.agreements.for_brand(grocer.id) == []
    assert consent.agreements.subject(offer) != consent.principal(member)


def test_taking_back_what_was_accepted_for_a_brand(consent: Consent, member: str,
                                                   velo: Brand) -> None:
    offer = consent.agreements.proffer(member, velo.id)
    consent.agreements.brand_accepts(offer.id, velo.id)
    consent.terms.accept_for_brand(member, velo.id, agreement="SD-BASE", purposes=[SERVICE],
                                   max_days=30)
    consent.grants.grant(member, BrandRequest(velo.id, SERVICE, frozenset({"given_name"})))

    receipt = consent.terms.remove_for_brand(member, velo.id)

    assert consent.terms.for_brand(member, velo.id).purposes == frozenset()
    assert consent.terms.brand_terms(member) == []
    decision = consent.decisions.decide(velo.id, SERVICE, member, "given_name",
                                        Mode.INDIVIDUAL, consent.vault.clock())
    assert not decision.allowed and "terms do not accept" in decision.reason
    payload = consent.signer.verify(receipt.token)
    assert payload["purposes_removed"] == [SERVICE] and payload["version"] == 2
    last = ledger_entries(consent, EventTag.CONSENT_TERMS_CHANGED)[-1]
    assert last.details["removed"] is True and last.details["receipt"] == receipt.id
    with pytest.raises(NotFoundError):
        consent.terms.remove_for_brand(member, velo.id)

"""brand_gateway.first_contact: what a request needs of a member's terms, and how it is agreed.

Absolute breaches are never relaxable; otherwise the relaxation names the purposes, the longest
grant and the IEEE 7012 term to agree, chosen from the brand's open counter-offer or its
standing policy (the narrowest term that permits every purpose asked for, portability first),
and :func:`relax` records it so that the same request then breaks nothing.
"""

from __future__ import annotations

import pytest

from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.first_contact import Step, assess, relax
from brand_gateway.rar import MemberDataDetail
from consent.context import Consent
from consent.model import AgreementStatus
from tests.conftest import GOOD_PASSWORD
from vault.errors import ConflictError
from vault.home import Vault

SERVICE = "dpv:ServiceProvision"
ANALYTICS = "dpv:ServiceOptimisation"
PROFILING = "dpv:Personalisation"


@pytest.fixture
def member(vault: Vault) -> str:
    return vault.members.register("alice@example.org", GOOD_PASSWORD)


def brand(registry: ClientRegistry, *accepts: str) -> OAuthClient:
    client, _ = registry.create("Velo Bikes", ["https://velo.example/cb"], accepts=list(accepts))
    return client


def detail(purpose: str = SERVICE, days: int = 30) -> MemberDataDetail:
    return MemberDataDetail(purpose, ("given_name",), days)


@pytest.mark.parametrize("standing, accepts, purpose, term, step", [
    ("SD-BASE", ("SD-BASE",), SERVICE, "SD-BASE", Step.STANDING),
    ("SD-BASE", ("SD-BASE", "SD-BASE-ATP"), PROFILING, "SD-BASE-ATP", Step.OWN_OFFER),
    ("SD-BASE-ATP", ("SD-BASE", "SD-BASE-A"), SERVICE, "SD-BASE", Step.COUNTER),
    ("SD-BASE-ATP", ("SD-BASE-A", "SD-BASE-A-DP", "SD-BASE-AT"), ANALYTICS, "SD-BASE-A-DP",
     Step.COUNTER),
    ("SD-BASE", ("SD-BASE-ATP-S3P", "SD-BASE-AT"), ANALYTICS, "SD-BASE-AT", Step.COUNTER),
])
def test_the_term_and_how_it_is_agreed(consent: Consent, registry: ClientRegistry, member: str,
                                       standing: str, accepts: tuple[str, ...], purpose: str,
                                       term: str, step: Step) -> None:
    consent.terms.update(member, agreement=standing, purposes=[], max_days=0,
                         aggregate_allowed=False)
    client = brand(registry, *accepts)
    assessment = assess(consent, client, member, [detail(purpose, days=45)])
    assert assessment.absolute == []
    relaxation = assessment.relaxation
    assert relaxation is not None
    assert (relaxation.term, relaxation.step) == (term, step)
    assert relaxation.purposes == (purpose,) and relaxation.max_days == 45

    relax(consent, member, relaxation)

    after = assess(consent, client, member, [detail(purpose, days=45)])
    assert after.absolute == [] and after.relaxation is None
    assert consent.agreements.in_force(member, client.brand_id).agreed == term
    assert consent.terms.get(member).purposes == frozenset()       # standing terms unchanged


def test_an_open_counter_offer_is_the_term(consent: Consent, registry: ClientRegistry,
                                           member: str) -> None:
    client = brand(registry, "SD-BASE")
    offer = consent.agreements.proffer(member, client.brand_id)
    consent.agreements.brand_counters(offer.id, client.brand_id, "SD-BASE-DP")
    relaxation = assess(consent, client, member, [detail()]).relaxation
    assert relaxation is not None
    assert (relaxation.term, relaxation.step, relaxation.offer_id) == (
        "SD-BASE-DP", Step.ACCEPT_COUNTER, offer.id)
    relax(consent, member, relaxation)
    assert consent.agreements.get(offer.id).status is AgreementStatus.AGREED


def test_a_waiting_offer_the_brand_accepts_is_accepted(consent: Consent,
                                                       registry: ClientRegistry,
                                                       member: str) -> None:
    client = brand(registry, "SD-BASE-DP", "SD-BASE")
    offer = consent.agreements.proffer(member, client.brand_id, term="SD-BASE-DP")
    relaxation = assess(consent, client, member, [detail()]).relaxation
    assert relaxation is not None
    assert (relaxation.term, relaxation.step) == ("SD-BASE-DP", Step.ACCEPT_OFFER)
    relax(consent, member, relaxation)
    assert consent.agreements.in_force(member, client.brand_id).id == offer.id


@pytest.mark.parametrize("accepts, purpose, why", [
    (("SD-BASE", "SD-BASE-A"), PROFILING, "agrees to no IEEE 7012 term"),
    (("SD-BASE-ATP",), "dpv:Marketing", "GPC"),
])
def test_what_may_never_be_accepted_is_absolute(consent: Consent, registry: ClientRegistry,
                                                member: str, accepts: tuple[str, ...],
                                                purpose: str, why: str) -> None:
    consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=0,
                         aggregate_allowed=False, sale_sharing_opt_out=True)
    assessment = assess(consent, brand(registry, *accepts), member, [detail(purpose)])
    assert assessment.relaxation is None
    assert any(why in reason for _, reason in assessment.absolute)


def test_a_stale_relaxation_changes_nothing(consent: Consent, registry: ClientRegistry,
                                            member: str) -> None:
    client = brand(registry, "SD-BASE-A")
    relaxation = assess(consent, client, member, [detail()]).relaxation
    assert relaxation is not None and relaxation.step is Step.COUNTER
    consent.agreements.proffer(member, client.brand_id)          # meanwhile, in another tab
    with pytest.raises(ConflictError), consent.vault.data.transaction():
        relax(consent, member, relaxation)
    assert consent.agreements.in_force(member, client.brand_id) is None
    assert consent.terms.brand_terms(member) == []

"""brand_gateway.approval: the member's Allow records agreement, grants, receipts, the token
family and the code in one transaction, or nothing at all."""

from __future__ import annotations

import pytest

from brand_gateway.approval import approve
from brand_gateway.authorizations import AuthorizationStore, Family
from brand_gateway.clients import ClientRegistry, OAuthClient
from brand_gateway.rar import MemberDataDetail
from brand_gateway.storage import authorization_store
from consent.context import Consent
from consent.model import AgreementStatus
from tests.brand_api_support import ALL_PURPOSES
from tests.conftest import GOOD_PASSWORD
from vault.errors import ConflictError
from vault.home import Vault

SERVICE = "dpv:ServiceProvision"
PROFILING = "dpv:Personalisation"
CALLBACK = "https://velo.example/cb"
DETAILS = (MemberDataDetail(SERVICE, ("given_name", "city"), 30),
           MemberDataDetail(PROFILING, ("interests",), 60))


@pytest.fixture
def member(vault: Vault, consent: Consent) -> str:
    member_id = vault.members.register("alice@example.org", GOOD_PASSWORD)
    consent.terms.update(member_id, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES,
                         max_days=365, aggregate_allowed=False)
    return member_id


@pytest.fixture
def client(registry: ClientRegistry) -> OAuthClient:
    client, _ = registry.create("Velo Bikes", [CALLBACK], accepts=["SD-BASE-ATP"])
    return client


@pytest.fixture
def authorizations(vault: Vault) -> AuthorizationStore:
    return authorization_store(database=vault.data, clock=vault.clock)


class CodeIssuer:
    """Issues the code as the authorization server's code grant does (the store's
    ``save_code``), and remembers the family it was given."""

    def __init__(self, authorizations: AuthorizationStore, client: OAuthClient) -> None:
        self.authorizations = authorizations
        self.client = client
        self.family: Family | None = None

    def __call__(self, family: Family) -> str:
        self.family = family
        self.authorizations.save_code("the-code", family_id=family.id,
                                      client_id=self.client.client_id, redirect_uri=CALLBACK,
                                      code_challenge="c" * 43, code_challenge_method="S256")
        return "the-code"


def approval(vault: Vault, consent: Consent, authorizations: AuthorizationStore,
             client: OAuthClient, member: str, issue_code, *, ticked=None,
             new_term: str | None = "SD-BASE-ATP"):
    return approve(database=vault.data, consent=consent, authorizations=authorizations,
                   client=client, member_id=member, details=DETAILS,
                   ticked=ticked if ticked is not None else {0: {"city"}, 1: set()},
                   new_term=new_term, issue_code=issue_code)


def test_an_approval_records_agreement_grants_receipts_family_and_code(
        vault: Vault, consent: Consent, authorizations: AuthorizationStore,
        client: OAuthClient, member: str) -> None:
    issuer = CodeIssuer(authorizations, client)
    assert approval(vault, consent, authorizations, client, member, issuer) == "the-code"

    agreement = consent.agreements.in_force(member, client.brand_id)
    assert agreement is not None and agreement.agreed == "SD-BASE-ATP"
    # Only the purpose with a ticked field is granted, and only the ticked field.
    grants = consent.grants.for_member(member)
    assert [(g.purpose, set(g.covered)) for g in grants] == [(SERVICE, {"city"})]
    assert [r.grant_id for r in consent.grants.receipts(member)] == [grants[0].id]
    family = issuer.family
    assert family is not None and family.member_id == member
    assert [(d["purpose"], d["grant_id"]) for d in family.authorization_details] == [
        (SERVICE, grants[0].id)]
    code = authorizations.claim_code("the-code", client.client_id)
    assert code is not None and code.family.id == family.id


class NotIssuedError(Exception):
    """What the stand-in authorization server raises when it refuses to issue a code."""


def test_a_code_not_issued_leaves_nothing_behind(
        vault: Vault, consent: Consent, authorizations: AuthorizationStore,
        client: OAuthClient, member: str) -> None:
    issuer = CodeIssuer(authorizations, client)

    def refuse(family: Family) -> str:
        issuer(family)
        raise NotIssuedError

    with pytest.raises(NotIssuedError):
        approval(vault, consent, authorizations, client, member, refuse,
                 ticked={0: {"given_name", "city"}, 1: {"interests"}})
    assert consent.grants.for_member(member) == []
    assert consent.grants.receipts(member) == []
    assert consent.agreements.in_force(member, client.brand_id) is None
    assert authorizations.families_for_member(member) == []
    assert authorizations.claim_code("the-code", client.client_id) is None


def test_an_earlier_offer_of_other_terms_stops_the_approval(
        vault: Vault, consent: Consent, authorizations: AuthorizationStore,
        client: OAuthClient, member: str) -> None:
    # The member offered other terms to this brand before, and the brand has not answered.
    consent.terms.update(member, agreement="SD-BASE", purposes=[], max_days=365,
                         aggregate_allowed=False)
    waiting = consent.agreements.proffer(member, client.brand_id)
    consent.terms.update(member, agreement="SD-BASE-ATP", purposes=ALL_PURPOSES, max_days=365,
                         aggregate_allowed=False)
    issuer = CodeIssuer(authorizations, client)
    with pytest.raises(ConflictError, match="earlier offer"):
        approval(vault, consent, authorizations, client, member, issuer)
    assert issuer.family is None
    assert consent.grants.for_member(member) == []
    assert consent.agreements.get(waiting.id).status is AgreementStatus.PROFFERED


def test_under_an_agreement_in_force_no_other_is_made(
        vault: Vault, consent: Consent, authorizations: AuthorizationStore,
        client: OAuthClient, member: str) -> None:
    offer = consent.agreements.proffer(member, client.brand_id)
    consent.agreements.brand_accepts(offer.id, client.brand_id)
    approval(vault, consent, authorizations, client, member,
             CodeIssuer(authorizations, client), new_term=None)
    assert [a.id for a in consent.agreements.for_member(member)] == [offer.id]
    assert len(consent.grants.for_member(member)) == 1

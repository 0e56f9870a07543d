"""community.membership: joining is consent grants with receipts; leaving withdraws them."""

from __future__ import annotations

import pytest

from community.communities import CommunityService
from community.membership import COMMUNITY_FIELDS, DAYS, MembershipService, community_term
from consent.context import Consent
from consent.grants import BrandRequest
from consent.model import GivenFor, GrantStatus, Mode
from vault.clock import FrozenClock
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault

from .conftest import IMPROVING, RESEARCH, SizeCounts, add_member


@pytest.fixture
def community_id(communities: CommunityService, brand) -> str:
    return communities.open(brand.id, name="Repair club", description="Help shape repairs.",
                            purposes=[RESEARCH, IMPROVING]).id


def test_joining_grants_each_purpose_in_aggregate_with_receipts_and_terms(
        membership: MembershipService, consent: Consent, alice: str, community_id: str,
        brand, clock: FrozenClock) -> None:
    joined = membership.join(alice, community_id)
    grants = {g.purpose: g for g in consent.grants.for_member(alice)}
    assert set(grants) == {RESEARCH, IMPROVING}
    for grant in grants.values():
        assert grant.mode is Mode.AGGREGATE and grant.brand_id == brand.id
        assert grant.fields == frozenset(COMMUNITY_FIELDS)
        assert grant.ends_at == int(clock()) + DAYS * 86_400
        assert grant.status is GrantStatus.ACTIVE
    assert "feedback" in COMMUNITY_FIELDS and "gender" not in COMMUNITY_FIELDS
    assert {r.grant_id for r in consent.grants.receipts(alice)} == set(
        g.id for g in grants.values())
    agreement = consent.agreements.in_force(alice, brand.id)
    assert agreement is not None and agreement.agreed == "SD-BASE-A"
    assert {RESEARCH, IMPROVING} <= consent.terms.for_brand(alice, brand.id).purposes
    assert consent.terms.get(alice).purposes == frozenset()    # standing terms untouched
    assert joined.membership.pseudonym.startswith("m-")
    [mine] = membership.communities(alice)
    assert mine.in_force and mine.community.id == community_id


def test_individual_only_if_ticked(membership: MembershipService, consent: Consent,
                                   alice: str, community_id: str) -> None:
    membership.join(alice, community_id, individual=True)
    assert {g.mode for g in consent.grants.for_member(alice)} == {Mode.INDIVIDUAL}


def test_aggregate_needs_the_members_terms_to_allow_it(
        vault: Vault, membership: MembershipService, consent: Consent,
        community_id: str) -> None:
    bob = add_member(vault, consent, "bob@example.org", aggregate_allowed=False)
    with pytest.raises(ValidationError) as refused:
        membership.join(bob, community_id)
    assert "individual" in refused.value.errors
    assert consent.grants.for_member(bob) == [] and membership.communities(bob) == []


def test_leaving_withdraws_the_grants_and_the_membership(
        membership: MembershipService, consent: Consent, alice: str,
        community_id: str) -> None:
    membership.join(alice, community_id)
    withdrawn = membership.leave(alice, community_id)
    assert len(withdrawn) == 2
    assert {g.status for g in consent.grants.for_member(alice)} == {GrantStatus.WITHDRAWN}
    assert {r.event for r in consent.grants.receipts(alice)} == {"given", "withdrawn"}
    assert membership.communities(alice) == []
    with pytest.raises(NotFoundError):
        membership.leave(alice, community_id)


def test_joining_twice_is_refused_and_joining_again_after_a_withdrawal_grants_anew(
        membership: MembershipService, consent: Consent, alice: str,
        community_id: str) -> None:
    membership.join(alice, community_id)
    with pytest.raises(ConflictError):
        membership.join(alice, community_id)
    research = next(g for g in consent.grants.for_member(alice) if g.purpose == RESEARCH)
    consent.grants.withdraw(alice, research.id)         # on the Sharing page
    [mine] = membership.communities(alice)
    assert [g.purpose for g in mine.sharing] == [IMPROVING]
    again = membership.join(alice, community_id)
    assert {g.purpose for g in again.grants} == {RESEARCH, IMPROVING}
    [mine] = membership.communities(alice)
    assert {g.purpose for g in mine.sharing} == {RESEARCH, IMPROVING}


def test_two_communities_of_a_brand_share_a_grant_and_leaving_one_keeps_it(
        membership: MembershipService, communities: CommunityService, consent: Consent,
        alice: str, community_id: str, brand) -> None:
    other = communities.open(brand.id, name="Ideas lab", description="New products.",
                             purposes=[RESEARCH]).id
    membership.join(alice, community_id)
    membership.join(alice, other)
    assert len(consent.grants.for_member(alice)) == 2            # shared, not replaced
    withdrawn = membership.leave(alice, community_id)
    assert [g.purpose for g in withdrawn] == [IMPROVING]
    [mine] = membership.communities(alice)
    assert [g.purpose for g in mine.sharing] == [RESEARCH]
    with pytest.raises(ConflictError):                           # other mode: refused
        membership.join(alice, community_id, individual=True)


def test_a_grant_given_another_way_is_never_replaced(
        membership: MembershipService, consent: Consent, alice: str, community_id: str,
        brand) -> None:
    """The app's grant and the community's live side by side, each ended by its own path."""
    consent.terms.update(alice, agreement="SD-BASE-A", purposes=[RESEARCH], max_days=60,
                         aggregate_allowed=True)
    consent.agreements.brand_accepts(consent.agreements.proffer(alice, brand.id).id, brand.id)
    app, _ = consent.grants.grant(alice, BrandRequest(brand.id, RESEARCH,
                                                      frozenset({"interests"})))
    joined = membership.join(alice, community_id)
    assert consent.grants.get(alice, app.id).status is GrantStatus.ACTIVE
    [held] = [g for g in joined.grants if g.purpose == RESEARCH]
    assert held.mode is Mode.AGGREGATE and held.id != app.id
    assert held.given_for is GivenFor.COMMUNITY and app.given_for is GivenFor.BRAND
    assert consent.grants.settle_duplicates() == []           # no duplicates: side by side
    membership.leave(alice, community_id)
    assert consent.grants.get(alice, held.id).status is GrantStatus.WITHDRAWN
    assert consent.grants.get(alice, app.id).status is GrantStatus.ACTIVE


def test_the_apps_asking_again_never_replaces_the_communitys_grant(
        membership: MembershipService, consent: Consent, alice: str, community_id: str,
        brand) -> None:
    """A trial found an app's authorization for a purpose silently replacing the community's
    aggregate-only grant with individual records, while the community page still said
    "sharing in totals only"."""
    joined = membership.join(alice, community_id)
    [held] = [g for g in joined.grants if g.purpose == IMPROVING]
    app, _ = consent.grants.grant(alice, BrandRequest(brand.id, IMPROVING,
                                                      frozenset({"city"})))
    assert consent.grants.get(alice, held.id).status is GrantStatus.ACTIVE
    [mine] = membership.communities(alice)
    assert {g.id for g in mine.sharing} == {g.id for g in joined.grants}
    again, _ = consent.grants.grant(alice, BrandRequest(brand.id, IMPROVING,
                                                        frozenset({"city", "country"})))
    assert consent.grants.get(alice, app.id).replaced_by == again.id   # its own: replaced
    assert consent.grants.get(alice, held.id).status is GrantStatus.ACTIVE


def test_a_closed_community_takes_no_one_and_releases_its_grants(
        vault: Vault, membership: MembershipService, communities: CommunityService,
        consent: Consent, alice: str, community_id: str, brand) -> None:
    membership.join(alice, community_id)
    closed = communities.close(brand.id, community_id)
    assert closed.closed_at is not None
    assert {g.status for g in consent.grants.for_member(alice)} == {GrantStatus.RELEASED}
    bob = add_member(vault, consent, "bob@example.org")
    with pytest.raises(ConflictError):
        membership.join(bob, community_id)
    with pytest.raises(ConflictError):
        communities.close(brand.id, community_id)


def test_community_pseudonyms_differ_per_community_and_from_the_pairwise_id(
        membership: MembershipService, communities: CommunityService, consent: Consent,
        alice: str, community_id: str, brand) -> None:
    other = communities.open(brand.id, name="Ideas lab", description="New products.",
                             purposes=[RESEARCH]).id
    first = membership.join(alice, community_id).membership.pseudonym
    second = membership.join(alice, other).membership.pseudonym
    assert first != second
    assert consent.brand_subject(alice, brand.id) not in (first, second)
    assert first == membership.pseudonym(alice, community_id)


def test_an_erasure_removes_the_membership(
        vault: Vault, membership: MembershipService, measured: CommunityService,
        sizes: SizeCounts, alice: str, community_id: str, brand) -> None:
    membership.join(alice, community_id)
    vault.erasure.erase(alice)
    measured.size(measured.get(brand.id, community_id))
    assert sizes.asked == [(brand.id, 0)]
    assert vault.data.one("SELECT count(*) FROM community_members")[0] == 0


@pytest.mark.parametrize(("standing", "purposes", "term"), [
    ("SD-BASE", [RESEARCH], "SD-BASE-A"),
    ("SD-BASE-DP", [RESEARCH], "SD-BASE-A-DP"),
    ("SD-BASE-ATP", [RESEARCH, IMPROVING], "SD-BASE-ATP"),      # the standing term permits
    ("SD-BASE", ["dpv:CustomerCare"], "SD-BASE"),
])
def test_the_term_a_join_agrees(standing: str, purposes: list[str], term: str) -> None:
    assert community_term(standing, purposes) == term

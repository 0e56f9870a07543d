"""Contracts of consent's repositories: personal terms, IEEE 7012 agreements, grants and their
receipts (``consent/repositories.py``)."""

from __future__ import annotations

import pytest

from consent.grants import StoredReceipt
from consent.model import (
    AccessEnd,
    AgreementStatus,
    AgreementVia,
    BrandTerms,
    Grant,
    GrantStatus,
    Mode,
    PersonalTerms,
    TermsReceipt,
)
from consent.vocabulary import expand
from vault.brands import Brand

from .conftest import Repositories, add_member

MEMBER = AgreementVia.MEMBER


@pytest.fixture
def brands(repositories: Repositories) -> tuple[str, str]:
    assert repositories.brands.insert(Brand("brand_1", "Velo", ()), 1)
    assert repositories.brands.insert(Brand("brand_2", "Atlas", ()), 1)
    return "brand_1", "brand_2"


def test_standing_terms_and_terms_for_one_brand_are_read_together(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    terms = repositories.terms
    alice = add_member(repositories, 1)
    assert terms.standing(alice) is None
    assert terms.for_brand(alice, brands[0]) == (None, None)
    for_velo = BrandTerms(alice, brands[0], frozenset({"dpv:Marketing"}), 90, 1, 20)
    terms.save_brand_terms(for_velo)
    assert terms.for_brand(alice, brands[0]) == (None, for_velo)
    standing = PersonalTerms(alice, "SD-BASE-A", frozenset({"dpv:ServiceProvision"}), 30,
                             True, True, 15, 2, 20)
    terms.save_standing(standing)
    terms.save_standing(standing)                          # replaced, not added
    assert terms.standing(alice) == standing
    assert terms.for_brand(alice, brands[0]) == (standing, for_velo)
    assert terms.for_brand(alice, brands[1]) == (standing, None)


def test_terms_for_single_brands_are_replaced_listed_and_removed(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    terms = repositories.terms
    alice = add_member(repositories, 1)
    terms.save_brand_terms(BrandTerms(alice, brands[0], frozenset({"dpv:Marketing"}), 0, 1, 10))
    newer = BrandTerms(alice, brands[0], frozenset({"dpv:Marketing", "dpv:Sale"}), 60, 2, 30)
    terms.save_brand_terms(newer)
    atlas = BrandTerms(alice, brands[1], frozenset(), 45, 1, 20)
    terms.save_brand_terms(atlas)
    assert terms.brand_terms_for(alice, brands[0]) == newer
    assert terms.brand_terms(alice) == [newer, atlas]      # latest change first
    terms.remove_brand_terms(alice, brands[0])
    assert terms.brand_terms_for(alice, brands[0]) is None
    assert terms.brand_terms(alice) == [atlas]


def test_terms_receipts_come_newest_first(repositories: Repositories,
                                          brands: tuple[str, str]) -> None:
    terms = repositories.terms
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    first = TermsReceipt("r1", alice, brands[0], 1, "jws 1", 10)
    second = TermsReceipt("r2", alice, brands[0], 2, "jws 2", 10)     # the same second
    third = TermsReceipt("r3", alice, brands[1], 1, "jws 3", 20)
    for receipt in (first, second, third, TermsReceipt("r4", bob, brands[0], 1, "jws", 5)):
        terms.add_receipt(receipt)
    assert terms.receipts(alice) == [third, second, first]


def test_agreements_go_from_offer_to_answer(repositories: Repositories,
                                            brands: tuple[str, str]) -> None:
    agreements = repositories.agreements
    alice = add_member(repositories, 1)
    agreements.insert("agr_1", alice, brands[0], "SD-BASE", 10, via=MEMBER)
    offer = agreements.get("agr_1")
    assert offer is not None
    assert (offer.status, offer.proffered, offer.countered, offer.agreed, offer.created_at) == (
        AgreementStatus.PROFFERED, "SD-BASE", None, None, 10)
    assert agreements.open_offer(alice, brands[0]) == offer
    assert agreements.open_offer(alice, brands[1]) is None
    agreements.counter("agr_1", "SD-BASE-A", 20)
    countered = agreements.get("agr_1")
    assert countered is not None and (countered.status, countered.countered,
                                      countered.updated_at) == (
        AgreementStatus.COUNTERED, "SD-BASE-A", 20)
    assert agreements.open_offer(alice, brands[0]) == countered
    assert agreements.in_force(alice, brands[0]) is None
    agreements.agree("agr_1", term="SD-BASE-A", record="{}", record_hash="ab",
                     signature="jws", now=30)
    agreed = agreements.get("agr_1")
    assert agreed is not None and (agreed.status, agreed.agreed, agreed.record,
                                   agreed.record_hash, agreed.signature) == (
        AgreementStatus.AGREED, "SD-BASE-A", "{}", "ab", "jws")
    assert agreements.open_offer(alice, brands[0]) is None
    assert agreements.in_force(alice, brands[0]) == agreed
    agreements.insert("agr_2", alice, brands[0], "SD-BASE", 40, via=MEMBER)
    agreements.reject("agr_2", 50)
    rejected = agreements.get("agr_2")
    assert rejected is not None and rejected.status is AgreementStatus.REJECTED
    assert agreements.get("agr_9") is None


def test_agreements_are_listed_latest_change_first(repositories: Repositories,
                                                   brands: tuple[str, str]) -> None:
    agreements = repositories.agreements
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    agreements.insert("agr_a", alice, brands[0], "SD-BASE", 10, via=MEMBER)
    agreements.insert("agr_b", bob, brands[0], "SD-BASE", 20, via=MEMBER)
    agreements.insert("agr_c", alice, brands[1], "SD-BASE", 30, via=MEMBER)
    agreements.reject("agr_a", 40)
    assert [a.id for a in agreements.for_member(alice)] == ["agr_a", "agr_c"]
    assert [a.id for a in agreements.for_brand(brands[0], status=None, limit=10,
                                               offset=0)] == ["agr_a", "agr_b"]
    assert [a.id for a in agreements.for_brand(brands[0], status=AgreementStatus.PROFFERED,
                                               limit=10, offset=0)] == ["agr_b"]
    assert [a.id for a in agreements.for_brand(brands[0], status=None, limit=1,
                                               offset=1)] == ["agr_b"]
    # Of two agreed, the one written last is in force.
    for agreement_id in ("agr_a", "agr_c"):
        agreements.agree(agreement_id, term="SD-BASE", record="{}", record_hash="h",
                         signature="s", now=50)
    agreements.insert("agr_d", alice, brands[0], "SD-BASE-A", 50, via=MEMBER)
    agreements.agree("agr_d", term="SD-BASE-A", record="{}", record_hash="h", signature="s",
                     now=50)
    in_force = agreements.in_force(alice, brands[0])
    assert in_force is not None and in_force.id == "agr_d"


def test_an_agreement_a_join_made_is_the_members_and_never_listed_to_the_brand(
        repositories: Repositories, brands: tuple[str, str]) -> None:
    agreements = repositories.agreements
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    agreements.insert("agr_joined", alice, brands[0], "SD-BASE-A", 10,
                      via=AgreementVia.COMMUNITY)
    agreements.agree("agr_joined", term="SD-BASE-A", record="{}", record_hash="h",
                     signature="s", now=10)
    agreements.insert("agr_offered", bob, brands[0], "SD-BASE", 20, via=MEMBER)
    joined = agreements.get("agr_joined")
    assert joined is not None and joined.via is AgreementVia.COMMUNITY
    assert agreements.in_force(alice, brands[0]) == joined      # it permits what it permits
    assert [a.id for a in agreements.for_member(alice)] == ["agr_joined"]
    for status in (None, AgreementStatus.AGREED):
        assert [a.id for a in agreements.for_brand(brands[0], status=status, limit=10,
                                                   offset=0)] == (
            ["agr_offered"] if status is None else [])


def _grant(grant_id: str, member_id: str, brand_id: str, *, purpose: str = "dpv:Marketing",
           ends_at: int = 1_000, created_at: int = 10) -> Grant:
    fields = frozenset({"city", "given_name"})
    return Grant(grant_id, member_id, brand_id, purpose, fields, Mode.INDIVIDUAL, created_at,
                 ends_at, 30, False, None, "EU", "vrmvault member page", "SD-BASE", 1,
                 GrantStatus.ACTIVE, None, 1, created_at, created_at, expand(fields))


def test_grants_are_stored_as_given_and_read_back(repositories: Repositories,
                                                  brands: tuple[str, str]) -> None:
    grants = repositories.grants
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    given = _grant("g1", alice, brands[0])
    grants.insert(given)
    grants.insert(_grant("g2", alice, brands[1], ends_at=500))
    grants.insert(_grant("g3", bob, brands[0]))
    assert grants.get("g1") == given and grants.get("g1").covered == given.covered
    assert grants.get("g1", alice) == given and grants.get("g1", bob) is None
    assert grants.get("g9") is None
    assert [g.id for g in grants.for_member(alice)] == ["g2", "g1"]     # by status, then end
    assert [g.id for g in grants.for_member_and_brand(alice, brands[0])] == ["g1"]


def test_grant_changes_each_keep_their_own_columns(repositories: Repositories,
                                                   brands: tuple[str, str]) -> None:
    grants = repositories.grants
    alice = add_member(repositories, 1)
    for grant_id in ("g1", "g2", "g3", "g4", "g5"):
        grants.insert(_grant(grant_id, alice, brands[0], purpose=grant_id))
    grants.narrow("g1", fields=frozenset({"city"}), ends_at=900, now=20)
    grants.withdraw("g2", 21)
    grants.replace("g3", "g1", 22)
    grants.release("g4", AccessEnd.REVOKED_BY_BRAND, 23)
    grants.end_access("g5", AccessEnd.CLIENT_DISABLED, 24)
    narrowed, withdrawn, replaced, released, ended = (grants.get(g) for g in
                                                     ("g1", "g2", "g3", "g4", "g5"))
    assert narrowed is not None and (narrowed.fields, narrowed.ends_at, narrowed.version,
                                     narrowed.updated_at) == (frozenset({"city"}), 900, 2, 20)
    assert withdrawn is not None and (withdrawn.status, withdrawn.withdrawn_at,
                                      withdrawn.version) == (GrantStatus.WITHDRAWN, 21, 2)
    assert replaced is not None and (replaced.status, replaced.replaced_by,
                                     replaced.withdrawn_at) == (GrantStatus.REPLACED, "g1", 22)
    assert released is not None and (released.status, released.access_ended,
                                     released.access_ended_at, released.version) == (
        GrantStatus.RELEASED, AccessEnd.REVOKED_BY_BRAND, 23, 2)
    assert ended is not None and (ended.status, ended.access_ended, ended.access_ended_at,
                                  ended.version) == (
        GrantStatus.ACTIVE, AccessEnd.CLIENT_DISABLED, 24, 1)


def test_live_grants_duplicates_and_expiries(repositories: Repositories,
                                             brands: tuple[str, str]) -> None:
    grants = repositories.grants
    alice = add_member(repositories, 1)
    grants.insert(_grant("g2", alice, brands[0], created_at=10))
    grants.insert(_grant("g1", alice, brands[0], created_at=10))       # the same second
    grants.insert(_grant("g0", alice, brands[0], created_at=5))
    grants.insert(_grant("g3", alice, brands[0], purpose="dpv:Sale", ends_at=100))
    assert grants.live_ids(alice, brands[0], "dpv:Marketing", 50) == ["g0", "g2", "g1"]
    assert grants.duplicated(50) == [(alice, brands[0], "dpv:Marketing")]
    assert grants.live_ids(alice, brands[0], "dpv:Sale", 100) == []
    assert [g.id for g in grants.ended_unrecorded(100)] == ["g3"]
    assert grants.record_expiry("g3") is True
    assert grants.record_expiry("g3") is False                          # once
    assert grants.ended_unrecorded(100) == []
    assert grants.recorded_expiries(alice) == {"g3"}
    assert grants.recorded_expiries("f" * 32) == set()


def test_grant_receipts_come_newest_first(repositories: Repositories,
                                          brands: tuple[str, str]) -> None:
    grants = repositories.grants
    alice, bob = add_member(repositories, 1), add_member(repositories, 2)
    grants.insert(_grant("g1", alice, brands[0]))
    first = StoredReceipt("r1", "g1", brands[0], "given", "jws 1", 10)
    second = StoredReceipt("r2", "g1", brands[0], "narrowed", "jws 2", 10)
    grants.add_receipt(alice, first)
    grants.add_receipt(alice, second)
    grants.add_receipt(bob, StoredReceipt("r3", "g9", brands[0], "given", "jws", 30))
    assert grants.receipts(alice) == [second, first]

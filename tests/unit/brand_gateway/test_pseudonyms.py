"""Pairwise pseudonyms: stable per brand, unrelated across brands, resolvable only per brand."""

from __future__ import annotations

import base64

import pytest

from brand_gateway.pseudonyms import PairwisePseudonyms
from brand_gateway.storage import pairwise_pseudonyms
from tests.conftest import GOOD_PASSWORD
from vault.errors import IntegrityError, NotFoundError
from vault.home import Vault
from vault.keys import MasterKey


@pytest.fixture
def brands(vault: Vault):
    return vault.brands.add("Velo Bikes", ("bikes",)), vault.brands.add("Green Grocer", ())


def test_ids_are_stable_per_brand_and_differ_across_brands(
        pseudonyms: PairwisePseudonyms, member_id: str, brands) -> None:
    velo, grocer = brands
    first = pseudonyms.pairwise_id(member_id, velo.id)
    assert pseudonyms.pairwise_id(member_id, velo.id) == first
    assert pseudonyms.compute(member_id, velo.id) == first
    assert pseudonyms.pairwise_id(member_id, grocer.id) != first
    assert member_id not in first
    # 256 bits, base64url without padding.
    assert len(base64.urlsafe_b64decode(first + "=")) == 32


def test_ids_differ_between_members_and_keys(vault: Vault, member_id: str, brands) -> None:
    velo, _ = brands
    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    ours = pairwise_pseudonyms(database=vault.data, master=vault.master)
    theirs = pairwise_pseudonyms(database=vault.data, master=MasterKey.generate())
    assert ours.compute(member_id, velo.id) != ours.compute(bob, velo.id)
    assert ours.compute(member_id, velo.id) != theirs.compute(member_id, velo.id)
    # The key is derived for this purpose only: not the erasure/ledger pseudonym key.
    assert vault.pseudonyms.subject(member_id) not in {
        ours.compute(member_id, velo.id), ours.compute(member_id, velo.id).encode().hex()}


def test_the_brand_resolves_its_own_pseudonym_only(pseudonyms: PairwisePseudonyms,
                                                   member_id: str, brands) -> None:
    velo, grocer = brands
    at_velo = pseudonyms.pairwise_id(member_id, velo.id)
    at_grocer = pseudonyms.pairwise_id(member_id, grocer.id)
    assert pseudonyms.member_for(at_velo, velo.id) == member_id
    assert pseudonyms.member_for(at_grocer, grocer.id) == member_id
    with pytest.raises(NotFoundError):
        pseudonyms.member_for(at_velo, grocer.id)
    with pytest.raises(NotFoundError):
        pseudonyms.member_for("not-a-pseudonym", velo.id)


def test_an_id_never_handed_out_does_not_resolve(pseudonyms: PairwisePseudonyms,
                                                 member_id: str, brands) -> None:
    velo, _ = brands
    with pytest.raises(NotFoundError):
        pseudonyms.member_for(pseudonyms.compute(member_id, velo.id), velo.id)


def test_unknown_members_or_brands_get_no_pseudonym(pseudonyms: PairwisePseudonyms,
                                                    member_id: str, brands) -> None:
    velo, _ = brands
    with pytest.raises(NotFoundError):
        pseudonyms.pairwise_id("m_nobody", velo.id)
    with pytest.raises(NotFoundError):
        pseudonyms.pairwise_id(member_id, "brand_nobody")


def test_erasure_removes_the_mapping(vault: Vault, pseudonyms: PairwisePseudonyms,
                                     member_id: str, brands) -> None:
    velo, _ = brands
    pairwise = pseudonyms.pairwise_id(member_id, velo.id)
    vault.erasure.erase(member_id)
    with pytest.raises(NotFoundError):
        pseudonyms.member_for(pairwise, velo.id)
    assert vault.data.one("SELECT count(*) FROM pairwise_subjects")[0] == 0


def test_a_row_changed_beneath_the_class_resolves_nothing(vault: Vault,
                                                          pseudonyms: PairwisePseudonyms,
                                                          member_id: str, brands) -> None:
    velo, _ = brands
    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    pairwise = pseudonyms.pairwise_id(member_id, velo.id)
    vault.data.execute("UPDATE pairwise_subjects SET member_id = ?", (bob,))
    with pytest.raises(IntegrityError):
        pseudonyms.member_for(pairwise, velo.id)

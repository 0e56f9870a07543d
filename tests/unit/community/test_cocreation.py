"""community.cocreation: challenges, ideas under community pseudonyms, votes; the brand's view
and the ledger's entries of what was released."""

from __future__ import annotations

import hashlib

import pytest

from community.cocreation import CoCreationService
from community.communities import CommunityService
from community.membership import MembershipService
from consent.context import Consent
from consent.events import EventTag
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import Vault

from .conftest import RESEARCH, add_member


@pytest.fixture
def setting(vault: Vault, consent: Consent, communities: CommunityService,
            membership: MembershipService, cocreation: CoCreationService, brand
            ) -> tuple[str, str, str, str]:
    """A community with a challenge; alice and bob in it. (challenge, community, alice, bob)"""
    community = communities.open(brand.id, name="Repair club", description="Shape repairs.",
                                 purposes=[RESEARCH]).id
    alice = add_member(vault, consent)
    bob = add_member(vault, consent, "bob@example.org")
    membership.join(alice, community)
    membership.join(bob, community)
    challenge = cocreation.open_challenge(brand.id, community, title="How should repairs work?",
                                          description="Tell us what would help.")
    return challenge.id, community, alice, bob


def test_ideas_are_sealed_pseudonymous_and_released_once_per_version(
        vault: Vault, consent: Consent, cocreation: CoCreationService,
        membership: MembershipService, setting: tuple[str, str, str, str], brand) -> None:
    challenge, community, alice, bob = setting
    idea = cocreation.post(alice, challenge, "  Pick-up at home.  ")
    stored = vault.data.one("SELECT text_sealed FROM ideas WHERE id = ?", (idea.id,))[0]
    assert b"Pick-up" not in bytes(stored)
    [seen] = cocreation.release_ideas(brand.id, challenge)
    assert seen.text == "Pick-up at home." and seen.author == membership.pseudonym(
        alice, community)
    assert seen.author != consent.brand_subject(alice, brand.id)
    entry = consent.ledger.latest_by("brand:" + brand.id, EventTag.COMMUNITY_IDEA_RELEASED)
    assert entry is not None and entry.details["digest"] == hashlib.sha256(
        b"Pick-up at home.").hexdigest()
    size = consent.ledger.size
    cocreation.release_ideas(brand.id, challenge)
    assert consent.ledger.size == size                      # the same version: no new entry
    cocreation.edit(alice, idea.id, "Pick-up at home, or at a shop.")
    [seen] = cocreation.release_ideas(brand.id, challenge)
    assert seen.version == 2 and consent.ledger.size == size + 1


def test_one_vote_per_member_per_idea_never_ones_own(
        cocreation: CoCreationService, setting: tuple[str, str, str, str], brand) -> None:
    challenge, _, alice, bob = setting
    idea = cocreation.post(alice, challenge, "Loan bikes during repairs.")
    with pytest.raises(ConflictError):
        cocreation.vote(alice, idea.id)
    cocreation.vote(bob, idea.id)
    with pytest.raises(ConflictError):
        cocreation.vote(bob, idea.id)
    [as_bob] = cocreation.ideas(bob, challenge)
    assert as_bob.voted and not as_bob.mine and as_bob.votes == 1
    [as_alice] = cocreation.ideas(alice, challenge)
    assert as_alice.mine and not as_alice.voted
    cocreation.unvote(bob, idea.id)
    assert cocreation.release_ideas(brand.id, challenge)[0].votes == 0


def test_only_the_author_edits_or_withdraws_and_withdrawn_ideas_vanish(
        cocreation: CoCreationService, setting: tuple[str, str, str, str], brand) -> None:
    challenge, _, alice, bob = setting
    idea = cocreation.post(alice, challenge, "Repair vans.")
    with pytest.raises(NotFoundError):
        cocreation.edit(bob, idea.id, "Mine now.")
    with pytest.raises(NotFoundError):
        cocreation.withdraw(bob, idea.id)
    cocreation.vote(bob, idea.id)
    cocreation.withdraw(alice, idea.id)
    assert cocreation.release_ideas(brand.id, challenge) == []
    assert cocreation.ideas(bob, challenge) == []


def test_validation_and_who_may_take_part(
        vault: Vault, consent: Consent, cocreation: CoCreationService,
        membership: MembershipService, setting: tuple[str, str, str, str], brand) -> None:
    challenge, community, alice, _ = setting
    with pytest.raises(ValidationError) as refused:
        cocreation.post(alice, challenge, "   ")
    assert set(refused.value.errors) == {"text"}
    with pytest.raises(ValidationError):
        cocreation.post(alice, challenge, "x" * 2001)
    with pytest.raises(ValidationError) as refused:     # told why, not "1 to 2000 characters"
        cocreation.post(alice, challenge, "Fix it\u202e")
    assert refused.value.errors == {"text": [
        "Your idea: Remove the invisible characters that change the text's direction: they are"
        " not allowed."]}
    carol = add_member(vault, consent, "carol@example.org")
    with pytest.raises(NotFoundError):
        cocreation.post(carol, challenge, "Not a member.")
    grant = consent.grants.for_member(alice)[0]
    consent.grants.withdraw(alice, grant.id)               # sharing ended on the Sharing page
    with pytest.raises(ConflictError):
        cocreation.post(alice, challenge, "Still here?")
    other = vault.brands.add("Other Brand", ())
    with pytest.raises(NotFoundError):
        cocreation.release_ideas(other.id, challenge)
    with pytest.raises(NotFoundError):
        cocreation.open_challenge(other.id, community, title="Mine?", description="No.")


def test_taking_up_and_closing(cocreation: CoCreationService, consent: Consent,
                               setting: tuple[str, str, str, str], brand) -> None:
    challenge, _, alice, bob = setting
    idea = cocreation.post(alice, challenge, "Repair cafés.")
    taken = cocreation.take_up(brand.id, idea.id)
    assert taken.taken_up_at is not None
    with pytest.raises(ConflictError):
        cocreation.take_up(brand.id, idea.id)
    assert consent.ledger.latest_by("brand:" + brand.id, EventTag.COMMUNITY_IDEA_ADOPTED)
    cocreation.close_challenge(brand.id, challenge)
    with pytest.raises(ConflictError):
        cocreation.post(bob, challenge, "Too late.")
    with pytest.raises(ConflictError):
        cocreation.vote(bob, idea.id)


def test_leaving_and_erasure_remove_ideas_and_votes(
        vault: Vault, cocreation: CoCreationService, membership: MembershipService,
        setting: tuple[str, str, str, str], brand) -> None:
    challenge, community, alice, bob = setting
    kept = cocreation.post(alice, challenge, "Kept idea.")
    gone = cocreation.post(bob, challenge, "Bob's idea.")
    cocreation.vote(alice, gone.id)
    cocreation.vote(bob, kept.id)
    membership.leave(bob, community)
    [only] = cocreation.release_ideas(brand.id, challenge)
    assert only.id == kept.id and only.votes == 0
    vault.erasure.erase(alice)
    assert cocreation.release_ideas(brand.id, challenge) == []
    assert vault.data.one("SELECT count(*) FROM idea_votes")[0] == 0

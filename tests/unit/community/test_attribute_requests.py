"""community.attribute_requests: a brand asks its community for one non-sensitive attribute;
the member fills it in their own profile and chooses whether it counts for that brand (new
grants with receipts through the consent services)."""

from __future__ import annotations

import pytest

from community.audience import PERSONA_ATTRIBUTES
from consent.context import Consent
from consent.events import EventTag
from consent.model import GrantStatus, Mode
from tests.unit.consent.conftest import Sharing
from tests.unit.consent.test_terms import ledger_entries
from vault.clock import FrozenClock
from vault.errors import NotFoundError, ValidationError

from .survey_support import DAY, Community

WITHOUT_HOUSEHOLD = ["feedback", "survey", *(a for a in PERSONA_ATTRIBUTES
                                             if a != "household_size")]


@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)


@pytest.fixture
def community(consent: Consent, sharing: Sharing) -> Community:
    return Community(consent, sharing)


def ask(community: Community, attribute: str = "household_size", **changes):
    values = {"community_id": community.id, "attribute": attribute,
              "reason": "To size our family bikes", "closes_at": int(community.vault.clock())
              + 30 * DAY}
    return community.requests.ask(community.brand.id, **(values | changes))


@pytest.mark.parametrize(("changes", "where"), [
    ({"attribute": "religion"}, "attribute"),
    ({"attribute": "dietary_requirements"}, "attribute"),
    ({"attribute": "contact_email"}, "attribute"),
    ({"reason": ""}, "reason"),
    ({"closes_at": 0}, "closes_at"),
    ({"community_id": "com_nope"}, "community_id"),
])
def test_bad_requests_are_refused(community: Community, changes, where) -> None:
    with pytest.raises(ValidationError) as raised:
        ask(community, **changes)
    assert where in raised.value.errors


def test_counting_replaces_the_grants_with_the_attribute_added(
        community: Community, consent: Consent) -> None:
    member = community.join(fields=WITHOUT_HOUSEHOLD, mode=Mode.INDIVIDUAL)
    before = community.grants(member)
    request = ask(community)
    (asked,) = community.requests.asked(member)
    assert asked.value is None and not asked.counted and asked.outcome is None
    given = len(ledger_entries(consent, EventTag.CONSENT_GRANT_GIVEN))
    answered = community.requests.respond(member, request.id, value="3", count=True)
    assert answered.value == 3 and answered.counted and answered.outcome == "shared"
    assert consent.vault.profile.get(member)["household_size"] == 3
    live = [g for g in community.grants(member) if g.status is GrantStatus.ACTIVE]
    assert len(live) == len(community.purposes)
    for grant in live:
        assert "household_size" in grant.covered and grant.mode is Mode.INDIVIDUAL
        assert set(WITHOUT_HOUSEHOLD) <= grant.covered
        assert grant.ends_at <= max(g.ends_at for g in before)
    assert all(g.status is GrantStatus.REPLACED
               for g in community.grants(member) if g.id in {b.id for b in before})
    assert len(ledger_entries(consent, EventTag.CONSENT_GRANT_GIVEN)) == given + 2


def test_leaving_after_counting_withdraws_the_new_grants(community: Community) -> None:
    member = community.join(fields=WITHOUT_HOUSEHOLD)
    community.requests.respond(member, ask(community).id, value="3", count=True)
    community.membership.leave(member, community.id)
    assert not [g for g in community.grants(member) if g.status is GrantStatus.ACTIVE]


def test_keeping_it_to_oneself_changes_no_grant(community: Community) -> None:
    member = community.join(fields=WITHOUT_HOUSEHOLD)
    request = ask(community)
    before = community.grants(member)
    answered = community.requests.respond(member, request.id, value="2", count=False)
    assert answered.outcome == "kept" and not answered.counted
    assert community.grants(member) == before


def test_declining_and_outsiders(community: Community, sharing: Sharing,
                                 clock: FrozenClock) -> None:
    member = community.join()
    request = ask(community)
    community.requests.decline(member, request.id)
    assert community.requests.asked(member)[0].outcome == "declined"
    with pytest.raises(NotFoundError):
        community.requests.for_member(sharing.member(), request.id)
    clock.advance(31 * DAY)
    assert community.requests.asked(member) == []


def test_a_bad_value_is_named(community: Community) -> None:
    member = community.join()
    request = ask(community)
    with pytest.raises(ValidationError) as raised:
        community.requests.respond(member, request.id, value="lots", count=True)
    assert "household_size" in raised.value.errors

"""community.communities: a brand opens, reads and closes its communities; what it learns of
their size is measured at most once per budget period and kept (the measure is a test double
without noise here: tests/unit/brand_gateway/insights/test_audience.py tests the gateway's)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from community.communities import (
    COMMUNITY_PURPOSE_CODES,
    NOT_MEASURED,
    CommunityService,
    CommunitySize,
)
from community.membership import MembershipService
from community.repositories import Community
from consent.context import Consent
from consent.events import EventTag
from vault.errors import NotFoundError, ValidationError
from vault.home import Vault

from .conftest import IMPROVING, RESEARCH, SizeCounts, add_member


def test_opening_validates_each_field(communities: CommunityService, brand) -> None:
    with pytest.raises(ValidationError) as refused:
        communities.open(brand.id, name=" ", description="x" * 1001,
                         purposes=["dpv:Marketing"])
    assert set(refused.value.errors) == {"name", "description", "purposes"}
    with pytest.raises(ValidationError) as refused:
        communities.open(brand.id, name="Club", description="For fun.", purposes=[])
    assert set(refused.value.errors) == {"purposes"}


def test_communities_never_serve_profiling_tracking_or_sharing() -> None:
    assert {RESEARCH, IMPROVING} <= COMMUNITY_PURPOSE_CODES
    assert not {"dpv:Marketing", "dpv:Personalisation", "dpv:PersonalisedAdvertising"} & \
        COMMUNITY_PURPOSE_CODES


def test_a_brand_sees_only_its_own_and_the_ledger_has_ids_only(
        vault: Vault, communities: CommunityService, consent: Consent, brand) -> None:
    opened = communities.open(brand.id, name="Repair club", description="Shape repairs.",
                              purposes=[RESEARCH])
    other = vault.brands.add("Other Brand", ())
    assert communities.for_brand(brand.id) == [opened]
    assert communities.for_brand(other.id) == []
    with pytest.raises(NotFoundError):
        communities.get(other.id, opened.id)
    with pytest.raises(NotFoundError):
        communities.close(other.id, opened.id)
    entry = consent.ledger.latest_by("brand:" + brand.id, EventTag.COMMUNITY_OPENED)
    assert entry is not None and entry.details["community"] == opened.id
    assert "Repair club" not in str(entry.details)


@dataclass(frozen=True)
class Club:
    """A community whose size :class:`SizeCounts` measures, with three members."""

    community: Community
    members: list[str]


@pytest.fixture
def club(vault: Vault, consent: Consent, measured: CommunityService,
         membership: MembershipService, brand) -> Club:
    community = _open(measured, brand.id)
    joined = [add_member(vault, consent, f"m{n}@example.org") for n in range(3)]
    for member_id in joined:
        membership.join(member_id, community.id)
    return Club(community, joined)


def _open(service: CommunityService, brand_id: str) -> Community:
    return service.open(brand_id, name="Repair club", description="Shape repairs.",
                        purposes=[RESEARCH])


def test_the_size_is_measured_once_a_period_and_kept(
        club: Club, measured: CommunityService, sizes: SizeCounts,
        membership: MembershipService, vault: Vault, consent: Consent, brand) -> None:
    community = club.community
    assert measured.size(community) == CommunitySize(3)
    # One joining and two leaving, read alone, in the list and from the stale object: the
    # figure of the period, never counted again.
    membership.join(add_member(vault, consent, "late@example.org"), community.id)
    for member_id in club.members[:2]:
        membership.leave(member_id, community.id)
    reads = [measured.get(brand.id, community.id), *measured.for_brand(brand.id), community]
    assert [measured.size(read) for read in reads] == [CommunitySize(3)] * 3
    assert sizes.asked == [(brand.id, 3)]
    kept = measured.get(brand.id, community.id)
    assert (kept.size_period, kept.size_reported) == (0, 3)
    sizes.period = 86_400                        # the next budget period: measured afresh
    assert measured.size(kept) == CommunitySize(2)
    assert measured.size(measured.get(brand.id, community.id)) == CommunitySize(2)
    assert sizes.asked == [(brand.id, 3), (brand.id, 2)]


def test_unpaid_the_size_is_not_told_nor_kept(club: Club, measured: CommunityService,
                                              sizes: SizeCounts, brand) -> None:
    community = club.community
    sizes.paid = False
    assert measured.size(community) == NOT_MEASURED == CommunitySize(None, measured=False)
    assert measured.size(measured.get(brand.id, community.id)) == NOT_MEASURED
    assert measured.get(brand.id, community.id).size_period is None
    sizes.paid = True                            # the budget renewed (or was raised)
    assert measured.size(measured.get(brand.id, community.id)) == CommunitySize(3)
    assert sizes.asked == [(brand.id, 3)] * 3


def test_a_closed_community_keeps_its_last_figure(
        club: Club, measured: CommunityService, sizes: SizeCounts,
        membership: MembershipService, brand) -> None:
    community = club.community
    assert measured.size(community) == CommunitySize(3)
    closed = measured.close(brand.id, community.id)
    membership.leave(club.members[0], community.id)
    sizes.period = 86_400
    assert measured.size(closed) == measured.size(measured.get(brand.id, community.id)) \
        == CommunitySize(3)
    never = _open(measured, brand.id)            # closed before anyone read its size
    assert measured.size(measured.close(brand.id, never.id)) == NOT_MEASURED
    assert sizes.asked == [(brand.id, 3)]


@pytest.mark.parametrize(("name", "reason"), [
    ("\ud800 club", "valid Unicode"), ("club\x00", "control characters"),
    ("bell\x07", "control characters"), ("club\u202e", "change the text's direction"),
    ("\u2066club\u2069", "change the text's direction")])
def test_unreadable_text_is_refused_saying_why(communities: CommunityService, brand, name: str,
                                              reason: str) -> None:
    # A short name that cannot be read is told so, not that it must be 1 to 80 characters.
    with pytest.raises(ValidationError) as refused:
        communities.open(brand.id, name=name, description="Fine.\nTwo lines.",
                         purposes=[RESEARCH])
    assert set(refused.value.errors) == {"name"}
    [message] = refused.value.errors["name"]
    assert reason in message and "1 to" not in message

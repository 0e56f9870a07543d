"""community.communities: a brand opens, reads and closes its communities; what it learns of
their size singles no one out."""

from __future__ import annotations

import pytest

from community.communities import (
    COMMUNITY_PURPOSE_CODES,
    SIZE_THRESHOLD,
    CommunityService,
    reported_size,
)
from consent.context import Consent
from consent.events import EventTag
from vault.errors import NotFoundError, ValidationError
from vault.home import Vault

from .conftest import IMPROVING, RESEARCH


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


@pytest.mark.parametrize(("members", "reported"), [
    (0, None), (1, None), (SIZE_THRESHOLD - 1, None), (SIZE_THRESHOLD, 10), (19, 10),
    (20, 20), (1234, 1230)])
def test_reported_size(members: int, reported: int | None) -> None:
    assert reported_size(members) == reported


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

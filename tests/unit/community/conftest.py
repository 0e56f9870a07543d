"""Fixtures of the insight community's unit tests: a brand, members with terms, the services
over the real SQLCipher stores (no Flask); the consent services' builder
(``tests/unit/consent/conftest.py``) and members with feedback to a brand."""

from __future__ import annotations

import pytest

from community.cocreation import CoCreationService
from community.communities import NOT_MEASURED, CommunityService, CommunitySize, SizeMeasure
from community.membership import MembershipService
from community.storage import cocreation_service, community_service, membership_service
from consent.context import Consent
from tests.conftest import GOOD_PASSWORD
from tests.unit.consent.conftest import Sharing
from vault.brands import Brand
from vault.home import Vault

RESEARCH = "dpv:ResearchAndDevelopment"
IMPROVING = "dpv:ServiceOptimisation"


@pytest.fixture
def communities(consent: Consent) -> CommunityService:
    return community_service(consent)


class SizeCounts:
    """A :class:`SizeMeasure` double without noise, so tests see what was counted: it records
    each ``(brand, exact count)`` it is asked and tells the exact count (the gateway's measure
    is differentially private: brand_gateway/insights/audience.py), or nothing while
    ``paid`` is false (a spent budget); its period is whatever the test sets."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []
        self.period = 0
        self.paid = True

    def measure(self) -> SizeMeasure:
        def count(brand_id: str, members: int) -> CommunitySize:
            self.asked.append((brand_id, members))
            return CommunitySize(members) if self.paid else NOT_MEASURED
        return SizeMeasure(count=count, period=lambda: self.period)


@pytest.fixture
def sizes() -> SizeCounts:
    return SizeCounts()


@pytest.fixture
def measured(consent: Consent, sizes: SizeCounts) -> CommunityService:
    """Communities whose size :class:`SizeCounts` measures."""
    return community_service(consent, size=sizes.measure())


@pytest.fixture
def membership(consent: Consent) -> MembershipService:
    return membership_service(consent)


def add_member(vault: Vault, consent: Consent, email: str = "alice@example.org", *,
               aggregate_allowed: bool = True) -> str:
    """A member whose standing terms allow aggregate use and nothing else (no purposes, no
    duration: joining accepts what a community needs for its brand only)."""
    member_id = vault.members.register(email, GOOD_PASSWORD)
    consent.terms.update(member_id, agreement="SD-BASE", purposes=[], max_days=30,
                         aggregate_allowed=aggregate_allowed)
    return member_id


@pytest.fixture
def alice(vault: Vault, consent: Consent) -> str:
    return add_member(vault, consent)


@pytest.fixture
def cocreation(consent: Consent) -> CoCreationService:
    return cocreation_service(consent)




@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)


@pytest.fixture
def shop(sharing: Sharing) -> Brand:
    return sharing.brand("Velo Bikes")


def feedback(builder: Sharing, member_id: str, brand_id: str, *, rating: int,
             nps: int | None = None, touchpoint: str = "delivery", comment: str = "",
             occurred_on: str | None = None) -> int:
    raw = {"brand_id": brand_id, "touchpoint": touchpoint, "rating": rating, "nps": nps,
           "comment": comment}
    if occurred_on:
        raw["occurred_on"] = occurred_on
    return builder.vault.feedback.add(member_id, raw)

"""Fixtures of the insight community's unit tests: a brand, members with terms, the services
over the real SQLCipher stores (no Flask)."""

from __future__ import annotations

import pytest

from community.cocreation import CoCreationService
from community.communities import CommunityService
from community.membership import MembershipService
from community.storage import cocreation_service, community_service, membership_service
from consent.context import Consent
from tests.conftest import GOOD_PASSWORD
from vault.home import Vault

RESEARCH = "dpv:ResearchAndDevelopment"
IMPROVING = "dpv:ServiceOptimisation"


@pytest.fixture
def communities(consent: Consent) -> CommunityService:
    return community_service(consent)


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

"""Fixtures of compliance's unit tests: the consent services' builder over the real SQLCipher
stores (``tests/unit/consent/conftest.py``), the request service and a world of members sharing
with brands, and brand reads written to the ledger as the brand API writes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from brand_gateway.dsr import dsr_service
from brand_gateway.storage import webhook_registry
from compliance.deadlines import HolidayCalendar
from compliance.reports import ReportService
from compliance.requests import RequestService
from compliance.storage import report_service
from consent.context import Consent
from consent.event_details import ProfileRead
from consent.model import Grant, Mode
from tests.unit.consent.conftest import Sharing

CALLBACK = "https://vault.example"


@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)


@pytest.fixture
def reports(consent: Consent) -> ReportService:
    return report_service(consent)


@pytest.fixture
def service(consent: Consent) -> RequestService:
    return dsr_service(consent, callback_base=CALLBACK, calendar=HolidayCalendar())


@pytest.fixture
def world(consent: Consent, sharing: Sharing) -> dict[str, Any]:
    """Alice shares with Velo (individual use) and Grocer (individual use); Bob with Velo."""
    velo, grocer, other = (sharing.brand("Velo"), sharing.brand("Grocer"),
                           sharing.brand("Other"))
    alice, bob = sharing.member("alice@example.org"), sharing.member("bob@example.org")
    for member in (alice, bob):
        sharing.ready(member, velo.id)
        sharing.grant(member, velo.id, mode=Mode.INDIVIDUAL)
    sharing.agree(alice, grocer.id)
    sharing.grant(alice, grocer.id)
    registry = webhook_registry(database=consent.vault.data, clock=consent.vault.clock)
    for brand in (velo, grocer, other):
        client = f"client-{brand.id}"
        consent.vault.data.execute(
            "INSERT INTO oauth_clients (client_id, brand_id, client_secret_hash, redirect_uris,"
            " token_endpoint_auth_method, grant_types, status, created_at, secret_rotated_at)"
            " VALUES (?, ?, x'00', '[]', 'client_secret_basic', '[]', 'active', 0, 0)",
            (client, brand.id))
        registry.add(client, f"https://{brand.id}.example/hook")
    return {"velo": velo.id, "grocer": grocer.id, "other": other.id, "alice": alice,
            "bob": bob}


def brand_read(consent: Consent, grant: Grant, fields: Iterable[str]) -> None:
    """The ledger entry of a brand read of ``grant``'s member, as brand_gateway/reads.py
    records it (its brand-read index row is written with it)."""
    consent.ledger.record_event(actor=f"brand:{grant.brand_id}", details=ProfileRead(
        member=consent.principal(grant.member_id), client="client_test", purpose=grant.purpose,
        fields=sorted(fields), grants=[grant.id]))

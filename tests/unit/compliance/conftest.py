"""Fixtures of compliance's unit tests: the consent services' builder over the real SQLCipher
stores (``tests/unit/consent/conftest.py``), and brand reads written to the ledger as the brand
API writes them."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from compliance.reports import ReportService
from compliance.storage import report_service
from consent.context import Consent
from consent.event_details import ProfileRead
from consent.model import Grant
from tests.unit.consent.conftest import Sharing


@pytest.fixture
def sharing(consent: Consent) -> Sharing:
    return Sharing(consent)


@pytest.fixture
def reports(consent: Consent) -> ReportService:
    return report_service(consent)


def brand_read(consent: Consent, grant: Grant, fields: Iterable[str]) -> None:
    """The ledger entry of a brand read of ``grant``'s member, as brand_gateway/reads.py
    records it (its brand-read index row is written with it)."""
    consent.ledger.record_event(actor=f"brand:{grant.brand_id}", details=ProfileRead(
        member=consent.principal(grant.member_id), client="client_test", purpose=grant.purpose,
        fields=sorted(fields), grants=[grant.id]))

"""Fixtures of the insight community's service tests: the consent services over a real vault
(``tests/unit/consent/conftest.py``), and members with feedback to a brand."""

from __future__ import annotations

import pytest

from consent.context import Consent
from tests.unit.consent.conftest import Sharing
from vault.brands import Brand


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

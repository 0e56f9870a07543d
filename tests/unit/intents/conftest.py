"""Fixtures of intent casting's unit tests: the service over the real SQLCipher stores of a
test vault, brands registered for catalog categories, members with a filled-in profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from consent.context import Consent
from consent.events import EventDetails
from intents.model import IntentDraft, Limits
from intents.service import IntentService
from intents.storage import intent_service
from tests.conftest import GOOD_PASSWORD
from vault.home import Vault


@dataclass
class ListingLogRecorder:
    """The brand log as the gateway's spool would take it, kept for the test to read."""

    entries: list[tuple[EventDetails, str, int]] = field(default_factory=list)

    def __call__(self, details: EventDetails, actor: str, at: int) -> None:
        self.entries.append((details, actor, at))

    def tags(self) -> list[str]:
        return [str(details.TAG) for details, _, _ in self.entries]


@pytest.fixture
def listing_log() -> ListingLogRecorder:
    return ListingLogRecorder()


@pytest.fixture
def intents(consent: Consent, listing_log: ListingLogRecorder) -> IntentService:
    return intent_service(consent, listing_log=listing_log, limits=Limits(offers_per_intent=2,
                                                                      offers_per_day=5))


@pytest.fixture
def brands(vault: Vault) -> dict[str, str]:
    return {name: vault.brands.add(name, categories).id for name, categories in (
        ("Velo Bikes", ("bicycles",)), ("Spoke & Chain", ("bicycles", "outdoor")),
        ("Sky Trips", ("travel",)))}


def new_member(vault: Vault, email: str) -> str:
    member_id = vault.members.register(email, GOOD_PASSWORD)
    vault.profile.update(member_id, {"contact_email": email, "given_name": "Alice",
                                  "city": "Berlin"})
    return member_id


@pytest.fixture
def alice(vault: Vault) -> str:
    return new_member(vault, "alice@example.org")


def draft(today: dt.date, **changes: object) -> IntentDraft:
    values: dict[str, object] = dict(
        category="bicycles", description="A commuter e-bike, 500 Wh battery",
        budget_min="1500", budget_max="2500.50", currency="EUR",
        window_from=today + dt.timedelta(days=1), window_until=today + dt.timedelta(days=40),
        country="DE", region="DE-BE", city="Berlin",
        reveal_fields=("contact_email", "given_name"), expires_on=None)
    values.update(changes)
    return IntentDraft(**values)  # type: ignore[arg-type]


def today_of(vault: Vault) -> dt.date:
    return dt.datetime.fromtimestamp(vault.clock(), dt.UTC).date()


def ledger_entries(consent: Consent) -> list:
    """Every entry of the ledger, oldest first."""
    return [consent.ledger.entry(seq) for seq in range(consent.ledger.size)]

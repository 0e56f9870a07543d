"""Typed event details record the very bytes the same details as a plain mapping would."""

from __future__ import annotations

import dataclasses

import pytest

from consent.errors import ConsentInputError
from consent.event_details import (
    DETAILS_BY_TAG,
    DataExported,
    GrantGiven,
    ReceiptIssued,
    TermsChanged,
)
from consent.events import Event, EventTag, canonical_body, event_of
from consent.ledger import Ledger

from .conftest import pseudonym

ACTOR = "5f2b" * 16
GRANT = {"grant": "g1", "brand": "acme", "purpose": "dpv:ServicePersonalisation",
         "fields": ["birth_year", "postcode"], "mode": "individual", "ends_at": 1_900_000_000,
         "version": 1}


def test_every_tag_has_one_details_class_recorded_under_it() -> None:
    assert set(DETAILS_BY_TAG) == set(EventTag)
    assert all(details.TAG is tag for tag, details in DETAILS_BY_TAG.items())
    assert len(set(DETAILS_BY_TAG.values())) == len(EventTag)


@pytest.mark.parametrize(("typed", "plain"), [
    (GrantGiven(**GRANT), GRANT),
    (GrantGiven(**GRANT, replaces=["g0"]), {**GRANT, "replaces": ["g0"]}),
    (ReceiptIssued(receipt="r1", grant="g1", sha256="ab" * 32),
     {"receipt": "r1", "grant": "g1", "sha256": "ab" * 32}),
    (TermsChanged(version=2, agreement=None, purposes=[], max_days=30, aggregate_allowed=False,
                  sale_sharing_opt_out=True, via_gpc=True),
     {"version": 2, "agreement": None, "purposes": [], "max_days": 30,
      "aggregate_allowed": False, "sale_sharing_opt_out": True, "via_gpc": True}),
    (TermsChanged(brand="acme", version=3, purposes=[], max_days=0, removed=True,
                  receipt="r2", sha256="ab" * 32),
     {"brand": "acme", "version": 3, "purposes": [], "max_days": 0, "removed": True,
      "receipt": "r2", "sha256": "ab" * 32}),
], ids=lambda value: type(value).__name__ if dataclasses.is_dataclass(value) else "")
def test_a_typed_event_has_the_body_of_its_plain_details(typed, plain) -> None:
    assert typed.as_details() == plain
    as_typed = canonical_body(7, "2027-01-15T08:00:00.000Z", Event.of(typed, ACTOR))
    as_plain = canonical_body(7, "2027-01-15T08:00:00.000Z", Event(typed.TAG, ACTOR, plain))
    assert as_typed == as_plain


def test_the_body_of_a_typed_event_is_pinned() -> None:
    body = canonical_body(1, "2027-01-15T08:00:00.000Z",
                          Event.of(DataExported(format="zip", bytes=2048), ACTOR))
    assert body == (b'{"actor":"' + ACTOR.encode() + b'","details":{"bytes":2048,"format":'
                    b'"zip"},"seq":1,"tag":"member:data:exported",'
                    b'"time":"2027-01-15T08:00:00.000Z"}')


def test_a_typed_event_keeps_its_own_tag() -> None:
    details = ReceiptIssued(receipt="r1", grant="g1", sha256="ab" * 32)
    assert event_of(None, ACTOR, details).tag is EventTag.CONSENT_RECEIPT_ISSUED
    assert event_of("consent:receipt:issued", ACTOR, details).tag is details.TAG
    with pytest.raises(ConsentInputError, match="recorded as consent:receipt:issued"):
        event_of(EventTag.CONSENT_GRANT_GIVEN, ACTOR, details)


def test_plain_details_need_their_tag() -> None:
    with pytest.raises(ConsentInputError, match="needs its tag"):
        event_of(None, ACTOR, {"receipt": "r1"})


def test_the_ledger_records_a_typed_event_under_its_tag(ledger: Ledger) -> None:
    entry = ledger.record_event(actor=pseudonym(1),
                                details=DataExported(format="zip", bytes=10))
    assert entry.tag is EventTag.MEMBER_DATA_EXPORTED
    assert entry.details == {"format": "zip", "bytes": 10}
    assert ledger.entry(entry.seq).body == entry.body

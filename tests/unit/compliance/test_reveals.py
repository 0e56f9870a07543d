"""Reveals (compliance/reveals.py) over a real SQLCipher store and ledger: only officers, one
case at a time, the reason sealed and only its digest in the ledger."""

from __future__ import annotations

import hashlib

import pytest

from compliance.errors import RevealRefusedError
from compliance.reveals import RevealService
from compliance.storage import reveal_service
from consent.context import Consent
from consent.events import EventTag
from tests.brand_api_support import BrandApi
from tests.conftest import GOOD_PASSWORD, turn_on_totp
from vault.errors import NotFoundError, ValidationError
from vault.home import Vault
from vault.members import ADMINISTRATOR, COMPLIANCE

REASON = "Velo reported a breach of its fitting records on 3 March."


@pytest.fixture
def service(consent: Consent) -> RevealService:
    return reveal_service(consent)


def staff(vault: Vault, email: str, role: str) -> str:
    account = vault.members.register(email, GOOD_PASSWORD)
    turn_on_totp(vault, account)
    vault.members.set_role(account, role)
    return account


@pytest.fixture
def world(vault: Vault, consent: Consent) -> dict[str, str]:
    api = BrandApi(vault, consent)
    velo, grocer = api.brand("Velo Bikes"), api.brand("Fresh Grocer")
    alice = vault.members.register("alice@example.org", GOOD_PASSWORD)
    bob = vault.members.register("bob@example.org", GOOD_PASSWORD)
    api.grant(alice, velo, "dpv:ServiceProvision", ["city"])
    api.grant(bob, grocer, "dpv:ServiceProvision", ["city"])
    return {"alice": alice, "bob": bob, "velo": f"exposure:{velo.brand_id}",
            "grocer": f"exposure:{grocer.brand_id}",
            "olive": staff(vault, "olive@example.org", COMPLIANCE),
            "otto": staff(vault, "otto@example.org", COMPLIANCE),
            "adam": staff(vault, "adam@example.org", ADMINISTRATOR)}


def test_a_reveal_returns_the_address_and_is_in_the_ledger_by_digest(
        service: RevealService, consent: Consent, vault: Vault, world: dict[str, str]) -> None:
    before = consent.ledger.size
    principal = consent.principal(world["alice"])
    address = service.reveal(officer_id=world["olive"], case=world["velo"],
                             principal=principal, reason=REASON)
    assert address == "alice@example.org"
    entries = [consent.ledger.entry(seq) for seq in range(before, consent.ledger.size)]
    assert [(e.tag, e.actor, dict(e.details)) for e in entries] == [(
        EventTag.OFFICER_IDENTITY_REVEALED, consent.principal(world["olive"]),
        {"officer": consent.principal(world["olive"]), "member": principal,
         "case": world["velo"], "reason_sha256": hashlib.sha256(REASON.encode()).hexdigest()})]
    assert b"alice" not in entries[0].body and b"breach" not in entries[0].body
    # The reason is sealed in the store: neither its words nor the address are in clear.
    row = vault.data.one("SELECT reason_sealed FROM identity_reveals")
    assert b"breach" not in bytes(row[0])
    (record,) = service._reveals.for_case(world["olive"], world["velo"])
    assert service.reason(world["olive"], record) == REASON


def test_revealed_holds_for_that_case_and_that_officer_only(
        service: RevealService, consent: Consent, world: dict[str, str]) -> None:
    principal = consent.principal(world["alice"])
    service.reveal(officer_id=world["olive"], case=world["velo"], principal=principal,
                   reason=REASON)
    assert service.revealed(officer_id=world["olive"], case=world["velo"]) == {
        principal: "alice@example.org"}
    assert service.revealed(officer_id=world["olive"], case=world["grocer"]) == {}
    assert service.revealed(officer_id=world["otto"], case=world["velo"]) == {}
    assert service.revealed(officer_id=world["olive"], case="dsr_" + "0" * 24) == {}


@pytest.mark.parametrize("who", ["adam", "alice"])
def test_only_officers_reveal(service: RevealService, consent: Consent, vault: Vault,
                              world: dict[str, str], who: str) -> None:
    with pytest.raises(RevealRefusedError):
        service.reveal(officer_id=world[who], case=world["velo"],
                       principal=consent.principal(world["alice"]), reason=REASON)
    with pytest.raises(RevealRefusedError):
        service.revealed(officer_id=world[who], case=world["velo"])
    assert vault.data.one("SELECT count(*) FROM identity_reveals")[0] == 0


def test_a_revoked_officer_reveals_nothing_more(service: RevealService, consent: Consent,
                                                vault: Vault, world: dict[str, str]) -> None:
    principal = consent.principal(world["alice"])
    service.reveal(officer_id=world["olive"], case=world["velo"], principal=principal,
                   reason=REASON)
    vault.members.set_role(world["olive"], "member")
    with pytest.raises(RevealRefusedError):
        service.revealed(officer_id=world["olive"], case=world["velo"])


@pytest.mark.parametrize(("case", "principal", "reason", "field"), [
    ("exposure:velo", "alice", REASON, "case"),
    ("dsr_123", "alice", REASON, "case"),
    ("https://evil.example/", "alice", REASON, "case"),
    ("velo", "member:xyz", REASON, "principal"),
    ("velo", "alice", "too short", "reason"),
    ("velo", "alice", "          \n   ", "reason"),
    ("velo", "alice", "x" * 2001, "reason"),
    ("velo", "alice", "bell\u0007 inside the reason", "reason"),
])
def test_bad_input_is_refused_by_field(service: RevealService, consent: Consent,
                                       world: dict[str, str], case: str, principal: str,
                                       reason: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        service.reveal(officer_id=world["olive"], case=world.get(case, case),
                       principal=consent.principal(world[principal])
                       if principal in world else principal, reason=reason)
    assert list(raised.value.errors) == [field]


def test_a_member_outside_the_case_is_not_found(service: RevealService, consent: Consent,
                                                 world: dict[str, str]) -> None:
    # Bob never granted Velo anything: he is not in Velo's exposure report.
    with pytest.raises(NotFoundError):
        service.reveal(officer_id=world["olive"], case=world["velo"],
                       principal=consent.principal(world["bob"]), reason=REASON)
    with pytest.raises(NotFoundError):
        service.reveal(officer_id=world["olive"], case=world["velo"],
                       principal="member:" + "0" * 32, reason=REASON)


def test_erasure_takes_the_reveal_and_its_reason_the_ledger_keeps_the_entry(
        service: RevealService, consent: Consent, vault: Vault, world: dict[str, str]) -> None:
    principal = consent.principal(world["alice"])
    service.reveal(officer_id=world["olive"], case=world["velo"], principal=principal,
                   reason=REASON)
    size = consent.ledger.size
    vault.erasure.erase(world["alice"])
    assert service.revealed(officer_id=world["olive"], case=world["velo"]) == {}
    assert vault.data.one("SELECT count(*) FROM identity_reveals")[0] == 0
    assert consent.ledger.size >= size
    assert any(consent.ledger.entry(seq).tag == EventTag.OFFICER_IDENTITY_REVEALED
               for seq in range(size))


def test_the_accountability_list_is_newest_first_without_reasons(
        service: RevealService, consent: Consent, vault: Vault,
        world: dict[str, str]) -> None:
    alice, bob = consent.principal(world["alice"]), consent.principal(world["bob"])
    service.reveal(officer_id=world["olive"], case=world["velo"], principal=alice,
                   reason=REASON)
    vault.clock.advance(60)  # type: ignore[attr-defined]
    service.reveal(officer_id=world["otto"], case=world["grocer"], principal=bob,
                   reason="Fresh Grocer's breach notice names this member.")
    listed = service.latest(world["olive"], limit=10)
    assert [(r.officer_id, r.case, r.principal) for r in listed] == [
        (world["otto"], world["grocer"], bob), (world["olive"], world["velo"], alice)]
    assert service.count() == 2
    assert not any(hasattr(r, "reason") or hasattr(r, "reason_sealed") for r in listed)

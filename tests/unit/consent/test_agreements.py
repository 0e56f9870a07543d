"""consent.terms.AgreementService: the IEEE 7012 (MyTerms) exchange between member and brand.

The member proffers a term; the brand accepts it, counters once from the roster, or rejects it;
the member answers a counter-offer. On agreement both sides hold one canonical record with one
SHA-256 hash, signed by the vault.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from consent.context import Consent
from consent.errors import ReceiptVerificationError
from consent.events import EventTag
from consent.model import AgreementStatus
from tests.conftest import GOOD_PASSWORD, AuthActions
from vault import schema
from vault.brands import Brand
from vault.errors import ConflictError, NotFoundError, ValidationError
from vault.home import VaultHome
from vault.migrations import apply
from vault.sqlcipher.database import Database

from .conftest import Sharing
from .test_terms import ledger_entries

EMAIL = "alice@example.org"


@pytest.fixture
def member(sharing: Sharing) -> str:
    member_id = sharing.member(EMAIL)
    sharing.terms(member_id, agreement="SD-BASE-ATP")
    return member_id


@pytest.fixture
def other_brand(sharing: Sharing) -> Brand:
    return sharing.brand("Fresh Grocer")


def test_the_member_proffers_their_current_term(consent: Consent, member: str,
                                                brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    assert offer.status is AgreementStatus.PROFFERED
    assert offer.proffered == "SD-BASE-ATP"
    assert (offer.member_id, offer.brand_id) == (member, brand.id)
    assert offer.agreed is offer.record is offer.record_hash is offer.signature is None
    assert consent.agreements.in_force(member, brand.id) is None
    assert consent.agreements.for_member(member) == [offer]


def test_a_member_without_terms_proffers_the_default(consent: Consent, sharing: Sharing,
                                                     brand: Brand) -> None:
    newcomer = sharing.member("newcomer@example.org")
    assert consent.agreements.proffer(newcomer, brand.id).proffered == "SD-BASE"


def test_one_open_offer_per_brand_and_no_offer_to_a_brand_that_does_not_exist(
        consent: Consent, member: str, brand: Brand, other_brand: Brand) -> None:
    consent.agreements.proffer(member, brand.id)
    with pytest.raises(ConflictError):
        consent.agreements.proffer(member, brand.id)
    consent.agreements.proffer(member, other_brand.id)          # another brand: fine
    with pytest.raises(NotFoundError):
        consent.agreements.proffer(member, "brand_doesnotexist")


def test_proffer_then_accept(consent: Consent, member: str, brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    agreed = consent.agreements.brand_accepts(offer.id, brand.id)
    assert agreed.status is AgreementStatus.AGREED
    assert agreed.agreed == "SD-BASE-ATP" and agreed.countered is None
    assert consent.agreements.in_force(member, brand.id) == agreed
    # agreed: it cannot be answered again
    with pytest.raises(ConflictError):
        consent.agreements.brand_accepts(offer.id, brand.id)
    with pytest.raises(ConflictError):
        consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE")
    with pytest.raises(NotFoundError):
        consent.agreements.member_decides(offer.id, member, accept=True)


def test_proffer_counter_and_the_member_accepts(consent: Consent, member: str,
                                                brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    countered = consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-A")
    assert countered.status is AgreementStatus.COUNTERED
    assert countered.countered == "SD-BASE-A" and countered.proffered == "SD-BASE-ATP"
    assert consent.agreements.in_force(member, brand.id) is None

    agreed = consent.agreements.member_decides(offer.id, member, accept=True)
    assert agreed.status is AgreementStatus.AGREED
    assert agreed.agreed == "SD-BASE-A"
    assert json.loads(agreed.record)["term"]["code"] == "SD-BASE-A"
    assert json.loads(agreed.record)["countered"] == "SD-BASE-A"


def test_counter_then_the_member_rejects(consent: Consent, member: str, brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-ATP-S3P")
    rejected = consent.agreements.member_decides(offer.id, member, accept=False)
    assert rejected.status is AgreementStatus.REJECTED
    assert rejected.agreed is None and rejected.record is None
    assert consent.agreements.in_force(member, brand.id) is None
    assert ledger_entries(consent, EventTag.CONSENT_TERMS_AGREED) == []
    # the member can offer again afterwards
    assert consent.agreements.proffer(member, brand.id).status is AgreementStatus.PROFFERED


def test_the_brand_rejects(consent: Consent, member: str, brand: Brand,
                           other_brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    with pytest.raises(NotFoundError):
        consent.agreements.brand_rejects(offer.id, other_brand.id)
    rejected = consent.agreements.brand_rejects(offer.id, brand.id)
    assert rejected.status is AgreementStatus.REJECTED
    with pytest.raises(ConflictError):
        consent.agreements.brand_accepts(offer.id, brand.id)


def test_at_most_one_counter_offer(consent: Consent, member: str, brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-A")
    with pytest.raises(ConflictError):
        consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE")
    with pytest.raises(ConflictError):
        consent.agreements.brand_accepts(offer.id, brand.id)   # the brand had its turn
    assert consent.agreements.get(offer.id).countered == "SD-BASE-A"


@pytest.mark.parametrize("code", ["SD-BASE-ATP", "SD-BASE-ATPX", "sd-base", "", "dpv:Marketing"])
def test_a_counter_with_the_same_or_an_unknown_code_is_refused(
        consent: Consent, member: str, brand: Brand, code: str) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    with pytest.raises(ValidationError) as caught:
        consent.agreements.brand_counters(offer.id, brand.id, code)
    assert "agreement" in caught.value.errors
    assert consent.agreements.get(offer.id).status is AgreementStatus.PROFFERED


def test_another_brand_cannot_answer(consent: Consent, member: str, brand: Brand,
                                     other_brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    with pytest.raises(NotFoundError):
        consent.agreements.brand_accepts(offer.id, other_brand.id)
    with pytest.raises(NotFoundError):
        consent.agreements.brand_counters(offer.id, other_brand.id, "SD-BASE")
    with pytest.raises(NotFoundError):
        consent.agreements.brand_accepts("agr_nosuchagreement", brand.id)
    assert consent.agreements.get(offer.id).status is AgreementStatus.PROFFERED


def test_another_member_cannot_answer_a_counter_offer(consent: Consent, sharing: Sharing,
                                                      member: str, brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE-A")
    mallory = sharing.member("mallory@example.org")
    with pytest.raises(NotFoundError) as someone_elses:
        consent.agreements.member_decides(offer.id, mallory, accept=True)
    assert consent.agreements.get(offer.id).status is AgreementStatus.COUNTERED
    # The answer is the one for an agreement that does not exist: nothing tells them apart.
    with pytest.raises(NotFoundError) as missing:
        consent.agreements.member_decides("no-such-agreement", mallory, accept=True)
    assert someone_elses.value.message == missing.value.message


# -- the member withdraws an offer the brand has not answered -------------------------------
def test_the_member_withdraws_a_waiting_offer(consent: Consent, member: str,
                                              brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    withdrawn = consent.agreements.member_withdraws(offer.id, member)
    assert withdrawn.status is AgreementStatus.WITHDRAWN
    assert withdrawn.agreed is withdrawn.record is withdrawn.signature is None
    [entry] = ledger_entries(consent, EventTag.CONSENT_AGREEMENT_WITHDRAWN)
    assert entry.actor == consent.principal(member)
    assert entry.details == {"agreement": offer.id, "brand": brand.id, "term": "SD-BASE-ATP"}
    assert consent.agreements.open_offer(member, brand.id) is None
    # The brand's answers all come too late.
    for answer in (lambda: consent.agreements.brand_accepts(offer.id, brand.id),
                   lambda: consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE"),
                   lambda: consent.agreements.brand_rejects(offer.id, brand.id)):
        with pytest.raises(ConflictError, match="withdrawn"):
            answer()
    assert consent.agreements.get(offer.id).status is AgreementStatus.WITHDRAWN
    assert consent.agreements.in_force(member, brand.id) is None
    assert consent.agreements.proffer(member, brand.id).status is AgreementStatus.PROFFERED


@pytest.mark.parametrize("answer", ["accepted", "countered", "rejected", "withdrawn"])
def test_only_an_offer_waiting_for_the_brand_can_be_withdrawn(
        consent: Consent, member: str, brand: Brand, answer: str) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    {"accepted": lambda: consent.agreements.brand_accepts(offer.id, brand.id),
     "countered": lambda: consent.agreements.brand_counters(offer.id, brand.id, "SD-BASE"),
     "rejected": lambda: consent.agreements.brand_rejects(offer.id, brand.id),
     "withdrawn": lambda: consent.agreements.member_withdraws(offer.id, member)}[answer]()
    before = consent.agreements.get(offer.id)
    size = consent.ledger.size
    with pytest.raises(ConflictError):
        consent.agreements.member_withdraws(offer.id, member)
    assert consent.agreements.get(offer.id) == before and consent.ledger.size == size


def test_no_one_else_withdraws_a_members_offer(consent: Consent, sharing: Sharing, member: str,
                                               brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    mallory = sharing.member("mallory@example.org")
    for agreement_id, who in ((offer.id, mallory), ("agr_nosuchagreement", member)):
        with pytest.raises(NotFoundError):
            consent.agreements.member_withdraws(agreement_id, who)
    assert consent.agreements.get(offer.id).status is AgreementStatus.PROFFERED


def test_the_withdrawals_migration_keeps_every_agreement(tmp_path: Path) -> None:
    """Data migration 2 rebuilds ``agreements``: rows written at the baseline survive whole, in
    their order (the latest agreement with a brand stands), and the new state fits."""
    home = VaultHome(tmp_path / "var")
    home.initialise({})
    at_baseline = replace(schema.DATA, migrations=schema.DATA.migrations[:1])
    data = Database.open(tmp_path / "old.db", home.master_key({}).derive("data-store"),
                         create=True)
    try:
        assert apply(data, at_baseline) == ["applied migration 1 baseline"]
        data.execute("INSERT INTO members (id, email_index, email_sealed, password_hash,"
                     " created_at) VALUES ('m1', ?, x'00', 'h', 0)", (b"\x01" * 32,))
        data.execute("INSERT INTO brands (id, name, created_at) VALUES ('b1', 'Velo Bikes', 0)")
        for number, status in enumerate(("agreed", "rejected", "agreed", "proffered")):
            data.execute(
                "INSERT INTO agreements (id, member_id, brand_id, proffered, status, agreed,"
                " created_at, updated_at) VALUES (?, 'm1', 'b1', 'SD-BASE', ?, ?, 5, 5)",
                (f"agr_{number}", status, "SD-BASE" if status == "agreed" else None))
        before = data.all("SELECT rowid, * FROM agreements ORDER BY rowid")
        with pytest.raises(Exception, match="CHECK"):
            data.execute("UPDATE agreements SET status = 'withdrawn' WHERE id = 'agr_3'")
        through_withdrawals = replace(schema.DATA, migrations=schema.DATA.migrations[:2])
        assert apply(data, through_withdrawals) == ["applied migration 2 agreement_withdrawals"]
        after = data.all("SELECT rowid, * FROM agreements ORDER BY rowid")
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
        data.execute("UPDATE agreements SET status = 'withdrawn' WHERE id = 'agr_3'")
        with pytest.raises(Exception, match="CHECK"):
            data.execute("UPDATE agreements SET status = 'bogus'")
    finally:
        data.close()


# -- the record both sides hold -------------------------------------------------------------
def test_both_sides_hold_the_same_signed_record(consent: Consent, member: str,
                                                brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    agreed = consent.agreements.brand_accepts(offer.id, brand.id)

    assert agreed.record is not None and agreed.record_hash is not None
    assert hashlib.sha256(agreed.record.encode("utf-8")).hexdigest() == agreed.record_hash
    row = consent.vault.data.one("SELECT record, record_hash FROM agreements WHERE id = ?",
                                 (offer.id,))
    assert hashlib.sha256(row["record"].encode("utf-8")).hexdigest() == row["record_hash"]

    document = json.loads(agreed.record)
    assert json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False) == agreed.record           # canonical form
    assert document["agreement_id"] == offer.id
    assert document["first_party"] == consent.brand_subject(member, brand.id)
    assert consent.principal(member) not in agreed.record      # the ledger's id stays inside
    assert document["second_party"] == brand.id
    assert document["term"]["code"] == "SD-BASE-ATP"
    assert member not in agreed.record and EMAIL not in agreed.record

    payload = consent.signer.verify(agreed.signature)
    assert payload["sha256"] == agreed.record_hash
    assert {k: v for k, v in payload.items() if k != "sha256"} == document


def test_one_changed_byte_of_the_signature_fails(consent: Consent, member: str,
                                                 brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    signature = consent.agreements.brand_accepts(offer.id, brand.id).signature
    header, payload, sig = signature.split(".")
    changed = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(ReceiptVerificationError):
        consent.signer.verify(".".join((header, changed, sig)))


def test_agreement_is_a_ledger_entry_with_the_hash(consent: Consent, member: str,
                                                   brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    agreed = consent.agreements.brand_accepts(offer.id, brand.id)
    [entry] = ledger_entries(consent, EventTag.CONSENT_TERMS_AGREED)
    assert entry.actor == consent.principal(member)
    assert entry.details == {"agreement": offer.id, "brand": brand.id, "term": "SD-BASE-ATP",
                             "sha256": agreed.record_hash}
    assert member not in entry.body.decode() and EMAIL not in entry.body.decode()
    assert consent.ledger.verify().ok


def test_the_member_downloads_exactly_the_stored_record(app, client, consent: Consent,
                                                        member: str, brand: Brand) -> None:
    offer = consent.agreements.proffer(member, brand.id)
    agreed = consent.agreements.brand_accepts(offer.id, brand.id)
    auth = AuthActions(client)
    assert auth.login(EMAIL, GOOD_PASSWORD).status_code == 302

    response = client.get(f"/member/agreements/{offer.id}")

    assert response.status_code == 200
    assert response.mimetype == "application/jwt"
    assert response.headers["Content-Disposition"].startswith("attachment")
    body = response.get_data(as_text=True)
    assert body == agreed.signature                  # the signed record, as the brand gets it
    payload = consent.signer.verify(body)
    assert payload.pop("sha256") == agreed.record_hash == response.headers["Digest-SHA256"]
    assert json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False) == agreed.record
    assert hashlib.sha256(agreed.record.encode("utf-8")).hexdigest() == agreed.record_hash

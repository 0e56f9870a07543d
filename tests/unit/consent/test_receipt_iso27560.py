"""consent.receipt_iso27560: the ISO/IEC TS 27560 view as profiled by W3C DPV: every mandatory
element present, the event state, the notice, storage, retention, recipients and withdrawal."""

from __future__ import annotations

import pytest

from consent.model import GrantEvent
from consent.receipt_iso27560 import ISO_27560_FIELDS
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from tests.unit.consent.receipt_support import (
    BASE_GRANT,
    CASES,
    FIXED_MASTER,
    PRINCIPAL,
    build,
    resolve,
)

# The mandatory elements of ISO/IEC TS 27560 in the DPV guide's mapping table, plus lawful basis.
MANDATORY_ISO = ("schema_version", "record_id", "receipt_id", "pii_principal_id",
                 "privacy_notice", "language", "purpose", "lawful_basis", "pii_information",
                 "pii_type", "pii_controllers", "storage_locations", "retention_period",
                 "jurisdiction", "recipient_third_parties", "withdrawal_method", "party_id",
                 "party_name", "party_contact", "party_address", "party_type", "event_time",
                 "validity_duration", "entity_id", "event_type", "event_state")



@pytest.fixture(scope="module")
def signer() -> ReceiptSigner:
    return ReceiptSigner(FIXED_MASTER, controller=DEFAULT_CONTROLLER)


# -- the ISO 27560 (DPV) view ------------------------------------------------------------------
def test_the_iso_map_covers_every_mandatory_element() -> None:
    assert set(MANDATORY_ISO) <= set(ISO_27560_FIELDS)


@pytest.mark.parametrize(("variant", "event"), CASES)
def test_every_mandatory_iso_element_is_present_and_non_empty(
        signer: ReceiptSigner, variant: str, event: GrantEvent) -> None:
    iso = build(signer, event, variant)["iso27560"]
    for name in MANDATORY_ISO:
        value = resolve(iso, ISO_27560_FIELDS[name])
        assert value not in (None, "", [], {}), name


@pytest.mark.parametrize(("event", "state"), [
    (GrantEvent.GIVEN, "dpv:ConsentGiven"), (GrantEvent.NARROWED, "dpv:RenewedConsentGiven"),
    (GrantEvent.WITHDRAWN, "dpv:ConsentWithdrawn"), (GrantEvent.EXPIRED, "dpv:ConsentExpired"),
    (GrantEvent.ACCESS_ENDED, "dpv:ConsentGiven"), (GrantEvent.RELEASED, "dpv:ConsentRevoked"),
    (GrantEvent.REPLACED, "dpv:ConsentInvalidated")])
def test_the_event_state_is_the_dpv_consent_status(
        signer: ReceiptSigner, event: GrantEvent, state: str) -> None:
    receipt = build(signer, event)
    iso = receipt["iso27560"]
    record = iso["dpv:hasRecordOfActivity"]
    status = record["dpv:hasConsentStatus"]
    assert status["@type"] == state
    assert status["dpv:isIndicatedAtTime"] == iso["dct:created"]
    assert iso["dpv:hasIdentifier"] == receipt["consentReceiptID"]
    assert iso["dct:conformsTo"] == "https://w3id.org/dpv/schema/dpv-27560#receipt"
    assert record["dct:conformsTo"] == "https://w3id.org/dpv/schema/dpv-27560#record"
    assert record["dpv:hasProcess"]["dpv:hasLegalBasis"] == "dpv:Consent"
    extension = record["vrmvault:grant"]
    assert extension["vrmvault:event"] == event.value
    assert extension["vrmvault:grantId"] == record["dct:identifier"] == BASE_GRANT.id
    assert extension["vrmvault:grantVersion"] == record["schema:version"] == (
        2 if event is GrantEvent.NARROWED else 1)
    assert extension["vrmvault:agreement"] == "p7012:SD-BASE-ATP"
    assert extension["vrmvault:termsVersion"] == 3
    start, end = status["dpv:hasDuration"]["dct:temporal"].split("/")
    assert start == "2026-11-18T11:06:40Z"
    assert end == {GrantEvent.WITHDRAWN: "2026-11-21T11:06:40Z",
                   GrantEvent.RELEASED: "2026-11-22T11:06:40Z",
                   GrantEvent.REPLACED: "2026-11-23T11:06:40Z"}.get(event, "2026-12-18T11:06:40Z")
    by = status["dpv:isIndicatedBy"]
    member_acts = (GrantEvent.GIVEN, GrantEvent.NARROWED, GrantEvent.WITHDRAWN)
    assert by == (PRINCIPAL if event in member_acts else DEFAULT_CONTROLLER.iri)


def test_endings_on_the_brand_side_name_their_reason_and_the_replacement(
        signer: ReceiptSigner) -> None:
    ended = build(signer, GrantEvent.ACCESS_ENDED)
    extension = ended["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"]
    assert extension["vrmvault:accessEnded"] == "refresh-replay"
    assert "consent stands" in ended["services"][0]["purposes"][0]["termination"]
    replaced = build(signer, GrantEvent.REPLACED)
    extension = replaced["iso27560"]["dpv:hasRecordOfActivity"]["vrmvault:grant"]
    assert extension["vrmvault:replacedBy"] == "grant_ffeeddccbbaa998877665544"
    assert "vrmvault:accessEnded" not in extension
    released = build(signer, GrantEvent.RELEASED)["services"][0]["purposes"][0]
    assert released["termination"].startswith("Given up by the brand at 2026-11-22")
    # A grant given in place of an earlier one says so, and its consent is "renewed".
    renewed = build(signer, GrantEvent.GIVEN, replaces=["grant_old"])
    record = renewed["iso27560"]["dpv:hasRecordOfActivity"]
    assert record["vrmvault:grant"]["vrmvault:replaces"] == ["grant_old"]
    assert record["dpv:hasConsentStatus"]["@type"] == "dpv:RenewedConsentGiven"
    assert "vrmvault:replaces" not in build(signer)["iso27560"][
        "dpv:hasRecordOfActivity"]["vrmvault:grant"]


def test_notice_storage_retention_recipients_and_withdrawal(signer: ReceiptSigner) -> None:
    iso = build(signer, variant="onward-sharing")["iso27560"]
    notice = resolve(iso, ISO_27560_FIELDS["privacy_notice"])
    assert notice["schema:url"] == DEFAULT_CONTROLLER.policy_url
    assert "anonymised" in notice["dct:description"]          # the S3P agreement's summary
    process = iso["dpv:hasRecordOfActivity"]["dpv:hasProcess"]
    location, retention = process["dpv:hasStorageCondition"]
    assert location["dct:description"] == "EU, SQLCipher-encrypted vault"
    assert retention["dpv:hasDuration"] == "P30D"
    assert process["dpv:hasRecipient"] == ["urn:vrmvault:brand:brand_velo",
                                           "urn:vrmvault:third-party:Acme-Statistics-Ltd"]
    control = process["dpv:hasConsentControl"]
    assert control["dpv:isExercisedAt"].endswith("/member/consents")
    assert "brand API" in control["dct:description"]
    plain = build(signer)["iso27560"]["dpv:hasRecordOfActivity"]["dpv:hasProcess"]
    assert plain["dpv:hasRecipient"] == ["urn:vrmvault:brand:brand_velo"]

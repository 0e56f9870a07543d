"""consent.receipt_kantara: receipts validate against the Kantara v1.1 JSON Schema as published
(``../shared/standards``), with categories, special data, the controller and termination right."""

from __future__ import annotations

import json
import uuid

import pytest
from jsonschema import Draft4Validator

from consent.model import GrantEvent
from consent.receipt_iso27560 import ISO_27560_FIELDS
from consent.receipts import DEFAULT_CONTROLLER, ReceiptSigner
from tests.unit.consent.receipt_support import (
    CASES,
    FIXED_MASTER,
    STANDARDS,
    VARIANTS,
    build,
    event_time,
    kantara_validator,
    make_grant,
    resolve,
    strip_json_comments,
)


@pytest.fixture(scope="module")
def signer() -> ReceiptSigner:
    return ReceiptSigner(FIXED_MASTER, controller=DEFAULT_CONTROLLER)


@pytest.fixture(scope="module")
def kantara() -> Draft4Validator:
    return kantara_validator()


def test_the_schema_loads_with_its_urls_intact(kantara: Draft4Validator) -> None:
    assert kantara.schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    example = json.loads((STANDARDS / "kantara-consent-receipt-v1_1-example.json").read_text())
    assert kantara.is_valid(example)
    assert strip_json_comments('{"a": "x//y"} // note\n') == '{"a": "x//y"} \n'


def test_the_validator_enforces_the_third_party_name_rule(kantara: Draft4Validator) -> None:
    example = json.loads((STANDARDS / "kantara-consent-receipt-v1_1-example.json").read_text())
    purpose = example["services"][0]["purposes"][0]
    assert purpose["thirdPartyDisclosure"] is True
    del purpose["thirdPartyName"]
    assert not kantara.is_valid(example)


# -- the Kantara view --------------------------------------------------------------------------
@pytest.mark.parametrize(("variant", "event"), CASES)
def test_every_receipt_validates_against_the_kantara_schema(
        signer: ReceiptSigner, kantara: Draft4Validator, variant: str, event: GrantEvent) -> None:
    receipt = build(signer, event, variant)
    assert [e.message for e in kantara.iter_errors(receipt)] == []
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == event_time(event)
    assert receipt["jurisdiction"] == "EU" and receipt["language"] == "en"
    assert uuid.UUID(receipt["consentReceiptID"]).version == 4
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["consentType"] == "EXPLICIT" and purpose["primaryPurpose"] is True
    assert purpose["purposeCategory"] == [make_grant(event, **VARIANTS[variant]).purpose]


def test_a_shared_receipt_without_the_third_party_name_fails_the_schema(
        signer: ReceiptSigner, kantara: Draft4Validator) -> None:
    receipt = build(signer, variant="onward-sharing")
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["thirdPartyDisclosure"] is True
    assert purpose["thirdPartyName"] == "Acme Statistics Ltd"
    del purpose["thirdPartyName"]
    assert not kantara.is_valid(receipt)
    plain = build(signer)["services"][0]["purposes"][0]
    assert plain["thirdPartyDisclosure"] is False and "thirdPartyName" not in plain


def test_fields_become_dpv_categories_and_special_ones_are_flagged(signer: ReceiptSigner) -> None:
    plain = build(signer)
    assert plain["services"][0]["purposes"][0]["piiCategory"] == ["pd:Interest", "pd:Name"]
    assert plain["sensitive"] is False and plain["spiCat"] == []
    sensitive = build(signer, variant="sensitive")
    assert sensitive["sensitive"] is True
    assert sensitive["spiCat"] == ["pd:MedicalHealth", "pd:Religion"]
    assert sensitive["services"][0]["purposes"][0]["piiCategory"] == [
        "pd:City", "pd:MedicalHealth", "pd:Religion"]
    data = resolve(sensitive["iso27560"], ISO_27560_FIELDS["pii_information"])
    assert {d["skos:broader"]: d["@type"] for d in data} == {
        "pd:City": "dpv:PersonalData", "pd:MedicalHealth": "dpv:SpecialCategoryPersonalData",
        "pd:Religion": "dpv:SpecialCategoryPersonalData"}


def test_the_controller_policy_and_termination(signer: ReceiptSigner) -> None:
    receipt = build(signer)
    controller = receipt["piiControllers"][0]
    assert controller["piiController"] == DEFAULT_CONTROLLER.name == "vrmvault (demo operator)"
    assert controller["onBehalf"] is False
    assert receipt["policyUrl"] == DEFAULT_CONTROLLER.policy_url
    assert "2026-12-18T11:06:40Z" in receipt["services"][0]["purposes"][0]["termination"]
    withdrawn = build(signer, GrantEvent.WITHDRAWN)["services"][0]["purposes"][0]
    assert withdrawn["termination"].startswith("Withdrawn by the member at 2026-11-21")
    expired = build(signer, GrantEvent.EXPIRED)["services"][0]["purposes"][0]
    assert expired["termination"].startswith("Expired at 2026-12-18T11:06:40Z")

"""consent.receipts: Kantara v1.1 / ISO 27560 (DPV) consent receipts, signed as EdDSA JWTs.

Receipts are checked against the Kantara JSON Schema as published (``../shared/standards``), and
signatures with joserfc (what the signer uses) and, independently, with Authlib's JOSE code.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import uuid
import warnings
from pathlib import Path
from typing import Any

import authlib.deprecate
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OctKey, OKPKey
from jsonschema import Draft4Validator

from consent.errors import (
    ConsentError,
    ConsentInputError,
    PersonalDataError,
    ReceiptVerificationError,
)
from consent.model import AccessEnd, Grant, GrantEvent, GrantStatus, Mode
from consent.receipts import (
    DEFAULT_CONTROLLER,
    ISO_27560_FIELDS,
    RECEIPT_JWS_REGISTRY,
    ReceiptSigner,
)
from vault.keys import MasterKey

with warnings.catch_warnings():     # authlib.jose warns that it is deprecated in favour of joserfc
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebSignature, JsonWebToken
    from authlib.jose.errors import JoseError as AuthlibJoseError

STANDARDS = Path(__file__).resolve().parents[3].parent / "shared" / "standards"
PRINCIPAL = "member:" + hashlib.sha256(b"member-1").hexdigest()[:32]
AT = 1_795_000_000                       # 2026-11-18T11:06:40Z
DAY = 86_400
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
EMAIL = re.compile(r"[^\s@\"]+@[^\s@\"]+\.[A-Za-z]{2,}")
# The mandatory elements of ISO/IEC TS 27560 in the DPV guide's mapping table, plus lawful basis.
MANDATORY_ISO = ("schema_version", "record_id", "receipt_id", "pii_principal_id",
                 "privacy_notice", "language", "purpose", "lawful_basis", "pii_information",
                 "pii_type", "pii_controllers", "storage_locations", "retention_period",
                 "jurisdiction", "recipient_third_parties", "withdrawal_method", "party_id",
                 "party_name", "party_contact", "party_address", "party_type", "event_time",
                 "validity_duration", "entity_id", "event_type", "event_state")


# -- the Kantara schema, loaded as published ----------------------------------------------------
def strip_json_comments(text: str) -> str:
    """Drop ``//`` comments outside strings (``//`` inside URLs in strings stays)."""
    out: list[str] = []
    in_string = escaped = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


@pytest.fixture(scope="module")
def kantara() -> Draft4Validator:
    schema = json.loads(strip_json_comments(
        (STANDARDS / "kantara-consent-receipt-v1_1-schema.json").read_text()))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


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


# -- factories ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def master() -> MasterKey:
    return MasterKey(bytes(range(32)))


@pytest.fixture(scope="module")
def signer(master: MasterKey) -> ReceiptSigner:
    return ReceiptSigner(master, controller=DEFAULT_CONTROLLER)


BASE_GRANT = Grant(
    id="grant_00112233445566778899aabb", member_id="alice@example.org", brand_id="brand_velo",
    purpose="dpv:Personalisation", fields=frozenset({"given_name", "category:interests"}),
    mode=Mode.INDIVIDUAL, starts_at=AT, ends_at=AT + 30 * DAY, retention_days=30,
    onward_sharing=False, third_party=None, jurisdiction="EU",
    collection_method="vrmvault member page", agreement="SD-BASE-ATP", terms_version=3,
    status=GrantStatus.ACTIVE, withdrawn_at=None, version=1, created_at=AT, updated_at=AT)
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "onward-sharing": {"onward_sharing": True, "third_party": "Acme Statistics Ltd",
                       "mode": Mode.AGGREGATE, "agreement": "SD-BASE-ATP-S3P"},
    "sensitive": {"fields": frozenset({"religion", "health_conditions", "city"}),
                  "purpose": "dpv:ServiceProvision", "agreement": "SD-BASE"},
}


def make_grant(event: GrantEvent = GrantEvent.GIVEN, **changes: Any) -> Grant:
    if event is GrantEvent.NARROWED:
        changes.setdefault("version", 2)
    if event is GrantEvent.WITHDRAWN:
        changes.setdefault("status", GrantStatus.WITHDRAWN)
        changes.setdefault("withdrawn_at", AT + 3 * DAY)
    if event is GrantEvent.RELEASED:
        changes.setdefault("status", GrantStatus.RELEASED)
        changes.setdefault("withdrawn_at", AT + 4 * DAY)
        changes.setdefault("access_ended", AccessEnd.REVOKED_BY_BRAND)
    if event is GrantEvent.REPLACED:
        changes.setdefault("status", GrantStatus.REPLACED)
        changes.setdefault("withdrawn_at", AT + 5 * DAY)
        changes.setdefault("replaced_by", "grant_ffeeddccbbaa998877665544")
    if event is GrantEvent.ACCESS_ENDED:
        changes.setdefault("access_ended", AccessEnd.REFRESH_REPLAY)
        changes.setdefault("access_ended_at", AT + 2 * DAY)
    return dataclasses.replace(BASE_GRANT, **changes)


def event_time(event: GrantEvent) -> int:
    return {GrantEvent.GIVEN: AT, GrantEvent.NARROWED: AT + DAY,
            GrantEvent.WITHDRAWN: AT + 3 * DAY, GrantEvent.EXPIRED: AT + 30 * DAY,
            GrantEvent.ACCESS_ENDED: AT + 2 * DAY, GrantEvent.RELEASED: AT + 4 * DAY,
            GrantEvent.REPLACED: AT + 5 * DAY}[event]


def build(signer: ReceiptSigner, event: GrantEvent = GrantEvent.GIVEN, variant: str = "plain",
          **kwargs: Any) -> dict[str, Any]:
    grant = make_grant(event, **VARIANTS[variant])
    return signer.build(grant, event, at=event_time(event), principal_id=PRINCIPAL,
                        brand_name="Velo Bikes", **kwargs)


def resolve(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


CASES = [(variant, event) for variant in VARIANTS for event in GrantEvent]


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


# -- personal data -----------------------------------------------------------------------------
def test_the_principal_is_the_pseudonym_and_no_member_email_appears(
        signer: ReceiptSigner) -> None:
    for variant, event in CASES:
        receipt = build(signer, event, variant)
        assert receipt["piiPrincipalId"] == PRINCIPAL
        text = json.dumps(receipt)
        assert BASE_GRANT.member_id not in text
        # The only address is the operator's published role address the schema requires.
        found = {m for s in strings(receipt) for m in EMAIL.findall(s)}
        assert found == {DEFAULT_CONTROLLER.email}


@pytest.mark.parametrize(("changes", "error"), [
    ({"principal_id": "alice@example.org"}, PersonalDataError),
    ({"brand_name": "sales@velo.example"}, PersonalDataError),
    ({"principal_id": "  "}, ConsentInputError)])
def test_email_addresses_and_blank_principals_are_refused(
        signer: ReceiptSigner, changes: dict[str, str], error: type[Exception]) -> None:
    kwargs: dict[str, Any] = {"principal_id": PRINCIPAL, "brand_name": "Velo Bikes"} | changes
    with pytest.raises(error):
        signer.build(BASE_GRANT, GrantEvent.GIVEN, at=AT, **kwargs)


@pytest.mark.parametrize("changes", [
    {"purpose": "dpv:Nonsense"}, {"agreement": "NO-SUCH-TERM"}, {"fields": frozenset()},
    {"onward_sharing": True, "third_party": None}])
def test_grants_no_receipt_can_describe_are_refused(
        signer: ReceiptSigner, changes: dict[str, Any]) -> None:
    with pytest.raises(ConsentInputError):
        signer.build(make_grant(**changes), GrantEvent.GIVEN, at=AT, principal_id=PRINCIPAL,
                     brand_name="Velo Bikes")


def test_the_receipt_id_is_a_uuid(signer: ReceiptSigner) -> None:
    chosen = "3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"
    assert build(signer, receipt_id=chosen)["consentReceiptID"] == chosen
    with pytest.raises(ConsentInputError):
        build(signer, receipt_id="receipt-1")


# -- the key -----------------------------------------------------------------------------------
def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_key_is_derived_from_the_master_key(master: MasterKey, signer: ReceiptSigner) -> None:
    expected = Ed25519PrivateKey.from_private_bytes(master.derive("receipt-signing"))
    raw = expected.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = signer.jwks()["keys"][0]
    assert b64url_decode(jwk["x"]) == raw
    published = load_pem_public_key(build(signer)["publicKey"].encode())
    assert published.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw


def test_the_jwks_is_public_only(master: MasterKey, signer: ReceiptSigner) -> None:
    jwks = signer.jwks()
    assert list(jwks) == ["keys"] and len(jwks["keys"]) == 1
    jwk = jwks["keys"][0]
    seed = base64.urlsafe_b64encode(master.derive("receipt-signing")).rstrip(b"=").decode()
    assert "d" not in jwk and '"d"' not in json.dumps(jwks) and seed not in json.dumps(jwks)
    assert {k: jwk[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"}
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert repr(signer) == f"ReceiptSigner(kid={signer.kid!r})"


def test_the_kid_is_the_rfc7638_thumbprint_and_stable(master: MasterKey,
                                                      signer: ReceiptSigner) -> None:
    jwk = signer.jwks()["keys"][0]
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]},
                           separators=(",", ":"), sort_keys=True).encode()
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
    assert jwk["kid"] == signer.kid == thumbprint.decode()
    restarted = ReceiptSigner(MasterKey(bytes(range(32))), controller=DEFAULT_CONTROLLER)
    assert restarted.kid == signer.kid
    assert restarted.verify(signer.sign(build(signer)))["piiPrincipalId"] == PRINCIPAL
    other = ReceiptSigner(MasterKey(bytes(range(1, 33))), controller=DEFAULT_CONTROLLER)
    assert other.kid != signer.kid


# -- signing and verifying ---------------------------------------------------------------------
def authlib_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with Authlib alone, from the published JWKS."""
    key = JsonWebKey.import_key(jwks["keys"][0])
    result = JsonWebSignature(algorithms=["EdDSA"]).deserialize_compact(token, key)
    assert result["header"]["alg"] == "EdDSA"
    return json.loads(result["payload"])


def joserfc_verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify with joserfc's public API from the JWKS (not through ReceiptSigner)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)     # RFC 9864 note on "EdDSA"
        signature = jws.deserialize_compact(token, OKPKey.import_key(jwks["keys"][0]),
                                            algorithms=["EdDSA"])
    return json.loads(signature.payload)


@pytest.fixture(scope="module")
def token(signer: ReceiptSigner) -> str:
    return signer.sign(build(signer, variant="onward-sharing"))


def test_a_signed_receipt_is_an_eddsa_jwt(signer: ReceiptSigner, token: str) -> None:
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}
    receipt = build(signer, variant="onward-sharing",
                    receipt_id=signer.verify(token)["consentReceiptID"])
    assert signer.verify(token) == receipt


def test_both_libraries_verify_the_signature(signer: ReceiptSigner, token: str) -> None:
    receipt = signer.verify(token)
    assert joserfc_verify(token, signer.jwks()) == receipt
    assert authlib_verify(token, signer.jwks()) == receipt
    key = JsonWebKey.import_key(signer.jwks()["keys"][0])
    assert dict(JsonWebToken(["EdDSA"]).decode(token, key)) == receipt


def flip(token: str, position: int) -> str:
    """Change the character at ``position`` so that the decoded bits change too: the top bit of
    its 6-bit value (low bits of a segment's last character may be padding, which lenient
    base64url decoders ignore), or a "." into a letter."""
    char = token[position]
    replacement = "A" if char == "." else B64URL[B64URL.index(char) ^ 0b100000]
    return token[:position] + replacement + token[position + 1:]


def test_any_changed_character_fails_in_both_libraries(signer: ReceiptSigner) -> None:
    small = signer.sign(build(signer, receipt_id="3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"))
    jwks = signer.jwks()
    for position in range(len(small)):
        altered = flip(small, position)
        with pytest.raises(ReceiptVerificationError):
            signer.verify(altered)
        with pytest.raises(AuthlibJoseError):
            authlib_verify(altered, jwks)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_other_character_anywhere_fails_verification(data: st.DataObject) -> None:
    signer = ReceiptSigner(MasterKey(bytes(range(32))), controller=DEFAULT_CONTROLLER)
    token = signer.sign({"consentReceiptID": "3f1c2b1e-8a44-4c1a-9a3e-6c1f0e7b2d10"})
    position = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.characters().filter(lambda c: c != token[position]))
    with pytest.raises(ReceiptVerificationError):
        signer.verify(token[:position] + char + token[position + 1:])


def test_the_last_signature_character_is_checked_strictly(signer: ReceiptSigner,
                                                          token: str) -> None:
    # Ed25519 signatures are 64 bytes: 86 base64url characters, the last one carrying 4 unused
    # bits. Our verifier refuses every other spelling, not only those that change the bytes.
    for char in B64URL:
        if char != token[-1]:
            with pytest.raises(ReceiptVerificationError):
                signer.verify(token[:-1] + char)


def forge(signer: ReceiptSigner, master: MasterKey, header: dict[str, Any],
          payload: bytes) -> str:
    """A token signed with the vault's real receipt key, with any header and payload."""
    key = OKPKey.import_key(
        Ed25519PrivateKey.from_private_bytes(master.derive("receipt-signing")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact(header, payload, key, algorithms=["EdDSA"])


def test_other_algorithms_kids_types_and_payloads_are_refused(
        signer: ReceiptSigner, master: MasterKey, token: str) -> None:
    payload = b64url_decode(token.split(".")[1])
    public_x = b64url_decode(signer.jwks()["keys"][0]["x"])
    # HS256 keyed with the public key, the classic algorithm confusion, with our kid.
    hs256 = jws.serialize_compact({"alg": "HS256", "kid": signer.kid, "typ": "JWT"}, payload,
                                  OctKey.import_key(public_x + b"\0" * 32),
                                  algorithms=["HS256"])
    none = (base64.urlsafe_b64encode(b'{"alg":"none","kid":"%s","typ":"JWT"}'
                                     % signer.kid.encode()).rstrip(b"=").decode()
            + "." + token.split(".")[1] + ".")
    for forged in (
        hs256, none,
        forge(signer, master, {"alg": "EdDSA", "kid": "someone-else", "typ": "JWT"}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JOSE"}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid}, payload),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}, b"[1, 2]"),
        forge(signer, master, {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}, b"not json"),
    ):
        with pytest.raises(ReceiptVerificationError) as caught:
            signer.verify(forged)
        assert caught.value.status == 400 and isinstance(caught.value, ConsentError)


def test_a_receipt_from_another_key_with_our_kid_is_refused(signer: ReceiptSigner,
                                                            token: str) -> None:
    stranger = ReceiptSigner(MasterKey(bytes(range(1, 33))), controller=DEFAULT_CONTROLLER)
    theirs = stranger.sign(signer.verify(token))
    with pytest.raises(ReceiptVerificationError):
        signer.verify(theirs)                                   # their kid
    _, payload, signature = theirs.split(".")
    our_kid = base64.urlsafe_b64encode(json.dumps(
        {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}).encode()).rstrip(b"=").decode()
    with pytest.raises(ReceiptVerificationError):
        signer.verify(f"{our_kid}.{payload}.{signature}")       # our kid, their signature


def test_the_registry_knows_eddsa_over_ed25519_only(token: str) -> None:
    assert set(RECEIPT_JWS_REGISTRY.algorithms) == {"EdDSA"}
    ed448 = OKPKey.generate_key("Ed448", {"alg": "EdDSA", "use": "sig"})
    with pytest.raises(JoseError):
        jws.serialize_compact({"alg": "EdDSA"}, b"{}", ed448, registry=RECEIPT_JWS_REGISTRY)
    with pytest.raises(JoseError):
        jws.deserialize_compact(token, ed448, registry=RECEIPT_JWS_REGISTRY)
    with pytest.raises(JoseError):
        jws.serialize_compact({"alg": "HS256"}, b"{}", OctKey.generate_key(256),
                              registry=RECEIPT_JWS_REGISTRY)


@pytest.mark.parametrize("garbage", [
    "", "abc", "a.b", "a.b.c", "a.b.c.d", "é.é.é", "\ud800.x.y", " ", "..", "..."])
def test_garbage_is_refused(signer: ReceiptSigner, garbage: str) -> None:
    with pytest.raises(ReceiptVerificationError):
        signer.verify(garbage)

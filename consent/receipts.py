"""Consent receipts: one signed document per grant event (given, narrowed, withdrawn, expired,
the brand's access ended, released by the brand, replaced by a newer grant).

A receipt is a JWT (RFC 7519) signed by the vault operator as PII controller, as the Kantara
Consent Receipt Specification v1.1 asks, in JWS compact serialisation (RFC 7515 section 7.1)
with ``alg: EdDSA`` over an Ed25519 key (RFC 8037)::

    header   {"alg": "EdDSA", "kid": "<RFC 7638 thumbprint>", "typ": "JWT"}
    payload  the receipt document below, as UTF-8 JSON with sorted keys

The document is *one* JSON object seen two ways:

- **Kantara v1.1** (``version`` ... ``spiCat``): the top-level members validate against the
  Kantara JSON Schema (draft-04) as published. That schema does not forbid additional top-level
  members, so the second view can sit beside them in the same object.
- **ISO/IEC TS 27560 as profiled by W3C DPV** (``iso27560``): a DPV-27560 consent receipt
  (``dpv:ConsentReceipt``, schema ``dpv-27560#receipt``) wrapping the grant's consent record
  (``dpv:ConsentRecord``) in JSON-LD, with the element names of the DPV guide "Consent Records
  and Receipts as per ISO/IEC TS 27560:2023 using DPV" (w3id.org/dpv/guides/consent-27560).
  :data:`ISO_27560_FIELDS` maps each ISO element to where it lives in that block.

Both views are built from the same grant in one call and signed together, so they cannot
disagree. Where the two standards name things differently: ISO "event type" is the *kind* of
consent (DPV ``dpv:ExplicitlyExpressedConsent``, Kantara ``consentType: EXPLICIT``), ISO "event
state" the DPV consent status the event leads to (:data:`EVENT_STATE`), and the grant event
itself, with the grant id and version, the IEEE 7012 agreement and the terms version, is in the
``vrmvault:grant`` extension of the record. Kantara's ``thirdPartyDisclosure`` is onward sharing
by the brand; the brand itself is the service's recipient (ISO recipients list both).

Invariants: the signing key exists only in memory, derived from the master key
(``MasterKey.derive("receipt-signing")``), so the same master key always yields the same key and
``kid``; :meth:`ReceiptSigner.jwks` never holds the private part. Verification accepts exactly
one algorithm, EdDSA, with exactly this Ed25519 key: ``none``, HMAC and every other algorithm are
unknown to its registry. The member appears only as the pseudonymous principal id the caller
gives, never by name or e-mail address; one that looks like an e-mail address is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jws
from joserfc.errors import InvalidKeyCurveError, JoseError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSAlgModel, JWSRegistry

from vault.keys import MasterKey

from .errors import ConsentInputError, PersonalDataError, ReceiptVerificationError
from .model import Grant, GrantEvent
from .vocabulary import (
    AGREEMENT_BY_CODE,
    DPV,
    P7012,
    PD,
    PURPOSE_BY_CODE,
    SENSITIVE_FIELDS,
    expand,
    field_category,
)

SIGNING_KEY_PURPOSE = "receipt-signing"
ALGORITHM = "EdDSA"
TOKEN_TYPE = "JWT"                      # Kantara v1.1: the receipt is a JWT
KANTARA_VERSION = "KI-CR-v1.1.0"
LANGUAGE = "en"                         # ISO 639-1, as Kantara and ISO 27560 ask
CONSENT_TYPE = "EXPLICIT"
DPV_27560 = "https://w3id.org/dpv/schema/dpv-27560"
RECEIPT_SCHEMA = DPV_27560 + "#receipt"
RECORD_SCHEMA = DPV_27560 + "#record"
MEMBER_CONSENTS_PATH = "/member/consents"
VRMVAULT_NS = "https://vrmvault.example.org/ns/consent#"

# The DPV consent status each grant event puts the consent in (DPV: ConsentStatus). A narrowing
# is a new instance of given consent replacing the earlier one, hence "renewed".
EVENT_STATE: dict[GrantEvent, str] = {
    GrantEvent.GIVEN: "dpv:ConsentGiven",
    GrantEvent.NARROWED: "dpv:RenewedConsentGiven",
    GrantEvent.WITHDRAWN: "dpv:ConsentWithdrawn",
    GrantEvent.EXPIRED: "dpv:ConsentExpired",
    # The brand's access ended, the member's consent did not: its state is unchanged.
    GrantEvent.ACCESS_ENDED: "dpv:ConsentGiven",
    # DPV: revoked is "by an entity other than the data subject" (here the brand).
    GrantEvent.RELEASED: "dpv:ConsentRevoked",
    # DPV: invalidated is "no longer valid due to a change in the circumstances": a newer grant.
    GrantEvent.REPLACED: "dpv:ConsentInvalidated",
}
#: The events that are the member's own act; the others the controller records.
MEMBER_ACTS = frozenset({GrantEvent.GIVEN, GrantEvent.NARROWED, GrantEvent.WITHDRAWN})

# ISO/IEC TS 27560 element -> path inside ``receipt["iso27560"]`` (DPV-27560 element names).
# The mandatory elements of the DPV guide's mapping table, plus lawful basis (optional in ISO,
# mandatory under GDPR). Integers index lists.
_RECORD = ("dpv:hasRecordOfActivity",)
_PROCESS = (*_RECORD, "dpv:hasProcess")
_EVENT = (*_RECORD, "dpv:hasConsentStatus")
ISO_27560_FIELDS: dict[str, tuple[str | int, ...]] = {
    "schema_version": (*_RECORD, "dct:conformsTo"),
    "receipt_id": ("dpv:hasIdentifier",),
    "record_id": (*_RECORD, "dct:identifier"),
    "pii_principal_id": (*_RECORD, "dpv:hasDataSubject"),
    "privacy_notice": (*_RECORD, "dpv:hasNotice"),
    "language": (*_RECORD, "dct:language"),
    "purpose": (*_PROCESS, "dpv:hasPurpose"),
    "lawful_basis": (*_PROCESS, "dpv:hasLegalBasis"),
    "pii_information": (*_PROCESS, "dpv:hasPersonalData"),
    "pii_type": (*_PROCESS, "dpv:hasPersonalData", 0, "skos:broader"),
    "pii_controllers": (*_PROCESS, "dpv:hasDataController"),
    "storage_locations": (*_PROCESS, "dpv:hasStorageCondition", 0, "dpv:hasLocation"),
    "retention_period": (*_PROCESS, "dpv:hasStorageCondition", 1, "dpv:hasDuration"),
    "jurisdiction": (*_PROCESS, "dpv:hasJurisdiction"),
    "recipient_third_parties": (*_PROCESS, "dpv:hasRecipient"),
    "withdrawal_method": (*_PROCESS, "dpv:hasConsentControl", "dpv:isExercisedAt"),
    "party_id": (*_RECORD, "dpv:hasEntity", 0, "dpv:hasIdentifier"),
    "party_name": (*_RECORD, "dpv:hasEntity", 0, "dpv:hasName"),
    "party_contact": (*_RECORD, "dpv:hasEntity", 0, "schema:contactPoint"),
    "party_address": (*_RECORD, "dpv:hasEntity", 0, "schema:address"),
    "party_type": (*_RECORD, "dpv:hasEntity", 1, "@type"),
    "event_time": (*_EVENT, "dpv:isIndicatedAtTime"),
    "validity_duration": (*_EVENT, "dpv:hasDuration"),
    "entity_id": (*_EVENT, "dpv:isIndicatedBy"),
    "event_type": (*_RECORD, "dpv:hasLegalBasis"),
    "event_state": (*_EVENT, "@type"),
}

_JSON_LD_CONTEXT = {
    "dpv": DPV,
    "pd": PD,
    "loc": "https://w3id.org/dpv/loc#",
    "p7012": P7012,
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "schema": "https://schema.org/",
    "vrmvault": VRMVAULT_NS,
}
# Anything shaped like an e-mail address: a principal id must be a pseudonym.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_JURISDICTION_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


# -- the PII controller ----------------------------------------------------------------------
@dataclass(frozen=True)
class PostalAddress:
    street_address: str
    postal_code: str
    locality: str
    country: str                     # ISO 3166-1 alpha-2

    def as_json(self) -> dict[str, str]:
        """schema.org PostalAddress members, as the Kantara example and the DPV guide use."""
        return {"streetAddress": self.street_address, "postalCode": self.postal_code,
                "addressLocality": self.locality, "addressCountry": self.country}


@dataclass(frozen=True)
class Controller:
    """The vault operator as PII controller: who signs receipts and answers for them."""

    name: str
    contact: str                     # a role or person to contact, as Kantara asks
    address: PostalAddress
    email: str                       # the operator's published role address, never a member's
    phone: str
    on_behalf: bool = False          # Kantara onBehalf: acting for another controller
    url: str = "https://vrmvault.example.org"
    policy_url: str = "https://vrmvault.example.org/privacy"
    storage_location: str = "EU, SQLCipher-encrypted vault"
    storage_region: str = "EU"       # DPV-LOC code of where the vault keeps data

    @property
    def iri(self) -> str:
        return self.url.rstrip("/") + "/"

    @property
    def withdrawal_url(self) -> str:
        return self.url.rstrip("/") + MEMBER_CONSENTS_PATH


DEFAULT_CONTROLLER = Controller(
    name="vrmvault (demo operator)",
    contact="Data protection officer, vrmvault demo",
    address=PostalAddress("1 Example Street", "1000", "Example City", "BE"),
    email="privacy@example.org",
    phone="+32 2 000 00 00",
)


# -- the JWS algorithm -------------------------------------------------------------------------
class _Ed25519EdDSA(JWSAlgModel):
    """JWS ``EdDSA`` (RFC 8037 section 3.1) with the Ed25519 curve only.

    RFC 9864 deprecates the polymorphic name ``EdDSA`` because it leaves the curve to the key;
    joserfc's own model warns on every use for that reason. This model fixes the curve (a key
    with any other ``crv`` is refused), which is what the fully specified name ``Ed25519``
    guarantees. The name stays ``EdDSA`` for Kantara consumers and for libraries, Authlib among
    them, that know no other.
    """

    name = ALGORITHM
    description = "EdDSA with the Ed25519 curve (RFC 8037), curve fixed as RFC 9864 asks"
    recommended = True
    key_type = "OKP"

    def check_key(self, key: OKPKey) -> None:
        super().check_key(key)
        if key.curve_name != "Ed25519":
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")

    def sign(self, msg: bytes, key: OKPKey) -> bytes:
        private = key.get_op_key("sign")
        if not isinstance(private, Ed25519PrivateKey):
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")
        return private.sign(msg)

    def verify(self, msg: bytes, sig: bytes, key: OKPKey) -> bool:
        public = key.get_op_key("verify")
        if not isinstance(public, Ed25519PublicKey):
            raise InvalidKeyCurveError(f"'{self.name}' here is Ed25519 only")
        try:
            public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


class _ReceiptRegistry(JWSRegistry):
    # Its own algorithm table: the one entry is all this registry can ever sign or verify.
    algorithms: dict[str, JWSAlgModel] = {ALGORITHM: _Ed25519EdDSA()}
    recommended: list[str] = [ALGORITHM]


#: The joserfc registry receipts are signed and verified with: EdDSA over Ed25519 and nothing
#: else. Brands verifying receipts with joserfc can pass it as ``registry=``.
RECEIPT_JWS_REGISTRY: JWSRegistry = _ReceiptRegistry(algorithms=[ALGORITHM])


# -- the signer --------------------------------------------------------------------------------
class ReceiptSigner:
    """Builds, signs and verifies consent receipts with the vault's receipt-signing key."""

    def __init__(self, master: MasterKey, *, controller: Controller) -> None:
        private = Ed25519PrivateKey.from_private_bytes(master.derive(SIGNING_KEY_PURPOSE))
        self.controller = controller
        # RFC 7638 thumbprint (SHA-256) of the public key: a function of the key alone, so it is
        # stable across restarts and changes exactly when the master key does.
        self.kid = OKPKey.import_key(private.public_key()).thumbprint()
        self._key = OKPKey.import_key(private, {"kid": self.kid, "alg": ALGORITHM, "use": "sig"})
        self._public = OKPKey.import_key(self.public_jwk())
        self.public_key_pem = private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def __repr__(self) -> str:
        return f"ReceiptSigner(kid={self.kid!r})"

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK (RFC 8037 section 2): kty, crv, x, kid, alg, use; no "d"."""
        jwk = dict(self._key.as_dict(private=False))
        jwk.pop("d", None)                    # belt and braces: never publish the private part
        return jwk

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 section 5) for ``/.well-known/jwks.json``."""
        return {"keys": [self.public_jwk()]}

    # -- building ------------------------------------------------------------------------------
    def build(self, grant: Grant, event: GrantEvent, *, at: int, principal_id: str,
              brand_name: str, receipt_id: str | None = None,
              replaces: Sequence[str] = ()) -> dict[str, Any]:
        """The receipt document for ``event`` on ``grant`` at ``at`` (UTC seconds).

        ``principal_id`` is the member's pseudonym; ``receipt_id`` a UUID (a fresh UUID4 when
        omitted); ``replaces``: the earlier grants a given grant took the place of (the
        receipt then says so, and its consent is "renewed"). Raises
        :class:`ConsentInputError` for a grant or input no receipt can describe.
        """
        if _EMAIL.search(principal_id):
            raise PersonalDataError("the principal id must be a pseudonym, not an e-mail address")
        for text in (brand_name, grant.third_party or "", grant.collection_method,
                     grant.jurisdiction):
            if _EMAIL.search(text):
                raise PersonalDataError("receipts name organisations, never e-mail addresses")
        if not principal_id.strip():
            raise ConsentInputError("a receipt needs the member's pseudonymous principal id")
        purpose = PURPOSE_BY_CODE.get(grant.purpose)
        if purpose is None:
            raise ConsentInputError(f"unknown DPV purpose {grant.purpose!r}")
        agreement = AGREEMENT_BY_CODE.get(grant.agreement)
        if agreement is None:
            raise ConsentInputError(f"unknown IEEE 7012 agreement {grant.agreement!r}")
        if grant.onward_sharing and not grant.third_party:
            raise ConsentInputError("onward sharing needs the named third party")
        receipt_id = _receipt_id(receipt_id)
        fields = sorted(grant.covered or expand(grant.fields))
        if not fields:
            raise ConsentInputError("the grant covers no field")

        categories = sorted({field_category(f).code for f in fields})
        special = [f for f in fields if f in SENSITIVE_FIELDS or field_category(f).special]
        special_categories = sorted({field_category(f).code for f in special})
        starts, ends = grant.starts_at, grant.ends_at
        if event in (GrantEvent.WITHDRAWN, GrantEvent.RELEASED, GrantEvent.REPLACED) \
                and grant.withdrawn_at is not None:
            ends = min(ends, grant.withdrawn_at)
        service = f"Data shared with {brand_name} through vrmvault"
        controller = self.controller

        kantara_purpose: dict[str, Any] = {
            "purpose": purpose.description,
            "purposeCategory": [purpose.code],
            "consentType": CONSENT_TYPE,
            "piiCategory": categories,
            "primaryPurpose": True,
            "termination": _termination(grant, event),
            "thirdPartyDisclosure": grant.onward_sharing,
        }
        if grant.onward_sharing:
            kantara_purpose["thirdPartyName"] = grant.third_party
        receipt: dict[str, Any] = {
            "version": KANTARA_VERSION,
            "jurisdiction": grant.jurisdiction,
            "consentTimestamp": at,
            "collectionMethod": grant.collection_method,
            "consentReceiptID": receipt_id,
            "publicKey": self.public_key_pem,
            "language": LANGUAGE,
            "piiPrincipalId": principal_id,
            "piiControllers": [{
                "piiController": controller.name,
                "onBehalf": controller.on_behalf,
                "contact": controller.contact,
                "address": controller.address.as_json(),
                "email": controller.email,
                "phone": controller.phone,
                "piiControllerUrl": controller.url,
            }],
            "policyUrl": controller.policy_url,
            "services": [{"service": service, "purposes": [kantara_purpose]}],
            "sensitive": bool(special),
            "spiCat": special_categories,
        }

        brand_iri = f"urn:vrmvault:brand:{grant.brand_id}"
        recipients = [brand_iri]
        entities: list[dict[str, Any]] = [
            {
                "@id": controller.iri,
                "@type": ["dpv:Organisation", "dpv:DataController"],
                "dpv:hasIdentifier": controller.iri,
                "dpv:hasName": controller.name,
                "schema:contactPoint": {
                    "@type": "schema:ContactPoint", "schema:name": controller.contact,
                    "schema:email": controller.email, "schema:telephone": controller.phone},
                "schema:address": {"@type": "schema:PostalAddress",
                                   **{f"schema:{k}": v
                                      for k, v in controller.address.as_json().items()}},
                "schema:url": controller.url,
            },
            {"@id": brand_iri, "@type": ["dpv:Organisation", "dpv:Recipient"],
             "dpv:hasIdentifier": brand_iri, "dpv:hasName": brand_name},
        ]
        if grant.onward_sharing and grant.third_party:
            third_iri = "urn:vrmvault:third-party:" + re.sub(r"[^A-Za-z0-9._~-]", "-",
                                                            grant.third_party)
            recipients.append(third_iri)
            entities.append({"@id": third_iri, "@type": ["dpv:ThirdParty", "dpv:Recipient"],
                             "dpv:hasIdentifier": third_iri, "dpv:hasName": grant.third_party})
        personal_data = [{
            "@type": ("dpv:SpecialCategoryPersonalData"
                      if any(field_category(f).code == code for f in special)
                      else "dpv:PersonalData"),
            "skos:broader": code,
            # ISO pii_attribute_id: the vault attributes this category stands for here
            "dct:identifier": [f for f in fields if field_category(f).code == code],
        } for code in categories]
        jurisdiction = _location(grant.jurisdiction)
        record = {
            "@type": "dpv:ConsentRecord",
            "dct:conformsTo": RECORD_SCHEMA,
            "dct:identifier": grant.id,
            "schema:version": grant.version,
            "dpv:hasDataSubject": principal_id,
            "dpv:hasNotice": {
                "@type": "dpv:ConsentNotice",
                "schema:url": controller.policy_url,
                "dct:title": agreement.label,
                "dct:description": agreement.summary,
                "dct:language": LANGUAGE,
                "dct:subject": "p7012:" + agreement.code,
            },
            "dct:language": LANGUAGE,
            "dpv:hasDataController": controller.iri,
            "dpv:hasJurisdiction": jurisdiction,
            # ISO event_type: the kind of consent expressed (DPV "Consent Type")
            "dpv:hasLegalBasis": "dpv:ExplicitlyExpressedConsent",
            "dpv:hasProcess": {
                "@type": "dpv:Process",
                "dpv:hasPurpose": {"@type": "dpv:Purpose", "skos:broader": purpose.code,
                                   "dct:title": purpose.label,
                                   "dct:description": purpose.description},
                "dpv:hasPersonalData": personal_data,
                "dpv:hasDataController": controller.iri,
                "dpv:hasLegalBasis": "dpv:Consent",
                "dpv:hasStorageCondition": [
                    {"@type": "dpv:StorageLocation",
                     "dpv:hasLocation": _location(controller.storage_region),
                     "dct:description": controller.storage_location},
                    {"@type": "dpv:StorageDuration",
                     "dpv:hasDuration": f"P{grant.retention_days}D",
                     "dct:description": f"{brand_name} promised to keep copies at most "
                                        f"{grant.retention_days} days"},
                ],
                "dpv:hasRecipient": recipients,
                "dpv:hasConsentControl": {
                    "@type": "dpv:WithdrawConsent",
                    "dpv:isExercisedAt": controller.withdrawal_url,
                    "dct:description": (
                        "Withdraw or narrow this grant on your consents page. It takes effect "
                        "on the brand's next request: the brand API refuses access and "
                        "tokens tied to this grant stop working at once."),
                },
                "dpv:hasRight": {"@type": "dpv:DataSubjectRight",
                                 "dct:title": "Right to withdraw consent",
                                 "dpv:isExercisedAt": controller.withdrawal_url},
                "dpv:hasJurisdiction": jurisdiction,
                "dpv:hasService": {"@type": "dpv:Service", "dct:title": service},
            },
            "dpv:hasEntity": entities,
            "dpv:hasConsentStatus": {
                "@type": ("dpv:RenewedConsentGiven" if replaces and event is GrantEvent.GIVEN
                          else EVENT_STATE[event]),
                "dpv:isIndicatedAtTime": _iso(at),
                "dpv:hasDuration": {"@type": "dpv:UntilTimeDuration", "rdf:value": _iso(ends),
                                    "dct:temporal": f"{_iso(starts)}/{_iso(ends)}"},
                # An expiry is nobody's act, and an ending on the brand's side not the
                # member's: the controller records them.
                "dpv:isIndicatedBy": (principal_id if event in MEMBER_ACTS
                                      else controller.iri),
                "dpv:hasIndicationMethod": grant.collection_method,
            },
            "vrmvault:grant": {
                "vrmvault:grantId": grant.id,
                "vrmvault:grantVersion": grant.version,
                "vrmvault:event": event.value,
                "vrmvault:agreement": "p7012:" + agreement.code,
                "vrmvault:termsVersion": grant.terms_version,
                "vrmvault:mode": grant.mode.value,
                "vrmvault:fields": fields,
                "vrmvault:startsAt": _iso(grant.starts_at),
                "vrmvault:endsAt": _iso(grant.ends_at),
                **({"vrmvault:replaces": list(replaces)} if replaces else {}),
                **({"vrmvault:replacedBy": grant.replaced_by}
                   if event is GrantEvent.REPLACED and grant.replaced_by else {}),
                **({"vrmvault:accessEnded": grant.access_ended.value}
                   if event is GrantEvent.ACCESS_ENDED and grant.access_ended else {}),
            },
        }
        receipt["iso27560"] = {
            "@context": _JSON_LD_CONTEXT,
            "@type": "dpv:ConsentReceipt",
            "dct:conformsTo": RECEIPT_SCHEMA,
            "dpv:hasIdentifier": receipt_id,
            "dct:created": _iso(at),
            "dct:publisher": controller.iri,
            "dpv:hasRecordOfActivity": record,
        }
        return receipt

    # -- signing and verifying ---------------------------------------------------------------------
    def sign(self, receipt: dict[str, Any]) -> str:
        """The receipt as a compact JWS (a JWT): EdDSA over Ed25519, with this key's ``kid``."""
        payload = json.dumps(receipt, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode("utf-8")
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": TOKEN_TYPE}
        return jws.serialize_compact(header, payload, self._key, registry=RECEIPT_JWS_REGISTRY)

    def verify(self, token: str) -> dict[str, Any]:
        """The receipt inside ``token`` once its signature checks out with this vault's key.

        Raises :class:`ReceiptVerificationError` on any failure: not three base64url segments,
        an algorithm other than EdDSA (RFC 8725 section 3.1: the verifier, not the token,
        decides), another ``kid``, a bad signature, or a payload that is not a JSON object.
        """
        try:
            signature = jws.deserialize_compact(token, self._public, registry=RECEIPT_JWS_REGISTRY)
            receipt = json.loads(signature.payload)
        except (JoseError, ValueError, TypeError) as exc:     # json and base64 errors included
            raise ReceiptVerificationError("the consent receipt does not verify") from exc
        header = signature.headers()
        if header.get("kid") != self.kid:
            raise ReceiptVerificationError("the receipt was not signed by this vault's key")
        if header.get("typ") != TOKEN_TYPE:
            raise ReceiptVerificationError("the token is not a consent receipt (typ JWT)")
        if not isinstance(receipt, dict):
            raise ReceiptVerificationError("the receipt payload is not a JSON object")
        return receipt


# -- helpers -----------------------------------------------------------------------------------
def _receipt_id(value: str | None) -> str:
    """Kantara consentReceiptID and ISO receipt id: a UUID, version 4 when we make it."""
    if value is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ConsentInputError("a receipt id is a UUID") from exc


def _iso(seconds: int) -> str:
    """ISO 8601 UTC with a Z, as ISO 27560 asks for event times."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _location(code: str) -> str:
    """A DPV-LOC concept for an ISO 3166 code or "EU"; anything else is kept as written."""
    return f"loc:{code}" if _JURISDICTION_CODE.fullmatch(code) else code


def _termination(grant: Grant, event: GrantEvent) -> str:
    """Kantara ``termination``: when and how this consent ends, in words."""
    end = _iso(grant.ends_at)
    if event is GrantEvent.WITHDRAWN:
        when = _iso(grant.withdrawn_at) if grant.withdrawn_at is not None else "now"
        return f"Withdrawn by the member at {when} (it was to end at {end})."
    if event is GrantEvent.EXPIRED:
        return f"Expired at {end}, the end date the member set."
    ended = _iso(grant.withdrawn_at) if grant.withdrawn_at is not None else "now"
    if event is GrantEvent.RELEASED:
        return f"Given up by the brand at {ended}, which revoked its authorization."
    if event is GrantEvent.REPLACED:
        return f"Replaced at {ended} by the newer grant {grant.replaced_by}."
    if event is GrantEvent.ACCESS_ENDED:
        return (f"The member's consent stands until {end}, but the brand's access ended "
                f"({grant.access_ended.value if grant.access_ended else 'ended'}): the brand "
                "must ask the member again.")
    return (f"Ends at {end}, or earlier when the member withdraws it at "
            f"{MEMBER_CONSENTS_PATH}; the brand keeps copies at most "
            f"{grant.retention_days} days.")

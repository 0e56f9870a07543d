"""The ISO/IEC TS 27560 view of a receipt, as profiled by W3C DPV: the ``iso27560`` member.

A DPV-27560 consent receipt (``dpv:ConsentReceipt``, schema ``dpv-27560#receipt``) wrapping the
grant's consent record (``dpv:ConsentRecord``) in JSON-LD, with the element names of the DPV
guide "Consent Records and Receipts as per ISO/IEC TS 27560:2023 using DPV"
(w3id.org/dpv/guides/consent-27560). :data:`ISO_27560_FIELDS` maps each ISO element to where it
lives in that block.

Where the standards name things differently: ISO "event type" is the *kind* of consent (DPV
``dpv:ExplicitlyExpressedConsent``), ISO "event state" the DPV consent status the event leads to
(:data:`EVENT_STATE`), and the grant event itself, with the grant id and version, the IEEE 7012
agreement and the terms version, is in the ``vrmvault:grant`` extension of the record. ISO
recipients list the brand and, with onward sharing, the named third party.

Invariants:
- Every mandatory element of the DPV guide's mapping table, and the lawful basis, is present and
  non-empty (:data:`ISO_27560_FIELDS` says where).
- The event is indicated by the member for the member's own acts (:data:`MEMBER_ACTS`), by the
  controller for everything else.
"""

from __future__ import annotations

import re
from typing import Any

from .model import GrantEvent
from .receipt_facts import LANGUAGE, ReceiptFacts, iso_time
from .vocabulary import DPV, P7012, PD, field_category

DPV_27560 = "https://w3id.org/dpv/schema/dpv-27560"
RECEIPT_SCHEMA = DPV_27560 + "#receipt"
RECORD_SCHEMA = DPV_27560 + "#record"
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
_JURISDICTION_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def iso27560_receipt(facts: ReceiptFacts) -> dict[str, Any]:
    """The DPV-27560 receipt wrapping the grant's consent record."""
    grant, event, at, replaces = facts.grant, facts.event, facts.at, facts.replaces
    purpose, agreement, controller = facts.purpose, facts.agreement, facts.controller
    fields, categories, special = facts.fields, facts.categories, facts.special
    starts, ends, service = facts.starts, facts.ends, facts.service
    brand_name, receipt_id, principal_id = facts.brand_name, facts.receipt_id, facts.principal_id
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
            "dpv:isIndicatedAtTime": iso_time(at),
            "dpv:hasDuration": {"@type": "dpv:UntilTimeDuration", "rdf:value": iso_time(ends),
                                "dct:temporal": f"{iso_time(starts)}/{iso_time(ends)}"},
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
            "vrmvault:startsAt": iso_time(grant.starts_at),
            "vrmvault:endsAt": iso_time(grant.ends_at),
            **({"vrmvault:replaces": list(replaces)} if replaces else {}),
            **({"vrmvault:replacedBy": grant.replaced_by}
               if event is GrantEvent.REPLACED and grant.replaced_by else {}),
            **({"vrmvault:accessEnded": grant.access_ended.value}
               if event is GrantEvent.ACCESS_ENDED and grant.access_ended else {}),
        },
    }
    return {
        "@context": _JSON_LD_CONTEXT,
        "@type": "dpv:ConsentReceipt",
        "dct:conformsTo": RECEIPT_SCHEMA,
        "dpv:hasIdentifier": receipt_id,
        "dct:created": iso_time(at),
        "dct:publisher": controller.iri,
        "dpv:hasRecordOfActivity": record,
    }


def _location(code: str) -> str:
    """A DPV-LOC concept for an ISO 3166 code or "EU"; anything else is kept as written."""
    return f"loc:{code}" if _JURISDICTION_CODE.fullmatch(code) else code

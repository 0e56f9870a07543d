"""The Kantara Consent Receipt Specification v1.1 view of a receipt: its top-level members.

They validate against the Kantara JSON Schema (draft-04) as published; that schema does not
forbid additional top-level members, so the ISO/IEC TS 27560 view sits beside them in the same
object (``iso27560``). Kantara's ``thirdPartyDisclosure`` is onward sharing by the brand; the
brand itself is the service's recipient.

Invariants:
- ``consentType`` is ``EXPLICIT``: every grant is the member's express act.
- ``thirdPartyName`` is present exactly when onward sharing is (the schema's rule).
- The member appears only as ``piiPrincipalId``, the pseudonym of the facts.
"""

from __future__ import annotations

from typing import Any

from .model import Grant, GrantEvent
from .receipt_facts import LANGUAGE, MEMBER_CONSENTS_PATH, ReceiptFacts, iso_time

KANTARA_VERSION = "KI-CR-v1.1.0"
CONSENT_TYPE = "EXPLICIT"


def kantara_receipt(facts: ReceiptFacts) -> dict[str, Any]:
    """The Kantara v1.1 members of the receipt, in the order they are issued."""
    grant, event, at = facts.grant, facts.event, facts.at
    purpose, categories, controller = facts.purpose, facts.categories, facts.controller
    special, special_categories = facts.special, facts.special_categories
    receipt_id, principal_id, service = facts.receipt_id, facts.principal_id, facts.service
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
        "publicKey": facts.public_key_pem,
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
    return receipt


def _termination(grant: Grant, event: GrantEvent) -> str:
    """Kantara ``termination``: when and how this consent ends, in words."""
    end = iso_time(grant.ends_at)
    if event is GrantEvent.WITHDRAWN:
        when = iso_time(grant.withdrawn_at) if grant.withdrawn_at is not None else "now"
        return f"Withdrawn by the member at {when} (it was to end at {end})."
    if event is GrantEvent.EXPIRED:
        return f"Expired at {end}, the end date the member set."
    ended = iso_time(grant.withdrawn_at) if grant.withdrawn_at is not None else "now"
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

"""How an intent and an offer look to a brand, the same in the API and in webhooks.

An intent is shown under its pseudonym for the brand, never with a member id or the fields the
member is willing to reveal; an offer names the member (by the brand's pairwise subject), the
grant and the revealed fields only once accepted. A declined or expired offer says only that.
No Flask here: the API and the webhook observers both render through these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from intents.model import BrandOffer, ListedIntent


def utc(seconds: float | None) -> str | None:
    """ISO 8601 UTC seconds with ``Z``, as every time of the brand API."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).isoformat().replace("+00:00", "Z")


def listed_intent(intent: ListedIntent) -> dict[str, Any]:
    location = None if intent.country is None else {
        "country": intent.country, "region": intent.region, "city": intent.city}
    return {"id": intent.pseudonym, "category": intent.category,
            "description": intent.description,
            "budget": {"min": intent.budget_min, "max": intent.budget_max,
                       "currency": intent.currency},
            "window": {"from": intent.window_from.isoformat(),
                       "until": intent.window_until.isoformat()},
            "location": location, "published_at": utc(intent.published_at),
            "expires_at": utc(intent.expires_at), "your_offers": intent.your_offers}


def brand_offer(offer: BrandOffer) -> dict[str, Any]:
    accepted = offer.status == "accepted"
    return {"id": offer.id, "intent": offer.intent, "price": offer.price,
            "currency": offer.currency, "terms": offer.terms, "message": offer.message,
            "valid_until": utc(offer.valid_until), "status": str(offer.status),
            "created_at": utc(offer.created_at), "decided_at": utc(offer.decided_at),
            "subject": offer.subject if accepted else None,
            "grant": offer.grant_id if accepted else None,
            "fields": list(offer.fields) if accepted else []}


def offer_event(offer: BrandOffer) -> dict[str, Any]:
    """The ``data`` of ``offer.accepted|declined|expired``: accepted names the member by the
    brand's pairwise subject, the grant and the fields; the others only the offer and its
    status."""
    data: dict[str, Any] = {"offer": offer.id, "intent": offer.intent,
                            "status": str(offer.status)}
    if offer.status == "accepted":
        data.update(subject=offer.subject, grant=offer.grant_id, fields=list(offer.fields))
    return data

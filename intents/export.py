"""Intent casting's part of a member's export: their intents (with every offer each received,
as the member sees it, and the signed offer as the vault issued it), the brands they blocked
from their intents, and their spam reports. How the parts of an export meet is in
:mod:`vault.export`."""

from __future__ import annotations

from typing import Any

from vault.export import DATA_STORE, NULLABLE_TIME, TIME, CsvFile, Exporter, Section, iso, list_of

from .catalog import format_amount
from .service import IntentService

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_TEXTS = {"type": "array", "items": _TEXT}


def intents_exporter(*, intents: IntentService) -> Exporter:
    def intents_of(member_id: str) -> list[dict[str, Any]]:
        return [{
            "id": i.id, "category": i.category, "description": i.description,
            "budget_min": format_amount(i.budget_min, i.currency),
            "budget_max": format_amount(i.budget_max, i.currency), "currency": i.currency,
            "window_from": i.window_from.isoformat(),
            "window_until": i.window_until.isoformat(), "country": i.country,
            "region": i.region, "city": i.city, "reveal_fields": list(i.reveal_fields),
            "status": str(i.status), "created_at": iso(i.created_at),
            "updated_at": iso(i.updated_at), "expires_at": iso(i.expires_at),
            "offers": [{"id": o.id, "brand_id": o.brand_id, "brand_name": o.brand_name,
                        "price": format_amount(o.price, o.currency), "currency": o.currency,
                        "terms": o.terms, "message": o.message,
                        "valid_until": iso(o.valid_until), "status": str(o.status),
                        "received_at": iso(o.created_at), "decided_at": iso(o.decided_at),
                        "grant_id": o.grant_id, "signed_offer": o.signed}
                       for o in intents.offers(member_id, i.id, sort="newest")]}
            for i in intents.for_member(member_id)]

    def blocked(member_id: str) -> list[dict[str, Any]]:
        return [{"brand_id": brand_id, "brand_name": name}
                for brand_id, name in intents.blocked(member_id)]

    def reports(member_id: str) -> list[dict[str, Any]]:
        return [{"id": r.id, "offer_id": r.offer_id, "brand_id": r.brand_id,
                 "reason": r.reason, "status": str(r.status),
                 "reported_at": iso(r.reported_at), "decided_at": iso(r.decided_at)}
                for r in intents.member_reports(member_id)]

    offer = list_of({"id": _TEXT, "brand_id": _TEXT, "brand_name": _TEXT, "price": _TEXT,
                     "currency": _TEXT, "terms": _TEXT, "message": _TEXT,
                     "valid_until": TIME, "status": _TEXT, "received_at": TIME,
                     "decided_at": NULLABLE_TIME, "grant_id": _NULLABLE_TEXT,
                     "signed_offer": _TEXT})
    return Exporter("intent casting", (
        Section("intents", list_of({
            "id": _TEXT, "category": _TEXT, "description": _TEXT, "budget_min": _TEXT,
            "budget_max": _TEXT, "currency": _TEXT, "window_from": _TEXT,
            "window_until": _TEXT, "country": _NULLABLE_TEXT, "region": _NULLABLE_TEXT,
            "city": _NULLABLE_TEXT, "reveal_fields": _TEXTS, "status": _TEXT,
            "created_at": TIME, "updated_at": TIME, "expires_at": TIME, "offers": offer},
            description="The intents you cast, and every offer brands made on them (each "
                        "with the offer the vault signed when it came in)."),
            intents_of, tables=(f"{DATA_STORE}:intents", f"{DATA_STORE}:intent_offers"),
            csv=CsvFile("intents.csv", ("id", "category", "status", "budget_min",
                                        "budget_max", "currency", "created_at",
                                        "expires_at"), "your intents")),
        Section("intent_blocks", list_of({"brand_id": _TEXT, "brand_name": _TEXT},
                                         description="Brands you blocked from your intents."),
                blocked, tables=(f"{DATA_STORE}:intent_blocks",)),
        Section("intent_spam_reports", list_of({
            "id": _TEXT, "offer_id": _NULLABLE_TEXT, "brand_id": _TEXT,
            "reason": _NULLABLE_TEXT, "status": _TEXT, "reported_at": TIME,
            "decided_at": NULLABLE_TIME}, description="Offers you reported as spam."),
            reports, tables=(f"{DATA_STORE}:intent_spam_reports",)),
    ))

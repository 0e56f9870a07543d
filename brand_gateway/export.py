"""The brand gateway's part of a member's export: what each brand knows the member by, the
authorizations the member gave, the notifications brands were sent, every read by a brand.

How the parts of an export meet is in :mod:`vault.export`.

Invariants:
- Nothing that works as a credential, or helps to guess one, leaves: codes, access and refresh
  tokens are stored only as hashes, and not even those are exported; an authorization is shown
  by which brand holds it, since when, until when, how it ended, and how many tokens it led to.
  The PKCE challenge (a hash of the brand's secret verifier) stays too.
- Notifications are the webhook events queued for the member's brands about the member (found
  by the brand's own pseudonym of the member in the payload): type, when, whether delivered.
  Endpoint URLs stay out (a brand's URL may carry its own secret).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vault.export import (
    DATA_STORE,
    NULLABLE_TIME,
    STRINGS,
    TIME,
    CsvFile,
    Exporter,
    Section,
    iso,
    list_of,
)

from .access_log import AccessLog

if TYPE_CHECKING:
    from .repositories import BrandNameRepository, GatewayExportRepository


def gateway_exporter(*, rows: GatewayExportRepository, names: BrandNameRepository,
                     log: AccessLog, principal: Callable[[str], str],
                     subject: Callable[[str, str], str]) -> Exporter:
    """The gateway's sections, over the data store (``rows``, ``names``) and the ledger
    (``log``, for the reads).

    ``principal`` maps a member id to their ledger pseudonym, ``subject`` a member and a brand
    to the brand's pairwise pseudonym of them (``consent.pseudonyms``); the caller merges the
    access spools first if the reads of the last second are to be in (``web/exports.py`` does).
    """

    def identifiers(member_id: str) -> list[dict[str, Any]]:
        # Every brand told of the member, however: the brand API records the pseudonym it
        # hands out, while receipts, agreement records and webhooks carry the same pseudonym
        # computed, without a row of their own (a brand never used over OAuth has none).
        brands = names.names()
        recorded = dict(rows.identifiers(member_id))
        return [{"brand_id": brand_id, "brand": brands.get(brand_id, ""),
                 "subject": recorded.get(brand_id) or subject(member_id, brand_id)}
                for brand_id in sorted(set(recorded) | set(rows.brands_told(member_id)))]

    def authorizations(member_id: str) -> list[dict[str, Any]]:
        brands = names.names()
        result = []
        for a in rows.authorizations(member_id):
            f = a.family
            result.append({
                "id": f.id, "brand_id": a.brand_id, "brand": brands.get(a.brand_id, ""),
                "client_id": f.client_id, "authorized_at": iso(f.created_at),
                "ends_at": iso(f.expires_at), "ended_at": iso(f.revoked_at),
                "ended_because": None if f.revoked_reason is None else f.revoked_reason.value,
                "authorization_details": list(f.authorization_details),
                "grants": list(a.grant_ids),
                "redirect_uri": a.redirect_uri,
                "code_issued_at": iso(a.code_issued_at),
                "code_used_at": iso(a.code_used_at),
                "access_tokens": {"issued": a.access_tokens,
                                  "first_issued_at": iso(a.first_access_issued_at),
                                  "last_issued_at": iso(a.last_access_issued_at),
                                  "last_expires_at": iso(a.last_access_expires_at)},
                "refresh_tokens": {"issued": a.refresh_tokens,
                                   "last_issued_at": iso(a.last_refresh_issued_at)},
            })
        return result

    def notifications(member_id: str) -> list[dict[str, Any]]:
        brands = names.names()
        events: dict[str, dict[str, Any]] = {}
        subjects = [(i["brand_id"], i["subject"]) for i in identifiers(member_id)]
        for r in rows.notifications(subjects):   # one per endpoint: one event for the member
            event = events.setdefault(r.event_id, {
                "brand_id": r.brand_id, "brand": brands.get(r.brand_id, ""),
                "type": r.event_type, "event_id": r.event_id,
                "queued_at": iso(r.created_at), "endpoints": 0, "delivered": 0,
                "first_delivered_at": None})
            event["endpoints"] += 1
            if r.status == "delivered":
                event["delivered"] += 1
                delivered = iso(r.delivered_at)
                if event["first_delivered_at"] is None or delivered < event["first_delivered_at"]:
                    event["first_delivered_at"] = delivered
        return list(events.values())

    def disclosures(member_id: str) -> list[dict[str, Any]]:
        return [{"read_at": iso(r.read_at), "brand_id": r.brand_id, "brand": r.brand_name,
                 "resource": r.resource, "purpose": r.purpose, "fields": list(r.fields),
                 "ledger_seq": r.ledger_seq}
                for r in log.every(principal(member_id))]

    tokens = {"type": "object", "additionalProperties": False,
              "required": ["issued", "first_issued_at", "last_issued_at", "last_expires_at"],
              "properties": {"issued": {"type": "integer", "minimum": 0},
                             "first_issued_at": NULLABLE_TIME, "last_issued_at": NULLABLE_TIME,
                             "last_expires_at": NULLABLE_TIME}}
    return Exporter("brand gateway", sections=(
        Section("brand_identifiers", list_of({
            "brand_id": {"type": "string"}, "brand": {"type": "string"},
            "subject": {"type": "string"},
        }, description="The pseudonym each brand knows you by: the subject of its API, and"
                       " how its receipts, agreement records and notifications name you (no two"
                       " brands get the same one)."),
            identifiers, tables=(f"{DATA_STORE}:pairwise_subjects",)),
        Section("authorizations", list_of({
            "id": {"type": "string"}, "brand_id": {"type": "string"},
            "brand": {"type": "string"}, "client_id": {"type": "string"},
            "authorized_at": TIME, "ends_at": TIME, "ended_at": NULLABLE_TIME,
            "ended_because": {"type": ["string", "null"]},
            "authorization_details": {"type": "array", "items": {"type": "object"}},
            "grants": STRINGS, "redirect_uri": {"type": ["string", "null"]},
            "code_issued_at": NULLABLE_TIME, "code_used_at": NULLABLE_TIME,
            "access_tokens": tokens,
            "refresh_tokens": {"type": "object", "additionalProperties": False,
                               "required": ["issued", "last_issued_at"],
                               "properties": {"issued": {"type": "integer", "minimum": 0},
                                              "last_issued_at": NULLABLE_TIME}},
        }, description="Every authorization you gave a brand's app (OAuth): which brand holds"
                       " it, since when, until when, how it ended, which grants it carries and"
                       " how many tokens it led to (never the tokens)."),
            authorizations, tables=(
                f"{DATA_STORE}:oauth_token_families",
                f"{DATA_STORE}:oauth_family_grants",
                f"{DATA_STORE}:oauth_authorization_codes",
                f"{DATA_STORE}:oauth_access_tokens",
                f"{DATA_STORE}:oauth_refresh_tokens",
            ),
            csv=CsvFile("authorizations.csv", ("id", "brand", "brand_id", "client_id",
                                               "authorized_at", "ends_at", "ended_at",
                                               "ended_because", "grants"),
                        "every authorization you gave a brand's app")),
        Section("notifications", list_of({
            "brand_id": {"type": "string"}, "brand": {"type": "string"},
            "type": {"type": "string"}, "event_id": {"type": "string"},
            "queued_at": TIME, "endpoints": {"type": "integer", "minimum": 1},
            "delivered": {"type": "integer", "minimum": 0},
            "first_delivered_at": NULLABLE_TIME,
        }, description="Every webhook that told a brand about you (GDPR Art. 19: withdrawn"
                       " or ended consent), and how many of its endpoints took it."),
            notifications),
        Section("disclosures", list_of({
            "read_at": TIME, "brand_id": {"type": "string"}, "brand": {"type": "string"},
            "resource": {"enum": ["profile", "feedback", "survey"]}, "purpose": {"type": "string"},
            "fields": STRINGS, "ledger_seq": {"type": "integer", "minimum": 0},
        }, description="Every read of your data by a brand, newest first: the recipients of"
                       " GDPR Art. 15(1)(c), from the ledger."),
            disclosures,
            csv=CsvFile("disclosures.csv", ("read_at", "brand", "brand_id", "resource",
                                            "purpose", "fields", "ledger_seq"),
                        "every read of your data by a brand: when, who, for what, which fields"
                        " (with the ledger entry that records it)")),
    ), withheld={
        f"{DATA_STORE}:oauth_authorization_codes.code_hash": "the hash of a one-time code",
        f"{DATA_STORE}:oauth_authorization_codes.code_challenge": "PKCE: a hash of the"
        " brand's secret verifier",
        f"{DATA_STORE}:oauth_access_tokens.token_hash": "the hash of a bearer token",
        f"{DATA_STORE}:oauth_refresh_tokens.token_hash": "the hash of a refresh token",
    })

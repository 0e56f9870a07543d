"""Consent's part of a member's export: terms, agreements, grants, receipts, ledger entries.

How the parts of an export meet is in :mod:`vault.export`. This one reads consent's repositories
(every record of the member, whatever its state: withdrawn and expired grants, rejected
agreements) and the member's own entries in the ledger.

Invariants:
- Receipts and agreement records are exported as issued: the compact JWS strings and the
  canonical JSON the vault signed, byte for byte, so the member can verify them with the keys at
  ``/.well-known/jwks.json`` and show them to anyone.
- Ledger entries are those whose actor or details name the member's principal, less the brand
  reads (the gateway's ``disclosures`` section lists those, with brand names); each is given with
  its ``seq`` (for ``vrmvault ledger proof``) as recorded. Found by a byte search over the
  entries: an export is rare, and the ledger keeps no index of principals beyond reads. The
  ``consent:receipt:issued`` entries, whose actor is the brand's pairwise pseudonym, are those
  the member's receipts name (consent/receipt_position.py), read by their index.
- Each receipt comes with its ledger entry (``ledger``: the log, the index, the exact body and
  leaf hash), so the member can prove it is in the public log (``/log/``) with nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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
from vault.repositories import BrandRepository

from .access_index import ACCESS_TAGS
from .ledger import Ledger
from .receipt_position import position_of, receipt_entry
from .repositories import AgreementRepository, GrantRepository, TermsRepository


def consent_exporter(*, terms: TermsRepository, agreements: AgreementRepository,
                     grants: GrantRepository, brands: BrandRepository, ledger: Ledger,
                     principal: Callable[[str], str]) -> Exporter:
    """Consent's sections, over its repositories and the ledger; ``principal`` maps a member id
    to the pseudonym that stands for them in the ledger. Lists come by time of creation, then
    by id (what was accepted for single brands: by brand)."""
    def by_creation(record: Any) -> tuple[int, str]:
        return record.created_at, record.id

    def brand_names() -> dict[str, str]:
        return {brand.id: brand.name for brand in brands.all()}

    def standing_terms(member_id: str) -> dict[str, Any] | None:
        standing = terms.standing(member_id)
        if standing is None:
            return None
        return {"agreement": standing.agreement, "purposes": sorted(standing.purposes),
                "max_days": standing.max_days, "aggregate_allowed": standing.aggregate_allowed,
                "gpc_opt_out": standing.gpc_opt_out, "gpc_at": iso(standing.gpc_at),
                "version": standing.version, "updated_at": iso(standing.updated_at)}

    def member_agreements(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": a.id, "brand_id": a.brand_id, "brand": names.get(a.brand_id, ""),
                 "proffered": a.proffered, "countered": a.countered, "status": a.status.value,
                 "agreed": a.agreed, "record": a.record, "record_hash": a.record_hash,
                 "signature": a.signature, "created_at": iso(a.created_at),
                 "updated_at": iso(a.updated_at)}
                for a in sorted(agreements.for_member(member_id), key=by_creation)]

    def member_grants(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        recorded = grants.recorded_expiries(member_id)
        return [{"id": g.id, "brand_id": g.brand_id, "brand": names.get(g.brand_id, ""),
                 "purpose": g.purpose, "fields": sorted(g.fields),
                 "mode": g.mode.value, "status": g.status.value, "starts_at": iso(g.starts_at),
                 "ends_at": iso(g.ends_at), "withdrawn_at": iso(g.withdrawn_at),
                 "expiry_recorded": g.id in recorded,
                 "retention_days": g.retention_days,
                 "onward_sharing": g.onward_sharing, "third_party": g.third_party,
                 "jurisdiction": g.jurisdiction, "collection_method": g.collection_method,
                 "agreement": g.agreement, "terms_version": g.terms_version,
                 "version": g.version, "created_at": iso(g.created_at),
                 "updated_at": iso(g.updated_at), "replaced_by": g.replaced_by,
                 "access_ended": None if g.access_ended is None else g.access_ended.value,
                 "access_ended_at": iso(g.access_ended_at)}
                for g in sorted(grants.for_member(member_id), key=by_creation)]

    def receipts(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r.id, "grant_id": r.grant_id, "brand_id": r.brand_id,
                 "brand": names.get(r.brand_id, ""), "event": r.event,
                 "issued_at": iso(r.created_at), "jws": r.token,
                 "ledger": receipt_entry(ledger, r.token)}
                for r in sorted(grants.receipts(member_id), key=by_creation)]

    def brand_terms(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"brand_id": t.brand_id, "brand": names.get(t.brand_id, ""),
                 "purposes": sorted(t.purposes), "max_days": t.max_days,
                 "version": t.version, "updated_at": iso(t.updated_at)}
                for t in sorted(terms.brand_terms(member_id), key=lambda t: t.brand_id)]

    def terms_receipts(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r.id, "brand_id": r.brand_id, "brand": names.get(r.brand_id, ""),
                 "version": r.version, "issued_at": iso(r.created_at), "jws": r.token}
                for r in sorted(terms.receipts(member_id), key=by_creation)]

    def ledger_entries(member_id: str) -> list[dict[str, Any]]:
        needle = json.dumps(principal(member_id)).encode()     # as it stands in a body
        entries = []
        found = ledger.store.bodies_containing(needle)
        named = {p.index for p in map(position_of, (r.token for r in grants.receipts(member_id)))
                 if p is not None}
        found += [(seq, ledger.entry(seq).body) for seq in named]
        for seq, body in sorted(dict(found).items()):
            entry = json.loads(body)
            if entry["tag"] in ACCESS_TAGS:
                continue
            entries.append({"seq": seq, "time": entry["time"], "tag": entry["tag"],
                            "actor": entry["actor"], "details": entry["details"]})
        return entries

    return Exporter("consent", sections=(
        Section("terms", {
            "description": "Your standing personal terms (IEEE 7012 style); null if you never"
                           " set any (then nothing is accepted).",
            "oneOf": [{"type": "null"}, {
                "type": "object", "additionalProperties": False,
                "required": ["agreement", "purposes", "max_days", "aggregate_allowed",
                             "gpc_opt_out", "gpc_at", "version", "updated_at"],
                "properties": {
                    "agreement": {"type": "string"}, "purposes": STRINGS,
                    "max_days": {"type": "integer", "minimum": 0},
                    "aggregate_allowed": {"type": "boolean"},
                    "gpc_opt_out": {"type": "boolean"}, "gpc_at": NULLABLE_TIME,
                    "version": {"type": "integer"}, "updated_at": TIME}}]},
            standing_terms, tables=(f"{DATA_STORE}:member_terms",)),
        Section("agreements", list_of({
            "id": {"type": "string"}, "brand_id": {"type": "string"},
            "brand": {"type": "string"}, "proffered": {"type": "string"},
            "countered": {"type": ["string", "null"]}, "status": {"type": "string"},
            "agreed": {"type": ["string", "null"]},
            "record": {"type": ["string", "null"],
                       "description": "the agreement record both sides hold, canonical JSON"},
            "record_hash": {"type": ["string", "null"]},
            "signature": {"type": ["string", "null"],
                          "description": "the vault's JWS over the record"},
            "created_at": TIME, "updated_at": TIME,
        }, description="Every IEEE 7012 agreement with a brand, whatever became of it."),
            member_agreements, tables=(f"{DATA_STORE}:agreements",),
            csv=CsvFile("agreements.csv", ("id", "brand", "brand_id", "proffered", "countered",
                                           "status", "agreed", "record_hash", "created_at",
                                           "updated_at"),
                        "your IEEE 7012 agreements with brands")),
        Section("grants", list_of({
            "id": {"type": "string"}, "brand_id": {"type": "string"},
            "brand": {"type": "string"}, "purpose": {"type": "string"},
            "fields": STRINGS, "mode": {"type": "string"},
            "status": {"type": "string"},
            "starts_at": TIME, "ends_at": TIME, "withdrawn_at": NULLABLE_TIME,
            "expiry_recorded": {"type": "boolean"},
            "retention_days": {"type": "integer"}, "onward_sharing": {"type": "boolean"},
            "third_party": {"type": ["string", "null"]}, "jurisdiction": {"type": "string"},
            "collection_method": {"type": "string"}, "agreement": {"type": "string"},
            "terms_version": {"type": "integer"}, "version": {"type": "integer"},
            "created_at": TIME, "updated_at": TIME,
            "replaced_by": {"type": ["string", "null"],
                            "description": "the newer grant that took this one's place"},
            "access_ended": {"type": ["string", "null"],
                             "description": "why the brand's access ended while your consent"
                                            " stood (code-replay, refresh-replay, ...)"},
            "access_ended_at": NULLABLE_TIME,
        }, description="Every grant you gave a brand, in every state (live, withdrawn,"
                       " released, replaced, expired, or with the brand's access ended)."),
            member_grants, tables=(f"{DATA_STORE}:grants",),
            csv=CsvFile("grants.csv", ("id", "brand", "brand_id", "purpose", "fields", "mode",
                                       "status", "starts_at", "ends_at", "withdrawn_at",
                                       "retention_days", "onward_sharing", "third_party",
                                       "agreement", "version", "created_at", "updated_at"),
                        "every grant you gave a brand, in every state")),
        Section("receipts", list_of({
            "id": {"type": "string"}, "grant_id": {"type": "string"},
            "brand_id": {"type": "string"}, "brand": {"type": "string"},
            "event": {"type": "string"}, "issued_at": TIME,
            "jws": {"type": "string", "pattern": r"^[\w-]+\.[\w-]+\.[\w-]+$",
                    "description": "the signed consent receipt as issued (compact JWS, EdDSA)"},
            "ledger": {"oneOf": [{"type": "null"}, {
                "type": "object", "additionalProperties": False,
                "required": ["log", "index", "entry", "leaf_hash"],
                "properties": {"log": {"type": "string"},
                               "index": {"type": "integer", "minimum": 0},
                               "entry": {"type": "string"}, "leaf_hash": {"type": "string"}}}],
                "description": "the receipt's entry in the public log: its index and exact"
                               " body, to prove with the tiles under /log/ (null for receipts"
                               " issued before receipts named their position)"},
        }, description="Every signed consent receipt issued for your grants."),
            receipts, tables=(f"{DATA_STORE}:receipts",),
            csv=CsvFile("receipts.csv", ("id", "issued_at", "brand", "brand_id", "grant_id",
                                         "event", "jws"),
                        "every signed consent receipt (the JWS as issued)")),
        Section("brand_terms", list_of({
            "brand_id": {"type": "string"}, "brand": {"type": "string"},
            "purposes": STRINGS, "max_days": {"type": "integer", "minimum": 0},
            "version": {"type": "integer"}, "updated_at": TIME,
        }, description="What you accepted for one brand only, beyond your standing terms."),
            brand_terms, tables=(f"{DATA_STORE}:member_brand_terms",)),
        Section("terms_receipts", list_of({
            "id": {"type": "string"}, "brand_id": {"type": "string"},
            "brand": {"type": "string"}, "version": {"type": "integer"}, "issued_at": TIME,
            "jws": {"type": "string", "pattern": r"^[\w-]+\.[\w-]+\.[\w-]+$",
                    "description": "the signed receipt as issued (compact JWS, EdDSA)"},
        }, description="Every signed receipt of a change of your terms for one brand."),
            terms_receipts, tables=(f"{DATA_STORE}:terms_receipts",)),
        Section("ledger_entries", list_of({
            "seq": {"type": "integer", "minimum": 0}, "time": {"type": "string"},
            "tag": {"type": "string"}, "actor": {"type": "string"},
            "details": {"type": "object"},
        }, description="Your entries in the tamper-evident ledger by seq: consent events,"
                       " terms changes, and your requests for your data (member:data:exported);"
                       " brand reads are in disclosures."), ledger_entries),
    ))

"""Consent's part of a member's export: terms, agreements, grants, receipts, ledger entries.

How the parts of an export meet is in :mod:`vault.export`. This one reads the consent tables of
the data store directly (every row of the member, whatever its state: withdrawn and expired
grants, rejected agreements) and the member's own entries in the ledger.

Invariants:
- Receipts and agreement records are exported as issued: the compact JWS strings and the
  canonical JSON the vault signed, byte for byte, so the member can verify them with the keys at
  ``/.well-known/jwks.json`` and show them to anyone.
- Ledger entries are those whose actor or details name the member's principal, less the brand
  reads (the gateway's ``disclosures`` section lists those, with brand names); each is given with
  its ``seq`` (for ``vrmvault ledger proof``) as recorded. Found by a byte search over the
  entries: an export is rare, and the ledger keeps no index of principals beyond reads.
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
from vault.storage import Database

from .access_index import ACCESS_TAGS
from .ledger import Ledger

_BRAND_NAMES = "SELECT id, name FROM brands"


def consent_exporter(*, database: Database, ledger: Ledger,
                     principal: Callable[[str], str]) -> Exporter:
    """Consent's sections, over the data store and the ledger; ``principal`` maps a member id
    to the pseudonym that stands for them in the ledger."""

    def brand_names() -> dict[str, str]:
        return {r["id"]: r["name"] for r in database.all(_BRAND_NAMES)}

    def terms(member_id: str) -> dict[str, Any] | None:
        row = database.one("SELECT * FROM member_terms WHERE member_id = ?", (member_id,))
        if row is None:
            return None
        return {"agreement": row["agreement"], "purposes": json.loads(row["purposes"]),
                "max_days": row["max_days"], "aggregate_allowed": bool(row["aggregate_allowed"]),
                "gpc_opt_out": bool(row["gpc_opt_out"]), "gpc_at": iso(row["gpc_at"]),
                "version": row["version"], "updated_at": iso(row["updated_at"])}

    def agreements(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r["id"], "brand_id": r["brand_id"], "brand": names.get(r["brand_id"], ""),
                 "proffered": r["proffered"], "countered": r["countered"], "status": r["status"],
                 "agreed": r["agreed"], "record": r["record"], "record_hash": r["record_hash"],
                 "signature": r["signature"], "created_at": iso(r["created_at"]),
                 "updated_at": iso(r["updated_at"])}
                for r in database.all("SELECT * FROM agreements WHERE member_id = ?"
                                      " ORDER BY created_at, id", (member_id,))]

    def grants(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r["id"], "brand_id": r["brand_id"], "brand": names.get(r["brand_id"], ""),
                 "purpose": r["purpose"], "fields": sorted(json.loads(r["fields"])),
                 "mode": r["mode"], "status": r["status"], "starts_at": iso(r["starts_at"]),
                 "ends_at": iso(r["ends_at"]), "withdrawn_at": iso(r["withdrawn_at"]),
                 "expiry_recorded": bool(r["expiry_recorded"]),
                 "retention_days": r["retention_days"],
                 "onward_sharing": bool(r["onward_sharing"]), "third_party": r["third_party"],
                 "jurisdiction": r["jurisdiction"], "collection_method": r["collection_method"],
                 "agreement": r["agreement"], "terms_version": r["terms_version"],
                 "version": r["version"], "created_at": iso(r["created_at"]),
                 "updated_at": iso(r["updated_at"]), "replaced_by": r["replaced_by"],
                 "access_ended": r["access_ended"],
                 "access_ended_at": iso(r["access_ended_at"])}
                for r in database.all("SELECT * FROM grants WHERE member_id = ?"
                                      " ORDER BY created_at, id", (member_id,))]

    def receipts(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r["id"], "grant_id": r["grant_id"], "brand_id": r["brand_id"],
                 "brand": names.get(r["brand_id"], ""), "event": r["event"],
                 "issued_at": iso(r["created_at"]), "jws": r["token"]}
                for r in database.all("SELECT * FROM receipts WHERE member_id = ?"
                                      " ORDER BY created_at, id", (member_id,))]

    def brand_terms(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"brand_id": r["brand_id"], "brand": names.get(r["brand_id"], ""),
                 "purposes": sorted(json.loads(r["purposes"])), "max_days": r["max_days"],
                 "version": r["version"], "updated_at": iso(r["updated_at"])}
                for r in database.all("SELECT * FROM member_brand_terms WHERE member_id = ?"
                                      " ORDER BY brand_id", (member_id,))]

    def terms_receipts(member_id: str) -> list[dict[str, Any]]:
        names = brand_names()
        return [{"id": r["id"], "brand_id": r["brand_id"], "brand": names.get(r["brand_id"], ""),
                 "version": r["version"], "issued_at": iso(r["created_at"]), "jws": r["token"]}
                for r in database.all("SELECT * FROM terms_receipts WHERE member_id = ?"
                                      " ORDER BY created_at, id", (member_id,))]

    def ledger_entries(member_id: str) -> list[dict[str, Any]]:
        needle = json.dumps(principal(member_id)).encode()     # as it stands in a body
        entries = []
        for seq, body in ledger.database.all(
                "SELECT seq, body FROM entries WHERE instr(body, ?) > 0 ORDER BY seq",
                (needle,)):
            entry = json.loads(bytes(body))
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
            terms, tables=(f"{DATA_STORE}:member_terms",)),
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
            agreements, tables=(f"{DATA_STORE}:agreements",),
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
            grants, tables=(f"{DATA_STORE}:grants",),
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

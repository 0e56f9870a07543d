"""Portability (GDPR Art. 20): everything about a member as one zip.

The zip holds ``vrmvault-export.json`` (all of it, structured), ``vrmvault-export.schema.json``
(a JSON Schema, draft 2020-12, that the document validates against), one CSV file per table for
people and spreadsheets, and a README. Built in memory: a member's export is small (10,000
feedback entries make well under 2 MB).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .brands import BrandDirectory
from .catalog import BY_KEY, CATALOG_VERSION, CATEGORY_LABELS, TOUCHPOINTS
from .clock import Clock
from .feedback import FeedbackService
from .members import MemberService
from .profile import ProfileService
from .sessions import SessionStore

FORMAT_VERSION = 1
DOCUMENT = "vrmvault-export.json"
SCHEMA = "vrmvault-export.schema.json"


def _iso(seconds: int | float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def export_schema() -> dict[str, Any]:
    """The JSON Schema of the export document."""
    nullable_int = {"type": ["integer", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:vrmvault:export:v1",
        "title": "vrmvault member export",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "format_version", "generated_at", "catalog_version", "member",
                     "profile", "feedback", "sessions"],
        "properties": {
            "format": {"const": "vrmvault-export"},
            "format_version": {"const": FORMAT_VERSION},
            "generated_at": {"type": "string", "format": "date-time"},
            "catalog_version": {"type": "string"},
            "member": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "email", "created_at", "second_factor"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    "email": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "second_factor": {"type": "boolean"},
                },
            },
            "profile": {
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["attribute", "label", "category", "sensitive", "value"],
                    "properties": {
                        "attribute": {"enum": sorted(BY_KEY)},
                        "label": {"type": "string"},
                        "category": {"enum": [str(c) for c in CATEGORY_LABELS]},
                        "sensitive": {"type": "boolean"},
                        "value": {"type": ["string", "integer", "array"],
                                  "items": {"type": "string"}},
                    },
                },
            },
            "feedback": {
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["id", "brand_id", "brand", "touchpoint", "rating", "nps",
                                 "comment", "occurred_on", "updated_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "brand_id": {"type": "string"},
                        "brand": {"type": "string"},
                        "touchpoint": {"enum": [k for k, _ in TOUCHPOINTS]},
                        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                        "nps": nullable_int | {"minimum": 0, "maximum": 10},
                        "comment": {"type": "string"},
                        "occurred_on": {"type": "string", "format": "date"},
                        "updated_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "sessions": {
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["device", "created_at", "last_seen"],
                    "properties": {
                        "device": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "last_seen": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "disclosures": {
                "description": "Every read of your data by a brand, newest first: the"
                               " recipients of GDPR Art. 15(1)(c), from the ledger.",
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["read_at", "brand_id", "brand", "resource", "purpose",
                                 "fields", "ledger_seq"],
                    "properties": {
                        "read_at": {"type": "string", "format": "date-time"},
                        "brand_id": {"type": "string"},
                        "brand": {"type": "string"},
                        "resource": {"enum": ["profile", "feedback"]},
                        "purpose": {"type": "string"},
                        "fields": {"type": "array", "items": {"type": "string"}},
                        "ledger_seq": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    }


@dataclass(frozen=True)
class Disclosure:
    """One read of the member's data by a brand (kept in the ledger, not in this store)."""

    read_at: int
    brand_id: str
    brand: str
    resource: str
    purpose: str
    fields: tuple[str, ...]
    ledger_seq: int


_README = """\
Your data from vrmvault
=======================

vrmvault-export.json         everything we hold about you, in one structured document
vrmvault-export.schema.json  a JSON Schema (draft 2020-12) describing that document
profile.csv                  your profile, one attribute per row
feedback.csv                 your feedback journal, one entry per row
sessions.csv                 the places you are signed in
disclosures.csv              every read of your data by a brand: when, who, for what, which
                             fields (with the ledger entry that records it)

Dates and times are UTC, in ISO 8601. CSV files are UTF-8 with a header row.
"""


class ExportService:
    def __init__(
        self, *, members: MemberService, profile: ProfileService, feedback: FeedbackService,
        brands: BrandDirectory, sessions: SessionStore, clock: Clock,
    ) -> None:
        self._members = members
        self._profile = profile
        self._feedback = feedback
        self._brands = brands
        self._sessions = sessions
        self._clock = clock

    def document(self, member_id: str,
                 disclosures: Iterable[Disclosure] | None = None) -> dict[str, Any]:
        """Everything about the member; with ``disclosures`` (the brand reads the ledger
        holds, which the web layer looks up), those too."""
        document = self._document(member_id)
        if disclosures is not None:
            document["disclosures"] = [
                {"read_at": _iso(d.read_at), "brand_id": d.brand_id, "brand": d.brand,
                 "resource": d.resource, "purpose": d.purpose, "fields": list(d.fields),
                 "ledger_seq": d.ledger_seq}
                for d in disclosures]
        return document

    def _document(self, member_id: str) -> dict[str, Any]:
        member = self._members.get(member_id)
        names = {b.id: b.name for b in self._brands.all()}
        profile = self._profile.get(member_id)
        return {
            "format": "vrmvault-export",
            "format_version": FORMAT_VERSION,
            "generated_at": _iso(self._clock()),
            "catalog_version": CATALOG_VERSION,
            "member": {"id": member.id, "email": member.email,
                       "created_at": _iso(member.created_at),
                       "second_factor": member.totp_enabled},
            "profile": [
                {"attribute": a.key, "label": a.label, "category": str(a.category),
                 "sensitive": a.sensitive, "value": profile[a.key]}
                for a in BY_KEY.values() if a.key in profile
            ],
            "feedback": [
                {"id": e.id, "brand_id": e.brand_id, "brand": names.get(e.brand_id, ""),
                 "touchpoint": e.touchpoint, "rating": e.rating, "nps": e.nps,
                 "comment": e.comment, "occurred_on": e.occurred_on,
                 "updated_at": _iso(e.updated_at)}
                for e in self._feedback.for_member(member_id)
            ],
            "sessions": [
                {"device": s.device, "created_at": _iso(s.created_at),
                 "last_seen": _iso(s.last_seen)}
                for s in self._sessions.for_member(member_id, current=None)
            ],
        }

    def zip_bytes(self, member_id: str,
                  disclosures: Iterable[Disclosure] | None = None) -> bytes:
        document = self.document(member_id, disclosures)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(DOCUMENT, json.dumps(document, indent=2, ensure_ascii=False))
            archive.writestr(SCHEMA, json.dumps(export_schema(), indent=2))
            archive.writestr("profile.csv", _csv(
                ["attribute", "label", "category", "sensitive", "value"],
                [[p["attribute"], p["label"], p["category"], p["sensitive"],
                  "; ".join(p["value"]) if isinstance(p["value"], list) else p["value"]]
                 for p in document["profile"]],
            ))
            columns = ["id", "occurred_on", "brand", "brand_id", "touchpoint", "rating", "nps",
                       "comment", "updated_at"]
            archive.writestr("feedback.csv", _csv(
                columns, [[e[c] for c in columns] for e in document["feedback"]]
            ))
            archive.writestr("sessions.csv", _csv(
                ["device", "created_at", "last_seen"],
                [[s["device"], s["created_at"], s["last_seen"]] for s in document["sessions"]],
            ))
            if "disclosures" in document:
                archive.writestr("disclosures.csv", _csv(
                    ["read_at", "brand", "brand_id", "resource", "purpose", "fields",
                     "ledger_seq"],
                    [[d["read_at"], d["brand"], d["brand_id"], d["resource"], d["purpose"],
                      "; ".join(d["fields"]), d["ledger_seq"]] for d in document["disclosures"]],
                ))
            archive.writestr("README.txt", _README)
        return buffer.getvalue()


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # A cell that a spreadsheet would run as a formula is prefixed (OWASP CSV injection).
        writer.writerow(["'" + c if isinstance(c, str) and c and c[0] in "=+-@\t\r" else c
                         for c in row])
    return out.getvalue()

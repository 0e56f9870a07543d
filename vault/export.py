"""Portability (GDPR Art. 15 and 20): everything held about a member, as one zip.

The zip holds ``vrmvault-export.json`` (all of it, structured), ``vrmvault-export.schema.json``
(a JSON Schema, draft 2020-12, that the document validates against), a CSV file per list for
people and spreadsheets, and a README. Built in memory: a member's export is small (10,000
feedback entries make well under 2 MB).

Composition. Every layer keeps records about the member (the vault its profile and feedback,
consent the terms, grants and receipts, the brand gateway its authorizations), but the vault
knows nothing of the layers above it (imports flow web/brand_gateway -> consent -> vault). So
each layer contributes an :class:`Exporter`: the sections of the document it fills (a key, that
key's JSON Schema, a function of the member id, optionally a CSV file) and the tables it
accounts for, exported or withheld with the reason why. The vault's is ``Vault.export``
(:func:`vault_exporter`), consent's :func:`consent.export.consent_exporter`, the gateway's
:func:`brand_gateway.export.gateway_exporter`; the web layer (:func:`web.exports.member_export`)
lists them and :class:`MemberExport` builds the document, the schema and the zip from them.

Invariants:
- Every table of every store that holds rows of a member (a member id column, or a foreign key
  leading to ``members``) is named by exactly one exporter, in a section's ``tables`` or in its
  ``withheld``: ``tests/unit/web/test_export_coverage.py`` derives the list from the stores
  themselves and fails on a table nobody names. A new table is one line in its layer's exporter.
- Never exported (and the schema's description says why): password hashes, TOTP secrets, the
  hashes of session cookies, codes and tokens, wrapped keys, blind indexes. ``withheld`` names
  them (``store:table`` or ``store:table.column``).
- A section's key, schema and CSV file are declared together; the document always validates
  against the schema in the same zip.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .brands import BrandDirectory
from .catalog import BY_KEY, CATALOG_VERSION, CATEGORY_LABELS, TOUCHPOINTS
from .clock import Clock
from .feedback import FeedbackService
from .members import MemberService
from .profile import ProfileService
from .repositories import SessionRepository

FORMAT_VERSION = 2
DOCUMENT = "vrmvault-export.json"
SCHEMA = "vrmvault-export.schema.json"
DATA_STORE = "data.db"
KEY_STORE = "keys.db"
ENVELOPE = ("format", "format_version", "generated_at")

TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": {"type": "string"}}


def iso(seconds: int | float | None) -> str | None:
    """UTC ISO 8601 with a ``Z``, as every time in the export is written (``None`` stays)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def list_of(properties: Mapping[str, Any], *, description: str = "") -> dict[str, Any]:
    """The schema of a list of objects that have exactly ``properties``, all required."""
    schema: dict[str, Any] = {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": list(properties),
        "properties": dict(properties)}}
    if description:
        schema["description"] = description
    return schema


@dataclass(frozen=True)
class CsvFile:
    """A section written as a CSV file too: one row per item, these keys as columns (lists are
    joined with "; ", objects written as JSON)."""

    name: str
    columns: tuple[str, ...]
    about: str                        # its line in the README


@dataclass(frozen=True)
class Section:
    """One key of the export document: its schema, how it is collected, the tables it holds."""

    key: str
    schema: Mapping[str, Any]
    collect: Callable[[str], Any]      # member id -> a JSON value
    tables: tuple[str, ...] = ()       # "store:table", whose rows of the member it holds
    csv: CsvFile | None = None


@dataclass(frozen=True)
class Exporter:
    """What one layer contributes to the export."""

    layer: str
    sections: tuple[Section, ...]
    # "store:table" or "store:table.column" -> why it is deliberately left out
    withheld: Mapping[str, str] = field(default_factory=dict)

    def tables(self) -> set[str]:
        """Every table this layer accounts for (exported or withheld whole)."""
        named = {t for s in self.sections for t in s.tables}
        return named | {name for name in self.withheld if "." not in name.partition(":")[2]}


class MemberExport:
    """The export assembled from every layer's :class:`Exporter`."""

    def __init__(self, exporters: Sequence[Exporter], *, clock: Clock) -> None:
        keys = [s.key for e in exporters for s in e.sections]
        files = [s.csv.name for e in exporters for s in e.sections if s.csv]
        tables = [t for e in exporters for t in e.tables()]
        for what, names in (("section", keys), ("CSV file", files), ("table", tables)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what} named by two exporters: {', '.join(twice)}")
        if set(keys) & set(ENVELOPE):
            raise ValueError("a section may not take a key of the envelope")
        self.exporters = tuple(exporters)
        self._clock = clock

    @property
    def sections(self) -> list[Section]:
        return [s for e in self.exporters for s in e.sections]

    def tables(self) -> set[str]:
        """Every member-owned table some exporter accounts for."""
        return {t for e in self.exporters for t in e.tables()}

    def withheld(self) -> dict[str, str]:
        return {name: why for e in self.exporters for name, why in e.withheld.items()}

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the document."""
        left_out = "; ".join(f"{name}: {why}" for name, why in sorted(self.withheld().items()))
        properties: dict[str, Any] = {
            "format": {"const": "vrmvault-export"},
            "format_version": {"const": FORMAT_VERSION},
            "generated_at": TIME,
        }
        properties.update({s.key: dict(s.schema) for s in self.sections})
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:vrmvault:export:v{FORMAT_VERSION}",
            "title": "vrmvault member export",
            "description": (
                "Every record vrmvault holds about one member, from every layer of the vault"
                " (profile, feedback, sessions; personal terms, agreements, grants in every"
                " state, signed receipts as issued, the member's ledger entries; each brand's"
                " pseudonym, authorizations and the notices it was sent, and every read by a"
                " brand; insight communities with the pseudonym in each, ideas and votes,"
                " survey answers, care cases; data subject requests; intents with their"
                " offers)."
                " Times are UTC (ISO 8601). Deliberately left out, by store:table[.column]: "
                + left_out + "."),
            "type": "object",
            "additionalProperties": False,
            "required": list(properties),
            "properties": properties,
        }

    def document(self, member_id: str) -> dict[str, Any]:
        """Everything about the member."""
        document: dict[str, Any] = {"format": "vrmvault-export",
                                    "format_version": FORMAT_VERSION,
                                    "generated_at": iso(self._clock())}
        for section in self.sections:
            document[section.key] = section.collect(member_id)
        return document

    def zip_bytes(self, member_id: str) -> bytes:
        document = self.document(member_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(DOCUMENT, json.dumps(document, indent=2, ensure_ascii=False))
            archive.writestr(SCHEMA, json.dumps(self.schema(), indent=2))
            for section in self.sections:
                if section.csv is not None:
                    archive.writestr(section.csv.name, _csv(section.csv.columns,
                                                            document[section.key]))
            archive.writestr("README.txt", self.readme())
        return buffer.getvalue()

    def readme(self) -> str:
        lines = ["Your data from vrmvault", "=======================", "",
                 f"{DOCUMENT:<28} everything we hold about you, in one structured document",
                 f"{SCHEMA:<28} a JSON Schema (draft 2020-12) describing that document,",
                 f"{'':<28} and what is deliberately left out and why"]
        lines += [f"{s.csv.name:<28} {s.csv.about}" for s in self.sections if s.csv]
        lines += ["", "Dates and times are UTC, in ISO 8601. CSV files are UTF-8 with a header"
                  " row.", "A CSV cell that starts with = + - @ or a tab is written with an"
                  " apostrophe before it", "(+31 6 ... as '+31 6 ...), so that a spreadsheet"
                  f" shows it instead of running it; {DOCUMENT}", "holds every value as it"
                  " is.", "Signed receipts and agreement records are JWS (EdDSA): the keys"
                  " that verify them", "are published at /.well-known/jwks.json.", ""]
        return "\n".join(lines)


def _csv(columns: Sequence[str], items: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        row = []
        for column in columns:
            value = item[column]
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif value is None:
                value = ""
            # A cell that a spreadsheet would run as a formula is prefixed (OWASP CSV injection).
            if isinstance(value, str) and value and value[0] in "=+-@\t\r":
                value = "'" + value
            row.append(value)
        writer.writerow(row)
    return out.getvalue()


# -- the vault's contribution ------------------------------------------------------------------
def vault_exporter(*, sessions: SessionRepository, members: MemberService,
                   profile: ProfileService, feedback: FeedbackService,
                   brands: BrandDirectory) -> Exporter:
    """The account, profile, feedback journal and sessions (data store); the key store's
    tables are withheld."""

    def member(member_id: str) -> dict[str, Any]:
        account = members.get(member_id)
        return {"id": account.id, "email": account.email, "created_at": iso(account.created_at),
                "second_factor": account.totp_enabled, "role": members.role(member_id)}

    def profile_values(member_id: str) -> list[dict[str, Any]]:
        values = profile.get(member_id)
        return [{"attribute": a.key, "label": a.label, "category": str(a.category),
                 "sensitive": a.sensitive, "value": values[a.key]}
                for a in BY_KEY.values() if a.key in values]

    def journal(member_id: str) -> list[dict[str, Any]]:
        names = {b.id: b.name for b in brands.all()}
        return [{"id": e.id, "brand_id": e.brand_id, "brand": names.get(e.brand_id, ""),
                 "touchpoint": e.touchpoint, "rating": e.rating, "nps": e.nps,
                 "comment": e.comment, "occurred_on": e.occurred_on,
                 "updated_at": iso(e.updated_at)}
                for e in feedback.for_member(member_id)]

    def member_sessions(member_id: str) -> list[dict[str, Any]]:
        return [{"device": r.device, "created_at": iso(r.created_at),
                 "last_seen": iso(r.last_seen), "expires_at": iso(r.expires_at)}
                for r in sessions.for_member(member_id)]

    return Exporter("vault", sections=(
        Section("catalog_version", {"type": "string"}, lambda _: CATALOG_VERSION),
        Section("member", {
            "description": "Your account. (An erasure leaves only a pseudonymous record, made"
                           " when the account is erased: while you can export, there is none.)",
            "type": "object", "additionalProperties": False,
            "required": ["id", "email", "created_at", "second_factor", "role"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "email": {"type": "string"},
                "created_at": TIME,
                "second_factor": {"type": "boolean"},
                "role": {"type": "string",
                         "description": "member, compliance (officer) or administrator"},
            }}, member, tables=(f"{DATA_STORE}:members", f"{DATA_STORE}:member_roles")),
        Section("profile", list_of({
            "attribute": {"enum": sorted(BY_KEY)},
            "label": {"type": "string"},
            "category": {"enum": [str(c) for c in CATEGORY_LABELS]},
            "sensitive": {"type": "boolean"},
            "value": {"type": ["string", "integer", "array"], "items": {"type": "string"}},
        }), profile_values, tables=(f"{DATA_STORE}:profile_values",),
            csv=CsvFile("profile.csv", ("attribute", "label", "category", "sensitive", "value"),
                        "your profile, one attribute per row")),
        Section("feedback", list_of({
            "id": {"type": "integer"},
            "brand_id": {"type": "string"},
            "brand": {"type": "string"},
            "touchpoint": {"enum": [k for k, _ in TOUCHPOINTS]},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "nps": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
            "comment": {"type": "string"},
            "occurred_on": {"type": "string", "format": "date"},
            "updated_at": TIME,
        }), journal, tables=(f"{DATA_STORE}:feedback",),
            csv=CsvFile("feedback.csv", ("id", "occurred_on", "brand", "brand_id", "touchpoint",
                                         "rating", "nps", "comment", "updated_at"),
                        "your feedback journal, one entry per row")),
        Section("sessions", list_of({
            "device": {"type": "string"},
            "created_at": TIME,
            "last_seen": TIME,
            "expires_at": TIME,
        }, description="Every sign-in the store still holds, ended ones until they are"
                       " cleared."), member_sessions, tables=(f"{DATA_STORE}:web_sessions",),
            csv=CsvFile("sessions.csv", ("device", "created_at", "last_seen", "expires_at"),
                        "the places you are (or were lately) signed in")),
    ), withheld={
        f"{DATA_STORE}:members.email_index": "a keyed hash of your address for look-ups (your"
        " address itself is in member.email)",
        f"{DATA_STORE}:members.password_hash": "the argon2id hash of your password: useless"
        " to you, and a guessing target in a copied zip",
        f"{DATA_STORE}:members.totp_sealed": "your authenticator's secret: whoever holds it"
        " can make your second-step codes",
        f"{DATA_STORE}:members.totp_last_step": "the last code step used, a replay guard",
        f"{DATA_STORE}:web_sessions.id_hash": "the hash of a session cookie",
        f"{DATA_STORE}:web_sessions.data": "a session's working state (its CSRF token)",
        f"{DATA_STORE}:password_resets": "pending password-reset links: only the hash of each"
        " link's token and its times, gone once used or expired",
        f"{DATA_STORE}:totp_recovery_codes": "keyed hashes of your second-step recovery codes:"
        " the codes themselves were shown to you once and are never stored",
        f"{DATA_STORE}:erasure_intents": "the record that an erasure is under way, kept only"
        " until it is finished; an account that can export has none",
        f"{KEY_STORE}:member_keys": "your data key, wrapped under the vault's key-encryption"
        " key: it decrypts nothing without the master key and is never handed out",
        f"{KEY_STORE}:erased_members": "the list of erased accounts, kept for restores; an"
        " account that can export is not on it",
    })

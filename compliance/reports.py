"""The reports a compliance officer hands a regulator, built from the live store and the ledger.

- **Records of processing** (GDPR Art. 30(1)), :meth:`ReportService.records_of_processing`:
  per brand (the controller of what it receives), per purpose of its grants in force now: the
  DPV purpose, the legal basis (every grant is consent: Art. 6(1)(a), and Art. 9(2)(a) where a
  special category is in it), the data categories (``consent/vocabulary.py``'s field ->
  DPV category), the fields, the modes, the retention the brand promised, onward sharing and
  to whom, the consents' jurisdictions, the IEEE 7012 terms, and how many members and grants.
  Transfers to a third country (Art. 30(1)(e)) are not something the store records: the report
  says "none recorded" rather than guess. What the store knows of a brand as a controller is its
  name, categories, registration and OAuth clients; no contact or representative is recorded,
  and the report says so. The vault operator's own facts are those its consent receipts carry.
- **Exposure of a brand** for a breach at that brand (Art. 33(3)(a): categories and
  approximate number of data subjects and records), :meth:`ReportService.exposure`: every
  member who ever granted the brand anything (any state: a brand may keep copies within the
  retention it promised after a grant ends), by the ledger pseudonym (``consent.principal``),
  with the fields the brand could read individually, since when, under which grants (ids,
  purposes, modes, states, dates), and what the brand actually read according to the ledger's
  brand-read index (``consent/access_index.py``): how many reads, which fields, first and last.
  Members erased since are not listed: erasure deleted their grants with them, and the ledger
  names them only by a pseudonym nobody can compute any more; the brand's reads of them are
  counted (how many such members, how many reads), never linked to anyone.
- **Grant activity** (:meth:`ReportService.activity`): grants given, withdrawn and expired per
  month or ISO week, for the console's charts.

Invariants:
- Pseudonyms only. A report names a member by their principal and carries an e-mail address
  only for the principals in ``revealed``: the web passes the reveals made by the officer for
  the report's case (``exposure:<brand id>``, :func:`exposure_case`), the command line passes
  none. No profile value, feedback text or member id is ever read for a report.
- Counts are exact. Art. 30 and Art. 33 ask the controller for the number of data subjects,
  and the officer is trusted with the case-bound reveal anyway; the minimum-cohort rounding
  (``VRMVAULT_MINIMUM_COHORT``) protects members from *brands*, who never see these reports.
- Read only: building a report changes nothing (reveals are recorded by the reveal service).

The same report is a page, CSV and JSON: :func:`ropa_document`, :func:`exposure_document` and
:func:`activity_document` give the JSON shape (times in ISO 8601 UTC), the ``*_rows`` functions
the CSV rows, and :func:`write_csv` writes them with spreadsheet formulas neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from consent.access_index import MemberReads
from consent.model import Grant, GrantState, Mode
from consent.receipts import Controller
from consent.repositories import AccessIndexRepository
from consent.vocabulary import (
    PURPOSE_BY_CODE,
    VOCABULARY_VERSION,
    DataCategory,
    expand,
    field_category,
    field_label,
)
from vault.clock import Clock
from vault.errors import NotFoundError

from .repositories import ActivityRow, BrandFacts, Period, PurposeTally, ReportRepository

EXPOSURE_CASE_PREFIX = "exposure:"
NONE_RECORDED = "none recorded"

Progress = Callable[[int], None]


def exposure_case(brand_id: str) -> str:
    """The case a reveal for the brand's exposure report is made under."""
    return EXPOSURE_CASE_PREFIX + brand_id


def utc(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC to the second (``2026-12-04T17:20:00Z``), or ``None``."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


# -- records of processing ----------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryLine:
    code: str
    label: str
    special: bool


@dataclass(frozen=True)
class PurposeRecord:
    """One purpose of one brand's grants in force."""

    code: str
    label: str
    description: str
    legal_basis: str
    categories: tuple[CategoryLine, ...]
    fields: tuple[str, ...]
    members: int
    grants: int
    individual_grants: int
    aggregate_grants: int
    retention_days_min: int
    retention_days_max: int
    onward_sharing_grants: int
    third_parties: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    agreements: tuple[str, ...]
    collection_methods: tuple[str, ...]
    sale_or_sharing: bool

    @property
    def special(self) -> bool:
        return any(category.special for category in self.categories)


@dataclass(frozen=True)
class BrandRecord:
    brand: BrandFacts
    purposes: tuple[PurposeRecord, ...]
    members: int                      # distinct members with a grant in force
    transfers: str = NONE_RECORDED
    contact: str = NONE_RECORDED


@dataclass(frozen=True)
class RecordsOfProcessing:
    generated_at: int
    controller: Controller
    vocabulary: str
    brands: tuple[BrandRecord, ...]

    @property
    def grants(self) -> int:
        return sum(p.grants for b in self.brands for p in b.purposes)


def categories_of(fields: Iterable[str]) -> tuple[CategoryLine, ...]:
    """The distinct DPV categories of ``fields``, by code."""
    seen: dict[str, DataCategory] = {}
    for name in fields:
        category = field_category(name)
        known = seen.get(category.code)
        if known is None or (category.special and not known.special):
            seen[category.code] = category
    return tuple(CategoryLine(c.code, c.label, c.special)
                 for c in sorted(seen.values(), key=lambda c: c.code))


def legal_basis(categories: Sequence[CategoryLine]) -> str:
    basis = "consent, GDPR Art. 6(1)(a)"
    if any(category.special for category in categories):
        basis += "; explicit consent for special categories, Art. 9(2)(a)"
    return basis


def _purpose_record(tally: PurposeTally) -> PurposeRecord:
    purpose = PURPOSE_BY_CODE.get(tally.purpose)
    fields = expand(tally.selectors)
    categories = categories_of(fields)
    return PurposeRecord(
        code=tally.purpose, label=purpose.label if purpose else tally.purpose,
        description=purpose.description if purpose else "",
        legal_basis=legal_basis(categories), categories=categories,
        fields=tuple(sorted(fields)), members=tally.members, grants=tally.grants,
        individual_grants=tally.individual_grants,
        aggregate_grants=tally.grants - tally.individual_grants,
        retention_days_min=tally.retention_days_min,
        retention_days_max=tally.retention_days_max,
        onward_sharing_grants=tally.onward_sharing_grants,
        third_parties=tuple(sorted(tally.third_parties)),
        jurisdictions=tuple(sorted(tally.jurisdictions)),
        agreements=tuple(sorted(tally.agreements)),
        collection_methods=tuple(sorted(tally.collection_methods)),
        sale_or_sharing=bool(purpose and purpose.sale_or_sharing))


# -- exposure -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExposedGrant:
    id: str
    purpose: str
    mode: Mode
    state: GrantState
    fields: tuple[str, ...]
    starts_at: int
    ends_at: int
    ended_at: int | None          # when an act ended it (withdrawn, released, replaced)
    retention_days: int


@dataclass(frozen=True)
class ExposedMember:
    principal: str
    email: str | None             # only when revealed for the case
    since: int                    # the earliest start of a grant to the brand
    fields: tuple[str, ...]       # what the brand could read of theirs, record by record
    grants: tuple[ExposedGrant, ...]
    reads: int                    # brand reads of theirs in the ledger
    fields_read: tuple[str, ...]
    first_read: int | None
    last_read: int | None

    @property
    def aggregate_only(self) -> bool:
        """No grant let the brand read this member's records (aggregates only)."""
        return not self.fields


@dataclass(frozen=True)
class ExposureReport:
    case: str
    generated_at: int
    brand: BrandFacts
    members: tuple[ExposedMember, ...]
    # Reads of members erased since, whom no grant names any more: counted, never linked.
    erased_members: int = 0
    erased_reads: int = 0

    @property
    def categories(self) -> tuple[CategoryLine, ...]:
        return categories_of({f for m in self.members for f in m.fields})

    @property
    def individually_exposed(self) -> int:
        return sum(not m.aggregate_only for m in self.members)

    @property
    def members_read(self) -> int:
        return sum(m.reads > 0 for m in self.members)

    @property
    def reads(self) -> int:
        return sum(m.reads for m in self.members)

    @property
    def revealed(self) -> int:
        return sum(m.email is not None for m in self.members)


def _exposed(principal: str, email: str | None, grants: list[Grant],
             reads: MemberReads | None, now: int) -> ExposedMember:
    readable = frozenset().union(*(g.covered for g in grants if g.mode is Mode.INDIVIDUAL))
    return ExposedMember(
        principal=principal, email=email, since=min(g.starts_at for g in grants),
        fields=tuple(sorted(readable)),
        grants=tuple(ExposedGrant(g.id, g.purpose, g.mode, g.state(now),
                                  tuple(sorted(g.covered)), g.starts_at, g.ends_at,
                                  g.withdrawn_at, g.retention_days) for g in grants),
        reads=reads.reads if reads else 0,
        fields_read=tuple(sorted(reads.fields)) if reads else (),
        first_read=reads.first_read if reads else None,
        last_read=reads.last_read if reads else None)


# -- the service --------------------------------------------------------------------------------
class ReportService:
    """Reports over the data store's grants and brands and the ledger's brand-read index."""

    def __init__(self, *, reports: ReportRepository, access_index: AccessIndexRepository,
                 principal: Callable[[str], str], controller: Controller,
                 clock: Clock) -> None:
        self._reports = reports
        self._access_index = access_index
        self._principal = principal
        self._controller = controller
        self._clock = clock

    def brands(self) -> list[BrandFacts]:
        return self._reports.brands()

    def brand(self, brand_id: str) -> BrandFacts:
        brand = self._reports.brand(brand_id)
        if brand is None:
            raise NotFoundError("no such brand")
        return brand

    def live_grant_count(self) -> int:
        return self._reports.live_grant_count(int(self._clock()))

    def records_of_processing(self, progress: Progress | None = None) -> RecordsOfProcessing:
        """Art. 30 records from the grants in force now; ``progress`` is told how many brands
        are done so far."""
        now = int(self._clock())
        by_brand: dict[str, list[PurposeTally]] = {}
        for tally in self._reports.purposes_in_force(now):
            by_brand.setdefault(tally.brand_id, []).append(tally)
        members = self._reports.members_in_force(now)
        records = []
        for done, brand in enumerate(self._reports.brands(), start=1):
            records.append(BrandRecord(
                brand, tuple(_purpose_record(t) for t in by_brand.get(brand.id, [])),
                members.get(brand.id, 0)))
            if progress is not None:
                progress(done)
        return RecordsOfProcessing(now, self._controller, VOCABULARY_VERSION, tuple(records))

    def exposure(self, brand_id: str, *, revealed: Mapping[str, str] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ExposureReport:
        """Who of the vault's members the brand holds or held data of, by principal (with
        the e-mail address of those in ``revealed``, principal -> address); ``progress`` is
        told how many members were done so far, and of how many."""
        brand = self.brand(brand_id)
        now = int(self._clock())
        revealed = revealed or {}
        by_member: dict[str, list[Grant]] = {}
        for grant in self._reports.brand_grants(brand_id):
            by_member.setdefault(grant.member_id, []).append(grant)
        reads = {r.principal: r for r in self._access_index.by_brand(brand_id)}
        exposed = []
        for done, grants in enumerate(by_member.values(), start=1):
            principal = self._principal(grants[0].member_id)
            exposed.append(_exposed(principal, revealed.get(principal), grants,
                                    reads.get(principal), now))
            if progress is not None:
                progress(done, len(by_member))
        exposed.sort(key=lambda m: (m.since, m.principal))
        listed = {m.principal for m in exposed}
        gone = [r for principal, r in reads.items() if principal not in listed]
        return ExposureReport(exposure_case(brand_id), now, brand, tuple(exposed),
                              erased_members=len(gone), erased_reads=sum(r.reads for r in gone))

    def activity(self, period: Period = Period.MONTH) -> list[ActivityRow]:
        return self._reports.activity(period, int(self._clock()))


# -- documents: JSON shapes and CSV rows --------------------------------------------------------
def _controller_document(controller: Controller) -> dict[str, Any]:
    address = controller.address
    return {"name": controller.name, "contact": controller.contact,
            "address": ", ".join(part for part in (address.street_address, address.postal_code,
                                                   address.locality, address.country) if part),
            "email": controller.email, "phone": controller.phone,
            "storage_region": controller.storage_region,
            "storage_location": controller.storage_location}


def _categories_document(categories: Iterable[CategoryLine]) -> list[dict[str, Any]]:
    return [{"code": c.code, "label": c.label, "special": c.special} for c in categories]


def ropa_document(report: RecordsOfProcessing) -> dict[str, Any]:
    return {
        "report": "records-of-processing",
        "basis": "GDPR Art. 30(1), from the grants in force",
        "generated_at": utc(report.generated_at),
        "vocabulary": report.vocabulary,
        "vault_operator": _controller_document(report.controller),
        "brands": [{
            "brand_id": record.brand.id, "name": record.brand.name,
            "categories": list(record.brand.categories),
            "registered_at": utc(record.brand.registered_at),
            "oauth_clients": record.brand.clients,
            "active_oauth_clients": record.brand.active_clients,
            "contact": record.contact, "transfers": record.transfers,
            "members": record.members,
            "purposes": [{
                "purpose": p.code, "label": p.label, "description": p.description,
                "legal_basis": p.legal_basis,
                "data_categories": _categories_document(p.categories),
                "fields": [{"field": f, "label": field_label(f)} for f in p.fields],
                "members": p.members, "grants": p.grants,
                "individual_grants": p.individual_grants,
                "aggregate_grants": p.aggregate_grants,
                "retention_days": {"min": p.retention_days_min, "max": p.retention_days_max},
                "onward_sharing_grants": p.onward_sharing_grants,
                "third_parties": list(p.third_parties) or NONE_RECORDED,
                "jurisdictions": list(p.jurisdictions),
                "agreements": list(p.agreements),
                "collection_methods": list(p.collection_methods),
                "sale_or_sharing": p.sale_or_sharing,
            } for p in record.purposes],
        } for record in report.brands],
    }


ROPA_COLUMNS = ("brand_id", "brand", "purpose", "purpose_label", "legal_basis",
                "data_categories", "special_categories", "fields", "members", "grants",
                "individual_grants", "aggregate_grants", "retention_days_min",
                "retention_days_max", "onward_sharing_grants", "third_parties",
                "jurisdictions", "agreements", "transfers", "controller_contact")


def ropa_rows(report: RecordsOfProcessing) -> list[tuple[Any, ...]]:
    """One row per brand and purpose; a brand with no grant in force has one row without a
    purpose, so that every brand is in the record."""
    rows: list[tuple[Any, ...]] = []
    for record in report.brands:
        brand = (record.brand.id, record.brand.name)
        tail = (record.transfers, record.contact)
        if not record.purposes:
            rows.append((*brand, "", "", "", "", "", "", 0, 0, 0, 0, "", "", 0, "", "", "",
                         *tail))
        for p in record.purposes:
            rows.append((*brand, p.code, p.label, p.legal_basis,
                         "; ".join(c.code for c in p.categories),
                         "; ".join(c.code for c in p.categories if c.special),
                         "; ".join(p.fields), p.members, p.grants, p.individual_grants,
                         p.aggregate_grants, p.retention_days_min, p.retention_days_max,
                         p.onward_sharing_grants,
                         "; ".join(p.third_parties) or NONE_RECORDED,
                         "; ".join(p.jurisdictions), "; ".join(p.agreements), *tail))
    return rows


def exposure_document(report: ExposureReport) -> dict[str, Any]:
    return {
        "report": "exposure",
        "basis": "GDPR Art. 33(3)(a): the members whose data the brand holds or held",
        "case": report.case,
        "generated_at": utc(report.generated_at),
        "brand": {"brand_id": report.brand.id, "name": report.brand.name},
        "totals": {"members": len(report.members),
                   "individually_exposed": report.individually_exposed,
                   "members_read": report.members_read, "reads": report.reads,
                   "erased_members_read": report.erased_members,
                   "erased_members_reads": report.erased_reads},
        "data_categories": _categories_document(report.categories),
        "members": [{
            "principal": m.principal,
            **({"email": m.email} if m.email is not None else {}),
            "since": utc(m.since), "fields": list(m.fields),
            "aggregate_only": m.aggregate_only,
            "grants": [{"grant_id": g.id, "purpose": g.purpose, "mode": g.mode.value,
                        "state": g.state.value, "fields": list(g.fields),
                        "starts_at": utc(g.starts_at), "ends_at": utc(g.ends_at),
                        "ended_at": utc(g.ended_at), "retention_days": g.retention_days}
                       for g in m.grants],
            "reads": {"count": m.reads, "fields": list(m.fields_read),
                      "first": utc(m.first_read), "last": utc(m.last_read)},
        } for m in report.members],
    }


EXPOSURE_COLUMNS = ("principal", "email", "since", "fields", "aggregate_only", "grant_ids",
                    "purposes", "modes", "states", "reads", "fields_read", "first_read",
                    "last_read")


def exposure_rows(report: ExposureReport) -> list[tuple[Any, ...]]:
    """One row per member; ``email`` is empty unless revealed for the case."""
    return [(m.principal, m.email or "", utc(m.since), "; ".join(m.fields),
             "yes" if m.aggregate_only else "no", "; ".join(g.id for g in m.grants),
             "; ".join(g.purpose for g in m.grants), "; ".join(g.mode for g in m.grants),
             "; ".join(g.state for g in m.grants), m.reads, "; ".join(m.fields_read),
             utc(m.first_read) or "", utc(m.last_read) or "") for m in report.members]


def activity_document(rows: Sequence[ActivityRow], period: Period,
                      generated_at: int) -> dict[str, Any]:
    return {"report": "grant-activity", "period": period.value,
            "generated_at": utc(generated_at),
            "periods": [{"period": r.period, "given": r.given, "withdrawn": r.withdrawn,
                         "expired": r.expired} for r in rows]}


ACTIVITY_COLUMNS = ("period", "given", "withdrawn", "expired")


def activity_rows(rows: Sequence[ActivityRow]) -> list[tuple[Any, ...]]:
    return [(r.period, r.given, r.withdrawn, r.expired) for r in rows]


# Cells a spreadsheet would take for a formula (OWASP "CSV injection"): quoted with a leading
# apostrophe. Brand names and third parties come from brands.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """RFC 4180 CSV (CRLF line ends, a header row)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(value) for value in row])

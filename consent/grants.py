"""Grants: what a member shares with a brand, for a purpose, for how long.

A brand's request is measured against the member's personal terms and the IEEE 7012 agreement
in force *before* the member is asked (:meth:`ConsentService.check`); what breaks them is refused
with the reasons. A grant, a narrowing, a withdrawal and an expiry each yield a signed consent
receipt and a ledger entry, in that order, after the grant row is written; the service's
observers are told in between, inside the same data-store transaction.

Invariants: narrowing only removes (fields a subset of what was covered, the end no later);
a withdrawn grant never becomes active again; onward sharing only under an S3P term, only in
aggregate (anonymised) mode and only to a named third party; ledger entries carry pseudonyms,
grant ids and codes, never personal data.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vault.clock import Clock
from vault.errors import NotFoundError, ValidationError
from vault.storage import Database

from .decision import grant_from_row
from .events import EventTag
from .model import Grant, GrantEvent, GrantStatus, Mode
from .terms import AgreementService, EventLog, TermsService
from .vocabulary import AGREEMENT_BY_CODE, PURPOSE_BY_CODE, expand, is_selector

#: Told of every grant event inside its data-store transaction (``consent`` imports nothing of
#: its observers: the brand gateway's webhook outbox is one, attached by the web and CLI layers).
GrantObserver = Callable[[Grant, GrantEvent, int], None]

DAY = 86_400
MAX_RETENTION_DAYS = 3650
_EVENT_TAGS = {
    GrantEvent.GIVEN: EventTag.CONSENT_GRANT_GIVEN,
    GrantEvent.NARROWED: EventTag.CONSENT_GRANT_NARROWED,
    GrantEvent.WITHDRAWN: EventTag.CONSENT_GRANT_WITHDRAWN,
    GrantEvent.EXPIRED: EventTag.CONSENT_GRANT_EXPIRED,
}


@dataclass(frozen=True)
class BrandRequest:
    """What a brand asks a member for."""

    brand_id: str
    purpose: str
    fields: frozenset[str]
    mode: Mode = Mode.INDIVIDUAL
    days: int = 30
    retention_days: int = 30
    onward_sharing: bool = False
    third_party: str | None = None


@dataclass(frozen=True)
class StoredReceipt:
    id: str
    grant_id: str
    brand_id: str
    event: str
    token: str
    created_at: int


class ReceiptIssuer(Protocol):
    def build(self, grant: Grant, event: GrantEvent, *, at: int, principal_id: str,
              brand_name: str, receipt_id: str | None = None) -> dict[str, Any]: ...

    def sign(self, receipt: dict[str, Any]) -> str: ...


class ConsentService:
    def __init__(self, *, database: Database, terms: TermsService,
                 agreements: AgreementService, receipts: ReceiptIssuer, ledger: EventLog,
                 principal: Callable[[str], str], clock: Clock,
                 observers: Sequence[GrantObserver] = ()) -> None:
        self._db = database
        self._terms = terms
        self._agreements = agreements
        self._receipts = receipts
        self._ledger = ledger
        self.principal = principal
        self._clock = clock
        # Read at each event, so observers appended to the caller's list later are told too.
        self._observers = observers

    # -- the request, measured against the member's terms ------------------------------------
    def check(self, member_id: str, request: BrandRequest, *,
              assume_agreement: str | None = None) -> list[str]:
        """Why ``request`` breaks the member's terms; empty if the member may be asked.

        ``assume_agreement``: with no agreement in force, judge as if this IEEE 7012 term were
        agreed (a brand that accepts the member's proffered term as standing policy)."""
        terms = self._terms.get(member_id)
        purpose = PURPOSE_BY_CODE.get(request.purpose)
        if purpose is None:
            return [f"Unknown purpose {request.purpose!r}."]
        reasons = []
        if request.purpose not in terms.purposes:
            reasons.append(f"Your terms do not accept {purpose.label.lower()} at all.")
        agreement = self._agreements.in_force(member_id, request.brand_id)
        term = AGREEMENT_BY_CODE[agreement.agreed] if agreement and agreement.agreed else \
            AGREEMENT_BY_CODE.get(assume_agreement or "")
        if term is None:
            reasons.append("There is no agreement on terms (IEEE 7012) with this brand yet.")
        elif not term.permits(purpose):
            reasons.append(f"{purpose.label} needs more than the agreed term {term.code} allows.")
        if terms.gpc_opt_out and purpose.sale_or_sharing:
            reasons.append("You opted out of the sale and sharing of your data (GPC).")
        bad = sorted(s for s in request.fields if not is_selector(s))
        if bad or not request.fields:
            reasons.append("The request names no fields, or fields that do not exist"
                           + (f": {', '.join(bad[:3])}." if bad else "."))
        if not 1 <= request.days <= terms.max_days:
            reasons.append(f"It asks for {request.days} days; your terms allow at most "
                           f"{terms.max_days}.")
        if not 0 <= request.retention_days <= MAX_RETENTION_DAYS:
            reasons.append("The promised retention is out of range.")
        if request.mode is Mode.AGGREGATE and not terms.aggregate_allowed:
            reasons.append("Your terms do not allow aggregate-only use.")
        if request.onward_sharing:
            if term is None or not term.anonymised_third_party:
                reasons.append("Onward sharing needs an agreed S3P term.")
            if request.mode is not Mode.AGGREGATE:
                reasons.append("Onward sharing is only for anonymised (aggregate) use.")
            if not request.third_party:
                reasons.append("Onward sharing must name the third party.")
            if terms.gpc_opt_out:
                reasons.append("You opted out of the sale and sharing of your data (GPC).")
        return reasons

    # -- giving, narrowing, withdrawing, expiring ----------------------------------------------
    def grant(self, member_id: str, request: BrandRequest, *, fields: Iterable[str] | None = None,
              jurisdiction: str = "EU", collection_method: str = "vrmvault member page"
              ) -> tuple[Grant, StoredReceipt]:
        """Record the member's grant (``fields``: what they left ticked, a subset)."""
        reasons = self.check(member_id, request)
        if reasons:
            raise ValidationError({"request": reasons})
        chosen = frozenset(request.fields if fields is None else fields)
        if not chosen or not all(is_selector(s) for s in chosen) or \
                not expand(chosen) <= expand(request.fields):
            raise ValidationError({"fields": ["Choose at least one of the fields asked for."]})
        agreement = self._agreements.in_force(member_id, request.brand_id)
        assert agreement is not None and agreement.agreed is not None
        now = int(self._clock())
        grant_id = "grant_" + os.urandom(12).hex()
        with self._db.transaction():
            return self._insert(grant_id, member_id, request, chosen, agreement.agreed,
                                jurisdiction, collection_method, now)

    def _insert(self, grant_id: str, member_id: str, request: BrandRequest,
                chosen: frozenset[str], agreed: str, jurisdiction: str,
                collection_method: str, now: int) -> tuple[Grant, StoredReceipt]:
        self._db.execute(
            "INSERT INTO grants (id, member_id, brand_id, purpose, fields, mode, starts_at,"
            " ends_at, retention_days, onward_sharing, third_party, jurisdiction,"
            " collection_method, agreement, terms_version, status, version, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 1, ?, ?)",
            (grant_id, member_id, request.brand_id, request.purpose,
             json.dumps(sorted(chosen)), request.mode.value, now, now + request.days * DAY,
             request.retention_days, int(request.onward_sharing),
             request.third_party if request.onward_sharing else None, jurisdiction,
             collection_method, agreed, self._terms.get(member_id).version, now, now))
        grant = self.get(member_id, grant_id)
        return grant, self._issue(grant, GrantEvent.GIVEN, now)

    def narrow(self, member_id: str, grant_id: str, *, fields: Iterable[str] | None = None,
               ends_at: int | None = None) -> tuple[Grant, StoredReceipt]:
        # Read, check and write under the write lock (BEGIN IMMEDIATE): two tabs or workers
        # narrowing one grant at once cannot each undo what the other removed.
        with self._db.transaction():
            return self._narrow(member_id, grant_id, fields, ends_at)

    def _narrow(self, member_id: str, grant_id: str, fields: Iterable[str] | None,
                ends_at: int | None) -> tuple[Grant, StoredReceipt]:
        grant = self._active(member_id, grant_id)
        now = int(self._clock())
        new_fields = grant.fields if fields is None else frozenset(fields)
        new_end = grant.ends_at if ends_at is None else int(ends_at)
        errors = _narrowing_errors(grant, new_fields, new_end, now)
        if not errors and expand(new_fields) == grant.covered and new_end == grant.ends_at:
            errors["fields"] = ["Nothing changed: untick a field or choose an earlier end."]
        if errors:
            raise ValidationError(errors)
        self._db.execute(
            "UPDATE grants SET fields = ?, ends_at = ?, version = version + 1,"
            " updated_at = ? WHERE id = ?",
            (json.dumps(sorted(new_fields)), new_end, now, grant_id))
        grant = self.get(member_id, grant_id)
        return grant, self._issue(grant, GrantEvent.NARROWED, now)

    def check_narrowing(self, member_id: str, grant_id: str, *,
                        fields: Iterable[str] | None = None, ends_at: int | None = None) -> None:
        """:class:`ValidationError` naming every rule a narrowing to these values breaks
        (that it changes nothing is left to :meth:`narrow`). Writes nothing."""
        grant = self._active(member_id, grant_id)
        errors = _narrowing_errors(
            grant, grant.fields if fields is None else frozenset(fields),
            grant.ends_at if ends_at is None else int(ends_at), int(self._clock()))
        if errors:
            raise ValidationError(errors)

    def withdraw(self, member_id: str, grant_id: str) -> tuple[Grant, StoredReceipt]:
        now = int(self._clock())
        with self._db.transaction():   # checked and changed under the write lock
            self._active(member_id, grant_id)
            self._db.execute(
                "UPDATE grants SET status = 'withdrawn', withdrawn_at = ?, updated_at = ?,"
                " version = version + 1 WHERE id = ?", (now, now, grant_id))
            grant = self.get(member_id, grant_id)
            return grant, self._issue(grant, GrantEvent.WITHDRAWN, now)

    def record_expiries(self) -> list[Grant]:
        """Give every grant that ended a receipt and a ledger entry, once. (Decisions deny
        expired grants by their end time whether or not this has run.)"""
        now = int(self._clock())
        expired = [grant_from_row(r) for r in self._db.all(
            "SELECT * FROM grants WHERE status = 'active' AND ends_at <= ?"
            " AND expiry_recorded = 0", (now,))]
        recorded = []
        for grant in expired:
            with self._db.transaction():
                # Only the run that flips the flag issues the receipt (concurrent sweeps).
                if self._db.execute("UPDATE grants SET expiry_recorded = 1 WHERE id = ?"
                                    " AND expiry_recorded = 0", (grant.id,)).rowcount:
                    self._issue(grant, GrantEvent.EXPIRED, now)
                    recorded.append(grant)
        return recorded

    # -- reading ------------------------------------------------------------------------------
    def get(self, member_id: str, grant_id: str) -> Grant:
        row = self._db.one("SELECT * FROM grants WHERE id = ? AND member_id = ?",
                           (grant_id, member_id))
        if row is None:
            raise NotFoundError("no such grant")
        return grant_from_row(row)

    def for_member(self, member_id: str) -> list[Grant]:
        return [grant_from_row(r) for r in self._db.all(
            "SELECT * FROM grants WHERE member_id = ? ORDER BY status, ends_at", (member_id,))]

    def receipts(self, member_id: str) -> list[StoredReceipt]:
        return [StoredReceipt(r["id"], r["grant_id"], r["brand_id"], r["event"], r["token"],
                              r["created_at"]) for r in self._db.all(
            "SELECT * FROM receipts WHERE member_id = ? ORDER BY created_at DESC, rowid DESC",
            (member_id,))]

    def receipt(self, member_id: str, receipt_id: str) -> StoredReceipt:
        for receipt in self.receipts(member_id):
            if receipt.id == receipt_id:
                return receipt
        raise NotFoundError("no such receipt")

    # -- helpers ------------------------------------------------------------------------------
    def _active(self, member_id: str, grant_id: str) -> Grant:
        grant = self.get(member_id, grant_id)
        if grant.status is not GrantStatus.ACTIVE or grant.ends_at <= self._clock():
            raise ValidationError({"grant": ["This grant is no longer active."]})
        return grant

    def _issue(self, grant: Grant, event: GrantEvent, now: int) -> StoredReceipt:
        """Sign and store the receipt, tell the observers, then append to the ledger. Called
        inside the data transaction: if an observer or the ledger refuses, the grant change, its
        receipt and the observers' writes roll back."""
        brand = self._db.one("SELECT name FROM brands WHERE id = ?", (grant.brand_id,))
        receipt_id = str(uuid.uuid4())   # Kantara: consentReceiptID is a UUID
        document = self._receipts.build(grant, event, at=now,
                                        principal_id=self.principal(grant.member_id),
                                        brand_name=brand["name"] if brand else grant.brand_id,
                                        receipt_id=receipt_id)
        token = self._receipts.sign(document)
        self._db.execute(
            "INSERT INTO receipts (id, member_id, grant_id, brand_id, event, token, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (receipt_id, grant.member_id, grant.id, grant.brand_id, event.value, token, now))
        # Observers write in this same transaction, before the ledger (a file of its own that
        # commits at once): an observer that fails leaves no ledger entry behind, and a ledger
        # that refuses rolls the observers' writes back with the grant change.
        for observer in self._observers:
            observer(grant, event, now)
        actor = self.principal(grant.member_id)
        details = {"grant": grant.id, "brand": grant.brand_id, "purpose": grant.purpose,
                   "fields": sorted(grant.fields), "mode": grant.mode.value,
                   "ends_at": grant.ends_at, "version": grant.version}
        self._ledger.record_event(tag=_EVENT_TAGS[event], actor=actor, details=details)
        self._ledger.record_event(tag=EventTag.CONSENT_RECEIPT_ISSUED, actor=actor,
                                  details={"receipt": receipt_id, "grant": grant.id})
        return StoredReceipt(receipt_id, grant.id, grant.brand_id, event.value, token, now)


def _narrowing_errors(grant: Grant, new_fields: frozenset[str], new_end: int, now: int
                      ) -> dict[str, list[str]]:
    """Narrowing only takes away: fewer fields, an earlier end (not in the past)."""
    errors: dict[str, list[str]] = {}
    if not new_fields or not expand(new_fields) <= grant.covered or \
            not all(is_selector(s) for s in new_fields):
        errors["fields"] = ["Keep at least one field ticked; you can only remove fields."]
    if not now < new_end <= grant.ends_at:
        errors["ends_at"] = ["Choose an end no later than the current one, and not in the past."]
    return errors

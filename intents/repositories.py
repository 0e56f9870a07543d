"""What intent casting's services may ask of storage: the contract, as ``typing.Protocol``.

The same seam and invariants as ``vault/repositories.py``: the services in ``intents/`` hold no
SQL and do not know the engine; the implementations are ``intents/sqlcipher/`` and
``intents/postgresql/``, what both share ``intents/sql/``. Sealed
values cross the seam as bytes: the service seals and opens them with the member's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IntentRow:
    num: int
    id: str
    member_id: str
    category: str
    status: str
    budget_min: int
    budget_max: int
    currency: str
    window_from: str
    window_until: str
    country: str | None
    region: str | None
    description: bytes
    city: bytes | None
    reveal_fields: str          # JSON array
    created_at: int
    updated_at: int
    expires_at: int
    offers: int = 0


@dataclass(frozen=True)
class OfferRow:
    num: int
    id: str
    intent_num: int
    intent_id: str
    member_id: str
    brand_id: str
    brand_name: str
    price: int
    currency: str
    terms: bytes
    message: bytes
    signed: bytes
    valid_until: int
    status: str
    grant_id: str | None
    fields: str | None          # JSON array, once accepted
    created_at: int
    decided_at: int | None
    reported: bool = False


@dataclass(frozen=True)
class ReportRow:
    id: str
    offer_id: str | None
    member_id: str | None
    brand_id: str
    brand_name: str
    reason: bytes | None
    status: str
    reported_at: int
    decided_at: int | None
    decided_by: str | None
    offer_status: str | None = None     # None once the member was erased (the offer with them)


@dataclass(frozen=True)
class ListingFilter:
    """A brand's filters, in stored units: overlap of budget (in ``currency``) and window, a
    country (``DE``) or region (``DE-BE``) code."""

    currency: str | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    window_from: str | None = None
    window_until: str | None = None
    region: str | None = None


class IntentRepository(Protocol):
    def transaction(self) -> AbstractContextManager[object]: ...

    # -- intents ------------------------------------------------------------------------------
    def insert(self, row: IntentRow) -> int:
        """Add an intent (``row.num`` ignored); its num."""

    def number_above(self, floor: int) -> None:
        """Number every intent added from now on above ``floor`` (never lower than the
        numbering stands: a number is never given twice)."""

    def update(self, row: IntentRow) -> None:
        """Store an edit: every column of ``row`` but id, member, status and created_at."""

    def set_status(self, num: int, status: str, now: int, *, only_from: Sequence[str]) -> bool:
        """Move an intent to ``status`` if it is in one of ``only_from``; whether it moved."""

    def get(self, intent_id: str) -> IntentRow | None: ...

    def by_num(self, num: int) -> IntentRow | None: ...

    def for_member(self, member_id: str) -> list[IntentRow]:
        """The member's intents, newest first, each with its count of offers."""

    def listing(self, brand_id: str, category: str, *, now: int, before: int | None,
                limit: int, filters: ListingFilter) -> list[IntentRow]:
        """Open, unexpired intents of ``category`` not blocked for ``brand_id``, matching
        ``filters``, with num below ``before`` (``None``: from the newest), newest first."""

    def listable(self, brand_id: str, num: int, *, now: int) -> IntentRow | None:
        """The intent if it would be listed to ``brand_id`` now (its category aside)."""

    def due_to_expire(self, now: int, limit: int) -> list[IntentRow]: ...

    # -- offers -------------------------------------------------------------------------------
    def insert_offer(self, *, id: str, intent_num: int, brand_id: str, price: int,
                     currency: str, terms: bytes, message: bytes, signed: bytes,
                     valid_until: int, now: int) -> None: ...

    def offer(self, offer_id: str) -> OfferRow | None: ...

    def offers_on(self, intent_num: int) -> list[OfferRow]: ...

    def offers_by_brand(self, brand_id: str, *, status: str | None, limit: int,
                        offset: int) -> list[OfferRow]: ...

    def count_offers(self, brand_id: str, *, intent_num: int | None = None,
                     since: int | None = None) -> int:
        """The brand's offers on one intent, or made at or after ``since``."""

    def brand_offer_counts(self, brand_id: str, nums: Sequence[int]) -> dict[int, int]: ...

    def decide_offer(self, offer_id: str, status: str, now: int, *,
                     grant_id: str | None = None, fields: str | None = None) -> bool:
        """Move an open offer to ``status``; whether it was open."""

    def open_offers_on(self, intent_num: int) -> list[OfferRow]: ...

    def offers_due_to_expire(self, now: int, limit: int) -> list[OfferRow]: ...

    def brands_offering(self, member_id: str) -> list[tuple[str, str]]: ...

    # -- blocks -------------------------------------------------------------------------------
    def block(self, member_id: str, brand_id: str, now: int) -> bool: ...

    def unblock(self, member_id: str, brand_id: str) -> bool: ...

    def blocked(self, member_id: str) -> list[tuple[str, str]]: ...

    # -- spam reports -------------------------------------------------------------------------
    def insert_report(self, *, id: str, offer_num: int, member_id: str, brand_id: str,
                      reason: bytes, now: int) -> None: ...

    def report(self, report_id: str) -> ReportRow | None: ...

    def reports(self, *, status: str | None, limit: int, offset: int) -> list[ReportRow]:
        """One page of the reports in ``status`` (any if ``None``), newest first."""

    def reports_of(self, member_id: str) -> list[ReportRow]: ...

    def count_reports(self, status: str | None) -> int: ...

    def decide_report(self, report_id: str, status: str, officer_id: str, now: int) -> bool: ...

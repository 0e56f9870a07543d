"""What compliance's services may ask of storage: one repository contract per aggregate, as
``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``compliance/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``compliance/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from consent.model import Grant


# -- Reveals of a member's identity to an officer (compliance/reveals.py) -------------------
@dataclass(frozen=True)
class RevealRecord:
    """One reveal: ``officer_id`` was shown the address of ``member_id`` (ledger pseudonym
    ``principal``) for ``case``; the reason sealed under the member's key, and its digest."""

    id: str
    officer_id: str
    case: str
    member_id: str
    principal: str
    reason_sealed: bytes
    reason_sha256: str
    revealed_at: int


class RevealRepository(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """A write transaction over the data store."""

    def insert(self, reveal: RevealRecord) -> None:
        """Add a reveal; both accounts exist (the caller checked, in this transaction)."""

    def for_case(self, officer_id: str, case: str) -> list[RevealRecord]:
        """The reveals ``officer_id`` made for ``case``, oldest first."""

    def latest(self, *, limit: int, offset: int = 0) -> list[RevealRecord]:
        """Every officer's reveals, newest first (the accountability page)."""

    def count(self) -> int: ...

    def member_ids(self, *, granted_to: str | None = None) -> Iterator[str]:
        """Every account's id, or (``granted_to`` a brand id) those of the accounts that ever
        granted that brand anything, in any state: to find the one behind a pseudonym."""


# -- reports: records of processing, breach exposure, grant activity --------------------------
@dataclass(frozen=True)
class BrandFacts:
    """What the data store knows of a brand as a controller: no contact, address or
    representative is recorded (brands are registered by name)."""

    id: str
    name: str
    categories: tuple[str, ...]
    registered_at: int
    clients: int                 # its OAuth clients
    active_clients: int


class Period(StrEnum):
    """How grant activity is bucketed: calendar months, or ISO weeks (from Monday), UTC."""

    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True)
class ActivityRow:
    """Grant events in one period (its first day, ``YYYY-MM-DD``, UTC): grants given,
    withdrawn by their member, ended by their end date (expired, never withdrawn)."""

    period: str
    given: int
    withdrawn: int
    expired: int


@dataclass(frozen=True)
class PurposeTally:
    """The grants in force of one brand for one purpose, summed up in the store."""

    brand_id: str
    purpose: str
    selectors: frozenset[str]      # every field name or ``category:`` selector they name
    members: int
    grants: int
    individual_grants: int
    retention_days_min: int
    retention_days_max: int
    onward_sharing_grants: int
    third_parties: frozenset[str]
    jurisdictions: frozenset[str]
    agreements: frozenset[str]
    collection_methods: frozenset[str]


class ReportRepository(Protocol):
    """The read-only queries behind the compliance reports (``compliance/reports.py``), over
    the data store; nothing here writes."""

    def brands(self) -> list[BrandFacts]:
        """Every brand, by name."""

    def brand(self, brand_id: str) -> BrandFacts | None: ...

    def purposes_in_force(self, now: int) -> list[PurposeTally]:
        """Per brand and purpose, the grants in force at ``now`` (active, started, not
        ended), by brand id, then purpose."""

    def members_in_force(self, now: int) -> dict[str, int]:
        """Per brand id, how many members have a grant in force at ``now`` (brands with none
        are left out)."""

    def live_grant_count(self, now: int) -> int: ...

    def brand_grants(self, brand_id: str) -> list[Grant]:
        """Every grant ever made to the brand, in any state, by member, then oldest first."""

    def activity(self, period: Period, now: int) -> list[ActivityRow]:
        """Grant events per period up to ``now``, oldest period first; periods with none are
        left out."""

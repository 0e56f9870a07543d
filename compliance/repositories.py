"""What compliance's services may ask of storage: one repository contract per aggregate, as
``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``compliance/`` hold no SQL and do not know the engine; the implementations are in
``compliance/sqlcipher/`` and ``compliance/postgresql/`` (what both share in
``compliance/sql/``), one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from consent.model import Grant
from vault.repositories import Transactional


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


# -- Data subject requests (compliance/requests.py) --------------------------------------------
@dataclass(frozen=True)
class RequestRow:
    """A request as stored; ``member_id`` is None once the member was erased (``principal``
    still names them). Dates are ``YYYY-MM-DD`` (UTC), times Unix seconds."""

    id: str
    member_id: str | None
    principal: str
    regime: str
    kind: str
    source: str
    text_sealed: bytes | None
    state: str
    received_at: int
    received_on: str
    confirm_by: str | None
    confirmed_at: int | None
    due_on: str
    extended_at: int | None
    extension_reason: str | None
    fulfilled_at: int | None
    fulfilment: str | None
    closed_at: int | None
    reminder_level: str
    # The reason of the extension, sealed under the member's key (``extension_reason`` holds
    # one only if written before data migration 16): see :func:`compliance.requests.
    # reason_aad`.
    extension_reason_sealed: bytes | None = None


@dataclass(frozen=True)
class TaskRow:
    """A request as forwarded to one brand: ``uid`` is the brand's handle, ``subject`` the
    brand's pairwise pseudonym of the member."""

    uid: str
    request_id: str
    brand_id: str
    subject: str
    message: str
    state: str
    reason: str | None
    created_at: int
    updated_at: int
    closed_at: int | None
    # The brand's reason for its state, sealed under the member's key (``reason`` holds one
    # only if written before data migration 16).
    reason_sealed: bytes | None = None


@dataclass(frozen=True)
class ResultRow:
    """A document a brand returned for an access request, sealed under the member's key."""

    id: int
    task_uid: str
    name: str
    media_type: str
    size: int
    document_sealed: bytes
    created_at: int


@dataclass(frozen=True)
class HistoryRow:
    """One state change of a request (``task_uid`` None) or of one of its tasks: ``reason``
    what the vault wrote (a fulfilment's code, a restore's note; or, before data migration 16,
    anyone's reason), ``reason_sealed`` an officer's or a brand's, under the member's key."""

    id: int
    request_id: str
    task_uid: str | None
    state: str
    reason: str | None
    at: int
    reason_sealed: bytes | None = None


class RequestRepository(Transactional, Protocol):
    """Data subject requests, their per-brand tasks, results and history.

    Every change of state is one conditional write that says whether it was this caller's
    (two workers, or a brand's retry, cannot both win); history rows are appended, never
    changed.
    """

    def insert(self, request: RequestRow) -> None: ...

    def get(self, request_id: str) -> RequestRow | None: ...

    def for_member(self, member_id: str) -> list[RequestRow]:
        """The member's requests, newest first."""

    def open_queue(self, *, limit: int, offset: int = 0,
                   due_before: str | None = None) -> list[RequestRow]:
        """Open requests by due date (overdue first), then receipt and id; with
        ``due_before`` only those due before that date."""

    def count_open(self, *, due_before: str | None = None) -> int: ...

    def counts_by_state(self) -> dict[str, int]: ...

    def closed_durations(self) -> list[tuple[str, int]]:
        """(regime, seconds from receipt to close) of every closed request."""

    def update(self, request_id: str, *, state: str | None = None,
               fulfilled: tuple[str, int] | None = None, closed_at: int | None = None,
               confirmed_at: int | None = None) -> bool:
        """Set what is given on an open request; False if it is closed (or missing)."""

    def extend(self, request_id: str, *, due_on: str, reason: str | None, at: int,
               reason_sealed: bytes | None = None) -> bool:
        """Extend an open, never extended request; False otherwise."""

    def raise_reminder(self, request_id: str, *, level_from: str, level_to: str) -> bool:
        """Move the reminder level on if it is still ``level_from``: True for exactly one
        caller."""

    def add_task(self, task: TaskRow) -> None: ...

    def task(self, uid: str) -> TaskRow | None: ...

    def tasks_for(self, request_id: str) -> list[TaskRow]:
        """The request's tasks, by brand id."""

    def tasks_for_requests(self, request_ids: Sequence[str]) -> list[TaskRow]: ...

    def tasks_for_brand(self, brand_id: str, *, open_only: bool, limit: int,
                        offset: int) -> list[TaskRow]:
        """The brand's tasks, newest first."""

    def update_task(self, uid: str, *, state: str, reason: str | None, at: int,
                    final: bool, reason_sealed: bytes | None = None) -> bool:
        """Move a task not yet in a final state to ``state`` (``final``: set its close time);
        False if it was final already."""

    def add_result(self, result: ResultRow) -> None: ...

    def results_for(self, task_uids: Sequence[str]) -> list[ResultRow]: ...

    def result_bytes(self, task_uid: str) -> int:
        """The documents' total size the task holds."""

    def add_history(self, request_id: str, task_uid: str | None, state: str,
                    reason: str | None, at: int, reason_sealed: bytes | None = None
                    ) -> None: ...

    def history(self, request_id: str) -> list[HistoryRow]:
        """In the order written."""

"""What compliance's services may ask of storage: one repository contract per aggregate, as
``typing.Protocol`` classes.

The same seam and the same invariants as ``vault/repositories.py`` (read its docstring): the
services in ``compliance/`` hold no SQL and do not know the engine; SQLCipher's implementations
are in ``compliance/sqlcipher/``, one module per aggregate, and pass the conformance suite in
``tests/unit/storage/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vault.repositories import Transactional


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
    """One state change of a request (``task_uid`` None) or of one of its tasks."""

    id: int
    request_id: str
    task_uid: str | None
    state: str
    reason: str | None
    at: int


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

    def extend(self, request_id: str, *, due_on: str, reason: str, at: int) -> bool:
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
                    final: bool) -> bool:
        """Move a task not yet in a final state to ``state`` (``final``: set its close time);
        False if it was final already."""

    def add_result(self, result: ResultRow) -> None: ...

    def results_for(self, task_uids: Sequence[str]) -> list[ResultRow]: ...

    def result_bytes(self, task_uid: str) -> int:
        """The documents' total size the task holds."""

    def add_history(self, request_id: str, task_uid: str | None, state: str,
                    reason: str | None, at: int) -> None: ...

    def history(self, request_id: str) -> list[HistoryRow]:
        """In the order written."""

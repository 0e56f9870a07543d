"""Data subject requests, what both engines share: :class:`compliance.repositories.
RequestRepository`.

A request names its member by the integer key, set to NULL when the member is erased: the
record outlives the erasure, with the member's ledger pseudonym. The officers' queue is one walk
of the partial index ``dsr_open_by_due`` (open requests by due date), so its first page costs
the same whatever the number of closed requests. Every state change is one conditional
``UPDATE``; the caller learns from the row count whether it won.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..repositories import HistoryRow, RequestRow, ResultRow, TaskRow

# A request's columns in RequestRow's order from its third field on, over ``dsr_requests``
# as ``r``; the engine's statement adds its id and its member.
REQUEST_COLUMNS = (
    "r.principal, r.regime, r.kind, r.source, r.text_sealed, r.state, r.received_at,"
    " r.received_on, r.confirm_by, r.confirmed_at, r.due_on, r.extended_at,"
    " r.extension_reason, r.fulfilled_at, r.fulfilment, r.closed_at, r.reminder_level,"
    " r.extension_reason_sealed")
# How many columns a request's SELECT gives (its id and member, then REQUEST_COLUMNS).
REQUEST_WIDTH = 20
_TASK = ("SELECT uid, request_id, brand_id, subject, message, state, reason, created_at,"
         " updated_at, closed_at, reason_sealed FROM dsr_tasks")
_RESULT = ("SELECT id, task_uid, name, media_type, size, document_sealed, created_at"
           " FROM dsr_results")


def _task(row: Any) -> TaskRow:
    return TaskRow(*(row[i] for i in range(11)))


def marks(count: int) -> str:
    """``count`` parameter marks, for ``IN (...)``."""
    return ", ".join("?" * count)


class SqlRequests(SqlRepository):
    # The engine's hint, after a table's name, to walk ``dsr_open_by_due`` ("" where its
    # planner takes the partial index by itself); its SELECT of a request's columns in
    # RequestRow's order over ``dsr_requests`` as ``r`` (the member as :meth:`_requests` reads
    # it), and the same walking that index.
    _OPEN_BY_DUE: ClassVar[str]
    _REQUEST: ClassVar[str]
    _OPEN_REQUEST: ClassVar[str]

    def get(self, request_id: str) -> RequestRow | None:
        found = self._requests(f"{self._REQUEST} WHERE r.id = ?", (request_id,))
        return found[0] if found else None

    def for_member(self, member_id: str) -> list[RequestRow]:
        return self._requests(
            f"{self._REQUEST} WHERE r.member_num = (SELECT num FROM members WHERE id = ?)"
            " ORDER BY r.received_at DESC, r.id DESC", (member_id,))

    def open_queue(self, *, limit: int, offset: int = 0,
                   due_before: str | None = None) -> list[RequestRow]:
        due, parameters = ("", ()) if due_before is None else (" AND r.due_on < ?",
                                                               (due_before,))
        return self._requests(
            f"{self._OPEN_REQUEST} WHERE r.state <> 'closed'{due}"
            " ORDER BY r.due_on, r.received_at, r.id LIMIT ? OFFSET ?",
            (*parameters, limit, offset))

    def count_open(self, *, due_before: str | None = None) -> int:
        due, parameters = ("", ()) if due_before is None else (" AND due_on < ?",
                                                               (due_before,))
        return int(self._db.one(
            f"SELECT count(*) FROM dsr_requests{self._OPEN_BY_DUE}"
            f" WHERE state <> 'closed'{due}", parameters)[0])

    def counts_by_state(self) -> dict[str, int]:
        return {row[0]: int(row[1]) for row in self._db.all(
            "SELECT state, count(*) FROM dsr_requests GROUP BY state")}

    def closed_durations(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT regime, closed_at - received_at FROM dsr_requests WHERE state = 'closed'"
            " AND closed_at IS NOT NULL ORDER BY closed_at")]

    def update(self, request_id: str, *, state: str | None = None,
               fulfilled: tuple[str, int] | None = None, closed_at: int | None = None,
               confirmed_at: int | None = None) -> bool:
        sets: list[str] = []
        values: list[Any] = []
        if state is not None:
            sets.append("state = ?")
            values.append(state)
        if fulfilled is not None:
            sets.append("fulfilment = ?, fulfilled_at = ?")
            values.extend(fulfilled)
        if closed_at is not None:
            sets.append("closed_at = ?")
            values.append(closed_at)
        if confirmed_at is not None:
            sets.append("confirmed_at = coalesce(confirmed_at, ?)")
            values.append(confirmed_at)
        if not sets:
            return False
        return bool(self._db.execute(
            f"UPDATE dsr_requests SET {', '.join(sets)} WHERE id = ? AND state <> 'closed'",
            (*values, request_id)).rowcount)

    def extend(self, request_id: str, *, due_on: str, reason: str | None, at: int,
               reason_sealed: bytes | None = None) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_requests SET due_on = ?, extension_reason = ?,"
            " extension_reason_sealed = ?, extended_at = ?, reminder_level = 'green'"
            " WHERE id = ? AND state <> 'closed' AND extended_at IS NULL",
            (due_on, reason, reason_sealed, at, request_id)).rowcount)

    def raise_reminder(self, request_id: str, *, level_from: str, level_to: str) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_requests SET reminder_level = ? WHERE id = ? AND reminder_level = ?",
            (level_to, request_id, level_from)).rowcount)

    # -- tasks --------------------------------------------------------------------------------
    def add_task(self, task: TaskRow) -> None:
        self._db.execute(
            "INSERT INTO dsr_tasks (uid, request_id, brand_id, subject, message, state,"
            " reason, created_at, updated_at, closed_at, reason_sealed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (task.uid, task.request_id, task.brand_id, task.subject, task.message, task.state,
             task.reason, task.created_at, task.updated_at, task.closed_at, task.reason_sealed))

    def task(self, uid: str) -> TaskRow | None:
        row = self._db.one(f"{_TASK} WHERE uid = ?", (uid,))
        return None if row is None else _task(row)

    def tasks_for(self, request_id: str) -> list[TaskRow]:
        return [_task(row) for row in self._db.all(
            f"{_TASK} WHERE request_id = ? ORDER BY brand_id", (request_id,))]

    def tasks_for_requests(self, request_ids: Sequence[str]) -> list[TaskRow]:
        if not request_ids:
            return []
        return [_task(row) for row in self._db.all(
            f"{_TASK} WHERE request_id IN ({marks(len(request_ids))})"
            " ORDER BY request_id, brand_id", tuple(request_ids))]

    def tasks_for_brand(self, brand_id: str, *, open_only: bool, limit: int,
                        offset: int) -> list[TaskRow]:
        live = " AND closed_at IS NULL" if open_only else ""
        return [_task(row) for row in self._db.all(
            f"{_TASK} WHERE brand_id = ?{live} ORDER BY created_at DESC, uid LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def update_task(self, uid: str, *, state: str, reason: str | None, at: int,
                    final: bool, reason_sealed: bytes | None = None) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_tasks SET state = ?, reason = ?, reason_sealed = ?, updated_at = ?,"
            " closed_at = ? WHERE uid = ? AND closed_at IS NULL",
            (state, reason, reason_sealed, at, at if final else None, uid)).rowcount)

    # -- results and history ----------------------------------------------------------------
    def add_result(self, result: ResultRow) -> None:
        self._db.execute(
            "INSERT INTO dsr_results (task_uid, name, media_type, size, document_sealed,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (result.task_uid, result.name, result.media_type, result.size,
             result.document_sealed, result.created_at))

    def results_for(self, task_uids: Sequence[str]) -> list[ResultRow]:
        if not task_uids:
            return []
        return [ResultRow(*(row[i] for i in range(7))) for row in self._db.all(
            f"{_RESULT} WHERE task_uid IN ({marks(len(task_uids))}) ORDER BY id",
            tuple(task_uids))]

    def result_bytes(self, task_uid: str) -> int:
        return int(self._db.one("SELECT coalesce(sum(size), 0) FROM dsr_results"
                                " WHERE task_uid = ?", (task_uid,))[0])

    def add_history(self, request_id: str, task_uid: str | None, state: str,
                    reason: str | None, at: int, reason_sealed: bytes | None = None
                    ) -> None:
        self._db.execute(
            "INSERT INTO dsr_history (request_id, task_uid, state, reason, at, reason_sealed)"
            " VALUES (?, ?, ?, ?, ?, ?)", (request_id, task_uid, state, reason, at,
                                           reason_sealed))

    def history(self, request_id: str) -> list[HistoryRow]:
        return [HistoryRow(*(row[i] for i in range(7))) for row in self._db.all(
            "SELECT id, request_id, task_uid, state, reason, at, reason_sealed FROM dsr_history"
            " WHERE request_id = ? ORDER BY id", (request_id,))]

    # -- inside -------------------------------------------------------------------------------
    def _requests(self, sql: str, parameters: Sequence[Any]) -> list[RequestRow]:
        """The requests ``sql`` selects (:attr:`_REQUEST`'s columns, whose second is the
        member's public id, or NULL)."""
        return [RequestRow(*(row[i] for i in range(REQUEST_WIDTH)))
                for row in self._db.all(sql, parameters)]

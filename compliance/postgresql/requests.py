"""Data subject requests in PostgreSQL: :class:`compliance.repositories.RequestRepository`.

A request outlives its member, so it is no member's row: ``dsr_requests``, ``dsr_tasks`` and
``dsr_history`` are shared tables, ``dsr_results`` is distributed by its task (data migration
0008). A request names its member by the integer key (read with a key share lock on the member's
account, as a foreign key's check takes it, so the account cannot go before the request is
written), which the member's erasure sets to NULL (the data store's erasure; on SQLite a
foreign key's ``ON DELETE SET NULL``). The member's public id is read back by a lookup of
``members`` by ``num`` of its own, not by joining this shared table to a member-owned one
(SQLCipher's ``LEFT JOIN members``): a ``num`` names one account for ever, so the lookup,
made after the requests were read, finds the account or finds it gone, and a request whose
member is gone names nobody. The officers' queue is one walk of the partial index
``dsr_open_by_due`` (open requests by due date). Every state change is one conditional
``UPDATE``; the caller learns from the row count whether it won.

Where SQLCipher's transaction holds the store's write lock from its first read, here a read
inside a write transaction that decides what the transaction writes locks what it read first:
:meth:`PostgresqlRequests.get` locks the request's row (the service reads a request, then its
tasks, before it closes it: two hosts, one fulfilling the vault's part and one recording a
brand's last task, would otherwise each see the other's part undone and neither close it), and
:meth:`PostgresqlRequests.result_bytes` the task's (the documents' size decides whether more
may be added). Each read then runs after its lock is granted, so it sees what the lock's
previous holder committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vault.postgresql import PostgresqlRepository

from ..repositories import HistoryRow, RequestRow, ResultRow, TaskRow

_REQUEST = ("SELECT r.id, r.member_num, r.principal, r.regime, r.kind, r.source,"
            " r.text_sealed, r.state, r.received_at, r.received_on, r.confirm_by,"
            " r.confirmed_at, r.due_on, r.extended_at, r.extension_reason, r.fulfilled_at,"
            " r.fulfilment, r.closed_at, r.reminder_level FROM dsr_requests AS r")
_TASK = ("SELECT uid, request_id, brand_id, subject, message, state, reason, created_at,"
         " updated_at, closed_at FROM dsr_tasks")
_RESULT = ("SELECT id, task_uid, name, media_type, size, document_sealed, created_at"
           " FROM dsr_results")


def _task(row: Any) -> TaskRow:
    return TaskRow(*(row[i] for i in range(10)))


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class PostgresqlRequests(PostgresqlRepository):
    def insert(self, request: RequestRow) -> None:
        member = None if request.member_id is None else self._db.one(
            "SELECT num FROM members WHERE id = ? FOR KEY SHARE", (request.member_id,))
        self._db.execute(
            "INSERT INTO dsr_requests (id, member_num, principal, regime, kind, source,"
            " text_sealed, state, received_at, received_on, confirm_by, confirmed_at, due_on,"
            " extended_at, extension_reason, fulfilled_at, fulfilment, closed_at,"
            " reminder_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request.id, None if member is None else member[0], request.principal,
             request.regime, request.kind, request.source, request.text_sealed, request.state,
             request.received_at, request.received_on, request.confirm_by,
             request.confirmed_at, request.due_on,
             request.extended_at, request.extension_reason, request.fulfilled_at,
             request.fulfilment, request.closed_at, request.reminder_level))

    def get(self, request_id: str) -> RequestRow | None:
        if self._db.in_transaction:
            self._db.execute("SELECT 1 FROM dsr_requests WHERE id = ? FOR UPDATE",
                             (request_id,))
        found = self._requests(f"{_REQUEST} WHERE r.id = ?", (request_id,))
        return found[0] if found else None

    def for_member(self, member_id: str) -> list[RequestRow]:
        return self._requests(
            f"{_REQUEST} WHERE r.member_num = (SELECT num FROM members WHERE id = ?)"
            " ORDER BY r.received_at DESC, r.id DESC", (member_id,))

    def open_queue(self, *, limit: int, offset: int = 0,
                   due_before: str | None = None) -> list[RequestRow]:
        due, parameters = ("", ()) if due_before is None else (" AND r.due_on < ?",
                                                               (due_before,))
        return self._requests(
            f"{_REQUEST} WHERE r.state <> 'closed'{due}"
            " ORDER BY r.due_on, r.received_at, r.id LIMIT ? OFFSET ?",
            (*parameters, limit, offset))

    def count_open(self, *, due_before: str | None = None) -> int:
        due, parameters = ("", ()) if due_before is None else (" AND due_on < ?",
                                                               (due_before,))
        return int(self._db.one(
            f"SELECT count(*) FROM dsr_requests WHERE state <> 'closed'{due}", parameters)[0])

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

    def extend(self, request_id: str, *, due_on: str, reason: str, at: int) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_requests SET due_on = ?, extension_reason = ?, extended_at = ?,"
            " reminder_level = 'green' WHERE id = ? AND state <> 'closed'"
            " AND extended_at IS NULL", (due_on, reason, at, request_id)).rowcount)

    def raise_reminder(self, request_id: str, *, level_from: str, level_to: str) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_requests SET reminder_level = ? WHERE id = ? AND reminder_level = ?",
            (level_to, request_id, level_from)).rowcount)

    # -- tasks --------------------------------------------------------------------------------
    def add_task(self, task: TaskRow) -> None:
        self._db.execute(
            "INSERT INTO dsr_tasks (uid, request_id, brand_id, subject, message, state,"
            " reason, created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (task.uid, task.request_id, task.brand_id, task.subject, task.message, task.state,
             task.reason, task.created_at, task.updated_at, task.closed_at))

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
            f"{_TASK} WHERE request_id IN ({_marks(len(request_ids))})"
            " ORDER BY request_id, brand_id", tuple(request_ids))]

    def tasks_for_brand(self, brand_id: str, *, open_only: bool, limit: int,
                        offset: int) -> list[TaskRow]:
        live = " AND closed_at IS NULL" if open_only else ""
        return [_task(row) for row in self._db.all(
            f"{_TASK} WHERE brand_id = ?{live} ORDER BY created_at DESC, uid LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def update_task(self, uid: str, *, state: str, reason: str | None, at: int,
                    final: bool) -> bool:
        return bool(self._db.execute(
            "UPDATE dsr_tasks SET state = ?, reason = ?, updated_at = ?, closed_at = ?"
            " WHERE uid = ? AND closed_at IS NULL",
            (state, reason, at, at if final else None, uid)).rowcount)

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
            f"{_RESULT} WHERE task_uid IN ({_marks(len(task_uids))}) ORDER BY id",
            tuple(task_uids))]

    def result_bytes(self, task_uid: str) -> int:
        if self._db.in_transaction:
            self._db.execute("SELECT 1 FROM dsr_tasks WHERE uid = ? FOR UPDATE", (task_uid,))
        return int(self._db.one("SELECT coalesce(sum(size), 0) FROM dsr_results"
                                " WHERE task_uid = ?", (task_uid,))[0])

    def add_history(self, request_id: str, task_uid: str | None, state: str,
                    reason: str | None, at: int) -> None:
        self._db.execute(
            "INSERT INTO dsr_history (request_id, task_uid, state, reason, at)"
            " VALUES (?, ?, ?, ?, ?)", (request_id, task_uid, state, reason, at))

    def history(self, request_id: str) -> list[HistoryRow]:
        return [HistoryRow(*(row[i] for i in range(6))) for row in self._db.all(
            "SELECT id, request_id, task_uid, state, reason, at FROM dsr_history"
            " WHERE request_id = ? ORDER BY id", (request_id,))]

    # -- inside -------------------------------------------------------------------------------
    def _requests(self, sql: str, parameters: Sequence[Any]) -> list[RequestRow]:
        """The requests ``sql`` selects (``_REQUEST``'s columns), each with its member's public
        id while the member exists."""
        rows = self._db.all(sql, parameters)
        nums = {row[1] for row in rows if row[1] is not None}
        members = {int(m[0]): m[1] for m in self._db.all(
            f"SELECT num, id FROM members WHERE num IN ({_marks(len(nums))})",
            tuple(nums))} if nums else {}
        return [RequestRow(row[0], members.get(row[1]), *(row[i] for i in range(2, 19)))
                for row in rows]

"""Data subject requests in PostgreSQL: :class:`compliance.repositories.RequestRepository`
(what both engines share is :class:`compliance.sql.requests.SqlRequests`).

A request outlives its member, so it is no member's row: ``dsr_requests``, ``dsr_tasks`` and
``dsr_history`` are shared tables, ``dsr_results`` is distributed by its task (data migration
0008). A request names its member by the integer key (read with a key share lock on the member's
account, as a foreign key's check takes it, so the account cannot go before the request is
written), which the member's erasure sets to NULL (the data store's erasure; on SQLite a
foreign key's ``ON DELETE SET NULL``). The member's public id is read back by a lookup of
``members`` by ``num`` of its own, not by joining this shared table to a member-owned one
(SQLCipher's ``LEFT JOIN members``): a ``num`` names one account for ever, so the lookup,
made after the requests were read, finds the account or finds it gone, and a request whose
member is gone names nobody. PostgreSQL's planner walks the partial index ``dsr_open_by_due``
by itself.

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

from ..repositories import RequestRow
from ..sql.requests import REQUEST_COLUMNS, REQUEST_WIDTH, SqlRequests, marks


class PostgresqlRequests(SqlRequests):
    _OPEN_BY_DUE = ""
    _REQUEST = _OPEN_REQUEST = (
        f"SELECT r.id, r.member_num, {REQUEST_COLUMNS} FROM dsr_requests AS r")

    def insert(self, request: RequestRow) -> None:
        member = None if request.member_id is None else self._db.one(
            "SELECT num FROM members WHERE id = ? FOR KEY SHARE", (request.member_id,))
        self._db.execute(
            "INSERT INTO dsr_requests (id, member_num, principal, regime, kind, source,"
            " text_sealed, state, received_at, received_on, confirm_by, confirmed_at, due_on,"
            " extended_at, extension_reason, fulfilled_at, fulfilment, closed_at,"
            " reminder_level, extension_reason_sealed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request.id, None if member is None else member[0], request.principal,
             request.regime, request.kind, request.source, request.text_sealed, request.state,
             request.received_at, request.received_on, request.confirm_by,
             request.confirmed_at, request.due_on,
             request.extended_at, request.extension_reason, request.fulfilled_at,
             request.fulfilment, request.closed_at, request.reminder_level,
             request.extension_reason_sealed))

    def get(self, request_id: str) -> RequestRow | None:
        if self._db.in_transaction:
            self._db.execute("SELECT 1 FROM dsr_requests WHERE id = ? FOR UPDATE",
                             (request_id,))
        return super().get(request_id)

    def result_bytes(self, task_uid: str) -> int:
        if self._db.in_transaction:
            self._db.execute("SELECT 1 FROM dsr_tasks WHERE uid = ? FOR UPDATE", (task_uid,))
        return super().result_bytes(task_uid)

    # -- inside -------------------------------------------------------------------------------
    def _requests(self, sql: str, parameters: Sequence[Any]) -> list[RequestRow]:
        """The requests ``sql`` selects (``_REQUEST``'s columns), each with its member's public
        id while the member exists."""
        rows = self._db.all(sql, parameters)
        nums = {row[1] for row in rows if row[1] is not None}
        members = {int(m[0]): m[1] for m in self._db.all(
            f"SELECT num, id FROM members WHERE num IN ({marks(len(nums))})",
            tuple(nums))} if nums else {}
        return [RequestRow(row[0], members.get(row[1]),
                           *(row[i] for i in range(2, REQUEST_WIDTH))) for row in rows]

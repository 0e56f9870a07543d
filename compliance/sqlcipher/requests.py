"""Data subject requests in SQLCipher: :class:`compliance.repositories.RequestRepository` (what
both engines share is :class:`compliance.sql.requests.SqlRequests`).

A request's member is set to NULL by a foreign key's ``ON DELETE SET NULL`` and read by a
``LEFT JOIN members``; SQLite walks the officers' queue by ``INDEXED BY dsr_open_by_due``.
"""

from __future__ import annotations

from ..repositories import RequestRow
from ..sql.requests import REQUEST_COLUMNS, SqlRequests


def _select(walk: str = "") -> str:
    """The requests with their members' public ids, over ``dsr_requests`` walked by ``walk``."""
    return (f"SELECT r.id, m.id AS member_id, {REQUEST_COLUMNS} FROM dsr_requests r{walk}"
            " LEFT JOIN members m ON m.num = r.member_num")


class SqlcipherRequests(SqlRequests):
    _OPEN_BY_DUE = " INDEXED BY dsr_open_by_due"
    _REQUEST = _select()
    _OPEN_REQUEST = _select(_OPEN_BY_DUE)

    def insert(self, request: RequestRow) -> None:
        self._db.execute(
            "INSERT INTO dsr_requests (id, member_num, principal, regime, kind, source,"
            " text_sealed, state, received_at, received_on, confirm_by, confirmed_at, due_on,"
            " extended_at, extension_reason, fulfilled_at, fulfilment, closed_at,"
            " reminder_level, extension_reason_sealed) VALUES (?,"
            " (SELECT num FROM members WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?)",
            (request.id, request.member_id, request.principal, request.regime, request.kind,
             request.source, request.text_sealed, request.state, request.received_at,
             request.received_on, request.confirm_by, request.confirmed_at, request.due_on,
             request.extended_at, request.extension_reason, request.fulfilled_at,
             request.fulfilment, request.closed_at, request.reminder_level,
             request.extension_reason_sealed))

"""The shared request counters in SQLCipher: ``rates.db``, a store of its own
(:func:`brand_gateway.storage.open_rate_counts` opens it), and
:class:`brand_gateway.repositories.RateCountRepository` over it (what both engines share is
:class:`brand_gateway.sql.rate_counts.SqlRateCounts`).

A lease is taken in one ``BEGIN IMMEDIATE`` transaction
(:meth:`vault.sqlcipher.database.Database.transaction` waits for the write lock): the store's
lock holds the client's row; the count is written back by an upsert.
"""

from __future__ import annotations

from typing import Any

from vault.sqlcipher.database import Database

from ..sql.rate_counts import SqlRateCounts


class SqlcipherRateCounts(SqlRateCounts):
    _db: Database

    def _held(self, client_id: str, window_start: int) -> Any:
        return self._db.one("SELECT window_start, used FROM api_rate_limits"
                            " WHERE client_id = ?", (client_id,))

    def _count(self, client_id: str, window_start: int, used: int) -> None:
        self._db.execute(
            "INSERT INTO api_rate_limits (client_id, window_start, used) VALUES (?, ?, ?)"
            " ON CONFLICT (client_id) DO UPDATE SET window_start = excluded.window_start,"
            " used = excluded.used", (client_id, window_start, used))

"""The shared request counters in PostgreSQL, and
:class:`brand_gateway.repositories.RateCountRepository` over them (what both engines share is
:class:`brand_gateway.sql.rate_counts.SqlRateCounts`).

The same table as ``rates.db``'s (``api_rate_limits``: one row per client, the window's start
and the requests granted in it), migrated by :mod:`vault.postgresql.migrations`. Where SQLCipher
takes the whole store's write lock, a lease here locks its client's row (``SELECT ... FOR
UPDATE``) for the transaction that reads and rewrites it: two workers, or two hosts, taking
leases of one client at once take them one after the other, each from the count the other left,
so no count is lost; leases of different clients do not wait for each other. A client's first
lease makes its row first (``ON CONFLICT DO NOTHING``: of two first leases at once, one makes
it and the other waits for it), then locks it as any other.
"""

from __future__ import annotations

from typing import Any

from vault.postgresql import migrations
from vault.postgresql.database import Database
from vault.schema import RATES, on_postgresql

from ..sql.rate_counts import SqlRateCounts

RATES_ON_POSTGRESQL = on_postgresql(RATES)

_LOCK_ROW = "SELECT window_start, used FROM api_rate_limits WHERE client_id = ? FOR UPDATE"


def open_rate_counts(dsn: str) -> Database:
    """A connection to the rates database ``dsn`` names, migrated as needed. Close it."""
    return migrations.connect(dsn, RATES_ON_POSTGRESQL)


class PostgresqlRateCounts(SqlRateCounts):
    _db: Database

    def _held(self, client_id: str, window_start: int) -> Any:
        row = self._db.one(_LOCK_ROW, (client_id,))
        if row is None:
            self._db.execute("INSERT INTO api_rate_limits (client_id, window_start, used)"
                             " VALUES (?, ?, 0) ON CONFLICT (client_id) DO NOTHING",
                             (client_id, window_start))
            row = self._db.one(_LOCK_ROW, (client_id,))
        return row

    def _count(self, client_id: str, window_start: int, used: int) -> None:
        self._db.execute("UPDATE api_rate_limits SET window_start = ?, used = ?"
                         " WHERE client_id = ?", (window_start, used, client_id))

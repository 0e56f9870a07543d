"""The shared request counters in SQLCipher: ``rates.db``, a store of its own, and
:class:`brand_gateway.repositories.RateCountRepository` over it (what both engines share is
:class:`brand_gateway.sql.rate_counts.SqlRateCounts`).

A lease is taken in one ``BEGIN IMMEDIATE`` transaction
(:meth:`vault.sqlcipher.database.Database.transaction` waits for the write lock): the store's
lock holds the client's row; the count is written back by an upsert.
"""

from __future__ import annotations

from typing import Any

from vault import migrations
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.schema import RATES
from vault.sqlcipher.database import Database

from ..sql.rate_counts import SqlRateCounts


def open_rate_counts(home: VaultHome, master: MasterKey) -> Database:
    """``rates.db`` in ``home`` (its own subkey of the master key, mode 0600), made and
    migrated as needed. Close it."""
    home.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = Database.open(home.root / RATES.file, master.derive(RATES.key_purpose),
                             create=True)
    try:
        migrations.apply(database, RATES)
    except BaseException:
        database.close()
        raise
    return database


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

"""The shared request counters in SQLCipher: ``rates.db``, a store of its own, and
:class:`brand_gateway.repositories.RateCountRepository` over it.

One row per client (``api_rate_limits``: the window's start and the requests granted in it).
A lease is taken in one ``BEGIN IMMEDIATE`` transaction
(:meth:`vault.sqlcipher.database.Database.transaction` waits for the write lock), so concurrent
workers never lose a count.
"""

from __future__ import annotations

from collections.abc import Callable

from vault import migrations
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.schema import RATES
from vault.sqlcipher.database import Database


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


class SqlcipherRateCounts:
    def __init__(self, database: Database) -> None:
        self._db = database

    def take_lease(self, client_id: str, window_start: int,
                   size: Callable[[int], int]) -> tuple[int, int]:
        with self._db.transaction():
            row = self._db.one("SELECT window_start, used FROM api_rate_limits"
                               " WHERE client_id = ?", (client_id,))
            before = row[1] if row is not None and row[0] == window_start else 0
            taken = size(before)
            self._db.execute(
                "INSERT INTO api_rate_limits (client_id, window_start, used) VALUES (?, ?, ?)"
                " ON CONFLICT (client_id) DO UPDATE SET window_start = excluded.window_start,"
                " used = excluded.used", (client_id, window_start, before + taken))
        return before, taken

"""What a restore asks of the copy of a data store it prepares (``vault/backup.py``), in
SQLCipher: whether the file is a vrmvault data store, which migrations made it, and the
clean-up a restored store needs (every session ended)."""

from __future__ import annotations

from . import SqlcipherRepository


class SqlcipherRestoredStore(SqlcipherRepository):
    def is_data_store(self) -> bool:
        """Whether the file has the migrations' bookkeeping table (every store of ours does)."""
        return bool(self._db.one("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                 " AND name = 'schema_migrations'")[0])

    def migration_numbers(self) -> set[int]:
        return {int(row[0]) for row in self._db.all("SELECT number FROM schema_migrations")}

    def end_all_sessions(self) -> None:
        self._db.execute("DELETE FROM web_sessions")

    def member_count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM members")[0])

"""What a restore asks of the copy of a data store it prepares (``vault/backup.py``), in
SQLCipher: the clean-up a restored store needs (every session ended) and its member count.
Whether the file is a vrmvault data store, and which migrations made it, is the migration
runner's to say (``vault/migrations.py``)."""

from __future__ import annotations

from . import SqlcipherRepository


class SqlcipherRestoredStore(SqlcipherRepository):
    def end_all_sessions(self) -> None:
        self._db.execute("DELETE FROM web_sessions")

    def member_count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM members")[0])

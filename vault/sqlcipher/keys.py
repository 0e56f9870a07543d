"""Wrapped member keys and the erasure list in the key store's SQLCipher file:
:class:`vault.repositories.MemberKeyRepository` (:mod:`vault.sql.keys`).

Destroying a key checkpoints the WAL afterwards: ``secure_delete`` zeroed the key's page in a
new WAL frame, and the checkpoint overwrites the database file's copy and truncates the WAL, so
the wrapped key is gone from disk, not only from the table.
"""

from __future__ import annotations

from ..errors import ConstraintViolationError
from ..sql.keys import SqlMemberKeys
from .database import Database


class SqlcipherMemberKeys(SqlMemberKeys):
    _db: Database

    def insert(self, member_id: str, wrapped: bytes, created_at: int) -> bool:
        try:
            self._db.execute(
                "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, ?)",
                (member_id, wrapped, created_at))
        except ConstraintViolationError:
            return False
        return True

    def remove(self, member_id: str) -> None:
        self._db.execute("DELETE FROM member_keys WHERE member_id = ?", (member_id,))

    def destroy(self, member_id: str, erased_at: int) -> bool:
        with self._db.transaction():
            deleted = self._db.execute("DELETE FROM member_keys WHERE member_id = ?",
                                       (member_id,)).rowcount
            self._db.execute(
                "INSERT OR IGNORE INTO erased_members (member_id, erased_at) VALUES (?, ?)",
                (member_id, erased_at))
        self._db.checkpoint()
        return deleted > 0

    def erased(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT member_id, erased_at FROM erased_members")]

"""Wrapped member keys and the erasure list in the key store's SQLCipher file:
:class:`vault.repositories.MemberKeyRepository`.

Destroying a key checkpoints the WAL afterwards: ``secure_delete`` zeroed the key's page in a
new WAL frame, and the checkpoint overwrites the database file's copy and truncates the WAL, so
the wrapped key is gone from disk, not only from the table.
"""

from __future__ import annotations

from ..errors import ConstraintViolationError
from . import SqlcipherRepository


class SqlcipherMemberKeys(SqlcipherRepository):
    def insert(self, member_id: str, wrapped: bytes, created_at: int) -> bool:
        try:
            self._db.execute(
                "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, ?)",
                (member_id, wrapped, created_at))
        except ConstraintViolationError:
            return False
        return True

    def wrapped(self, member_id: str) -> bytes | None:
        row = self._db.one("SELECT wrapped FROM member_keys WHERE member_id = ?", (member_id,))
        return None if row is None else bytes(row[0])

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

    def erased_at(self, member_id: str) -> int | None:
        row = self._db.one("SELECT erased_at FROM erased_members WHERE member_id = ?",
                           (member_id,))
        return None if row is None else int(row[0])

    def erased(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT member_id, erased_at FROM erased_members")]

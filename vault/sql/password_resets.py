"""Password reset links (hashes of their tokens):
:class:`vault.repositories.PasswordResetRepository`, in the same statements on both engines.

A link is spent by one conditional ``DELETE``: of two submissions at once, the second finds it
gone.
"""

from __future__ import annotations

from . import SqlRepository


class SqlPasswordResets(SqlRepository):
    def insert(self, token_hash: bytes, member_id: str, *, created_at: int,
               expires_at: int) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM password_resets WHERE expires_at <= ?", (created_at,))
            self._db.execute(
                "INSERT INTO password_resets (token_hash, member_id, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)", (token_hash, member_id, created_at, expires_at))

    def member_for(self, token_hash: bytes, now: int) -> str | None:
        row = self._db.one(
            "SELECT member_id FROM password_resets WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now))
        return None if row is None else str(row[0])

    def spend(self, token_hash: bytes, now: int) -> bool:
        return bool(self._db.execute(
            "DELETE FROM password_resets WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now)).rowcount)

    def delete(self, token_hash: bytes) -> None:
        self._db.execute("DELETE FROM password_resets WHERE token_hash = ?", (token_hash,))

    def delete_for_member(self, member_id: str) -> None:
        self._db.execute("DELETE FROM password_resets WHERE member_id = ?", (member_id,))

"""Password reset links (hashes of their tokens) in PostgreSQL:
:class:`vault.repositories.PasswordResetRepository`.

``password_resets`` is read by the hash of a link's token and distributed by it, so it has no
foreign key to ``members`` (another distribution): erasure deletes a member's links itself
(``vault/postgresql/erasure.py``), where SQLite's cascade does. A link is spent by one
conditional ``DELETE``: of two submissions at once, the second finds it gone.
"""

from __future__ import annotations

from . import PostgresqlRepository


class PostgresqlPasswordResets(PostgresqlRepository):
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

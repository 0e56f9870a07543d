"""Pending sign-ups (sealed, by the hash of their token):
:class:`vault.repositories.SignupRepository`, in the same statements on both engines.

A sign-up is spent by one ``DELETE``: of two following one link at once, the second finds it
gone.
"""

from __future__ import annotations

from ..repositories import SignupRow
from . import SqlRepository


class SqlSignups(SqlRepository):
    def insert(self, row: SignupRow) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM signup_requests WHERE expires_at <= ?",
                             (row.created_at,))
            self._db.execute(
                "INSERT INTO signup_requests (token_hash, email_index, sealed, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?)",
                (row.token_hash, row.email_index, row.sealed, row.created_at, row.expires_at))

    def get(self, token_hash: bytes) -> SignupRow | None:
        row = self._db.one("SELECT token_hash, email_index, sealed, created_at, expires_at"
                           " FROM signup_requests WHERE token_hash = ?", (token_hash,))
        return None if row is None else SignupRow(bytes(row[0]), bytes(row[1]), bytes(row[2]),
                                                  row[3], row[4])

    def is_live(self, token_hash: bytes, now: int) -> bool:
        return self._db.one(
            "SELECT 1 FROM signup_requests WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now)) is not None

    def delete(self, token_hash: bytes) -> bool:
        return self._db.execute("DELETE FROM signup_requests WHERE token_hash = ?",
                                (token_hash,)).rowcount == 1

    def delete_for_address(self, email_index: bytes) -> None:
        self._db.execute("DELETE FROM signup_requests WHERE email_index = ?", (email_index,))

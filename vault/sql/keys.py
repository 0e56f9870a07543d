"""Wrapped member keys and the erasure list: :class:`vault.repositories.MemberKeyRepository`,
over the key store (a store of its own on either engine). The reads are the same statements on
both engines; each engine's module adds a key, and destroys one so that it is gone from disk,
not only from the table, as far as its engine allows."""

from __future__ import annotations

from collections.abc import Sequence

from . import SqlRepository


class SqlMemberKeys(SqlRepository):
    def insert_many(self, rows: Sequence[tuple[str, bytes, int]]) -> None:
        self._db.executemany(
            "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, ?)", rows)

    def wrapped(self, member_id: str) -> bytes | None:
        row = self._db.one("SELECT wrapped FROM member_keys WHERE member_id = ?", (member_id,))
        return None if row is None else bytes(row[0])

    def holders(self) -> list[str]:
        return [str(row[0]) for row in self._db.all(
            "SELECT member_id FROM member_keys ORDER BY member_id")]

    def erased_at(self, member_id: str) -> int | None:
        row = self._db.one("SELECT erased_at FROM erased_members WHERE member_id = ?",
                           (member_id,))
        return None if row is None else int(row[0])

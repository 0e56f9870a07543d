"""Web sessions (hashes of their cookies): :class:`vault.repositories.SessionRepository`, in
the same statements on both engines."""

from __future__ import annotations

from typing import Any

from ..repositories import SessionRow
from . import SqlRepository

_COLUMNS = ("SELECT id_hash, member_id, data, device, created_at, last_seen, expires_at"
            " FROM web_sessions")


def _session(row: Any) -> SessionRow:
    return SessionRow(bytes(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])


class SqlSessions(SqlRepository):
    def insert(self, row: SessionRow) -> None:
        # Ended sessions are deleted as new ones are made (indexed), so the table stays small.
        with self._db.transaction():
            self._db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (row.created_at,))
            self._db.execute(
                "INSERT INTO web_sessions (id_hash, member_id, data, device, created_at,"
                " last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.id_hash, row.member_id, row.data, row.device, row.created_at,
                 row.last_seen, row.expires_at))

    def get(self, id_hash: bytes) -> SessionRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE id_hash = ?", (id_hash,))
        return None if row is None else _session(row)

    def save(self, id_hash: bytes, data: str, last_seen: int) -> None:
        self._db.execute("UPDATE web_sessions SET data = ?, last_seen = ? WHERE id_hash = ?",
                         (data, last_seen, id_hash))

    def touch(self, id_hash: bytes, last_seen: int) -> None:
        self._db.execute("UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?",
                         (last_seen, id_hash))

    def delete(self, id_hash: bytes) -> None:
        self._db.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))

    def delete_for_member(self, member_id: str, *, keep: bytes | None = None) -> int:
        if keep is None:
            return int(self._db.execute("DELETE FROM web_sessions WHERE member_id = ?",
                                        (member_id,)).rowcount)
        return int(self._db.execute(
            "DELETE FROM web_sessions WHERE member_id = ? AND id_hash <> ?",
            (member_id, keep)).rowcount)

    def for_member(self, member_id: str) -> list[SessionRow]:
        return [_session(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? ORDER BY last_seen DESC", (member_id,))]

    def live_for_member(self, member_id: str, now: int) -> list[SessionRow]:
        return [_session(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? AND expires_at > ? ORDER BY last_seen DESC",
            (member_id, now))]

    def prune(self, *, now: int, seen_before: int) -> int:
        return int(self._db.execute(
            "DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen < ?",
            (now, seen_before)).rowcount)

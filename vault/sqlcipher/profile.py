"""Profile values (sealed, one row per member and attribute) in SQLCipher:
:class:`vault.repositories.ProfileRepository`. The table is ``WITHOUT ROWID``, keyed by
``(member_id, attribute)``, so a member's values sit together on few pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import SqlcipherRepository

# The brand API's reads name up to a few dozen attributes: one IN list per count, made once.
_READ_SOME: dict[int, str] = {}


def _read_some(count: int) -> str:
    sql = _READ_SOME.get(count)
    if sql is None:
        sql = _READ_SOME[count] = (
            "SELECT attribute, value_sealed FROM profile_values WHERE member_id = ?"
            f" AND attribute IN ({','.join('?' * count)})")
    return sql


class SqlcipherProfileValues(SqlcipherRepository):
    INSERT = ("INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
              " VALUES (?, ?, ?, ?)")

    def values(self, member_id: str, attributes: Sequence[str] | None = None
               ) -> list[tuple[str, bytes]]:
        if attributes is None:
            rows = self._db.all("SELECT attribute, value_sealed FROM profile_values"
                                " WHERE member_id = ?", (member_id,))
        elif not attributes:
            return []
        else:
            rows = self._db.all(_read_some(len(attributes)), (member_id, *attributes))
        return [(row[0], row[1]) for row in rows]

    def put(self, member_id: str, attribute: str, sealed: bytes, updated_at: int) -> None:
        self._db.execute(
            "INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (member_id, attribute) DO UPDATE SET"
            " value_sealed = excluded.value_sealed, updated_at = excluded.updated_at",
            (member_id, attribute, sealed, updated_at))

    def put_many(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        self._db.executemany(self.INSERT, rows)

    def remove(self, member_id: str, attribute: str) -> None:
        self._db.execute("DELETE FROM profile_values WHERE member_id = ? AND attribute = ?",
                         (member_id, attribute))

"""Profile values (sealed, one row per member and attribute) in PostgreSQL:
:class:`vault.repositories.ProfileRepository`.

``profile_values`` is member-owned, keyed by ``(member_id, attribute)`` as SQLCipher's
``WITHOUT ROWID`` table is; a member's values are read by attribute, in the order SQLite hands
them back in (its keys' byte order). The attributes of a partial read are one array parameter
(``= ANY``), so every read of some attributes is one statement whatever their number. Setting a
value is one upsert; no read here decides a write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import PostgresqlRepository

_READ = "SELECT attribute, value_sealed FROM profile_values"
# SQLite's order: its keys compare as bytes, whatever the database's collation.
_ORDER = 'ORDER BY attribute COLLATE "C"'


class PostgresqlProfileValues(PostgresqlRepository):
    INSERT = ("INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
              " VALUES (?, ?, ?, ?)")

    def values(self, member_id: str, attributes: Sequence[str] | None = None
               ) -> list[tuple[str, bytes]]:
        if attributes is None:
            rows = self._db.all(f"{_READ} WHERE member_id = ? {_ORDER}", (member_id,))
        elif not attributes:
            return []
        else:
            rows = self._db.all(f"{_READ} WHERE member_id = ? AND attribute = ANY(?) {_ORDER}",
                                (member_id, list(attributes)))
        return [(row[0], row[1]) for row in rows]

    def put(self, member_id: str, attribute: str, sealed: bytes, updated_at: int) -> None:
        self._db.execute(
            f"{self.INSERT} ON CONFLICT (member_id, attribute) DO UPDATE SET"
            " value_sealed = excluded.value_sealed, updated_at = excluded.updated_at",
            (member_id, attribute, sealed, updated_at))

    def put_many(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        self._db.executemany(self.INSERT, rows)

    def remove(self, member_id: str, attribute: str) -> None:
        self._db.execute("DELETE FROM profile_values WHERE member_id = ? AND attribute = ?",
                         (member_id, attribute))

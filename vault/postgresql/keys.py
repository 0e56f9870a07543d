"""The key store in PostgreSQL: :class:`vault.repositories.MemberKeyRepository`
(:mod:`vault.sql.keys`) over a database of its own (``vault/schema/postgresql/keys/``), reached
with its own credentials, so a dump of the data database holds no key.

What an erasure leaves in PostgreSQL's files, and what :meth:`PostgresqlMemberKeys.destroy`
does about it: a ``DELETE`` only marks the row dead, and a plain ``VACUUM`` makes its space
reusable without overwriting it, so the wrapped key stays readable in the table's file until
that space happens to be reused (tested: ``tests/unit/storage/test_member_keys.py``). Only a
rewrite of the table (``VACUUM FULL``) leaves it out. The keys are spread over 64 hash
partitions, and an erasure rewrites the one that held the member's key, after the transaction
that deleted it: about 1/64 of the keys, locked for that rewrite, never the whole table. The
write-ahead log still holds the key's insertion until its segments are recycled, as an archive
for point-in-time recovery holds it for good: those are backups, and a restore re-applies the
erasure list (``erased_members``), as for SQLCipher's backups.
"""

from __future__ import annotations

from ..schema import KEYS, on_postgresql
from ..sql.keys import SqlMemberKeys
from . import migrations
from .database import Database

KEYS_ON_POSTGRESQL = on_postgresql(KEYS)


def open_member_keys(dsn: str) -> Database:
    """A connection to the key database ``dsn`` names, migrated as needed. Close it."""
    return migrations.connect(dsn, KEYS_ON_POSTGRESQL)


class PostgresqlMemberKeys(SqlMemberKeys):
    def insert(self, member_id: str, wrapped: bytes, created_at: int) -> bool:
        cursor = self._db.execute(
            "INSERT INTO member_keys (member_id, wrapped, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO NOTHING", (member_id, wrapped, created_at))
        return bool(cursor.rowcount)

    def remove(self, member_id: str) -> None:
        partition = self._delete(member_id)
        if partition is not None:
            self._rewrite(partition)

    def destroy(self, member_id: str, erased_at: int) -> bool:
        with self._db.transaction():
            partition = self._delete(member_id)
            self._db.execute(
                "INSERT INTO erased_members (member_id, erased_at) VALUES (?, ?)"
                " ON CONFLICT (member_id) DO NOTHING", (member_id, erased_at))
        if partition is not None:
            self._rewrite(partition)
        return partition is not None

    def erased(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT member_id, erased_at FROM erased_members ORDER BY erased_at, member_id")]

    # -- the purge -------------------------------------------------------------------------
    def _delete(self, member_id: str) -> str | None:
        """Delete the member's key; the partition that held it (a name of our own
        migration's), or ``None`` when there was none."""
        row = self._db.one("DELETE FROM member_keys WHERE member_id = ?"
                           " RETURNING tableoid::regclass::text", (member_id,))
        return None if row is None else str(row[0])

    def _rewrite(self, partition: str) -> None:
        """Rewrite ``partition`` so the deleted key's bytes leave its files. ``VACUUM`` runs
        outside any transaction; the name is one :meth:`_delete` had from the catalog."""
        if not partition.startswith("member_keys_") or not partition[12:].isdigit():
            raise ValueError(f"{partition!r} is not a partition of member_keys")
        self._db.execute(f"VACUUM (FULL) {partition}")


__all__ = ["KEYS_ON_POSTGRESQL", "PostgresqlMemberKeys", "open_member_keys"]

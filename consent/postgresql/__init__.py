"""The PostgreSQL implementations of consent's repositories (``consent/repositories.py``), over
the data store's :class:`vault.postgresql.database.Database`: one module per aggregate, holding
the statements of it that are PostgreSQL's own, as in ``consent/sqlcipher/`` (what both engines
run alike is in ``consent/sql/``). Sets of codes are stored as sorted JSON arrays, as text.

Every table here is its member's (``member_id`` first in each key, the rules at the head of
``vault/schema/postgresql/data/0001_baseline.sql``). What differs from SQLCipher, and why:

- SQLCipher's ``BEGIN IMMEDIATE`` takes the whole store's write lock before a service reads
  what it is about to change. Here a read made inside a write transaction, that the service
  may decide a write on, first takes the member's lock (:func:`lock_member`: their ``members``
  row, ``FOR NO KEY UPDATE``) and locks the rows it reads (``FOR NO KEY UPDATE``): two hosts
  changing one member's consent at once take turns, each reading what the other wrote, also
  where the read found nothing (an open offer, terms for a brand, a live grant). Neither lock
  blocks a foreign key's check (``FOR KEY SHARE``), and both are taken member first, as an
  erasure's ``DELETE`` takes them. Outside a write transaction reads lock nothing.
"""

from __future__ import annotations

from vault.postgresql.database import Database

from ..sql import SqlConsentRepository


def lock_member(database: Database, member_id: str) -> None:
    """Inside a write transaction, take the member's lock (their ``members`` row) until it
    ends; outside one, nothing."""
    if database.in_transaction:
        database.lock("SELECT 1 FROM members WHERE id = ? FOR NO KEY UPDATE", (member_id,))


def locking(database: Database, of: str = "") -> str:
    """The locking clause for a read that may decide a write: ``FOR NO KEY UPDATE`` (of the
    table aliased ``of``) inside a write transaction, else nothing."""
    if not database.in_transaction:
        return ""
    return f" FOR NO KEY UPDATE OF {of}" if of else " FOR NO KEY UPDATE"


class PostgresqlConsentRepository(SqlConsentRepository):
    """The hooks of :class:`consent.sql.SqlConsentRepository` on PostgreSQL (put first among
    a repository's bases): the member's lock and the rows' locks above."""

    _db: Database

    def _lock_member(self, member_id: str) -> None:
        lock_member(self._db, member_id)

    def _lock_owner(self, table: str, row_id: str) -> bool:
        if self._db.in_transaction:
            owner = self._db.one(f"SELECT member_id FROM {table} WHERE id = ?", (row_id,))
            if owner is None:
                return False
            lock_member(self._db, owner[0])
        return True

    def _locking(self, of: str = "") -> str:
        return locking(self._db, of)

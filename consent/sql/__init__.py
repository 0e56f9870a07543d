"""The statements and row mappings both engines' repositories of consent
(``consent/repositories.py``) run alike, one module per aggregate, as base classes
(``Sql<Name>``) over :class:`vault.sql.SqlRepository`; each engine's module
(``consent/sqlcipher/``, ``consent/postgresql/``) adds what differs. Sets of codes are stored
as sorted JSON arrays.
"""

from __future__ import annotations

from vault.sql import SqlRepository


class SqlConsentRepository(SqlRepository):
    """A repository of a member's consent, whose reads a service may decide a write on.

    SQLCipher's write transaction (``BEGIN IMMEDIATE``) already holds the whole store's lock
    when such a read runs, so these hooks add nothing there; PostgreSQL's
    (:class:`consent.postgresql.PostgresqlConsentRepository`) lock the member and the rows read.
    """

    def _lock_member(self, member_id: str) -> None:
        """Inside a write transaction, take the member's lock until it ends."""

    def _lock_owner(self, table: str, row_id: str) -> bool:
        """Inside a write transaction, take the lock of the member whose row of ``table`` has
        the id ``row_id``; False where no row has it (nothing to read then)."""
        return True

    def _locking(self, of: str = "") -> str:
        """What a read that may decide a write adds to lock the rows it reads (of the table
        aliased ``of``)."""
        return ""

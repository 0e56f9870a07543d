"""The PostgreSQL engine of the storage seam (issue 17): its connection (:mod:`.database`), its
migration runner (:mod:`.migrations`), and the vault's repositories on it, one module per
aggregate as in ``vault/sqlcipher/``.

The data store's tables are laid out so that Citus can distribute them by member (the rules
are at the head of ``vault/schema/postgresql/data/0001_baseline.sql``). Where SQLCipher's
``BEGIN IMMEDIATE`` takes the whole store's write lock before a transaction reads what it will
change, a repository here locks the rows it reads for that (``SELECT ... FOR UPDATE``), and
leaves a conflict between two inserts to the constraint (``ON CONFLICT``): the connection's
transactions are PostgreSQL's default, READ COMMITTED.
"""

from __future__ import annotations

from vault.sql import SqlRepository

from .database import Database


class PostgresqlRepository(SqlRepository):
    """What every PostgreSQL repository shares: its store's connection and transactions
    (:class:`vault.sql.SqlRepository`), the connection typed as this engine's."""

    _db: Database

"""The SQLCipher implementations of the vault's repositories (``vault/repositories.py``).

One module per aggregate, each holding every statement of it and every SQLite-specific
construct it needs (``INSERT OR IGNORE``, upserts, ``sqlite_sequence``, WAL checkpoints). They
run over a :class:`vault.sqlcipher.database.Database` (the one module that opens SQLCipher and owns
its locking: ``BEGIN IMMEDIATE`` with polling, read snapshots); repositories made over the same
``Database`` share its transactions. SQL is parameterised, always.
"""

from __future__ import annotations

from vault.sql import SqlRepository

from .database import Database


class SqlcipherRepository(SqlRepository):
    """What every SQLCipher repository shares: its store's connection and transactions
    (:class:`vault.sql.SqlRepository`), the connection typed as this engine's."""

    _db: Database

"""The SQLCipher implementations of the vault's repositories (``vault/repositories.py``).

One module per aggregate, each holding every statement of it and every SQLite-specific
construct it needs (``INSERT OR IGNORE``, upserts, ``sqlite_sequence``, WAL checkpoints). They
run over a :class:`vault.sqlcipher.database.Database` (the one module that opens SQLCipher and owns
its locking: ``BEGIN IMMEDIATE`` with polling, read snapshots); repositories made over the same
``Database`` share its transactions. SQL is parameterised, always.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from .database import Database


class SqlcipherRepository:
    """What every SQLCipher repository shares: its store's connection and transactions."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def transaction(self) -> AbstractContextManager[object]:
        return self._db.transaction()

"""The statements and row mappings both engines' repositories run alike; each engine's module
adds what differs.

One module per aggregate, named as in ``vault/sqlcipher/`` and ``vault/postgresql/``, holding a
base class ``Sql<Name>`` with the methods whose SQL is the same text on SQLCipher and on
PostgreSQL (parameterised with ``?``, which PostgreSQL's connection rewrites), and the row
mappers and constants both use. ``Sqlcipher<Name>`` and ``Postgresql<Name>`` derive from it and
hold only their engine's statements: ``INSERT OR IGNORE`` against ``ON CONFLICT``, ``FOR UPDATE``
locks, the ``member_id`` columns PostgreSQL's member-owned tables carry, JSON functions, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Connection(Protocol):
    """What a repository uses of its engine's connection (``vault/sqlcipher/database.py``,
    ``vault/postgresql/database.py``; transactions as ``vault/transactions.py`` defines them)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...

    def all(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def snapshot(self) -> AbstractContextManager[Any]: ...

    @property
    def in_transaction(self) -> bool: ...


class SqlRepository:
    """What every repository shares, on either engine: its store's connection and transactions."""

    def __init__(self, database: Connection) -> None:
        self._db = database

    def transaction(self) -> AbstractContextManager[object]:
        return self._db.transaction()

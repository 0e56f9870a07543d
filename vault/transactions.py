"""The transactions every engine's connection offers its repositories, defined once.

SQLCipher's connection (``vault/sqlcipher/database.py``) and PostgreSQL's
(``vault/postgresql/database.py``) derive from :class:`Transactions` and say only how their
engine begins, commits and rolls back; what a repository may rely on (``vault/repositories.py``)
is here:

- :meth:`~Transactions.transaction` is a write transaction; a nested use joins the outer one
  (nothing commits before the outermost ends), and any exception rolls all of it back.
- :meth:`~Transactions.snapshot` is a read transaction: everything read inside sees one state of
  the store. Inside a transaction it joins it; no write transaction may start inside one.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Self


class Transactions(ABC):
    """Nesting and snapshots over an engine's ``_begin_write``, ``_commit``, ``_rollback``,
    ``_begin_read`` and ``_end_read``."""

    def __init__(self) -> None:
        self._depth = 0
        self._reading = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """A write transaction; nested uses join the outer one. Rolls back on any exception."""
        if self._reading:
            # SQLite: a read transaction cannot take the write lock once another connection
            # committed (SQLITE_BUSY_SNAPSHOT, no retry helps); PostgreSQL's snapshot is read
            # only. Writes go after the snapshot, never in it.
            raise RuntimeError("a write transaction inside a read snapshot")
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin_write()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        self._commit()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Self]:
        """A read transaction (see the module docstring)."""
        if self._depth or self._reading:
            yield self
            return
        self._begin_read()
        self._reading = True
        try:
            yield self
        finally:
            self._reading = False
            self._end_read()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _forget_transactions(self) -> None:
        """What a connection handed back after a failed caller no longer is in."""
        self._depth = 0
        self._reading = False

    # -- the engine's ----------------------------------------------------------------------
    @abstractmethod
    def _begin_write(self) -> None:
        """Begin a write transaction (SQLite: taking the store's write lock)."""

    @abstractmethod
    def _commit(self) -> None:
        """Commit the transaction begun."""

    @abstractmethod
    def _rollback(self) -> None:
        """Roll back the transaction begun."""

    @abstractmethod
    def _begin_read(self) -> None:
        """Begin a read transaction: one snapshot of the store."""

    @abstractmethod
    def _end_read(self) -> None:
        """End the read transaction begun."""

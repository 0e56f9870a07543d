"""The transactions every engine's connection offers its repositories, defined once.

SQLCipher's connection (``vault/sqlcipher/database.py``) and PostgreSQL's
(``vault/postgresql/database.py``) derive from :class:`Transactions` and say only how their
engine begins, commits and rolls back; what a repository may rely on (``vault/repositories.py``)
is here:

- :meth:`~Transactions.transaction` is a write transaction; a nested use joins the outer one
  (nothing commits before the outermost ends), and any exception rolls all of it back. A nested
  use is not a savepoint: when one ends in an exception after writing, the outer one can no
  longer commit (a caller that caught the exception would otherwise commit the failed step's
  half), and its end rolls everything back and raises
  :class:`~vault.errors.TransactionFailedError`.
  A nested use that fails before writing anything (a refusal after its checks) leaves the outer
  one whole.
- :meth:`~Transactions.snapshot` is a read transaction: everything read inside sees one state of
  the store. Inside a transaction it joins it; no write transaction may start inside one.
- :meth:`~Transactions.memoized` remembers values per connection while the store's version (the
  engine's :meth:`~Transactions._store_version`) stays what it was; a rollback forgets them all,
  since what was read inside may hold what it undid.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Self, TypeVar

from .errors import TransactionFailedError

# Values a connection remembers at most (see Transactions.memoized); past it, it forgets them all.
MEMO_ENTRIES = 4096
T = TypeVar("T")


class Transactions(ABC):
    """Nesting and snapshots over an engine's ``_begin_write``, ``_commit``, ``_rollback``,
    ``_begin_read`` and ``_end_read``."""

    def __init__(self) -> None:
        self._depth = 0
        self._reading = False
        self._memo_served = False   # within a read: a remembered value was handed out
        self._memo: dict[Hashable, Any] = {}
        self._memo_version: Hashable = None
        self._failed_inside = False     # a nested use ended in an exception after writing

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
            written = self._written()
            try:
                yield self
            except BaseException:
                if self._written() != written:
                    self._failed_inside = True
                raise
            finally:
                self._depth -= 1
            return
        self._begin_write()
        self._depth = 1
        self._failed_inside = False
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        if self._failed_inside:
            self._rollback()
            raise TransactionFailedError(
                "a step of this transaction failed after writing and its failure was caught:"
                " nothing of the transaction was written")
        self._commit()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Self]:
        """A read transaction (see the module docstring)."""
        if self._depth or self._reading:
            yield self
            return
        self._begin_read()
        self._reading = True
        self._memo_served = False
        try:
            yield self
        finally:
            self._reading = False
            self._end_read()

    def memoized(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``, or what it returned for ``key`` before if nothing was committed to the
        store since, by this connection or any other process (the Store contract's
        ``memoized``; what "since" means is the engine's :meth:`_store_version`).

        For what a kept connection reads on every request and that changes rarely (a brand
        API's token, client and policy). ``load`` reads the store and returns an immutable
        value; a value it raises is not remembered. Values are never personal data in clear:
        callers keep identifiers, grants and sealed values here, not what they decrypt.
        """
        version = self._store_version()
        if version != self._memo_version or len(self._memo) >= MEMO_ENTRIES:
            self._memo.clear()
            self._memo_version = version
        try:
            value = self._memo[key]
        except KeyError:
            value = self._memo[key] = load()
            return value
        self._memo_served = True     # a value from before this read's own statements
        return value  # type: ignore[no-any-return]

    def _forget_memo(self) -> None:
        """Called by the engine on every rollback (neither engine's version moves back)."""
        self._memo.clear()
        self._memo_version = None

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

    @abstractmethod
    def _written(self) -> int:
        """A count that moves whenever this connection writes (rows or statements: only its
        changes are compared, within one transaction)."""

    @abstractmethod
    def _store_version(self) -> Hashable:
        """What changes whenever anything is committed to the store, by anyone, or written
        by this connection; inside :meth:`snapshot`, the snapshot's."""

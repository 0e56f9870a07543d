"""The ledger store, what both engines share: :class:`consent.repositories.LedgerRepository`
(entries, tree nodes, checkpoints, search index rows, spool marks) and the base of
:class:`consent.repositories.AccessIndexRepository`'s.

Its tables are the ledger store's history in :data:`vault.schema.LEDGER`. Entries and nodes are
only ever added, never updated or deleted; appends are serialised (each engine says how), and a
nested unit of work is a ``SAVEPOINT``. Bodies and hashes are stored as the bytes given, so the
stored bytes, and every root and proof built from them, are the same whatever wrote them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from vault.sql import Connection, SqlRepository

from ..access_index import IndexedRead
from ..events import LedgerEntry
from ..ledger_proofs import Checkpoint
from ..merkle import leaf_hash


class LedgerConnection(Connection, Protocol):
    """The ledger store's connection: a :class:`vault.sql.Connection` a host may end."""

    def end_use(self) -> bool: ...

    def close(self) -> None: ...


class SqlLedger(SqlRepository):
    _db: LedgerConnection

    def snapshot(self) -> contextlib.AbstractContextManager[object]:
        return self._db.snapshot()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        self._db.execute("SAVEPOINT ledger_write")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO SAVEPOINT ledger_write")
            self._db.execute("RELEASE SAVEPOINT ledger_write")
            raise
        self._db.execute("RELEASE SAVEPOINT ledger_write")

    def end_use(self) -> bool:
        return self._db.end_use()

    def close(self) -> None:
        self._db.close()

    # -- entries and nodes ----------------------------------------------------------------
    def size(self) -> int:
        latest = self._db.one("SELECT max(seq) FROM entries")[0]
        return 0 if latest is None else int(latest) + 1

    def body(self, seq: int) -> bytes | None:
        row = self._db.one("SELECT body FROM entries WHERE seq = ?", (seq,))
        return None if row is None else bytes(row[0])

    def entries(self) -> Iterator[tuple[int, bytes]]:
        return ((int(row[0]), bytes(row[1])) for row in self._db.execute(
            "SELECT seq, body FROM entries ORDER BY seq"))

    def nodes(self) -> Iterator[tuple[int, bytes]]:
        return ((int(row[0]), bytes(row[1])) for row in self._db.execute(
            "SELECT position, hash FROM tree_nodes ORDER BY position"))

    def nodes_from(self, first: int) -> list[tuple[int, bytes]]:
        return [(int(row[0]), bytes(row[1])) for row in self._db.all(
            "SELECT position, hash FROM tree_nodes WHERE position >= ? ORDER BY position",
            (first,))]

    def last_position(self) -> int | None:
        position = self._db.one("SELECT max(position) FROM tree_nodes")[0]
        return None if position is None else int(position)

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint(int(row[0]), bytes(row[1]), row[2], row[3]) for row in self._db.all(
            "SELECT tree_size, root_hash, signed_at, note FROM checkpoints ORDER BY tree_size")]

    def latest_checkpoint(self) -> Checkpoint | None:
        row = self._db.one("SELECT tree_size, root_hash, signed_at, note FROM checkpoints"
                           " ORDER BY tree_size DESC LIMIT 1")
        return None if row is None else Checkpoint(int(row[0]), bytes(row[1]), row[2], row[3])

    def latest_checkpoint_size(self) -> int | None:
        size = self._db.one("SELECT max(tree_size) FROM checkpoints")[0]
        return None if size is None else int(size)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._db.execute(
            "INSERT INTO checkpoints (tree_size, root_hash, signed_at, note) VALUES (?, ?, ?, ?)",
            (checkpoint.tree_size, checkpoint.root_hash, checkpoint.signed_at, checkpoint.note))

    # -- spool marks ----------------------------------------------------------------------
    def spool_marks(self) -> dict[str, int]:
        return {row[0]: int(row[1]) for row in self._db.all(
            "SELECT spool, merged_through FROM spool_marks")}

    def spool_mark(self, spool_id: str) -> int:
        row = self._db.one("SELECT merged_through FROM spool_marks WHERE spool = ?",
                           (spool_id,))
        return int(row[0]) if row is not None else 0

    def set_spool_mark(self, spool_id: str, n: int) -> None:
        self._db.execute(
            "INSERT INTO spool_marks (spool, merged_through) VALUES (?, ?)"
            " ON CONFLICT (spool) DO UPDATE SET merged_through = excluded.merged_through",
            (spool_id, n))


class SqlAccessIndex(SqlRepository):
    """The brand reads among the search rows, joined with ``entries`` for the bodies."""


def indexed_reads(rows: Iterable[Sequence[Any]]) -> list[IndexedRead]:
    """The reads of rows of a read's brand, the time it was served and its entry's body."""
    reads = []
    for brand_id, read_at, body in rows:
        body = bytes(body)
        reads.append(IndexedRead(LedgerEntry.from_body(body, leaf_hash(body)), brand_id,
                                 int(read_at)))
    return reads

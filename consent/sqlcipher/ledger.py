"""The ledger store in SQLCipher: :class:`consent.repositories.LedgerRepository` (entries, tree
nodes, checkpoints, search index rows, spool marks) and
:class:`consent.repositories.AccessIndexRepository`, over ``ledger.db``'s
:class:`vault.sqlcipher.database.Database`.

Its tables are the ledger store's history in :data:`vault.schema.LEDGER`. The write lock is the
connection's (``BEGIN IMMEDIATE`` with polling, :mod:`vault.sqlcipher.database`); a nested unit of
work is a ``SAVEPOINT``. Bodies and hashes are stored as the BLOBs given, so the stored bytes, and
every root and proof built from them, are the same whatever wrote them.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence

from vault.sqlcipher import SqlcipherRepository
from vault.sqlcipher.database import Database

from ..access_index import ACCESS_TAGS, IndexedRead, MemberReads, ReadsOnDay
from ..events import LedgerEntry
from ..ledger_proofs import Checkpoint
from ..ledger_search import SearchRow, purposes_text
from ..merkle import leaf_hash

#: How many search rows wait in ``search_recent`` before an append moves them into the
#: index (ledger migration 4): more makes an append cheaper and a search's scan of them longer.
FOLD_ROWS = 16_384


class SqlcipherLedger(SqlcipherRepository):
    @property
    def database(self) -> Database:
        """The store's connection (for migrations, tests and tools; never for a service)."""
        return self._db

    def snapshot(self) -> contextlib.AbstractContextManager[object]:
        return self._db.snapshot()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        self._db.execute("SAVEPOINT ledger_write")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO ledger_write")
            self._db.execute("RELEASE ledger_write")
            raise
        self._db.execute("RELEASE ledger_write")

    def end_use(self) -> bool:
        return self._db.end_use()

    def close(self) -> None:
        self._db.close()

    # -- entries and nodes ----------------------------------------------------------------
    def size(self) -> int:
        latest = self._db.one("SELECT max(seq) FROM entries")[0]
        return 0 if latest is None else latest + 1

    def body(self, seq: int) -> bytes | None:
        row = self._db.one("SELECT body FROM entries WHERE seq = ?", (seq,))
        return None if row is None else bytes(row[0])

    def latest_body(self, prefix: bytes, containing: bytes) -> bytes | None:
        row = self._db.one(
            "SELECT body FROM entries WHERE substr(body, 1, ?) = ? AND instr(body, ?) > 0"
            " ORDER BY seq DESC LIMIT 1", (len(prefix), prefix, containing))
        return None if row is None else bytes(row[0])

    def bodies_containing(self, needle: bytes) -> list[tuple[int, bytes]]:
        return [(row[0], bytes(row[1])) for row in self._db.all(
            "SELECT seq, body FROM entries WHERE instr(body, ?) > 0 ORDER BY seq", (needle,))]

    def entries(self) -> Iterator[tuple[int, bytes]]:
        return iter(self._db.execute("SELECT seq, body FROM entries ORDER BY seq"))

    def nodes(self) -> Iterator[tuple[int, bytes]]:
        return iter(self._db.execute("SELECT position, hash FROM tree_nodes ORDER BY position"))

    def nodes_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        if not positions:
            return {}
        return {row[0]: bytes(row[1]) for row in self._db.all(
            f"SELECT position, hash FROM tree_nodes WHERE position IN"
            f" ({','.join('?' * len(positions))})", list(positions))}

    def nodes_from(self, first: int) -> list[tuple[int, bytes]]:
        return [(row[0], bytes(row[1])) for row in self._db.all(
            "SELECT position, hash FROM tree_nodes WHERE position >= ? ORDER BY position",
            (first,))]

    def last_position(self) -> int | None:
        position = self._db.one("SELECT max(position) FROM tree_nodes")[0]
        return None if position is None else int(position)

    def append(self, entries: Sequence[tuple[int, bytes]], nodes: Sequence[tuple[int, bytes]],
               search: Sequence[SearchRow] = ()) -> None:
        self._db.executemany("INSERT INTO entries (seq, body) VALUES (?, ?)", entries)
        self._db.executemany("INSERT INTO tree_nodes (position, hash) VALUES (?, ?)", nodes)
        if search:
            self._db.executemany(
                "INSERT INTO search_recent (seq, at, tag, brand, principal, purposes)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(r.seq, r.at, r.tag, r.brand, r.principal, purposes_text(r.purposes))
                 for r in search])
            oldest = self._db.one("SELECT min(seq) FROM search_recent")[0]
            if max(r.seq for r in search) - oldest + 1 >= self.fold_rows:
                self.fold_recent()

    fold_rows = FOLD_ROWS

    def fold_recent(self) -> int:
        """Move the recent search rows into the search index (in the caller's transaction);
        how many. Done by :meth:`append` every :data:`FOLD_ROWS` rows; searches read both."""
        moved = self._db.execute(
            "INSERT INTO search_index (seq, at, tag, brand, principal, purposes)"
            " SELECT seq, at, tag, brand, principal, purposes FROM search_recent ORDER BY seq"
        ).rowcount
        self._db.execute(
            "INSERT INTO search_purposes (purpose, at, seq, brand, tag)"
            " SELECT p.value, s.at, s.seq, s.brand, s.tag"
            " FROM search_recent AS s, json_each(s.purposes) AS p WHERE s.purposes IS NOT NULL")
        self._db.execute("DELETE FROM search_recent")
        return int(moved)

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint(row[0], bytes(row[1]), row[2], row[3]) for row in self._db.all(
            "SELECT tree_size, root_hash, signed_at, note FROM checkpoints ORDER BY tree_size")]

    def latest_checkpoint(self) -> Checkpoint | None:
        row = self._db.one("SELECT tree_size, root_hash, signed_at, note FROM checkpoints"
                           " ORDER BY tree_size DESC LIMIT 1")
        return None if row is None else Checkpoint(row[0], bytes(row[1]), row[2], row[3])

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


# The brand reads among the search rows (consent/access_index.py): a read's tag, a brand (its
# ``brand:`` actor) and a principal (its details' member).
_READS = (f"s.tag IN ({', '.join(repr(str(tag)) for tag in sorted(ACCESS_TAGS))})"
          " AND s.brand IS NOT NULL AND s.principal IS NOT NULL")


def _both(columns: str, index: str, where: str, tail: str = "") -> str:
    """``columns`` of the search rows matching ``where`` (on ``s``): those in the index,
    walked by ``index``, and the recent ones not yet in it (at most FOLD_ROWS, scanned);
    ``tail`` (an ORDER BY and LIMIT) applies to each. Its parameters are where's and tail's,
    twice."""
    def on(alias: str, text: str) -> str:
        return re.sub(r"\bs\.", alias + ".", text)
    return (f"SELECT * FROM (SELECT {columns} FROM search_index AS s INDEXED BY {index}"
            f" WHERE {where}{tail}) UNION ALL"
            f" SELECT * FROM (SELECT {on('r', columns)} FROM search_recent AS r"
            f" WHERE {on('r', where)}{on('r', tail)})")


# A member's reads by the time they were served: one range of search_by_principal, walked in its
# order, and the member's recent rows, merged; each row's tag and brand read from its table.
_NEWEST = " ORDER BY s.at DESC, s.seq DESC LIMIT ?"
READS_OF_MEMBER = (
    "SELECT m.brand, m.at, e.body FROM ("
    + _both("s.seq AS seq, s.brand AS brand, s.at AS at", "search_by_principal",
            f"s.principal = ? AND {_READS}", _NEWEST)
    + ") AS m JOIN entries AS e ON e.seq = m.seq ORDER BY m.at DESC, m.seq DESC LIMIT ? OFFSET ?")


class SqlcipherAccessIndex:
    """The brand reads among the search rows, joined with ``entries`` for the bodies."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def count(self, principal: str) -> int:
        return int(self._db.one(
            "SELECT count(*) FROM ("
            + _both("s.seq", "search_by_principal", f"s.principal = ? AND {_READS}") + ")",
            (principal, principal))[0])

    def reads(self, principal: str, *, limit: int, offset: int = 0) -> list[IndexedRead]:
        # By when they were served: reads merged from the workers' spools enter the ledger in
        # batches, one spool after another, not in the order they were served.
        reads = []
        for brand_id, read_at, body in self._db.all(
                READS_OF_MEMBER, (principal, limit + offset, principal, limit + offset, limit,
                                  offset)):
            body = bytes(body)
            reads.append(IndexedRead(LedgerEntry.from_body(body, leaf_hash(body)), brand_id,
                                     int(read_at)))
        return reads

    def daily(self, principal: str, *, since: int, day: int) -> list[ReadsOnDay]:
        rows = self._db.all(
            "SELECT m.at / ? AS day, m.brand, count(*) FROM ("
            + _both("s.brand AS brand, s.at AS at", "search_by_principal",
                    f"s.principal = ? AND s.at >= ? AND {_READS}")
            + ") AS m GROUP BY day, m.brand ORDER BY day",
            (day, principal, since, principal, since))
        return [ReadsOnDay(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def by_brand(self, brand_id: str) -> list[MemberReads]:
        # The fields are the entries' details.fields, unpacked by SQLite's JSON functions; a
        # read naming no field still counts (the outer join keeps it, with no value).
        rows = self._db.all(
            "SELECT m.principal, count(DISTINCT m.seq), min(m.at), max(m.at),"
            " json_group_array(DISTINCT f.value) FILTER (WHERE f.value IS NOT NULL)"
            " FROM ("
            + _both("s.seq AS seq, s.principal AS principal, s.at AS at",
                    "search_by_brand_tag", f"s.brand = ? AND {_READS}")
            + ") AS m JOIN entries AS e ON e.seq = m.seq"
            " LEFT JOIN json_each(CAST(e.body AS TEXT), '$.details.fields') AS f"
            " GROUP BY m.principal ORDER BY m.principal",
            (brand_id, brand_id))
        return [MemberReads(str(r[0]), int(r[1]), frozenset(json.loads(r[4])), int(r[2]),
                            int(r[3])) for r in rows]

"""The ledger store in SQLCipher: :class:`consent.repositories.LedgerRepository` (what both
engines share is :class:`consent.sql.ledger.SqlLedger`) and
:class:`consent.repositories.AccessIndexRepository`, over ``ledger.db``'s
:class:`vault.sqlcipher.database.Database`.

Appends are serialised by the connection's write lock (``BEGIN IMMEDIATE`` with polling,
:mod:`vault.sqlcipher.database`). An append writes its search rows into ``search_recent``,
folded into the index every :data:`FOLD_ROWS` rows (ledger migration 4); bodies are BLOBs,
searched with ``instr`` and read as JSON by SQLite's JSON functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from vault.sqlcipher.database import Database

from ..access_index import ACCESS_TAGS, IndexedRead, MemberReads, ReadsOnDay
from ..ledger_search import SearchRow, purposes_text
from ..sql.ledger import SqlAccessIndex, SqlLedger, indexed_reads

#: How many search rows wait in ``search_recent`` before an append moves them into the
#: index (ledger migration 4): more makes an append cheaper and a search's scan of them longer.
FOLD_ROWS = 16_384


class SqlcipherLedger(SqlLedger):
    _db: Database

    @property
    def database(self) -> Database:
        """The store's connection (for migrations, tests and tools; never for a service)."""
        return self._db

    def latest_body(self, prefix: bytes, containing: bytes) -> bytes | None:
        row = self._db.one(
            "SELECT body FROM entries WHERE substr(body, 1, ?) = ? AND instr(body, ?) > 0"
            " ORDER BY seq DESC LIMIT 1", (len(prefix), prefix, containing))
        return None if row is None else bytes(row[0])

    def bodies_containing(self, needle: bytes) -> list[tuple[int, bytes]]:
        return [(row[0], bytes(row[1])) for row in self._db.all(
            "SELECT seq, body FROM entries WHERE instr(body, ?) > 0 ORDER BY seq", (needle,))]

    def nodes_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        if not positions:
            return {}
        return {row[0]: bytes(row[1]) for row in self._db.all(
            f"SELECT position, hash FROM tree_nodes WHERE position IN"
            f" ({','.join('?' * len(positions))})", list(positions))}

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


class SqlcipherAccessIndex(SqlAccessIndex):
    _db: Database

    def count(self, principal: str) -> int:
        return int(self._db.one(
            "SELECT count(*) FROM ("
            + _both("s.seq", "search_by_principal", f"s.principal = ? AND {_READS}") + ")",
            (principal, principal))[0])

    def reads(self, principal: str, *, limit: int, offset: int = 0) -> list[IndexedRead]:
        # By when they were served: reads merged from the workers' spools enter the ledger in
        # batches, one spool after another, not in the order they were served.
        return indexed_reads(self._db.all(
            READS_OF_MEMBER, (principal, limit + offset, principal, limit + offset, limit,
                              offset)))

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

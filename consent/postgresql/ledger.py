"""The ledger store on PostgreSQL: :class:`consent.repositories.LedgerRepository` (entries, tree
nodes, checkpoints, search index rows, spool marks; what both engines share is
:class:`consent.sql.ledger.SqlLedger`) and :class:`consent.repositories.AccessIndexRepository`,
over a schema of its own, ``ledger``, in
the data database (``vault/schema/postgresql/ledger/``): one ledger for every host.

What differs from SQLCipher's (``consent/sqlcipher/ledger.py``), and why:

- Appends are serialised by a transaction-level advisory lock (:data:`APPEND_LOCK`), taken by
  the outermost :meth:`PostgresqlLedger.transaction` before anything is read: the ledger reads
  its size and frontier and writes the next ``seq`` and node positions, so two hosts appending
  at once must go one after the other, as SQLite's write lock makes two workers go. The lock
  ends with the transaction, committed or rolled back, and with the session of a host that
  dies (``kill -9``): nothing is left to clean up. The spools' marks move in the same
  transaction as the entries they mark, so a host's records are appended exactly once, in
  their order, whichever host's keeper merges them.
- An append writes its search rows into the index at once: no ``search_recent`` to fold
  (SQLite's migration 4 is empty here: see there).
- Bodies are BYTEA, stored and returned as the bytes given; a body's JSON is read with
  ``convert_from(body, 'UTF8')::jsonb`` where a reader needs its details (the reads by brand).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence

from vault.postgresql import migrations
from vault.postgresql.database import Database, columns, in_schema
from vault.schema import LEDGER, on_postgresql

from ..access_index import ACCESS_TAGS, IndexedRead, MemberReads, ReadsOnDay
from ..ledger_search import SearchRow, purposes_text
from ..sql.ledger import SqlAccessIndex, SqlLedger, indexed_reads

LEDGER_ON_POSTGRESQL = on_postgresql(LEDGER)
#: The ledger's schema in the data database.
SCHEMA = "ledger"
#: The advisory lock every append holds (a signed 64-bit key, as pg_advisory_xact_lock takes).
APPEND_LOCK = int.from_bytes(hashlib.sha256(b"vrmvault:ledger:append").digest()[:8], "big",
                             signed=True)


def open_ledger_store(dsn: str) -> Database:
    """A connection to the ledger's schema in the database ``dsn`` names (made, and migrated,
    as needed). Close it."""
    migrations.make_schema(dsn, SCHEMA)
    return migrations.connect(in_schema(dsn, SCHEMA), LEDGER_ON_POSTGRESQL)


class PostgresqlLedger(SqlLedger):
    _db: Database

    @property
    def database(self) -> Database:
        """The store's connection (for migrations, tests and tools; never for a service)."""
        return self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[object]:
        """A write transaction holding :data:`APPEND_LOCK` from its start to its end."""
        outermost = not self._db.in_transaction
        with self._db.transaction() as database:
            if outermost:
                self._db.execute("SELECT pg_advisory_xact_lock(?)", (APPEND_LOCK,))
            yield database

    def latest_body(self, prefix: bytes, containing: bytes) -> bytes | None:
        row = self._db.one(
            "SELECT body FROM entries WHERE substring(body FROM 1 FOR ?) = ?"
            " AND position(? IN body) > 0 ORDER BY seq DESC LIMIT 1",
            (len(prefix), prefix, containing))
        return None if row is None else bytes(row[0])

    def bodies_containing(self, needle: bytes) -> list[tuple[int, bytes]]:
        return [(int(row[0]), bytes(row[1])) for row in self._db.all(
            "SELECT seq, body FROM entries WHERE position(? IN body) > 0 ORDER BY seq",
            (needle,))]

    def nodes_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        if not positions:
            return {}
        return {int(row[0]): bytes(row[1]) for row in self._db.all(
            "SELECT position, hash FROM tree_nodes WHERE position = ANY(?)",
            (list(positions),))}

    def append(self, entries: Sequence[tuple[int, bytes]], nodes: Sequence[tuple[int, bytes]],
               search: Sequence[SearchRow] = ()) -> None:
        # One statement, its rows sent as arrays (unnest): four statements of a row at a time
        # each cost four rounds of the protocol per append, and a round per row of a merged
        # batch of reads.
        self._db.execute(
            "WITH e AS (INSERT INTO entries (seq, body)"
            " SELECT * FROM unnest(?::bigint[], ?::bytea[])),"
            " n AS (INSERT INTO tree_nodes (position, hash)"
            " SELECT * FROM unnest(?::bigint[], ?::bytea[])),"
            " s AS (INSERT INTO search_index (seq, at, tag, brand, principal, purposes)"
            " SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[],"
            " ?::text[]))"
            " INSERT INTO search_purposes (purpose, at, seq, brand, tag)"
            " SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])",
            [*columns(entries, 2), *columns(nodes, 2),
             *columns([(r.seq, r.at, r.tag, r.brand, r.principal, purposes_text(r.purposes))
                       for r in search], 6),
             *columns([(purpose, r.at, r.seq, r.brand, r.tag) for r in search
                       for purpose in sorted(set(r.purposes))], 5)])


# The brand reads among the search rows (consent/access_index.py): a read's tag, a brand (its
# ``brand:`` actor) and a principal (its details' member).
_READS = ("s.tag = ANY(ARRAY[" + ", ".join(f"'{tag}'" for tag in sorted(ACCESS_TAGS))
          + "]) AND s.brand IS NOT NULL AND s.principal IS NOT NULL")


class PostgresqlAccessIndex(SqlAccessIndex):
    _db: Database

    def count(self, principal: str) -> int:
        return int(self._db.one(
            f"SELECT count(*) FROM search_index AS s WHERE s.principal = ? AND {_READS}",
            (principal,))[0])

    def reads(self, principal: str, *, limit: int, offset: int = 0) -> list[IndexedRead]:
        # By when they were served: reads merged from the spools enter the ledger in batches,
        # one spool after another, not in the order they were served.
        return indexed_reads(self._db.all(
            "SELECT s.brand, s.at, e.body FROM search_index AS s"
            f" JOIN entries AS e ON e.seq = s.seq WHERE s.principal = ? AND {_READS}"
            " ORDER BY s.at DESC, s.seq DESC LIMIT ? OFFSET ?", (principal, limit, offset)))

    def daily(self, principal: str, *, since: int, day: int) -> list[ReadsOnDay]:
        rows = self._db.all(
            "SELECT s.at / ? AS day, s.brand, count(*) FROM search_index AS s"
            f" WHERE s.principal = ? AND s.at >= ? AND {_READS}"
            " GROUP BY day, s.brand ORDER BY day, s.brand", (day, principal, since))
        return [ReadsOnDay(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def by_brand(self, brand_id: str) -> list[MemberReads]:
        # The fields are the entries' details.fields; a read naming no field still counts (the
        # outer join keeps it, with no value).
        rows = self._db.all(
            "SELECT s.principal, count(DISTINCT s.seq), min(s.at), max(s.at),"
            " coalesce(json_agg(DISTINCT f.value) FILTER (WHERE f.value IS NOT NULL), '[]')"
            " FROM search_index AS s JOIN entries AS e ON e.seq = s.seq"
            " LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof("
            "convert_from(e.body, 'UTF8')::jsonb -> 'details' -> 'fields') = 'array'"
            " THEN convert_from(e.body, 'UTF8')::jsonb -> 'details' -> 'fields'"
            " ELSE '[]'::jsonb END) AS f(value) ON true"
            f" WHERE s.brand = ? AND {_READS} GROUP BY s.principal ORDER BY s.principal",
            (brand_id,))
        return [MemberReads(str(r[0]), int(r[1]), frozenset(_json(r[4])), int(r[2]),
                            int(r[3])) for r in rows]


def _json(value: object) -> list[str]:
    """psycopg hands back json as Python values, text as text."""
    return list(json.loads(value) if isinstance(value, str) else value)  # type: ignore[arg-type]

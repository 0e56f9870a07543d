"""The ledger's search index in SQLCipher: :class:`consent.repositories.LedgerSearchRepository`
over ``ledger.db`` (tables of ledger migration 2).

Each search names the index it walks (``INDEXED BY``, so the plan never depends on statistics,
and a query no index serves fails loudly instead of scanning): the equality filters are the
index's leading columns, then ``(at, seq)`` from the cursor, the time range bounding ``at``.

    filters (besides time)         walks
    none                           search_by_time        (at, seq)
    principal [+ anything]         search_by_principal   (principal, at, seq); the rest checked
                                   on the member's own rows, a purpose through its primary key
    tag                            search_by_tag         (tag, at, seq)
    brand                          search_by_brand       (brand, at, seq)
    brand + tag                    search_by_brand_tag   (brand, tag, at, seq)
    purpose [+ brand] [+ tag]      search_purposes and its indexes, likewise

A tag prefix (several tags) without a principal is one walk per tag, each ``LIMIT``-ed, merged
by a sort of at most ``tags x limit`` rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vault.sqlcipher.database import Database

from ..ledger_search import LedgerQuery, Position, SearchHit, SearchRow

_INDEX_TABLE = "search_index"
_PURPOSE_TABLE = "search_purposes"


class SqlcipherLedgerSearch:
    def __init__(self, database: Database) -> None:
        self._db = database

    def search(self, query: LedgerQuery, *, before: Position | None = None,
               after: Position | None = None, limit: int) -> list[SearchHit]:
        sql, parameters = self.statement(query, before=before, after=after, limit=limit)
        rows = self._db.all(sql, parameters)
        if after is not None:
            rows.reverse()
        found = [int(row[0]) for row in rows]
        if not found:
            return []
        index = {row.seq: row for row in self.rows(found)}
        bodies: dict[int, bytes] = {}
        for chunk in _chunks(found):
            bodies.update((int(row[0]), bytes(row[1])) for row in self._db.all(
                f"SELECT seq, body FROM entries WHERE seq IN ({','.join('?' * len(chunk))})",
                chunk))
        return [SearchHit(index[seq], bodies[seq]) for seq in found]

    def count(self, query: LedgerQuery) -> int:
        sql, parameters = self.statement(query, before=None, after=None, limit=None)
        return int(self._db.one(f"SELECT count(*) FROM ({sql})", parameters)[0])

    def rows(self, seqs: Sequence[int]) -> list[SearchRow]:
        found: list[SearchRow] = []
        for chunk in _chunks(sorted(set(seqs))):
            found += [SearchRow(int(r[0]), int(r[1]), str(r[2]), r[3], r[4],
                                tuple(json.loads(r[5])) if r[5] is not None else ())
                      for r in self._db.all(
                          f"SELECT seq, at, tag, brand, principal, purposes FROM search_index"
                          f" WHERE seq IN ({','.join('?' * len(chunk))}) ORDER BY seq", chunk)]
        return found

    # -- the statement -------------------------------------------------------------------------
    def statement(self, query: LedgerQuery, *, before: Position | None, after: Position | None,
                  limit: int | None) -> tuple[str, list[Any]]:
        """The SQL selecting the ``seq`` of matching entries, and its parameters (tests look
        at its plan)."""
        if before is not None and after is not None:
            raise ValueError("a search goes before a position or after one, not both")
        tags = query.tags
        if len(tags) > 1 and query.principal is None:
            parts, parameters = [], []
            for tag in tags:
                part, more = self._walk(query, (tag,), before, after, limit)
                parts.append(f"SELECT * FROM ({part})")
                parameters += more
            order = "at, seq" if after is not None else "at DESC, seq DESC"
            sql = f"SELECT seq, at FROM ({' UNION ALL '.join(parts)}) ORDER BY {order}"
            if limit is not None:
                sql += " LIMIT ?"
                parameters.append(limit)
            return sql, parameters
        return self._walk(query, tags, before, after, limit)

    def _walk(self, query: LedgerQuery, tags: tuple[str, ...], before: Position | None,
              after: Position | None, limit: int | None) -> tuple[str, list[Any]]:
        where: list[str] = []
        parameters: list[Any] = []

        def equal(column: str, value: Any) -> None:
            where.append(f"s.{column} = ?")
            parameters.append(value)

        index: str | None
        if query.principal is not None:
            table, index = _INDEX_TABLE, "search_by_principal"
            equal("principal", query.principal)
            if query.brand is not None:
                equal("brand", query.brand)
            if tags:
                where.append(f"s.tag IN ({','.join('?' * len(tags))})")
                parameters += tags
            if query.purpose is not None:
                where.append("EXISTS (SELECT 1 FROM search_purposes AS p WHERE p.purpose = ?"
                             " AND p.at = s.at AND p.seq = s.seq)")
                parameters.append(query.purpose)
        else:
            if query.purpose is not None:
                table = _PURPOSE_TABLE
                equal("purpose", query.purpose)
            else:
                table = _INDEX_TABLE
            if query.brand is not None:
                equal("brand", query.brand)
            if tags:
                equal("tag", tags[0])
            index = _index_name(table, query.brand is not None, bool(tags))
        # The time range and the position as one range of (at, seq) row values, so that the
        # index walk starts at the position, not at the range's end (seq is never negative).
        upper = min(p for p in (before, None if query.until is None else (query.until, 0))
                    if p is not None) if before is not None or query.until is not None else None
        lower = max(p for p in (after, None if query.since is None else (query.since, -1))
                    if p is not None) if after is not None or query.since is not None else None
        if upper is not None:
            where.append("(s.at, s.seq) < (?, ?)")
            parameters += upper
        if lower is not None:
            where.append("(s.at, s.seq) > (?, ?)")
            parameters += lower
        order = "s.at, s.seq" if after is not None else "s.at DESC, s.seq DESC"
        indexed = f" INDEXED BY {index}" if index else ""
        sql = (f"SELECT s.seq AS seq, s.at AS at FROM {table} AS s{indexed}"
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order}")
        if limit is not None:
            sql += " LIMIT ?"
            parameters.append(limit)
        return sql, parameters


def _chunks(values: Sequence[int], size: int = 900) -> list[list[int]]:
    """``values`` in lists short enough for one statement's parameters."""
    return [list(values[first:first + size]) for first in range(0, len(values), size)]


def _index_name(table: str, brand: bool, tag: bool) -> str | None:
    """The index of ``table`` whose leading equality columns are the filters given (None: the
    purpose table's primary key, which leads with the purpose)."""
    if table == _PURPOSE_TABLE:
        suffix = "_by_brand_tag" if brand and tag else "_by_brand" if brand else (
            "_by_tag" if tag else "")
        return f"{_PURPOSE_TABLE}{suffix}" if suffix else None
    if brand and tag:
        return "search_by_brand_tag"
    if brand:
        return "search_by_brand"
    if tag:
        return "search_by_tag"
    return "search_by_time"

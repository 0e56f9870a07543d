"""The ledger's search index on PostgreSQL: :class:`consent.repositories.LedgerSearchRepository`
over the ledger schema's ``search_index`` and ``search_purposes`` (ledger migration 2).

Each search is one walk of the index whose leading columns are its equality filters, from the
cursor's ``(at, seq)`` in that order, bounded by ``LIMIT``; the planner picks the index (the
same indexes as SQLite's, where ``INDEXED BY`` names it):

    filters (besides time)         index
    none                           search_by_time        (at, seq)
    principal [+ anything]         search_by_principal   (principal, at, seq); the rest checked
                                   on the member's own rows, a purpose through its primary key
    tag                            search_by_tag         (tag, at, seq)
    brand                          search_by_brand       (brand, at, seq)
    brand + tag                    search_by_brand_tag   (brand, tag, at, seq)
    purpose [+ brand] [+ tag]      search_purposes and its indexes, likewise

A tag prefix (several tags) without a principal is one walk per tag, each ``LIMIT``-ed, merged
in order. There are no recent rows to read beside the index (consent/postgresql/ledger.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vault.postgresql.database import Database

from ..ledger_search import LedgerQuery, Position, SearchHit, SearchRow

Bounds = tuple[Position | None, Position | None]


class PostgresqlLedgerSearch:
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
        bodies = {int(row[0]): bytes(row[1]) for row in self._db.all(
            "SELECT seq, body FROM entries WHERE seq = ANY(?)", (found,))}
        return [SearchHit(index[seq], bodies[seq]) for seq in found]

    def count(self, query: LedgerQuery) -> int:
        sql, parameters = self.statement(query, before=None, after=None, limit=None)
        return int(self._db.one(f"SELECT count(*) FROM ({sql}) AS found", parameters)[0])

    def rows(self, seqs: Sequence[int]) -> list[SearchRow]:
        return [SearchRow(int(r[0]), int(r[1]), str(r[2]), r[3], r[4],
                          tuple(json.loads(r[5])) if r[5] is not None else ())
                for r in self._db.all(
                    "SELECT seq, at, tag, brand, principal, purposes FROM search_index"
                    " WHERE seq = ANY(?) ORDER BY seq", (sorted(set(seqs)),))]

    def statement(self, query: LedgerQuery, *, before: Position | None, after: Position | None,
                  limit: int | None) -> tuple[str, list[Any]]:
        """The SQL selecting the ``seq`` and ``at`` of matching entries in order, and its
        parameters: one index walk, or one per tag of a tag prefix without a principal."""
        if before is not None and after is not None:
            raise ValueError("a search goes before a position or after one, not both")
        tags = query.tags
        bounds = _bounds(query, before, after)
        order = "at, seq" if after is not None else "at DESC, seq DESC"
        walks = ([(tag,) for tag in tags] if len(tags) > 1 and query.principal is None
                 else [tags])
        parts: list[str] = []
        parameters: list[Any] = []
        for walked in walks:
            part, more = _walk(query, walked, bounds, order, limit)
            parts.append(part)
            parameters += more
        if len(parts) == 1:
            return parts[0], parameters
        sql = f"SELECT seq, at FROM ({' UNION ALL '.join(parts)}) AS walks ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            parameters.append(limit)
        return sql, parameters


def _bounds(query: LedgerQuery, before: Position | None, after: Position | None) -> Bounds:
    """The time range and the position as one range of ``(at, seq)`` row values (below, above),
    so that an index walk starts at the position, not at the range's end (seq is never
    negative)."""
    upper = min(p for p in (before, None if query.until is None else (query.until, 0))
                if p is not None) if before is not None or query.until is not None else None
    lower = max(p for p in (after, None if query.since is None else (query.since, -1))
                if p is not None) if after is not None or query.since is not None else None
    return upper, lower


def _walk(query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
          limit: int | None) -> tuple[str, list[Any]]:
    """One walk of the index whose leading columns are the filters (at most one tag, unless a
    principal leads): ``(seq, at)`` within ``bounds``, in ``order``, at most ``limit``."""
    where: list[str] = []
    parameters: list[Any] = []
    if query.principal is not None or query.purpose is None:
        table = "search_index"
        for column, value in (("principal", query.principal), ("brand", query.brand)):
            if value is not None:
                where.append(f"s.{column} = ?")
                parameters.append(value)
        if query.principal is not None and query.purpose is not None:
            where.append("EXISTS (SELECT 1 FROM search_purposes AS p WHERE p.purpose = ?"
                         " AND p.at = s.at AND p.seq = s.seq)")
            parameters.append(query.purpose)
    else:
        table = "search_purposes"
        where.append("s.purpose = ?")
        parameters.append(query.purpose)
        if query.brand is not None:
            where.append("s.brand = ?")
            parameters.append(query.brand)
    if len(tags) == 1:
        where.append("s.tag = ?")
        parameters.append(tags[0])
    elif tags:
        where.append("s.tag = ANY(?)")
        parameters.append(list(tags))
    for position, comparison in zip(bounds, "<>", strict=True):
        if position is not None:
            where.append(f"(s.at, s.seq) {comparison} (?, ?)")
            parameters += position
    sql = (f"SELECT s.seq AS seq, s.at AS at FROM {table} AS s"
           f"{' WHERE ' + ' AND '.join(where) if where else ''}"
           f" ORDER BY {', '.join(f's.{part.strip()}' for part in order.split(','))}")
    if limit is not None:
        sql += " LIMIT ?"
        parameters.append(limit)
    return f"({sql})", parameters

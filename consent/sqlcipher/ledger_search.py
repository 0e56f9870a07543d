"""The ledger's search index in SQLCipher: :class:`consent.repositories.LedgerSearchRepository`
over ``ledger.db`` (tables of ledger migrations 2 and 4).

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

A tag prefix (several tags) without a principal is one walk per tag. Beside the walks, the same
filters over ``search_recent`` (the rows not yet folded into the index, at most ``FOLD_ROWS``:
consent/sqlcipher/ledger.py), one scan, a purpose found in its JSON array. Each is
``LIMIT``-ed, and they are merged in order: a sort of at most ``(walks + 1) x limit`` rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vault.sqlcipher.database import Database

from ..ledger_search import LedgerQuery, Position, SearchHit, SearchRow, purposes_text

_INDEX_TABLE = "search_index"
_PURPOSE_TABLE = "search_purposes"
_RECENT_TABLE = "search_recent"


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
                      for table in (_INDEX_TABLE, _RECENT_TABLE)
                      for r in self._db.all(
                          f"SELECT seq, at, tag, brand, principal, purposes FROM {table}"
                          f" WHERE seq IN ({','.join('?' * len(chunk))})", chunk)]
        return sorted(found, key=lambda row: row.seq)

    # -- the statement -------------------------------------------------------------------------
    def statement(self, query: LedgerQuery, *, before: Position | None, after: Position | None,
                  limit: int | None) -> tuple[str, list[Any]]:
        """The SQL selecting the ``seq`` of matching entries, and its parameters (tests look
        at its plan): the index walks (one per tag of a tag prefix, without a principal) and
        one scan of the recent rows, each ``LIMIT``-ed, merged in order."""
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
            part, more = _index_walk(query, walked, bounds, order, limit)
            parts.append(part)
            parameters += more
        part, more = _recent_walk(query, tags, bounds, order, limit)
        parts.append(part)
        parameters += more
        sql = f"SELECT seq, at FROM ({' UNION ALL '.join(parts)}) ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            parameters.append(limit)
        return sql, parameters


Bounds = tuple[Position | None, Position | None]


def _bounds(query: LedgerQuery, before: Position | None, after: Position | None) -> Bounds:
    """The time range and the position as one range of ``(at, seq)`` row values (below, above),
    so that an index walk starts at the position, not at the range's end (seq is never
    negative)."""
    upper = min(p for p in (before, None if query.until is None else (query.until, 0))
                if p is not None) if before is not None or query.until is not None else None
    lower = max(p for p in (after, None if query.since is None else (query.since, -1))
                if p is not None) if after is not None or query.since is not None else None
    return upper, lower


def _index_walk(query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
                limit: int | None) -> tuple[str, list[Any]]:
    """One walk of the index whose leading columns are the filters (at most one tag, unless a
    principal leads)."""
    where: list[str] = []
    parameters: list[Any] = []

    def equal(column: str, value: Any) -> None:
        where.append(f"s.{column} = ?")
        parameters.append(value)

    index: str | None
    if query.principal is not None:
        table, index = _INDEX_TABLE, "search_by_principal"
        _row_filters("s", query, tags, where, parameters)
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
    indexed = f" INDEXED BY {index}" if index else ""
    return _arm(f"{table} AS s{indexed}", "s", where, parameters, bounds, order, limit)


def _recent_walk(query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
                 limit: int | None) -> tuple[str, list[Any]]:
    """The same filters over the recent rows (a scan of at most ``FOLD_ROWS``), a purpose
    found in their JSON array."""
    where: list[str] = []
    parameters: list[Any] = []
    _row_filters("r", query, tags, where, parameters)
    if query.purpose is not None:
        # The purpose's JSON text found in the array's text first (cheap), then as an element.
        where.append("instr(r.purposes, ?) > 0"
                     " AND EXISTS (SELECT 1 FROM json_each(r.purposes) AS j WHERE j.value = ?)")
        parameters += [_json_text(query.purpose), query.purpose]
    return _arm(f"{_RECENT_TABLE} AS r", "r", where, parameters, bounds, order, limit)


def _row_filters(alias: str, query: LedgerQuery, tags: tuple[str, ...], where: list[str],
                 parameters: list[Any]) -> None:
    """The principal, brand and tags as conditions on one search row each (``alias``)."""
    for column, value in (("principal", query.principal), ("brand", query.brand)):
        if value is not None:
            where.append(f"{alias}.{column} = ?")
            parameters.append(value)
    if tags:
        where.append(f"{alias}.tag IN ({','.join('?' * len(tags))})")
        parameters += tags


def _json_text(purpose: str) -> str:
    """``purpose`` as it is written inside the stored array (``purposes_text``)."""
    array = purposes_text((purpose,))
    assert array is not None
    return array[1:-1]


def _arm(source: str, alias: str, where: list[str], parameters: list[Any], bounds: Bounds,
         order: str, limit: int | None) -> tuple[str, list[Any]]:
    """One side of a search: ``(seq, at)`` of ``source`` within ``bounds``, in ``order``, at
    most ``limit``."""
    where, parameters = list(where), list(parameters)
    for position, comparison in zip(bounds, "<>", strict=True):
        if position is not None:
            where.append(f"({alias}.at, {alias}.seq) {comparison} (?, ?)")
            parameters += position
    sql = (f"SELECT {alias}.seq AS seq, {alias}.at AS at FROM {source}"
           f"{' WHERE ' + ' AND '.join(where) if where else ''}"
           f" ORDER BY {', '.join(f'{alias}.{part.strip()}' for part in order.split(','))}")
    if limit is not None:
        sql += " LIMIT ?"
        parameters.append(limit)
    return f"SELECT * FROM ({sql})", parameters


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

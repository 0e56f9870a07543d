"""The ledger's search index in SQLCipher: :class:`consent.repositories.LedgerSearchRepository`
over ``ledger.db`` (tables of ledger migrations 2 and 4; what both engines share is
:class:`consent.sql.ledger_search.SqlLedgerSearch`).

Each search names the index it walks (``INDEXED BY``, so the plan never depends on statistics,
and a query no index serves fails loudly instead of scanning). Beside the walks, the same
filters over ``search_recent`` (the rows not yet folded into the index, at most ``FOLD_ROWS``:
consent/sqlcipher/ledger.py), one scan, a purpose found in its JSON array. Each is
``LIMIT``-ed, and they are merged in order: a sort of at most ``(walks + 1) x limit`` rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..ledger_search import LedgerQuery, SearchRow, purposes_text
from ..sql.ledger_search import Arm, Bounds, SqlLedgerSearch, ranged

_INDEX_TABLE = "search_index"
_PURPOSE_TABLE = "search_purposes"
_RECENT_TABLE = "search_recent"


class SqlcipherLedgerSearch(SqlLedgerSearch):
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

    def _walk(self, query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
              limit: int | None) -> Arm:
        return _index_walk(query, tags, bounds, order, limit)

    def _beside_walks(self, query: LedgerQuery, bounds: Bounds, order: str,
                      limit: int | None) -> list[Arm]:
        return [_recent_walk(query, query.tags, bounds, order, limit)]

    def _bodies(self, seqs: list[int]) -> dict[int, bytes]:
        bodies: dict[int, bytes] = {}
        for chunk in _chunks(seqs):
            bodies.update((int(row[0]), bytes(row[1])) for row in self._db.all(
                f"SELECT seq, body FROM entries WHERE seq IN ({','.join('?' * len(chunk))})",
                chunk))
        return bodies


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
         order: str, limit: int | None) -> Arm:
    """One side of a search (:func:`consent.sql.ledger_search.ranged`), as a subquery."""
    sql, parameters = ranged(source, alias, where, parameters, bounds, order, limit)
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

"""The ledger's search index on PostgreSQL: :class:`consent.repositories.LedgerSearchRepository`
over the ledger schema's ``search_index`` and ``search_purposes`` (ledger migration 2; what
both engines share is :class:`consent.sql.ledger_search.SqlLedgerSearch`).

The planner picks the index each walk takes (the same indexes as SQLite's, where ``INDEXED
BY`` names it); a single walk is the whole statement. There are no recent rows to read beside
the index (consent/postgresql/ledger.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..ledger_search import LedgerQuery, SearchRow
from ..sql.ledger_search import Arm, Bounds, SqlLedgerSearch, ranged


class PostgresqlLedgerSearch(SqlLedgerSearch):
    def rows(self, seqs: Sequence[int]) -> list[SearchRow]:
        return [SearchRow(int(r[0]), int(r[1]), str(r[2]), r[3], r[4],
                          tuple(json.loads(r[5])) if r[5] is not None else ())
                for r in self._db.all(
                    "SELECT seq, at, tag, brand, principal, purposes FROM search_index"
                    " WHERE seq = ANY(?) ORDER BY seq", (sorted(set(seqs)),))]

    def _walk(self, query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
              limit: int | None) -> Arm:
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
        sql, parameters = ranged(f"{table} AS s", "s", where, parameters, bounds, order, limit)
        return f"({sql})", parameters

    def _bodies(self, seqs: list[int]) -> dict[int, bytes]:
        return {int(row[0]): bytes(row[1]) for row in self._db.all(
            "SELECT seq, body FROM entries WHERE seq = ANY(?)", (seqs,))}

"""The ledger's search index, what both engines share:
:class:`consent.repositories.LedgerSearchRepository` over the ledger store's ``search_index``
and ``search_purposes`` (ledger migration 2).

A search is a walk of the index whose leading columns are its equality filters, from the
cursor's ``(at, seq)`` in that order, bounded by the time range and by ``LIMIT``:

    filters (besides time)         walks
    none                           search_by_time        (at, seq)
    principal [+ anything]         search_by_principal   (principal, at, seq); the rest checked
                                   on the member's own rows, a purpose through its primary key
    tag                            search_by_tag         (tag, at, seq)
    brand                          search_by_brand       (brand, at, seq)
    brand + tag                    search_by_brand_tag   (brand, tag, at, seq)
    purpose [+ brand] [+ tag]      search_purposes and its indexes, likewise

A tag prefix (several tags) without a principal is one walk per tag. The walks, and whatever
else the engine reads beside them, are each ``LIMIT``-ed and merged in order, so a page costs a
sort of at most ``(walks + 1) x limit`` rows whatever the ledger's size. The rows found are
then read with their entries' bodies.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from vault.sql import SqlRepository

from ..ledger_search import LedgerQuery, Position, SearchHit, SearchRow

#: A range of ``(at, seq)`` row values: (below, above), either open.
Bounds = tuple[Position | None, Position | None]
#: One side of a search (its SQL selecting ``seq`` and ``at``) and its parameters.
Arm = tuple[str, list[Any]]


class SqlLedgerSearch(SqlRepository, ABC):
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
        bodies = self._bodies(found)
        return [SearchHit(index[seq], bodies[seq]) for seq in found]

    def count(self, query: LedgerQuery) -> int:
        sql, parameters = self.statement(query, before=None, after=None, limit=None)
        return int(self._db.one(f"SELECT count(*) FROM ({sql}) AS found", parameters)[0])

    def statement(self, query: LedgerQuery, *, before: Position | None, after: Position | None,
                  limit: int | None) -> tuple[str, list[Any]]:
        """The SQL selecting the ``seq`` and ``at`` of matching entries in order, and its
        parameters (tests look at its plan): the index walks (one per tag of a tag prefix,
        without a principal) and the engine's other arms, merged."""
        if before is not None and after is not None:
            raise ValueError("a search goes before a position or after one, not both")
        tags = query.tags
        bounds = _bounds(query, before, after)
        order = "at, seq" if after is not None else "at DESC, seq DESC"
        walks = ([(tag,) for tag in tags] if len(tags) > 1 and query.principal is None
                 else [tags])
        arms = [self._walk(query, walked, bounds, order, limit) for walked in walks]
        arms += self._beside_walks(query, bounds, order, limit)
        if len(arms) == 1:
            return arms[0]
        sql = (f"SELECT seq, at FROM ({' UNION ALL '.join(part for part, _ in arms)}) AS walks"
               f" ORDER BY {order}")
        parameters = [value for _, more in arms for value in more]
        if limit is not None:
            sql += " LIMIT ?"
            parameters.append(limit)
        return sql, parameters

    # -- what each engine adds ------------------------------------------------------------------
    @abstractmethod
    def rows(self, seqs: Sequence[int]) -> list[SearchRow]:
        """The search rows of the entries ``seqs``, in seq order."""

    @abstractmethod
    def _walk(self, query: LedgerQuery, tags: tuple[str, ...], bounds: Bounds, order: str,
              limit: int | None) -> Arm:
        """One walk of the index whose leading columns are the filters (at most one tag,
        unless a principal leads): ``(seq, at)`` within ``bounds``, in ``order``, at most
        ``limit``."""

    def _beside_walks(self, query: LedgerQuery, bounds: Bounds, order: str,
                      limit: int | None) -> list[Arm]:
        """The arms a search reads beside the index walks: none, unless the engine keeps
        rows not yet in the index."""
        return []

    @abstractmethod
    def _bodies(self, seqs: list[int]) -> dict[int, bytes]:
        """The bodies of the entries ``seqs``, by seq."""


def _bounds(query: LedgerQuery, before: Position | None, after: Position | None) -> Bounds:
    """The time range and the position as one range of ``(at, seq)`` row values (below, above),
    so that an index walk starts at the position, not at the range's end (seq is never
    negative)."""
    upper = min(p for p in (before, None if query.until is None else (query.until, 0))
                if p is not None) if before is not None or query.until is not None else None
    lower = max(p for p in (after, None if query.since is None else (query.since, -1))
                if p is not None) if after is not None or query.since is not None else None
    return upper, lower


def ranged(source: str, alias: str, where: list[str], parameters: list[Any], bounds: Bounds,
           order: str, limit: int | None) -> Arm:
    """One side of a search: ``(seq, at)`` of ``source`` (aliased ``alias``) matching
    ``where`` within ``bounds``, in ``order``, at most ``limit``."""
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
    return sql, parameters

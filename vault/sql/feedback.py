"""Feedback entries: :class:`vault.repositories.FeedbackRepository`. An entry is read, changed
and deleted only as its member's (:attr:`SqlFeedback._OWNED_BY`), in the same statements on both
engines; each engine's module hands out ids and inserts entries.

Entries name their member by the member's integer key (``members.num``), as hot tables do. Ids
are never reused after a delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..repositories import FeedbackRow, TouchpointCounts
from . import SqlRepository

# Members looked up in one statement by member_numbers (well within both engines' limits on
# parameters).
_NUMBERS_AT_ONCE = 500
_COLUMNS = ("SELECT id, brand_id, touchpoint, rating, nps, comment_sealed, occurred_on,"
            " updated_at FROM feedback")


def _entry(row: Any) -> FeedbackRow:
    return FeedbackRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


class SqlFeedback(SqlRepository):
    #: The condition that an entry is the member's, given the member's id.
    _OWNED_BY = "member_num = (SELECT num FROM members WHERE id = ?)"
    #: The order of a member's entries: the newest first (SQLite compares text as bytes).
    _NEWEST_FIRST = "ORDER BY occurred_on DESC, id DESC"
    #: Per touchpoint, the entries of an NPS of 9 or more (promoters) and of 6 or less
    #: (detractors).
    _NPS_COUNTS = "sum(nps >= 9), sum(nps <= 6)"
    #: The order of touchpoints (SQLite compares text as bytes).
    _BY_TOUCHPOINT = "ORDER BY touchpoint"

    def member_numbers(self, member_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(member_ids), _NUMBERS_AT_ONCE):
            chunk = member_ids[start:start + _NUMBERS_AT_ONCE]
            found.update((str(row[0]), int(row[1])) for row in self._db.all(
                f"SELECT id, num FROM members WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk))
        return found

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])

    def update(self, member_id: str, entry: FeedbackRow) -> bool:
        return bool(self._db.execute(
            "UPDATE feedback SET brand_id = ?, touchpoint = ?, rating = ?, nps = ?,"
            f" comment_sealed = ?, occurred_on = ?, updated_at = ? WHERE {self._OWNED_BY}"
            " AND id = ?",
            (entry.brand_id, entry.touchpoint, entry.rating, entry.nps, entry.comment_sealed,
             entry.occurred_on, entry.updated_at, member_id, entry.id)).rowcount)

    def delete(self, member_id: str, entry_id: int) -> bool:
        return bool(self._db.execute(f"DELETE FROM feedback WHERE {self._OWNED_BY} AND id = ?",
                                     (member_id, entry_id)).rowcount)

    def get(self, member_id: str, entry_id: int) -> FeedbackRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE {self._OWNED_BY} AND id = ?", (member_id, entry_id))
        return None if row is None else _entry(row)

    def for_member(self, member_id: str) -> list[FeedbackRow]:
        return [_entry(row) for row in self._db.all(
            f"{_COLUMNS} WHERE {self._OWNED_BY} {self._NEWEST_FIRST}", (member_id,))]

    def by_touchpoint(self, brand_id: str | None = None) -> list[TouchpointCounts]:
        where, parameters = ("WHERE brand_id = ?", (brand_id,)) if brand_id else ("", ())
        # The mean is a float on SQLite, a numeric (Decimal) on PostgreSQL.
        return [TouchpointCounts(row[0], row[1], float(row[2]), row[3] or 0, row[4] or 0,
                                 row[5])
                for row in self._db.all(
                    f"SELECT touchpoint, count(*), avg(rating), {self._NPS_COUNTS}, count(nps)"
                    f" FROM feedback {where} GROUP BY touchpoint {self._BY_TOUCHPOINT}",
                    parameters)]

"""Feedback entries in SQLCipher: :class:`vault.repositories.FeedbackRepository`.

Entries reference their member by the member's integer key (``members.num``), as hot tables
do; ids come from ``AUTOINCREMENT``'s ``sqlite_sequence``, read inside the inserting
transaction (which holds the write lock, so no other writer can take the same ids), so an id
is never reused after a delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..repositories import FeedbackRow, TouchpointCounts
from . import SqlcipherRepository

_OWNED_BY = "member_num = (SELECT num FROM members WHERE id = ?)"
_COLUMNS = ("SELECT id, brand_id, touchpoint, rating, nps, comment_sealed, occurred_on,"
            " updated_at FROM feedback")


def _entry(row: Any) -> FeedbackRow:
    return FeedbackRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


class SqlcipherFeedback(SqlcipherRepository):
    def next_ids(self) -> int:
        row = self._db.one("SELECT seq FROM sqlite_sequence WHERE name = 'feedback'")
        return (row["seq"] if row else 0) + 1

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])

    def insert_many(self, rows: Sequence[tuple[int, int, FeedbackRow]]) -> None:
        self._db.executemany(
            "INSERT INTO feedback (id, member_num, brand_id, touchpoint, rating, nps,"
            " comment_sealed, occurred_on, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(entry_id, number, e.brand_id, e.touchpoint, e.rating, e.nps, e.comment_sealed,
              e.occurred_on, e.updated_at) for entry_id, number, e in rows])

    def update(self, member_id: str, entry: FeedbackRow) -> bool:
        return bool(self._db.execute(
            "UPDATE feedback SET brand_id = ?, touchpoint = ?, rating = ?, nps = ?,"
            f" comment_sealed = ?, occurred_on = ?, updated_at = ? WHERE id = ? AND {_OWNED_BY}",
            (entry.brand_id, entry.touchpoint, entry.rating, entry.nps, entry.comment_sealed,
             entry.occurred_on, entry.updated_at, entry.id, member_id)).rowcount)

    def delete(self, member_id: str, entry_id: int) -> bool:
        return bool(self._db.execute(f"DELETE FROM feedback WHERE id = ? AND {_OWNED_BY}",
                                     (entry_id, member_id)).rowcount)

    def get(self, member_id: str, entry_id: int) -> FeedbackRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE id = ? AND {_OWNED_BY}", (entry_id, member_id))
        return None if row is None else _entry(row)

    def for_member(self, member_id: str) -> list[FeedbackRow]:
        return [_entry(row) for row in self._db.all(
            f"{_COLUMNS} WHERE {_OWNED_BY} ORDER BY occurred_on DESC, id DESC", (member_id,))]

    def by_touchpoint(self, brand_id: str | None = None) -> list[TouchpointCounts]:
        where, parameters = ("WHERE brand_id = ?", (brand_id,)) if brand_id else ("", ())
        return [TouchpointCounts(row[0], row[1], row[2], row[3] or 0, row[4] or 0, row[5])
                for row in self._db.all(
                    "SELECT touchpoint, count(*), avg(rating), sum(nps >= 9), sum(nps <= 6),"
                    f" count(nps) FROM feedback {where} GROUP BY touchpoint ORDER BY touchpoint",
                    parameters)]

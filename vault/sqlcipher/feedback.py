"""Feedback entries in SQLCipher: :class:`vault.repositories.FeedbackRepository`
(:mod:`vault.sql.feedback`).

Entries reference their member by ``member_num`` alone. Ids come from ``AUTOINCREMENT``'s
``sqlite_sequence``, read inside the inserting transaction (which holds the write lock, so no
other writer can take the same ids), so an id is never reused after a delete.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..repositories import FeedbackRow
from ..sql.feedback import SqlFeedback


class SqlcipherFeedback(SqlFeedback):
    def next_ids(self) -> int:
        row = self._db.one("SELECT seq FROM sqlite_sequence WHERE name = 'feedback'")
        return (row["seq"] if row else 0) + 1

    def insert_many(self, rows: Sequence[tuple[int, int, FeedbackRow]]) -> None:
        self._db.executemany(
            "INSERT INTO feedback (id, member_num, brand_id, touchpoint, rating, nps,"
            " comment_sealed, occurred_on, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(entry_id, number, e.brand_id, e.touchpoint, e.rating, e.nps, e.comment_sealed,
              e.occurred_on, e.updated_at) for entry_id, number, e in rows])

"""Feedback entries in PostgreSQL: :class:`vault.repositories.FeedbackRepository`.

``feedback`` is member-owned: keyed by ``(member_id, id)``, with the member's integer key
(``member_num``) beside it, filled from ``members`` as each entry is written (the contract's
rows name the member by that key).

Ids are never reused after a delete. SQLCipher reads ``sqlite_sequence`` under the store's
write lock; here the high-water mark is the sequence of ``feedback.id``'s identity
(``feedback_ids``), which only moves forward and which no rollback moves back. The ids a
transaction hands out are a block from :meth:`~PostgresqlFeedback.next_ids` on, as many as it
then inserts, so :meth:`~PostgresqlFeedback.next_ids` takes a transaction-level advisory lock
(:data:`ID_LOCK`) before it reads the mark, and :meth:`~PostgresqlFeedback.insert_many` moves
the mark past the ids it wrote under the same lock: two hosts adding entries at once take
their blocks one after the other, the second from past the first's. Ids a rolled-back
transaction took are skipped, never handed out again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ..errors import ConstraintViolationError
from ..repositories import FeedbackRow, TouchpointCounts
from . import PostgresqlRepository

#: The advisory lock (a signed 64-bit key) that serialises the handing out of feedback ids.
ID_LOCK = int.from_bytes(hashlib.sha256(b"vrmvault:feedback:ids").digest()[:8], "big",
                         signed=True)
_COLUMNS = ("SELECT id, brand_id, touchpoint, rating, nps, comment_sealed, occurred_on,"
            " updated_at FROM feedback")


def _entry(row: Any) -> FeedbackRow:
    return FeedbackRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


class PostgresqlFeedback(PostgresqlRepository):
    def next_ids(self) -> int:
        self._db.execute("SELECT pg_advisory_xact_lock(?)", (ID_LOCK,))
        row = self._db.one("SELECT last_value, is_called FROM feedback_ids")
        return int(row[0]) + 1 if row[1] else int(row[0])

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])

    def insert_many(self, rows: Sequence[tuple[int, int, FeedbackRow]]) -> None:
        if not rows:
            return
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(?)", (ID_LOCK,))
            written = self._db.executemany(
                "INSERT INTO feedback (member_id, member_num, id, brand_id, touchpoint, rating,"
                " nps, comment_sealed, occurred_on, updated_at)"
                " SELECT m.id, m.num, ?, ?, ?, ?, ?, ?, ?, ? FROM members AS m WHERE m.num = ?",
                [(entry_id, e.brand_id, e.touchpoint, e.rating, e.nps, e.comment_sealed,
                  e.occurred_on, e.updated_at, number) for entry_id, number, e in rows]).rowcount
            if written != len(rows):
                # What SQLite's foreign key on member_num refuses: an entry of no member.
                raise ConstraintViolationError("FOREIGN KEY constraint failed: feedback.member_num")
            self._db.execute(
                "SELECT setval('feedback_ids', greatest(?, (SELECT CASE WHEN is_called"
                " THEN last_value ELSE last_value - 1 END FROM feedback_ids)))",
                (max(entry_id for entry_id, _, _ in rows),))

    def update(self, member_id: str, entry: FeedbackRow) -> bool:
        return bool(self._db.execute(
            "UPDATE feedback SET brand_id = ?, touchpoint = ?, rating = ?, nps = ?,"
            " comment_sealed = ?, occurred_on = ?, updated_at = ? WHERE member_id = ? AND id = ?",
            (entry.brand_id, entry.touchpoint, entry.rating, entry.nps, entry.comment_sealed,
             entry.occurred_on, entry.updated_at, member_id, entry.id)).rowcount)

    def delete(self, member_id: str, entry_id: int) -> bool:
        return bool(self._db.execute("DELETE FROM feedback WHERE member_id = ? AND id = ?",
                                     (member_id, entry_id)).rowcount)

    def get(self, member_id: str, entry_id: int) -> FeedbackRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE member_id = ? AND id = ?", (member_id, entry_id))
        return None if row is None else _entry(row)

    def for_member(self, member_id: str) -> list[FeedbackRow]:
        return [_entry(row) for row in self._db.all(
            f'{_COLUMNS} WHERE member_id = ? ORDER BY occurred_on COLLATE "C" DESC, id DESC',
            (member_id,))]

    def by_touchpoint(self, brand_id: str | None = None) -> list[TouchpointCounts]:
        where, parameters = ("WHERE brand_id = ?", (brand_id,)) if brand_id else ("", ())
        return [TouchpointCounts(row[0], row[1], float(row[2]), row[3] or 0, row[4] or 0,
                                 row[5])
                for row in self._db.all(
                    "SELECT touchpoint, count(*), avg(rating), count(*) FILTER (WHERE nps >= 9),"
                    " count(*) FILTER (WHERE nps <= 6), count(nps)"
                    f' FROM feedback {where} GROUP BY touchpoint ORDER BY touchpoint COLLATE "C"',
                    parameters)]

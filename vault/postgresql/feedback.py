"""Feedback entries in PostgreSQL: :class:`vault.repositories.FeedbackRepository`
(:mod:`vault.sql.feedback`).

``feedback`` is member-owned: keyed by ``(member_id, id)``, with the member's integer key
(``member_num``) beside it, filled from ``members`` as each entry is written (the contract's
rows name the member by that key); an entry is the member's by ``member_id``. Text sorts as
SQLite's does (``COLLATE "C"``).

SQLCipher reads ``sqlite_sequence`` under the store's
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

from ..errors import ConstraintViolationError
from ..repositories import FeedbackRow
from ..sql.feedback import SqlFeedback
from .database import columns

#: The advisory lock (a signed 64-bit key) that serialises the handing out of feedback ids.
ID_LOCK = int.from_bytes(hashlib.sha256(b"vrmvault:feedback:ids").digest()[:8], "big",
                         signed=True)


class PostgresqlFeedback(SqlFeedback):
    _OWNED_BY = "member_id = ?"
    _NEWEST_FIRST = 'ORDER BY occurred_on COLLATE "C" DESC, id DESC'
    _NPS_COUNTS = "count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6)"
    _BY_TOUCHPOINT = 'ORDER BY touchpoint COLLATE "C"'

    def next_ids(self) -> int:
        self._db.execute("SELECT pg_advisory_xact_lock(?)", (ID_LOCK,))
        row = self._db.one("SELECT last_value, is_called FROM feedback_ids")
        return int(row[0]) + 1 if row[1] else int(row[0])

    def insert_many(self, rows: Sequence[tuple[int, int, FeedbackRow]]) -> None:
        if not rows:
            return
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(?)", (ID_LOCK,))
            # One statement for the whole batch (columns): a row at a time cost 115 us a row
            # when the demo loads its 400,000 entries, and ran the read model's statement
            # trigger once per entry.
            written = self._db.execute(
                "INSERT INTO feedback (member_id, member_num, id, brand_id, touchpoint, rating,"
                " nps, comment_sealed, occurred_on, updated_at)"
                " SELECT m.id, m.num, t.id, t.brand_id, t.touchpoint, t.rating, t.nps,"
                " t.comment_sealed, t.occurred_on, t.updated_at"
                " FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::integer[],"
                " ?::integer[], ?::bytea[], ?::text[], ?::bigint[]) AS t (id, num, brand_id,"
                " touchpoint, rating, nps, comment_sealed, occurred_on, updated_at)"
                " JOIN members AS m ON m.num = t.num",
                columns([(entry_id, number, e.brand_id, e.touchpoint, e.rating, e.nps,
                          e.comment_sealed, e.occurred_on, e.updated_at)
                         for entry_id, number, e in rows], 9)).rowcount
            if written != len(rows):
                # What SQLite's foreign key on member_num refuses: an entry of no member.
                raise ConstraintViolationError("FOREIGN KEY constraint failed: feedback.member_num")
            self._db.execute(
                "SELECT setval('feedback_ids', greatest(?, (SELECT CASE WHEN is_called"
                " THEN last_value ELSE last_value - 1 END FROM feedback_ids)))",
                (max(entry_id for entry_id, _, _ in rows),))

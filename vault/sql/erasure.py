"""Erasure bookkeeping: :class:`vault.repositories.ErasureRepository`, but for the deletion of a
member's rows, which each engine's module does.

``erasure_intents`` holds the erasures begun and not done (a second ``begin`` of one member
keeps the first's time); ``erasures`` the pseudonymous record of each one carried out, written
once. Deleting a member's rows names every member-owned table of the vault, in each engine's
module; a table added to the data store that holds a member's rows is added to both modules'
``_MEMBER_ROWS`` (the brand gateway's and consent's rows go through their ``before_delete``
hooks and foreign keys).
"""

from __future__ import annotations

from ..repositories import ErasureRecord
from . import SqlRepository


class SqlErasures(SqlRepository):
    #: Adds ``(member_id, erased_at)`` to ``erasure_intents`` unless the member is there.
    _BEGIN: str
    #: Adds ``(subject, erased_at, rows_deleted)`` to ``erasures`` unless the subject is there.
    _RECORD: str
    #: The order of the intents: by time, then by member (SQLite compares text as bytes).
    _INTENTS_ORDER = "ORDER BY erased_at, member_id"

    def begin(self, member_id: str, erased_at: int) -> int:
        with self._db.transaction():
            self._db.execute(self._BEGIN, (member_id, erased_at))
            return int(self._db.one("SELECT erased_at FROM erasure_intents WHERE member_id = ?",
                                    (member_id,))[0])

    def intents(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            f"SELECT member_id, erased_at FROM erasure_intents {self._INTENTS_ORDER}")]

    def is_pending(self, member_id: str) -> bool:
        return self._db.one("SELECT 1 FROM erasure_intents WHERE member_id = ?",
                            (member_id,)) is not None

    def finish(self, member_id: str) -> None:
        self._db.execute("DELETE FROM erasure_intents WHERE member_id = ?", (member_id,))

    def record(self, subject: str, erased_at: int, rows_deleted: int) -> None:
        self._db.execute(self._RECORD, (subject, erased_at, rows_deleted))

    def recorded(self, subject: str) -> ErasureRecord | None:
        row = self._db.one("SELECT erased_at, rows_deleted FROM erasures WHERE subject = ?",
                           (subject,))
        return None if row is None else ErasureRecord(int(row[0]), int(row[1]))

    def times(self) -> dict[str, int]:
        return {str(row[0]): int(row[1])
                for row in self._db.all("SELECT subject, erased_at FROM erasures")}

    def count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM erasures")[0])

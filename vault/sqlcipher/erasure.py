"""Erasure bookkeeping and the deletion of a member's rows in the data store's SQLCipher file:
:class:`vault.repositories.ErasureRepository`.

``erasure_intents`` holds the erasures begun and not done; ``erasures`` the pseudonymous record
of each one carried out. Deleting a member's rows names every member-owned table of the vault
here; a table added to the data store that holds a member's rows is added to
:data:`_MEMBER_ROWS` (the brand gateway's and consent's rows go through their
``before_delete`` hooks and foreign keys). Afterwards the WAL is checkpointed, so deleted pages
(zeroed by ``secure_delete``) leave the WAL too.
"""

from __future__ import annotations

from ..repositories import ErasureRecord
from . import SqlcipherRepository

# Each table's rows of one member, by the member's public id; the account row goes last.
_MEMBER_ROWS = (
    "DELETE FROM feedback WHERE member_num = (SELECT num FROM members WHERE id = ?)",
    "DELETE FROM care_cases WHERE member_num = (SELECT num FROM members WHERE id = ?)",
    # Intent casting: the offers on the member's intents, the intents, the brands blocked (a
    # spam report keeps the brand and the decision; its member and offer become NULL).
    "UPDATE intent_spam_reports SET reason = NULL WHERE member_num"
    " = (SELECT num FROM members WHERE id = ?)",
    "DELETE FROM intent_offers WHERE intent_num IN (SELECT num FROM intents WHERE member_num"
    " = (SELECT num FROM members WHERE id = ?))",
    "DELETE FROM intents WHERE member_num = (SELECT num FROM members WHERE id = ?)",
    "DELETE FROM intent_blocks WHERE member_num = (SELECT num FROM members WHERE id = ?)",
    "DELETE FROM profile_values WHERE member_id = ?",
    "DELETE FROM web_sessions WHERE member_id = ?",
    "DELETE FROM members WHERE id = ?",
)


class SqlcipherErasures(SqlcipherRepository):
    def begin(self, member_id: str, erased_at: int) -> int:
        with self._db.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO erasure_intents (member_id, erased_at) VALUES (?, ?)",
                (member_id, erased_at))
            return int(self._db.one("SELECT erased_at FROM erasure_intents WHERE member_id = ?",
                                    (member_id,))[0])

    def intents(self) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT member_id, erased_at FROM erasure_intents ORDER BY erased_at, member_id")]

    def is_pending(self, member_id: str) -> bool:
        return self._db.one("SELECT 1 FROM erasure_intents WHERE member_id = ?",
                            (member_id,)) is not None

    def finish(self, member_id: str) -> None:
        self._db.execute("DELETE FROM erasure_intents WHERE member_id = ?", (member_id,))

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            return sum(self._db.execute(statement, (member_id,)).rowcount
                       for statement in _MEMBER_ROWS)

    def record(self, subject: str, erased_at: int, rows_deleted: int) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO erasures (subject, erased_at, rows_deleted) VALUES (?, ?, ?)",
            (subject, erased_at, rows_deleted))

    def recorded(self, subject: str) -> ErasureRecord | None:
        row = self._db.one("SELECT erased_at, rows_deleted FROM erasures WHERE subject = ?",
                           (subject,))
        return None if row is None else ErasureRecord(int(row[0]), int(row[1]))

    def count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM erasures")[0])

    def purge_freed_pages(self) -> None:
        self._db.checkpoint()

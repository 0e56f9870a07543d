"""Erasure bookkeeping and the deletion of a member's rows in the data store's SQLCipher file:
:class:`vault.repositories.ErasureRepository` (:mod:`vault.sql.erasure`).

A member's rows are deleted by :data:`_MEMBER_ROWS`, the account row last; SQLite's foreign keys
do the rest as it goes. Afterwards the WAL is checkpointed, so deleted pages (zeroed by
``secure_delete``) leave the WAL too.
"""

from __future__ import annotations

from ..sql.erasure import SqlErasures
from .database import Database

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


class SqlcipherErasures(SqlErasures):
    _db: Database
    _BEGIN = "INSERT OR IGNORE INTO erasure_intents (member_id, erased_at) VALUES (?, ?)"
    _RECORD = ("INSERT OR IGNORE INTO erasures (subject, erased_at, rows_deleted)"
               " VALUES (?, ?, ?)")

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            return sum(self._db.execute(statement, (member_id,)).rowcount
                       for statement in _MEMBER_ROWS)

    def purge_freed_pages(self) -> None:
        self._db.checkpoint()

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

_MEMBER = "(SELECT num FROM members WHERE id = ?)"
_REQUESTS_OF = f"(SELECT id FROM dsr_requests WHERE member_num = {_MEMBER})"
# A member's data subject requests outlive them (a foreign key sets their member to NULL as the
# account goes): the documents brands returned go (sealed under the key just destroyed, named in
# clear; no one is left to give them to), and so do the reasons officers and brands gave in
# clear before data migration 16 (since then sealed under that key). Not counted, as what a
# foreign key's action changes is not.
_REQUESTS = (
    "DELETE FROM dsr_results WHERE task_uid IN (SELECT uid FROM dsr_tasks WHERE request_id IN"
    f" {_REQUESTS_OF})",
    f"UPDATE dsr_requests SET extension_reason = NULL WHERE member_num = {_MEMBER}"
    " AND extension_reason IS NOT NULL",
    f"UPDATE dsr_tasks SET reason = NULL WHERE request_id IN {_REQUESTS_OF}"
    " AND reason IS NOT NULL",
    f"UPDATE dsr_history SET reason = NULL WHERE request_id IN {_REQUESTS_OF}"
    " AND reason IS NOT NULL AND (task_uid IS NOT NULL OR state = 'extended')",
)


class SqlcipherErasures(SqlErasures):
    _db: Database
    _BEGIN = "INSERT OR IGNORE INTO erasure_intents (member_id, erased_at) VALUES (?, ?)"
    _RECORD = ("INSERT OR IGNORE INTO erasures (subject, erased_at, rows_deleted)"
               " VALUES (?, ?, ?)")

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            for statement in _REQUESTS:
                self._db.execute(statement, (member_id,))
            return sum(self._db.execute(statement, (member_id,)).rowcount
                       for statement in _MEMBER_ROWS)

    def purge_freed_pages(self) -> None:
        self._db.checkpoint()

"""Erasure bookkeeping and the deletion of a member's rows in the PostgreSQL data store:
:class:`vault.repositories.ErasureRepository` (:mod:`vault.sql.erasure`).

``erasure_intents`` is keyed by the member's id, beside their rows, though it outlives them.
:data:`_MEMBER_ROWS` deletes a member's rows by the member's id (every member-owned table
carries it).

What differs from SQLCipher's, and why: a table distributed by another key than the member's,
or shared by every member, has no foreign key to ``members``, so what SQLite's foreign keys do
as the account goes is done here by statements of its own, uncounted as SQLite does not count
what a foreign key's action changes: the member's password reset links and their claim on a
blind index (``member_logins``, found by the index the account row gives back as it is
deleted, last) are deleted, as are the identity reveals an officer made; the member's data
subject requests lose the documents brands returned and any reason kept in clear from before
data migration 16 (as on SQLite, by statements of its own), and with the spam reports their
``member_num``, and the spam reports on the
member's intents' offers their ``offer_num`` (the tables' own migrations, 8 to 10, say why they
have no foreign key). The account row is locked first (``FOR UPDATE``): of two erasures of one
member at once, the second finds it gone. An erasure is begun by one ``INSERT ... ON CONFLICT
DO NOTHING``: of two at once, the second waits for the first and keeps its time.

What is deleted is not gone from disk at once, and :meth:`PostgresqlErasures.purge_freed_pages`
does not make it so: a ``DELETE`` leaves the rows dead in the tables' files until their space is
reused (a plain ``VACUUM`` does not overwrite it; only a rewrite of the whole table would,
``vault/postgresql/keys.py`` says more), and the write-ahead log holds them until its segments
are recycled. Every value sealed under the member's key is unreadable from the moment that key
is destroyed (step 1 of ``vault/erasure.py``), which comes first; what else stays in clear for
a while is what SQLite's ``secure_delete`` zeroes (times, counts, brand ids, keyed hashes).
"""

from __future__ import annotations

from ..sql.erasure import SqlErasures

# Each table's rows of one member, by the member's public id; counted.
_MEMBER_ROWS = (
    "DELETE FROM feedback WHERE member_id = ?",
    "DELETE FROM care_cases WHERE member_id = ?",
    "DELETE FROM intent_offers WHERE member_id = ?",
    "DELETE FROM intents WHERE member_id = ?",
    "DELETE FROM intent_blocks WHERE member_id = ?",
    "DELETE FROM profile_values WHERE member_id = ?",
    "DELETE FROM web_sessions WHERE member_id = ?",
)
# Intent casting: a spam report keeps the brand and the decision; its reason is emptied
# (counted, as SQLite's statement), its member becomes NULL.
_SPAM_REPORTS = ("UPDATE intent_spam_reports SET reason = NULL, member_num = NULL"
                 " WHERE member_num = ?")
# What SQLite's foreign keys do as the account goes, to tables that have none here: not counted.
_OFFERS_REPORTED = "UPDATE intent_spam_reports SET offer_num = NULL WHERE offer_num = ANY(?)"
# A member's data subject requests outlive them: the documents brands returned go (sealed under
# the key just destroyed, named in clear), found by their tasks' uids (``dsr_results`` is
# distributed by task), and so do the reasons given in clear before data migration 16; then
# the requests lose their member. Not counted, as SQLite's (see vault/sqlcipher/erasure.py).
_TASKS_OF = ("SELECT t.uid FROM dsr_tasks AS t JOIN dsr_requests AS r ON r.id = t.request_id"
             " WHERE r.member_num = ?")
_RESULTS = "DELETE FROM dsr_results WHERE task_uid = ANY(?)"
_REQUESTS_OF = "(SELECT id FROM dsr_requests WHERE member_num = ?)"
_BY_NUMBER = (
    "UPDATE dsr_requests SET extension_reason = NULL WHERE member_num = ?"
    " AND extension_reason IS NOT NULL",
    f"UPDATE dsr_tasks SET reason = NULL WHERE request_id IN {_REQUESTS_OF}"
    " AND reason IS NOT NULL",
    f"UPDATE dsr_history SET reason = NULL WHERE request_id IN {_REQUESTS_OF}"
    " AND reason IS NOT NULL AND (task_uid IS NOT NULL OR state = 'extended')",
    "UPDATE dsr_requests SET member_num = NULL WHERE member_num = ?",
    "DELETE FROM identity_reveals WHERE officer_num = ?",       # the reveals they made
)
_BY_ID = (
    "DELETE FROM password_resets WHERE member_id = ?",
)


class PostgresqlErasures(SqlErasures):
    _BEGIN = ("INSERT INTO erasure_intents (member_id, erased_at) VALUES (?, ?)"
              " ON CONFLICT (member_id) DO NOTHING")
    _RECORD = ("INSERT INTO erasures (subject, erased_at, rows_deleted) VALUES (?, ?, ?)"
               " ON CONFLICT (subject) DO NOTHING")
    _INTENTS_ORDER = 'ORDER BY erased_at, member_id COLLATE "C"'

    def delete_member_rows(self, member_id: str) -> int:
        with self._db.transaction():
            account = self._db.one("SELECT num FROM members WHERE id = ? FOR UPDATE",
                                   (member_id,))
            rows = 0
            if account is not None:
                number = account[0]
                offers = [row[0] for row in self._db.all(
                    "SELECT num FROM intent_offers WHERE member_id = ?", (member_id,))]
                if offers:
                    self._db.execute(_OFFERS_REPORTED, (offers,))
                rows += self._db.execute(_SPAM_REPORTS, (number,)).rowcount
                tasks = [row[0] for row in self._db.all(_TASKS_OF, (number,))]
                if tasks:
                    self._db.execute(_RESULTS, (tasks,))
                for statement in _BY_NUMBER:
                    self._db.execute(statement, (number,))
            rows += sum(self._db.execute(statement, (member_id,)).rowcount
                        for statement in _MEMBER_ROWS)
            for statement in _BY_ID:
                self._db.execute(statement, (member_id,))
            if account is None:
                return rows
            login = self._db.one("DELETE FROM members WHERE id = ? RETURNING email_index",
                                 (member_id,))
            self._db.execute("DELETE FROM member_logins WHERE email_index = ? AND member_id = ?",
                             (login[0], member_id))
            return rows + 1

    def purge_freed_pages(self) -> None:
        """Nothing a transaction can do on PostgreSQL (see the module docstring)."""

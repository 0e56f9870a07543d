"""The PostgreSQL implementations of the insight community's repositories
(``community/repositories.py``), one module per aggregate, over the data store's
:class:`vault.postgresql.database.Database`, each adding to its base in ``community/sql/``
what differs on PostgreSQL.

The tables are migrations 4, 5 and 7 of ``vault/schema/postgresql/data/``: communities,
challenges, surveys, their questions, attribute requests and "we did" posts are shared; a
member's memberships, grant links, ideas, votes, answers, skips, journal links, responses and
care cases are member-owned (``member_id`` first in their keys), and carry ``member_num``, the
member key the contracts speak of, filled from ``members`` as they are written: a row for a
member who does not exist is refused by its NOT NULL ``member_id`` (a
:class:`vault.errors.ConstraintViolationError`, as SQLite's foreign key refuses it).

Where SQLCipher's transaction holds the whole store's write lock, a read that decides a write
about a member here locks that member's row first (:func:`lock_member`): what the member holds
in the community (a membership, a journal link) may not exist yet, and a missing row cannot be
locked, so the member's own row stands for all of them.
"""

from __future__ import annotations

from vault.postgresql.database import Database

# The id of the member whose integer key is the statement's next parameter: what fills the
# ``member_id`` of a member-owned row written by ``member_num``.
MEMBER_ID = "(SELECT id FROM members WHERE num = ?)"


def lock_member(database: Database, member_num: int) -> None:
    """Inside a write transaction: lock the member's row until it ends, so two transactions
    that read and then change what the member holds in the community take turns. ``FOR NO KEY
    UPDATE`` leaves the foreign keys that point at the member free (they take ``KEY SHARE``).
    Outside a transaction there is nothing to hold: nothing is done."""
    if database.in_transaction:
        database.lock("SELECT 1 FROM members WHERE num = ? FOR NO KEY UPDATE", (member_num,))

"""Grants and their receipts in PostgreSQL: :class:`consent.repositories.GrantRepository`
(what both engines share is :class:`consent.sql.grants.SqlGrants`; :func:`grant_from_row` is
its row mapper, named here too).

A grant is its member's (keyed by ``(member_id, id)``); a grant id is random, unique by
construction, and found by a plain index where the caller names no member. ``rowid`` is a
column here. Inside a write transaction, reading a grant or the live ones takes the member's
lock and locks the grants read (:class:`consent.postgresql.PostgresqlConsentRepository`), as
SQLCipher's write lock serialises them.
"""

from __future__ import annotations

from ..sql.grants import SqlGrants
from ..sql.grants import grant_from_row as grant_from_row
from . import PostgresqlConsentRepository


class PostgresqlGrants(PostgresqlConsentRepository, SqlGrants):
    _BYTEWISE = ' COLLATE "C"'

    def duplicated(self, now: int) -> list[tuple[str, str, str]]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT member_id, brand_id, purpose FROM grants WHERE status = 'active'"
            " AND ends_at > ? GROUP BY member_id, brand_id, purpose HAVING count(*) > 1"
            ' ORDER BY member_id COLLATE "C", brand_id COLLATE "C", purpose COLLATE "C"',
            (now,))]

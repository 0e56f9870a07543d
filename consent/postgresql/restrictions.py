"""Processing restrictions in PostgreSQL: :class:`consent.repositories.RestrictionRepository`
(what both engines share is :class:`consent.sql.restrictions.SqlRestrictions`).

Member-owned rows (data migration 0008): ``member_id`` first in the key, with the member's
``num`` beside it (SQLite keys them by ``num``), filled from ``members`` when a row is added.
So every read is by ``member_id`` alone, with no join to ``members``. Ids come from an identity
sequence: unique across members and never handed out twice.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError

from ..model import Restriction
from ..sql.restrictions import SqlRestrictions


class PostgresqlRestrictions(SqlRestrictions):
    _COLUMNS = ("SELECT r.id, r.member_id, r.brand_id, r.scope, r.basis, r.request_id, r.since,"
                " r.lifted_at FROM processing_restrictions AS r")
    _OF_MEMBER = "r.member_id = ?"

    def add(self, restriction: Restriction) -> int:
        row = self._db.one(
            "INSERT INTO processing_restrictions (member_id, member_num, brand_id, scope, basis,"
            " request_id, since, lifted_at) SELECT m.id, m.num, ?, ?, ?, ?, ?, ?"
            " FROM members AS m WHERE m.id = ? RETURNING id",
            (restriction.brand_id, restriction.scope.value, restriction.basis.value,
             restriction.request_id, restriction.since, restriction.lifted_at,
             restriction.member_id))
        if row is None:
            # SQLCipher's row would name no member: its NOT NULL member_num refuses it.
            raise ConstraintViolationError(
                "NOT NULL constraint failed: processing_restrictions.member_num")
        return int(row[0])

    def reinstate(self, restriction: Restriction) -> bool:
        if not self._db.execute(
                "INSERT INTO processing_restrictions (member_id, id, member_num, brand_id, scope,"
                " basis, request_id, since, lifted_at) OVERRIDING SYSTEM VALUE"
                " SELECT m.id, ?, m.num, ?, ?, ?, ?, ?, ? FROM members AS m WHERE m.id = ?"
                " AND NOT EXISTS (SELECT 1 FROM processing_restrictions WHERE id = ?)",
                (restriction.id, restriction.brand_id, restriction.scope.value,
                 restriction.basis.value, restriction.request_id, restriction.since,
                 restriction.lifted_at, restriction.member_id, restriction.id)).rowcount:
            return False
        # The sequence a restored database came back with may be behind this id: move it on,
        # never back (an id handed out once is never handed out again).
        self._db.execute(
            "SELECT setval(s.name, greatest(?, coalesce(pg_sequence_last_value(s.name), 0)))"
            " FROM (SELECT pg_get_serial_sequence('processing_restrictions', 'id')::regclass"
            " AS name) AS s", (restriction.id,))
        return True

    def lift(self, member_id: str, restriction_id: int, at: int) -> bool:
        return bool(self._db.execute(
            "UPDATE processing_restrictions SET lifted_at = ? WHERE member_id = ? AND id = ?"
            " AND lifted_at IS NULL", (at, member_id, restriction_id)).rowcount)

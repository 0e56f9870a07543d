"""Grants and their receipts, what both engines share:
:class:`consent.repositories.GrantRepository`.

``fields`` is a sorted JSON array; ``rowid`` breaks ties between rows written in one second, so
"oldest first" and "newest first" are the order of writing. Inside a write transaction,
:meth:`SqlGrants.get`, :meth:`SqlGrants.live` and :meth:`SqlGrants.live_ids` take the member's
lock where the engine needs it: a grant is checked and changed while no other change of the
member's consent runs, and a new grant sees every live grant it replaces.
:meth:`SqlGrants.record_expiry` is one conditional ``UPDATE``: of two sweeps at once, one
records it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from ..model import AccessEnd, Grant, GrantStatus, Mode, RecordedGrant
from ..vocabulary import expand
from . import SqlConsentRepository

if TYPE_CHECKING:
    from ..grants import StoredReceipt

_SELECT = (
    "SELECT id, member_id, brand_id, purpose, fields, mode, starts_at, ends_at, retention_days,"
    " onward_sharing, third_party, jurisdiction, collection_method, agreement, terms_version,"
    " status, withdrawn_at, version, created_at, updated_at, access_ended_at, access_ended,"
    " replaced_by FROM grants")


def grant_from_row(row: Any) -> Grant:
    """A :class:`Grant` from a row of every column of ``grants`` (:data:`_SELECT`)."""
    fields = frozenset(json.loads(row["fields"]))
    access_ended = row["access_ended"]
    return Grant(
        row["id"], row["member_id"], row["brand_id"], row["purpose"], fields, Mode(row["mode"]),
        row["starts_at"], row["ends_at"], row["retention_days"], bool(row["onward_sharing"]),
        row["third_party"], row["jurisdiction"], row["collection_method"], row["agreement"],
        row["terms_version"], GrantStatus(row["status"]), row["withdrawn_at"],
        row["version"], row["created_at"], row["updated_at"], expand(fields),
        row["access_ended_at"], None if access_ended is None else AccessEnd(access_ended),
        row["replaced_by"],
    )


class SqlGrants(SqlConsentRepository):
    # What orders text by its bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]

    def insert(self, grant: Grant) -> None:
        self._db.execute(
            "INSERT INTO grants (id, member_id, brand_id, purpose, fields, mode, starts_at,"
            " ends_at, retention_days, onward_sharing, third_party, jurisdiction,"
            " collection_method, agreement, terms_version, status, withdrawn_at, version,"
            " created_at, updated_at, access_ended_at, access_ended, replaced_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (grant.id, grant.member_id, grant.brand_id, grant.purpose,
             json.dumps(sorted(grant.fields)), grant.mode.value, grant.starts_at, grant.ends_at,
             grant.retention_days, int(grant.onward_sharing), grant.third_party,
             grant.jurisdiction, grant.collection_method, grant.agreement, grant.terms_version,
             grant.status.value, grant.withdrawn_at, grant.version, grant.created_at,
             grant.updated_at, grant.access_ended_at,
             None if grant.access_ended is None else grant.access_ended.value,
             grant.replaced_by))

    def get(self, grant_id: str, member_id: str | None = None) -> Grant | None:
        if member_id is None:
            if not self._lock_owner("grants", grant_id):
                return None
            row = self._db.one(f"{_SELECT} WHERE id = ?{self._locking()}", (grant_id,))
        else:
            self._lock_member(member_id)
            row = self._db.one(f"{_SELECT} WHERE member_id = ? AND id = ?{self._locking()}",
                               (member_id, grant_id))
        return None if row is None else grant_from_row(row)

    def live(self, member_id: str, brand_id: str, purpose: str, now: int) -> list[Grant]:
        self._lock_member(member_id)
        return [grant_from_row(row) for row in self._db.all(
            f"{_SELECT} WHERE member_id = ? AND brand_id = ? AND purpose = ?"
            f" AND status = 'active' AND ends_at > ? ORDER BY created_at, rowid"
            f"{self._locking()}", (member_id, brand_id, purpose, now))]

    def live_ids(self, member_id: str, brand_id: str, purpose: str, now: int) -> list[str]:
        return [grant.id for grant in self.live(member_id, brand_id, purpose, now)]

    def for_member(self, member_id: str) -> list[Grant]:
        return [grant_from_row(row) for row in self._db.all(
            f"{_SELECT} WHERE member_id = ? ORDER BY status{self._BYTEWISE}, ends_at",
            (member_id,))]

    def for_member_and_brand(self, member_id: str, brand_id: str) -> list[Grant]:
        return [grant_from_row(row) for row in self._db.all(
            f"{_SELECT} WHERE member_id = ? AND brand_id = ?", (member_id, brand_id))]

    def ended_unrecorded(self, now: int) -> list[Grant]:
        return [grant_from_row(row) for row in self._db.all(
            f"{_SELECT} WHERE status = 'active' AND ends_at <= ? AND expiry_recorded = 0",
            (now,))]

    def recorded_expiries(self, member_id: str) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT id FROM grants WHERE member_id = ? AND expiry_recorded = 1", (member_id,))}

    def record_expiry(self, grant_id: str) -> bool:
        return bool(self._db.execute(
            "UPDATE grants SET expiry_recorded = 1 WHERE id = ? AND expiry_recorded = 0",
            (grant_id,)).rowcount)

    def narrow(self, grant_id: str, *, fields: frozenset[str], ends_at: int,
               now: int) -> None:
        self._db.execute(
            "UPDATE grants SET fields = ?, ends_at = ?, version = version + 1,"
            " updated_at = ? WHERE id = ?", (json.dumps(sorted(fields)), ends_at, now, grant_id))

    def withdraw(self, grant_id: str, now: int) -> None:
        self._db.execute(
            "UPDATE grants SET status = 'withdrawn', withdrawn_at = ?, updated_at = ?,"
            " version = version + 1 WHERE id = ?", (now, now, grant_id))

    def replace(self, grant_id: str, by: str, now: int) -> None:
        self._db.execute(
            "UPDATE grants SET status = 'replaced', replaced_by = ?, withdrawn_at = ?,"
            " updated_at = ?, version = version + 1 WHERE id = ?", (by, now, now, grant_id))

    def release(self, grant_id: str, cause: AccessEnd, now: int) -> None:
        self._db.execute(
            "UPDATE grants SET status = 'released', withdrawn_at = ?, access_ended_at = ?,"
            " access_ended = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            (now, now, cause.value, now, grant_id))

    def end_access(self, grant_id: str, cause: AccessEnd, now: int) -> None:
        self._db.execute(
            "UPDATE grants SET access_ended_at = ?, access_ended = ?, updated_at = ?"
            " WHERE id = ?", (now, cause.value, now, grant_id))

    def reapply(self, recorded: RecordedGrant) -> bool:
        access_end = None if recorded.access_ended is None else recorded.access_ended.value
        return bool(self._db.execute(
            "UPDATE grants SET status = ?, fields = ?, ends_at = ?, version = ?,"
            " updated_at = COALESCE(?, updated_at), withdrawn_at = COALESCE(?, withdrawn_at),"
            " access_ended_at = COALESCE(access_ended_at, ?),"
            " access_ended = COALESCE(access_ended, ?), replaced_by = COALESCE(?, replaced_by),"
            " expiry_recorded = CASE WHEN ? = 1 THEN 1 ELSE expiry_recorded END"
            " WHERE id = ? AND (version < ? OR (version = ? AND"
            " ((access_ended IS NULL AND ? = 1) OR expiry_recorded < ?)))",
            (recorded.status.value, json.dumps(sorted(recorded.fields)), recorded.ends_at,
             recorded.version, recorded.updated_at, recorded.withdrawn_at, recorded.access_ended_at,
             access_end, recorded.replaced_by, int(recorded.expiry_recorded), recorded.id,
             recorded.version, recorded.version, int(access_end is not None),
             int(recorded.expiry_recorded))).rowcount)

    def add_receipt(self, member_id: str, receipt: StoredReceipt) -> None:
        self._db.execute(
            "INSERT INTO receipts (id, member_id, grant_id, brand_id, event, token, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (receipt.id, member_id, receipt.grant_id, receipt.brand_id, receipt.event,
             receipt.token, receipt.created_at))

    def receipts(self, member_id: str) -> list[StoredReceipt]:
        from ..grants import StoredReceipt

        return [StoredReceipt(row[0], row[1], row[2], row[3], row[4], row[5])
                for row in self._db.all(
                    "SELECT id, grant_id, brand_id, event, token, created_at FROM receipts"
                    " WHERE member_id = ? ORDER BY created_at DESC, rowid DESC", (member_id,))]

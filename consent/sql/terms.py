"""Personal terms, terms for single brands and their receipts, what both engines share:
:class:`consent.repositories.TermsRepository`. Purposes are sorted JSON arrays.

Saving is an upsert (``ON CONFLICT ... DO UPDATE``). A service reads terms and saves them
changed (a new version) inside one transaction: :meth:`SqlTerms.standing` and
:meth:`SqlTerms.brand_terms_for` take the member's lock first where the engine needs it, so two
such changes at once take turns and neither version is lost.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import BrandTerms, PersonalTerms, TermsReceipt
from . import SqlConsentRepository

_STANDING = ("SELECT agreement, purposes, max_days, aggregate_allowed, gpc_opt_out, gpc_at,"
             " version, updated_at FROM member_terms")
BRAND_TERMS = ("SELECT member_id, brand_id, purposes, max_days, version, updated_at"
               " FROM member_brand_terms")


def _standing(member_id: str, row: Any) -> PersonalTerms:
    return PersonalTerms(
        member_id, row["agreement"], frozenset(json.loads(row["purposes"])),
        row["max_days"], bool(row["aggregate_allowed"]), bool(row["gpc_opt_out"]),
        row["gpc_at"], row["version"], row["updated_at"])


def brand_terms(row: Any) -> BrandTerms:
    """:class:`BrandTerms` from a row of :data:`BRAND_TERMS`."""
    return BrandTerms(row["member_id"], row["brand_id"], frozenset(json.loads(row["purposes"])),
                      row["max_days"], row["version"], row["updated_at"])


class SqlTerms(SqlConsentRepository):
    def standing(self, member_id: str) -> PersonalTerms | None:
        self._lock_member(member_id)
        row = self._db.one(f"{_STANDING} WHERE member_id = ?{self._locking()}", (member_id,))
        return None if row is None else _standing(member_id, row)

    def for_brand(self, member_id: str, brand_id: str
                  ) -> tuple[PersonalTerms | None, BrandTerms | None]:
        # One statement for both: the decision point reads these on every change.
        row = self._db.one(
            "SELECT t.agreement, t.purposes, t.max_days, t.aggregate_allowed, t.gpc_opt_out,"
            " t.gpc_at, t.version, t.updated_at, b.purposes AS brand_purposes,"
            " b.max_days AS brand_max_days, b.version AS brand_version,"
            " b.updated_at AS brand_updated_at"
            " FROM (SELECT CAST(? AS TEXT) AS wanted) AS m"
            " LEFT JOIN member_terms AS t ON t.member_id = m.wanted"
            " LEFT JOIN member_brand_terms AS b ON b.member_id = m.wanted AND b.brand_id = ?",
            (member_id, brand_id))
        standing = None if row["agreement"] is None else _standing(member_id, row)
        if row["brand_purposes"] is None:
            return standing, None
        return standing, BrandTerms(member_id, brand_id,
                                    frozenset(json.loads(row["brand_purposes"])),
                                    row["brand_max_days"], row["brand_version"],
                                    row["brand_updated_at"])

    def save_standing(self, terms: PersonalTerms) -> None:
        self._db.execute(
            "INSERT INTO member_terms (member_id, agreement, purposes, max_days,"
            " aggregate_allowed, gpc_opt_out, gpc_at, version, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE SET"
            " agreement = excluded.agreement, purposes = excluded.purposes,"
            " max_days = excluded.max_days, aggregate_allowed = excluded.aggregate_allowed,"
            " gpc_opt_out = excluded.gpc_opt_out, gpc_at = excluded.gpc_at,"
            " version = excluded.version, updated_at = excluded.updated_at",
            (terms.member_id, terms.agreement, json.dumps(sorted(terms.purposes)),
             terms.max_days, int(terms.aggregate_allowed), int(terms.gpc_opt_out),
             terms.gpc_at, terms.version, terms.updated_at))

    def brand_terms_for(self, member_id: str, brand_id: str) -> BrandTerms | None:
        self._lock_member(member_id)
        row = self._db.one(f"{BRAND_TERMS} WHERE member_id = ? AND brand_id = ?"
                           f"{self._locking()}", (member_id, brand_id))
        return None if row is None else brand_terms(row)

    def save_brand_terms(self, terms: BrandTerms) -> None:
        self._db.execute(
            "INSERT INTO member_brand_terms (member_id, brand_id, purposes, max_days,"
            " version, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (member_id, brand_id) DO UPDATE SET purposes = excluded.purposes,"
            " max_days = excluded.max_days, version = excluded.version,"
            " updated_at = excluded.updated_at",
            (terms.member_id, terms.brand_id, json.dumps(sorted(terms.purposes)),
             terms.max_days, terms.version, terms.updated_at))

    def remove_brand_terms(self, member_id: str, brand_id: str) -> None:
        self._db.execute("DELETE FROM member_brand_terms WHERE member_id = ? AND brand_id = ?",
                         (member_id, brand_id))

    def add_receipt(self, receipt: TermsReceipt) -> None:
        self._db.execute(
            "INSERT INTO terms_receipts (id, member_id, brand_id, version, token, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (receipt.id, receipt.member_id, receipt.brand_id, receipt.version, receipt.token,
             receipt.created_at))

    def receipts(self, member_id: str) -> list[TermsReceipt]:
        return [TermsReceipt(row[0], row[1], row[2], row[3], row[4], row[5])
                for row in self._db.all(
                    "SELECT id, member_id, brand_id, version, token, created_at"
                    " FROM terms_receipts WHERE member_id = ?"
                    " ORDER BY created_at DESC, rowid DESC", (member_id,))]

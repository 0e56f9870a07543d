"""Personal terms, terms for single brands and their receipts in SQLCipher:
:class:`consent.repositories.TermsRepository`. Purposes are sorted JSON arrays."""

from __future__ import annotations

import json
from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..model import BrandTerms, PersonalTerms, TermsReceipt


def _standing(member_id: str, row: Any) -> PersonalTerms:
    return PersonalTerms(
        member_id, row["agreement"], frozenset(json.loads(row["purposes"])),
        row["max_days"], bool(row["aggregate_allowed"]), bool(row["gpc_opt_out"]),
        row["gpc_at"], row["version"], row["updated_at"])


def _brand_terms(row: Any) -> BrandTerms:
    return BrandTerms(row["member_id"], row["brand_id"], frozenset(json.loads(row["purposes"])),
                      row["max_days"], row["version"], row["updated_at"])


class SqlcipherTerms(SqlcipherRepository):
    def standing(self, member_id: str) -> PersonalTerms | None:
        row = self._db.one("SELECT * FROM member_terms WHERE member_id = ?", (member_id,))
        return None if row is None else _standing(member_id, row)

    def for_brand(self, member_id: str, brand_id: str
                  ) -> tuple[PersonalTerms | None, BrandTerms | None]:
        # One statement for both: the decision point reads these on every change.
        row = self._db.one(
            "SELECT t.*, b.purposes AS brand_purposes, b.max_days AS brand_max_days,"
            " b.version AS brand_version, b.updated_at AS brand_updated_at"
            " FROM (SELECT ? AS wanted) AS m"
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

    def brand_terms(self, member_id: str) -> list[BrandTerms]:
        return [_brand_terms(row) for row in self._db.all(
            "SELECT * FROM member_brand_terms WHERE member_id = ? ORDER BY updated_at DESC",
            (member_id,))]

    def brand_terms_for(self, member_id: str, brand_id: str) -> BrandTerms | None:
        row = self._db.one("SELECT * FROM member_brand_terms WHERE member_id = ?"
                           " AND brand_id = ?", (member_id, brand_id))
        return None if row is None else _brand_terms(row)

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

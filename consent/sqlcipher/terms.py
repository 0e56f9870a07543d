"""Personal terms, terms for single brands and their receipts in SQLCipher:
:class:`consent.repositories.TermsRepository` (what both engines share is
:class:`consent.sql.terms.SqlTerms`). The store's write lock serialises a read and the save it
decides."""

from __future__ import annotations

from ..model import BrandTerms
from ..sql.terms import BRAND_TERMS, SqlTerms, brand_terms


class SqlcipherTerms(SqlTerms):
    def brand_terms(self, member_id: str) -> list[BrandTerms]:
        return [brand_terms(row) for row in self._db.all(
            f"{BRAND_TERMS} WHERE member_id = ? ORDER BY updated_at DESC", (member_id,))]

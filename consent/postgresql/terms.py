"""Personal terms, terms for single brands and their receipts in PostgreSQL:
:class:`consent.repositories.TermsRepository` (what both engines share is
:class:`consent.sql.terms.SqlTerms`).

Inside a write transaction, reading terms takes the member's lock first
(:class:`consent.postgresql.PostgresqlConsentRepository`), so two changes at once, on any
hosts, take turns; terms not saved yet are then absent under that lock too. Brand terms of one
second are listed by brand, in byte order.
"""

from __future__ import annotations

from ..model import BrandTerms
from ..sql.terms import BRAND_TERMS, SqlTerms, brand_terms
from . import PostgresqlConsentRepository


class PostgresqlTerms(PostgresqlConsentRepository, SqlTerms):
    def brand_terms(self, member_id: str) -> list[BrandTerms]:
        return [brand_terms(row) for row in self._db.all(
            f'{BRAND_TERMS} WHERE member_id = ? ORDER BY updated_at DESC, brand_id COLLATE "C"',
            (member_id,))]

"""IEEE 7012 agreements in PostgreSQL: :class:`consent.repositories.AgreementRepository` (what
both engines share is :class:`consent.sql.agreements.SqlAgreements`).

An agreement is its member's (keyed by ``(member_id, id)``); an id is random, unique by
construction, and found by a plain index where the caller names no member. Inside a write
transaction, reading an agreement or an open offer takes the member's lock and locks what it
reads (:class:`consent.postgresql.PostgresqlConsentRepository`), as SQLCipher's write lock
serialises them. ``rowid`` is a column here. Agreements of one second are listed by id, in
byte order.
"""

from __future__ import annotations

from ..model import AgreementRecord
from ..sql.agreements import AGREEMENTS, SqlAgreements, agreement
from . import PostgresqlConsentRepository


class PostgresqlAgreements(PostgresqlConsentRepository, SqlAgreements):
    _BYTEWISE = ' COLLATE "C"'

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        return [agreement(row) for row in self._db.all(
            f'{AGREEMENTS} WHERE member_id = ? ORDER BY updated_at DESC, id COLLATE "C"',
            (member_id,))]

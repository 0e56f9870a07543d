"""IEEE 7012 agreements in SQLCipher: :class:`consent.repositories.AgreementRepository` (what
both engines share is :class:`consent.sql.agreements.SqlAgreements`)."""

from __future__ import annotations

from ..model import AgreementRecord
from ..sql.agreements import AGREEMENTS, SqlAgreements, agreement


class SqlcipherAgreements(SqlAgreements):
    _BYTEWISE = ""

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        return [agreement(row) for row in self._db.all(
            f"{AGREEMENTS} WHERE member_id = ? ORDER BY updated_at DESC", (member_id,))]

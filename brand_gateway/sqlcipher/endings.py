"""Whether a background pass has endings to record, in SQLCipher:
:class:`brand_gateway.repositories.EndingRepository` (two indexed probes in one statement)."""

from __future__ import annotations

from vault.sqlcipher import SqlcipherRepository


class SqlcipherEndings(SqlcipherRepository):
    def due(self, now: int) -> bool:
        return self._db.one(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM grants WHERE status = 'active'"
            " AND ends_at <= ? AND expiry_recorded = 0) OR EXISTS (SELECT 1"
            " FROM oauth_token_families WHERE revoked_at IS NULL AND expires_at <= ?)",
            (now, now)) is not None

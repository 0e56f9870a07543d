"""Whether a background pass has endings to record, in PostgreSQL:
:class:`brand_gateway.repositories.EndingRepository` (two probes of partial indexes in one
statement)."""

from __future__ import annotations

from vault.postgresql import PostgresqlRepository


class PostgresqlEndings(PostgresqlRepository):
    def due(self, now: int) -> bool:
        return bool(self._db.one(
            "SELECT EXISTS (SELECT 1 FROM grants WHERE status = 'active'"
            " AND ends_at <= ? AND expiry_recorded = 0) OR EXISTS (SELECT 1"
            " FROM oauth_token_families WHERE revoked_at IS NULL AND expires_at <= ?)",
            (now, now))[0])

"""Whether a background pass has endings to record, what both engines share:
:class:`brand_gateway.repositories.EndingRepository`: two indexed probes in one statement
(grants ended but not recorded, token families expired but not revoked)."""

from __future__ import annotations

from vault.sql import SqlRepository


class SqlEndings(SqlRepository):
    def due(self, now: int) -> bool:
        return bool(self._db.one(
            "SELECT EXISTS (SELECT 1 FROM grants WHERE status = 'active'"
            " AND ends_at <= ? AND expiry_recorded = 0) OR EXISTS (SELECT 1"
            " FROM oauth_token_families WHERE revoked_at IS NULL AND expires_at <= ?)",
            (now, now))[0])

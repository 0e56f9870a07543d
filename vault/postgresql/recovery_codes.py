"""Two-step sign-in recovery codes (keyed hashes) in PostgreSQL:
:class:`vault.repositories.RecoveryCodeRepository` (:mod:`vault.sql.recovery_codes`).

``totp_recovery_codes`` is member-owned. Replacing a member's codes locks the member's account
row first (``FOR NO KEY UPDATE``), where SQLCipher holds the whole store's write lock: two
replacements at once take turns.
"""

from __future__ import annotations

from ..sql.recovery_codes import SqlRecoveryCodes
from .database import Database


class PostgresqlRecoveryCodes(SqlRecoveryCodes):
    _db: Database

    def _lock_account(self, member_id: str) -> None:
        self._db.lock("SELECT 1 FROM members WHERE id = ? FOR NO KEY UPDATE", (member_id,))

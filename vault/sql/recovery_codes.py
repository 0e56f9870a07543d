"""Two-step sign-in recovery codes (keyed hashes):
:class:`vault.repositories.RecoveryCodeRepository`, in the same statements on both engines.

Replacing a member's codes is one transaction, which :meth:`SqlRecoveryCodes._lock_account`
makes take turns with any other replacement of them, so the codes are exactly the last one's,
never a mix of both. A code is spent by one conditional ``UPDATE``: of two spending it at once,
the second finds it used.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import SqlRepository


class SqlRecoveryCodes(SqlRepository):
    def _lock_account(self, member_id: str) -> None:
        """Make the replacement of the member's codes wait for any other, inside its
        transaction. Nothing to do where a write transaction holds the whole store's lock."""

    def replace(self, member_id: str, code_hashes: Sequence[bytes], created_at: int) -> None:
        with self._db.transaction():
            self._lock_account(member_id)
            self._db.execute("DELETE FROM totp_recovery_codes WHERE member_id = ?", (member_id,))
            self._db.executemany(
                "INSERT INTO totp_recovery_codes (member_id, code_hash, created_at)"
                " VALUES (?, ?, ?)", [(member_id, code, created_at) for code in code_hashes])

    def spend(self, member_id: str, code_hash: bytes, used_at: int) -> bool:
        return self._db.execute(
            "UPDATE totp_recovery_codes SET used_at = ? WHERE member_id = ? AND code_hash = ?"
            " AND used_at IS NULL", (used_at, member_id, code_hash)).rowcount == 1

    def remaining(self, member_id: str) -> int:
        return int(self._db.one("SELECT count(*) FROM totp_recovery_codes WHERE member_id = ?"
                                " AND used_at IS NULL", (member_id,))[0])

    def delete_for_member(self, member_id: str) -> None:
        self._db.execute("DELETE FROM totp_recovery_codes WHERE member_id = ?", (member_id,))

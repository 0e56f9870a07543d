"""Two-step sign-in recovery codes (keyed hashes) in SQLCipher:
:class:`vault.repositories.RecoveryCodeRepository`, all of it in
:mod:`vault.sql.recovery_codes` (a replacement takes turns with others by the store's write
lock, which its transaction holds)."""

from __future__ import annotations

from ..sql.recovery_codes import SqlRecoveryCodes


class SqlcipherRecoveryCodes(SqlRecoveryCodes):
    """:class:`~vault.sql.recovery_codes.SqlRecoveryCodes`, as it is."""

"""Password reset links (hashes of their tokens) in SQLCipher:
:class:`vault.repositories.PasswordResetRepository`, all of it in
:mod:`vault.sql.password_resets`."""

from __future__ import annotations

from ..sql.password_resets import SqlPasswordResets


class SqlcipherPasswordResets(SqlPasswordResets):
    """:class:`~vault.sql.password_resets.SqlPasswordResets`, as it is."""

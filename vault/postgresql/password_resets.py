"""Password reset links (hashes of their tokens) in PostgreSQL:
:class:`vault.repositories.PasswordResetRepository`, all of it in
:mod:`vault.sql.password_resets`.

``password_resets`` is read by the hash of a link's token and distributed by it, so it has no
foreign key to ``members`` (another distribution): erasure deletes a member's links itself
(``vault/postgresql/erasure.py``), where SQLite's cascade does.
"""

from __future__ import annotations

from ..sql.password_resets import SqlPasswordResets


class PostgresqlPasswordResets(SqlPasswordResets):
    """:class:`~vault.sql.password_resets.SqlPasswordResets`, as it is."""

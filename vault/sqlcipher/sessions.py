"""Web sessions (hashes of their cookies) in SQLCipher:
:class:`vault.repositories.SessionRepository`, all of it in :mod:`vault.sql.sessions`."""

from __future__ import annotations

from ..sql.sessions import SqlSessions


class SqlcipherSessions(SqlSessions):
    """:class:`~vault.sql.sessions.SqlSessions`, as it is."""

"""Web sessions (hashes of their cookies) in PostgreSQL:
:class:`vault.repositories.SessionRepository`, all of it in :mod:`vault.sql.sessions`.

``web_sessions`` is read by the hash of its cookie on every request, and a session exists
before anyone signs in, so it is distributed by ``id_hash``, not by member, and has no foreign
key to ``members``: erasure deletes a member's sessions itself (``vault/postgresql/erasure.py``,
as SQLCipher's does). No read here decides a write.
"""

from __future__ import annotations

from ..sql.sessions import SqlSessions


class PostgresqlSessions(SqlSessions):
    """:class:`~vault.sql.sessions.SqlSessions`, as it is."""

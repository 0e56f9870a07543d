"""Pending sign-ups (sealed, by the hash of their token) in PostgreSQL:
:class:`vault.repositories.SignupRepository`, all of it in :mod:`vault.sql.signups`.

``signup_requests`` belongs to no member (none exists yet) and is distributed by the hash of
the link's token.
"""

from __future__ import annotations

from ..sql.signups import SqlSignups


class PostgresqlSignups(SqlSignups):
    """:class:`~vault.sql.signups.SqlSignups`, as it is."""

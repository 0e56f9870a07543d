"""Pending sign-ups (sealed, by the hash of their token) in SQLCipher:
:class:`vault.repositories.SignupRepository`, all of it in :mod:`vault.sql.signups`."""

from __future__ import annotations

from ..sql.signups import SqlSignups


class SqlcipherSignups(SqlSignups):
    """:class:`~vault.sql.signups.SqlSignups`, as it is."""

"""Sign-in failure counts and mail request windows in SQLCipher (:mod:`vault.sql.throttle`):
a transaction that counts a subject holds the whole store's write lock, so counting takes
turns without a lock of its own."""

from __future__ import annotations

from ..sql.throttle import SqlLoginAttempts, SqlRequestCounts


class SqlcipherLoginAttempts(SqlLoginAttempts):
    """:class:`~vault.sql.throttle.SqlLoginAttempts`, as it is."""


class SqlcipherRequestCounts(SqlRequestCounts):
    """:class:`~vault.sql.throttle.SqlRequestCounts`, as it is."""

"""Sign-in failure counts and mail request windows in PostgreSQL (:mod:`vault.sql.throttle`).

Both tables are distributed by their subject. SQLCipher's transaction holds the whole store's
write lock while it counts; here a read inside a transaction first takes a transaction-level
advisory lock of its subject (:func:`subject_lock`), held until the transaction ends, also when
the subject has no row yet (which no row lock could cover). Subjects of different hashes do not
wait for each other. Outside a transaction a read takes no lock.
"""

from __future__ import annotations

import hashlib

from ..sql import Connection
from ..sql.throttle import SqlLoginAttempts, SqlRequestCounts

_LOCK = "SELECT pg_advisory_xact_lock(?)"


def subject_lock(table: str, subject: bytes) -> int:
    """The advisory lock (a signed 64-bit key) of ``subject``'s row of ``table``."""
    digest = hashlib.sha256(f"vrmvault:{table}:".encode() + subject).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(database: Connection, table: str, subject: bytes) -> None:
    if database.in_transaction:
        database.execute(_LOCK, (subject_lock(table, subject),))


class PostgresqlLoginAttempts(SqlLoginAttempts):
    _GREATEST = "greatest"

    def _lock_subject(self, subject: bytes) -> None:
        _lock(self._db, "login_throttle", subject)


class PostgresqlRequestCounts(SqlRequestCounts):

    def _lock_subject(self, subject: bytes) -> None:
        _lock(self._db, "request_limits", subject)

"""Sign-in failure counts and mail request windows in PostgreSQL: the repositories of
``vault/throttle.py`` (:class:`vault.repositories.LoginAttemptRepository`,
:class:`vault.repositories.RequestCountRepository`).

Both tables are keyed by a subject (a keyed hash of an address or a client) and distributed by
it. ``vault/throttle.py`` reads a subject's count and writes the next one in one transaction,
and counts an attempt before the password is checked, so that parallel guesses see each other.
SQLCipher's transaction holds the whole store's write lock for that; here a read inside a
transaction first takes a transaction-level advisory lock of its subject (:func:`subject_lock`),
held until the transaction ends: two hosts counting one subject at once count one after the
other, the second from what the first wrote, also when the subject has no row yet (which no row
lock could cover). Subjects of different hashes do not wait for each other. Outside a
transaction a read takes no lock.
"""

from __future__ import annotations

import hashlib

from . import PostgresqlRepository
from .database import Database

_LOCK = "SELECT pg_advisory_xact_lock(?)"


def subject_lock(table: str, subject: bytes) -> int:
    """The advisory lock (a signed 64-bit key) of ``subject``'s row of ``table``."""
    digest = hashlib.sha256(f"vrmvault:{table}:".encode() + subject).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(database: Database, table: str, subject: bytes) -> None:
    if database.in_transaction:
        database.execute(_LOCK, (subject_lock(table, subject),))


class PostgresqlLoginAttempts(PostgresqlRepository):
    def locked_until(self, subject: bytes) -> int | None:
        _lock(self._db, "login_throttle", subject)
        row = self._db.one("SELECT locked_until FROM login_throttle WHERE subject = ?",
                           (subject,))
        return None if row is None else int(row[0])

    def failures(self, subject: bytes) -> tuple[int, int] | None:
        _lock(self._db, "login_throttle", subject)
        row = self._db.one("SELECT failures, last_failure FROM login_throttle WHERE subject = ?",
                           (subject,))
        return None if row is None else (int(row[0]), int(row[1]))

    def record(self, subject: bytes, *, failures: int, last_failure: int,
               locked_until: int) -> None:
        self._db.execute(
            "INSERT INTO login_throttle (subject, failures, last_failure, locked_until)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET"
            " failures = excluded.failures, last_failure = excluded.last_failure,"
            " locked_until = excluded.locked_until",
            (subject, failures, last_failure, locked_until))

    def forget(self, subject: bytes) -> None:
        self._db.execute("DELETE FROM login_throttle WHERE subject = ?", (subject,))

    def give_back(self, subject: bytes, *, free_failures: int) -> None:
        self._db.execute(
            "UPDATE login_throttle SET failures = greatest(failures - 1, 0),"
            " locked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE locked_until END"
            " WHERE subject = ?", (free_failures, subject))


class PostgresqlRequestCounts(PostgresqlRepository):
    def window(self, subject: bytes) -> tuple[int, int] | None:
        _lock(self._db, "request_limits", subject)
        row = self._db.one("SELECT window_start, requests FROM request_limits"
                           " WHERE subject = ?", (subject,))
        return None if row is None else (int(row[0]), int(row[1]))

    def record(self, subject: bytes, *, window_start: int, requests: int) -> None:
        self._db.execute(
            "INSERT INTO request_limits (subject, window_start, requests)"
            " VALUES (?, ?, ?) ON CONFLICT (subject) DO UPDATE SET"
            " window_start = excluded.window_start, requests = excluded.requests",
            (subject, window_start, requests))

    def forget_before(self, window_start: int) -> None:
        self._db.execute("DELETE FROM request_limits WHERE window_start < ?", (window_start,))

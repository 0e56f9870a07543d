"""Sign-in failure counts and mail request windows: the repositories of ``vault/throttle.py``
(:class:`vault.repositories.LoginAttemptRepository`,
:class:`vault.repositories.RequestCountRepository`), in the same statements on both engines.

Both tables are keyed by a subject (a keyed hash of an address or a client).
``vault/throttle.py`` reads a subject's count and writes the next one in one transaction, and
counts an attempt before the password is checked, so that parallel guesses see each other: a
read inside a transaction first makes the subject's counting take turns with any other
(``_lock_subject``), so that two counting one subject at once count one after the other, the
second from what the first wrote.
"""

from __future__ import annotations

from . import SqlRepository


class _SubjectCounts(SqlRepository):
    def _lock_subject(self, subject: bytes) -> None:
        """Make a transaction that reads ``subject``'s count wait for any other that does, until
        it ends. Nothing to do where a write transaction holds the whole store's lock."""


class SqlLoginAttempts(_SubjectCounts):
    #: The SQL function of the larger of two values (SQLite's scalar ``max``).
    _GREATEST = "max"

    def locked_until(self, subject: bytes) -> int | None:
        self._lock_subject(subject)
        row = self._db.one("SELECT locked_until FROM login_throttle WHERE subject = ?",
                           (subject,))
        return None if row is None else int(row[0])

    def failures(self, subject: bytes) -> tuple[int, int] | None:
        self._lock_subject(subject)
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
            f"UPDATE login_throttle SET failures = {self._GREATEST}(failures - 1, 0),"
            " locked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE locked_until END"
            " WHERE subject = ?", (free_failures, subject))


class SqlRequestCounts(_SubjectCounts):
    def window(self, subject: bytes) -> tuple[int, int] | None:
        self._lock_subject(subject)
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

"""Sign-in failure counts and mail request windows in SQLCipher: the repositories of
``vault/throttle.py`` (:class:`vault.repositories.LoginAttemptRepository`,
:class:`vault.repositories.RequestCountRepository`)."""

from __future__ import annotations

from . import SqlcipherRepository


class SqlcipherLoginAttempts(SqlcipherRepository):
    def locked_until(self, subject: bytes) -> int | None:
        row = self._db.one("SELECT locked_until FROM login_throttle WHERE subject = ?",
                           (subject,))
        return None if row is None else int(row[0])

    def failures(self, subject: bytes) -> tuple[int, int] | None:
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
            "UPDATE login_throttle SET failures = max(failures - 1, 0),"
            " locked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE locked_until END"
            " WHERE subject = ?", (free_failures, subject))


class SqlcipherRequestCounts(SqlcipherRepository):
    def window(self, subject: bytes) -> tuple[int, int] | None:
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

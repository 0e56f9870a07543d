"""Login throttling with exponential backoff, kept in the store so every worker sees it.

A subject is a keyed hash of a login address or of a client IP address (never either in clear).
After ``FREE_FAILURES`` failures a subject is locked for 2, 4, 8 … seconds up to ``MAX_LOCK``;
a success clears it, a quiet ``FORGET_AFTER`` seconds forgets it (OWASP ASVS 5.0 V6.3.1).
Which subjects an attempt counts against is decided in ``vault/members.py``: the account and
the client, or only the device when the browser holds a valid device cookie for the account
(``vault/devices.py``), so that a stranger's failures cannot lock a member out of a browser
they have signed in with.

:class:`RequestLimiter` is a plain fixed-window count for requests that send mail.
"""

from __future__ import annotations

from .clock import Clock
from .errors import ThrottledError
from .storage import Database

FREE_FAILURES = 5
MAX_LOCK = 15 * 60
FORGET_AFTER = 24 * 60 * 60


class LoginThrottle:
    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def check(self, *subjects: bytes) -> None:
        """Raise :class:`ThrottledError` if any subject is locked now."""
        now = int(self._clock())
        wait = 0
        for subject in subjects:
            row = self._db.one(
                "SELECT locked_until FROM login_throttle WHERE subject = ?", (subject,)
            )
            if row is not None and row["locked_until"] > now:
                wait = max(wait, row["locked_until"] - now)
        if wait:
            raise ThrottledError(retry_after=wait)

    def attempt(self, *subjects: bytes) -> None:
        """Reserve one attempt for every subject, atomically: refuse while any is locked,
        else count the attempt as a failure now (and lock if it is one too many).

        Counting before the password is checked is what stops parallel guesses: every worker
        takes the write lock here, so the sixth concurrent guess sees five counted ones.
        :meth:`succeeded` takes the count back for a right answer.
        """
        with self._db.transaction():
            self.check(*subjects)
            self.failed(*subjects)

    def failed(self, *subjects: bytes) -> None:
        now = int(self._clock())
        with self._db.transaction():
            for subject in subjects:
                row = self._db.one(
                    "SELECT failures, last_failure FROM login_throttle WHERE subject = ?",
                    (subject,),
                )
                failures = 1
                if row is not None and now - row["last_failure"] < FORGET_AFTER:
                    failures = row["failures"] + 1
                lock = 0
                if failures >= FREE_FAILURES:
                    lock = min(MAX_LOCK, 2 ** (failures - FREE_FAILURES + 1))
                self._db.execute(
                    "INSERT INTO login_throttle (subject, failures, last_failure, locked_until)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET"
                    " failures = excluded.failures, last_failure = excluded.last_failure,"
                    " locked_until = excluded.locked_until",
                    (subject, failures, now, now + lock),
                )

    def succeeded(self, subject: bytes, *shared: bytes) -> None:
        """A right answer: forget ``subject``; give one attempt back to each ``shared``
        subject (a client address many people may use)."""
        with self._db.transaction():
            self._db.execute("DELETE FROM login_throttle WHERE subject = ?", (subject,))
            for other in shared:
                self._db.execute(
                    "UPDATE login_throttle SET failures = max(failures - 1, 0),"
                    " locked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE locked_until END"
                    " WHERE subject = ?", (FREE_FAILURES, other))


class RequestLimiter:
    """Fixed-window limits on requests that send mail (sign-up, password reset).

    Each subject (a keyed hash of an address or a client) may make ``limit`` requests per
    ``window`` seconds. The limits are counted whether or not an account exists, so being
    limited tells nothing about who has a vault.
    """

    def __init__(self, *, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    def take(self, *limits: tuple[bytes, int, int]) -> None:
        """Count one request against each ``(subject, limit, window)``, or raise
        :class:`ThrottledError` (counting nothing) when any subject has used its limit."""
        now = int(self._clock())
        with self._db.transaction():
            counts = []
            wait = 0
            for subject, limit, window in limits:
                row = self._db.one("SELECT window_start, requests FROM request_limits"
                                   " WHERE subject = ?", (subject,))
                if row is None or now - row["window_start"] >= window:
                    counts.append((subject, now, 1))
                elif row["requests"] >= limit:
                    wait = max(wait, row["window_start"] + window - now)
                else:
                    counts.append((subject, row["window_start"], row["requests"] + 1))
            if wait:
                raise ThrottledError(retry_after=wait)
            # Windows long past are dropped as new ones start, so the table stays small.
            self._db.execute("DELETE FROM request_limits WHERE window_start < ?",
                             (now - FORGET_AFTER,))
            for subject, start, requests in counts:
                self._db.execute(
                    "INSERT INTO request_limits (subject, window_start, requests)"
                    " VALUES (?, ?, ?) ON CONFLICT (subject) DO UPDATE SET"
                    " window_start = excluded.window_start, requests = excluded.requests",
                    (subject, start, requests))

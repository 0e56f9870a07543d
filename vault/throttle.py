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
from .repositories import LoginAttemptRepository, RequestCountRepository

FREE_FAILURES = 5
MAX_LOCK = 15 * 60
FORGET_AFTER = 24 * 60 * 60


class LoginThrottle:
    def __init__(self, *, attempts: LoginAttemptRepository, clock: Clock) -> None:
        self._attempts = attempts
        self._clock = clock

    def check(self, *subjects: bytes) -> None:
        """Raise :class:`ThrottledError` if any subject is locked now."""
        now = int(self._clock())
        wait = 0
        for subject in subjects:
            locked_until = self._attempts.locked_until(subject)
            if locked_until is not None and locked_until > now:
                wait = max(wait, locked_until - now)
        if wait:
            raise ThrottledError(retry_after=wait)

    def attempt(self, *subjects: bytes, unchecked: tuple[bytes, ...] = ()) -> None:
        """Reserve one attempt for every subject, atomically: refuse while any is locked,
        else count the attempt as a failure now (and lock if it is one too many). The
        ``unchecked`` subjects are counted the same but do not refuse it.

        Counting before the password is checked is what stops parallel guesses: every worker
        takes the write lock here, so the sixth concurrent guess sees five counted ones.
        :meth:`succeeded` takes the count back for a right answer.
        """
        with self._attempts.transaction():
            self.check(*subjects)
            self.failed(*subjects, *unchecked)

    def failed(self, *subjects: bytes) -> None:
        now = int(self._clock())
        with self._attempts.transaction():
            for subject in subjects:
                known = self._attempts.failures(subject)
                failures = 1
                if known is not None and now - known[1] < FORGET_AFTER:
                    failures = known[0] + 1
                lock = 0
                if failures >= FREE_FAILURES:
                    lock = min(MAX_LOCK, 2 ** (failures - FREE_FAILURES + 1))
                self._attempts.record(subject, failures=failures, last_failure=now,
                                      locked_until=now + lock)

    def succeeded(self, subject: bytes, *shared: bytes) -> None:
        """A right answer: forget ``subject``; give one attempt back to each ``shared``
        subject (a client address many people may use)."""
        with self._attempts.transaction():
            self._attempts.forget(subject)
            for other in shared:
                self._attempts.give_back(other, free_failures=FREE_FAILURES)


class RequestLimiter:
    """Fixed-window limits on requests that send mail (sign-up, password reset).

    Each subject (a keyed hash of an address or a client) may make ``limit`` requests per
    ``window`` seconds. The limits are counted whether or not an account exists, so being
    limited tells nothing about who has a vault.
    """

    def __init__(self, *, counts: RequestCountRepository, clock: Clock) -> None:
        self._counts = counts
        self._clock = clock

    def take(self, *limits: tuple[bytes, int, int]) -> None:
        """Count one request against each ``(subject, limit, window)``, or raise
        :class:`ThrottledError` (counting nothing) when any subject has used its limit."""
        now = int(self._clock())
        with self._counts.transaction():
            counts = []
            wait = 0
            for subject, limit, window in limits:
                known = self._counts.window(subject)
                if known is None or now - known[0] >= window:
                    counts.append((subject, now, 1))
                elif known[1] >= limit:
                    wait = max(wait, known[0] + window - now)
                else:
                    counts.append((subject, known[0], known[1] + 1))
            if wait:
                raise ThrottledError(retry_after=wait)
            # Windows long past are dropped as new ones start, so the table stays small.
            self._counts.forget_before(now - FORGET_AFTER)
            for subject, start, requests in counts:
                self._counts.record(subject, window_start=start, requests=requests)

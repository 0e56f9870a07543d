"""Login throttling with exponential backoff, kept in the store so every worker sees it.

A subject is a keyed hash of a login address or of a client IP address (never either in clear).
After ``FREE_FAILURES`` failures a subject is locked for 2, 4, 8 … seconds up to ``MAX_LOCK``;
a success clears it, a quiet ``FORGET_AFTER`` seconds forgets it (OWASP ASVS 5.0 V6.3.1).
An attempt is counted as a failure before its password is checked (:meth:`LoginThrottle.attempt`);
a right answer takes back exactly that count (:meth:`LoginThrottle.succeeded`), so that signing in
from a shared network address neither locks it for the next person nor keeps its failures from
being forgotten.
Which subjects an attempt counts against is decided in ``vault/members.py``: the account and
the client, or only the device when the browser holds a valid device cookie for the account
(``vault/devices.py``), so that a stranger's failures cannot lock a member out of a browser
they have signed in with.

:class:`RequestLimiter` is a plain fixed-window count for requests that send mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .errors import ThrottledError
from .repositories import LoginAttemptRepository, RequestCountRepository

FREE_FAILURES = 5
MAX_LOCK = 15 * 60
FORGET_AFTER = 24 * 60 * 60


@dataclass(frozen=True)
class Counted:
    """A subject's row in the throttle: its failures, the last one's time, its lock's end."""

    failures: int
    last_failure: int
    locked_until: int


@dataclass(frozen=True)
class Attempt:
    """What :meth:`LoginThrottle.attempt` counted: each subject's row before (``None``: it had
    none) and after, so that :meth:`LoginThrottle.succeeded` can take back this attempt and no
    other."""

    counted: tuple[tuple[bytes, Counted | None, Counted], ...]

    def of(self, subject: bytes) -> tuple[Counted | None, Counted] | None:
        for counted, before, after in self.counted:
            if counted == subject:
                return before, after
        return None


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

    def attempt(self, *subjects: bytes, unchecked: tuple[bytes, ...] = ()) -> Attempt:
        """Reserve one attempt for every subject, atomically: refuse while any is locked,
        else count the attempt as a failure now (and lock if it is one too many). The
        ``unchecked`` subjects are counted the same but do not refuse it.

        Counting before the password is checked is what stops parallel guesses: every worker
        takes the write lock here, so the sixth concurrent guess sees five counted ones.
        :meth:`succeeded`, given what this returns, takes the count back for a right answer.
        """
        with self._attempts.transaction():
            self.check(*subjects)
            return self.failed(*subjects, *unchecked)

    def failed(self, *subjects: bytes) -> Attempt:
        now = int(self._clock())
        counted = []
        with self._attempts.transaction():
            for subject in subjects:
                before = self._row(subject)
                failures = 1
                if before is not None and now - before.last_failure < FORGET_AFTER:
                    failures = before.failures + 1
                lock = 0
                if failures >= FREE_FAILURES:
                    lock = min(MAX_LOCK, 2 ** (failures - FREE_FAILURES + 1))
                after = Counted(failures, now, now + lock)
                self._attempts.record(subject, failures=after.failures,
                                      last_failure=after.last_failure,
                                      locked_until=after.locked_until)
                counted.append((subject, before, after))
        return Attempt(tuple(counted))

    def succeeded(self, subject: bytes, *shared: bytes,
                  attempt: Attempt | None = None) -> None:
        """A right answer: forget ``subject``; take the ``attempt``'s count back from each
        ``shared`` subject (a client address many people may use).

        A shared subject nobody counted against since the attempt is put back as it was
        before it: its failures, the time of its last one and its lock (a right answer must not
        lock the address for the next person, nor keep its failures from being forgotten). One
        counted since (a concurrent failure, or a shared subject the attempt did not count) only
        has one failure taken back, its lock ending once fewer than ``FREE_FAILURES`` remain.
        """
        with self._attempts.transaction():
            self._attempts.forget(subject)
            for other in shared:
                counted = attempt.of(other) if attempt is not None else None
                if counted is None or self._row(other) != counted[1]:
                    self._attempts.give_back(other, free_failures=FREE_FAILURES)
                elif (before := counted[0]) is None:
                    self._attempts.forget(other)
                else:
                    self._attempts.record(other, failures=before.failures,
                                          last_failure=before.last_failure,
                                          locked_until=before.locked_until)

    def _row(self, subject: bytes) -> Counted | None:
        known = self._attempts.failures(subject)
        if known is None:
            return None
        return Counted(known[0], known[1], self._attempts.locked_until(subject) or 0)


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

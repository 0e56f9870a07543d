"""Per-client request limits of the brand API: a fixed one-minute window, shared by all workers.

Why in the data store: gunicorn's workers share no memory, and a per-worker counter would let a
client make ``workers x limit`` requests. Each request costs one statement: an UPSERT that
starts a new window or adds one to the current one and returns the count (``RETURNING``), atomic
under SQLite's write lock, so concurrent workers never lose a count. No read-then-write, no
transaction of its own, one row per client (no clean-up job).

Why a fixed window and not a sliding one: one integer per client, one statement. The cost is
that a client may spend its limit at the end of one window and again at the start of the next
(at most twice the limit within any 60 seconds); for a limit meant to stop runaway loops, not to
meter billing, that is enough. Refused requests count too: a client that ignores ``Retry-After``
stays refused until the window ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.clock import Clock
from vault.storage import Database

from .api_errors import RateLimitedError

WINDOW = 60                 # seconds
DEFAULT_LIMIT = 600         # requests per client per window


@dataclass(frozen=True)
class Allowance:
    """What is left of a client's window after this request."""

    limit: int
    remaining: int
    reset_in: int           # seconds until the window ends


class RateLimiter:
    def __init__(self, *, database: Database, clock: Clock, limit: int = DEFAULT_LIMIT,
                 window: int = WINDOW) -> None:
        if limit < 1 or window < 1:
            raise ValueError("the limit and the window are positive")
        self._db = database
        self._clock = clock
        self.limit = limit
        self.window = window

    def hit(self, client_id: str) -> Allowance:
        """Count one request of ``client_id``; :class:`RateLimitedError` past the limit."""
        now = int(self._clock())
        start = now - now % self.window
        used = self._db.one(
            "INSERT INTO api_rate_limits (client_id, window_start, used) VALUES (?, ?, 1)"
            " ON CONFLICT (client_id) DO UPDATE SET"
            " used = CASE WHEN window_start = excluded.window_start THEN used + 1 ELSE 1 END,"
            " window_start = excluded.window_start RETURNING used",
            (client_id, start))[0]
        reset_in = start + self.window - now
        if used > self.limit:
            raise RateLimitedError(retry_after=reset_in, limit=self.limit)
        return Allowance(self.limit, self.limit - used, reset_in)

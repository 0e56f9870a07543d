"""Per-client request limits of the brand API: a fixed one-minute window, shared by all workers.

Where the counters live: in ``ledger.db`` (table ``api_rate_limits``, ledger migration 2, not
part of the Merkle tree), and the :class:`RateLimiter` is given the ledger's connection. Why:

- Shared by the workers: gunicorn's workers share no memory, and a per-worker counter would let
  a client make ``workers x limit`` requests. Each count is one UPSERT that starts a new window
  or adds one to the current one and returns the count (``RETURNING``), atomic under the
  store's write lock, so concurrent workers never lose a count and a request is served only if
  its own count is within the limit. No read-then-write, one row per client (no clean-up job).
- Not the data store: a member-data read appends a ledger entry, so it takes the ledger's write
  lock anyway, and :mod:`web.api` counts in that same transaction (one more statement). In the
  data store the count was a write transaction per read of its own, and every data-store commit
  makes the other workers drop their page cache of it (SQLCipher then re-reads and decrypts it).
  Now an API read writes nothing to the data store.
- The trade-off: ``ledger.db`` also holds these operational counters, updated in place, beside
  the append-only record. They are client ids and integers, no personal data, and outside
  everything the ledger signs or proves. A per-worker allowance synchronised in batches was the
  other choice: no write at all, but up to ``workers x batch`` requests over the limit and a
  batch bookkeeping of its own, for no gain here since the ledger write is paid either way.

Refusing early: a worker remembers, in memory, the clients it refused and until when their
window lasts (:class:`SpentWindows`), and refuses their next requests before reading anything
(still counting them). It is only a shortcut: the count under the write lock decides, so a
client refused by another worker is refused here at its first count. Looking the count up in
the store before every read instead was one more ledger read per request, for every client.

Why a fixed window and not a sliding one: one integer per client, one statement. The cost is
that a client may spend its limit at the end of one window and again at the start of the next
(at most twice the limit within any 60 seconds); for a limit meant to stop runaway loops, not to
meter billing, that is enough. Refused requests count too: a client that ignores ``Retry-After``
stays refused until the window ends.
"""

from __future__ import annotations

import threading
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

    @property
    def exceeded(self) -> bool:
        """This request was past the limit (it is counted all the same)."""
        return self.remaining < 0

    def refusal(self) -> RateLimitedError:
        return RateLimitedError(retry_after=self.reset_in, limit=self.limit)


class SpentWindows:
    """The clients a process refused, each with the end of its spent window (Unix seconds)."""

    MAX_CLIENTS = 1024

    def __init__(self) -> None:
        self._until: dict[str, int] = {}
        self._lock = threading.Lock()

    def mark(self, client_id: str, until: int) -> None:
        with self._lock:
            if len(self._until) >= self.MAX_CLIENTS:
                self._until.clear()
            self._until[client_id] = until

    def until(self, client_id: str, now: int) -> int | None:
        """The end of ``client_id``'s spent window if it has not ended at ``now`` (so its
        request may be refused before any work). Whether a request is within the limit is
        decided only by :meth:`RateLimiter.count`."""
        until = self._until.get(client_id)
        return until if until is not None and now < until else None


class RateLimiter:
    """Counts requests per client in the ``api_rate_limits`` table of ``database`` (the
    ledger's connection, see the module docstring); ``spent`` is what this process remembers
    of the clients it refused (a fresh one, remembering nothing, by default)."""

    def __init__(self, *, database: Database, clock: Clock, limit: int = DEFAULT_LIMIT,
                 window: int = WINDOW, spent: SpentWindows | None = None) -> None:
        if limit < 1 or window < 1:
            raise ValueError("the limit and the window are positive")
        self._db = database
        self._clock = clock
        self.limit = limit
        self.window = window
        self._spent = spent if spent is not None else SpentWindows()

    def hit(self, client_id: str) -> Allowance:
        """Count one request of ``client_id``; :class:`RateLimitedError` past the limit."""
        allowance = self.count(client_id)
        if allowance.exceeded:
            raise allowance.refusal()
        return allowance

    def count(self, client_id: str) -> Allowance:
        """Count one request of ``client_id`` and say whether it is past the limit, without
        refusing it: for a caller that counts inside a transaction of its own, which must commit
        the count whether or not it then refuses (:mod:`web.api`'s member-data reads count in
        the transaction that records the read)."""
        now = int(self._clock())
        start = now - now % self.window
        # Its own (or the caller's) write transaction: the write lock is waited for in short
        # steps (vault.storage), not with SQLite's millisecond sleeps.
        with self._db.transaction():
            used = self._db.one(
                "INSERT INTO api_rate_limits (client_id, window_start, used) VALUES (?, ?, 1)"
                " ON CONFLICT (client_id) DO UPDATE SET"
                " used = CASE WHEN window_start = excluded.window_start THEN used + 1 ELSE 1 END,"
                " window_start = excluded.window_start RETURNING used",
                (client_id, start))[0]
        allowance = Allowance(self.limit, self.limit - used, start + self.window - now)
        if allowance.exceeded:
            self._spent.mark(client_id, start + self.window)
        return allowance


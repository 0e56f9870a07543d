"""Per-client request limits of the brand API: a fixed one-minute window, shared by all workers.

Where the counters live: in a SQLCipher file of their own, ``rates.db`` in the vault home (its
own subkey of the master key, mode 0600; ``brand_gateway/sqlcipher/rate_counts.py`` opens it and
holds its statements), and the :class:`RateLimiter` is given its repository. Why:

- Shared by the workers: the server's worker processes share no memory, and a per-worker
  counter would let a client make ``workers x limit`` requests. The shared count is one row per
  client, changed under the store's write lock, so concurrent workers never lose a count.
- Leased, not counted one by one: a worker takes a few requests at a time from the shared count
  (:func:`lease_size`: at most :data:`LEASE_MAX`, and at most an eighth of what is left of the
  window) and serves its client from that lease in memory. The count in the store is of
  requests granted, never fewer than were served: a client is never served more than the limit
  in a window, whatever the number of workers. What a worker's lease still holds when the
  client stops (at most its last, smallest lease) is lost for that window: a client may be
  refused up to a few requests short of the limit, never over it. Why: a shared count per
  request would be a write transaction shared by all workers on every read, with its lock and
  the other workers' page-cache loss, which the brand API's reads otherwise never pay
  (``consent/spool.py``).
- Not the data store: every data-store commit makes the other workers drop their page cache of
  it (SQLCipher then re-reads and decrypts it), and forgets what they remember of it
  (``Database.memoized``). An API read writes nothing to the data store.
- Not the ledger: the keeper merging the workers' spooled reads holds the ledger's write lock
  for milliseconds several times a second, and a worker renewing a lease would wait in SQLite's
  busy handler, whose sleeps are milliseconds. Measured (bench/brand_api.py) with the counters
  in the ledger: the brand API's p99 about 14 ms instead of about 6, and its throughput a
  twentieth lower. Only the workers write ``rates.db``, briefly.
- Nothing here is kept: the counts are of the current minute, client ids and integers, no
  personal data; backups leave the file out and a lost file only starts the windows afresh.

Refusing early: a worker remembers, in memory, the clients it refused and until when their
window lasts (:class:`SpentWindows`), and refuses their next requests before reading anything
(still counting them). It is only a shortcut: the shared count decides, so a client refused
by another worker is refused here when its lease here is spent. Looking the count up in
the store before every read instead would be one more read per request, for every client.

Why a fixed window and not a sliding one: one integer per client, one statement. The cost is
that a client may spend its limit at the end of one window and again at the start of the next
(at most twice the limit within any 60 seconds); for a limit meant to stop runaway loops, not to
meter billing, that is enough. Refused requests count too: a client that ignores ``Retry-After``
stays refused until the window ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vault.clock import Clock

from .api_errors import RateLimitedError

if TYPE_CHECKING:
    from .repositories import RateCountRepository

WINDOW = 60                 # seconds
DEFAULT_LIMIT = 600         # requests per client per window
LEASE_MAX = 32              # at most this many requests taken from the shared count at once
LEASE_SHARE = 8             # ... and at most this fraction of what is left of the window


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


@dataclass
class _Lease:
    """Requests of one client's window this process may serve without asking the store."""

    window_start: int
    granted: int            # taken from the shared count
    used: int               # of them, served or refused here
    before: int             # the shared count before the lease was taken


class Leases:
    """This process's leases, by client (at most :data:`MAX_CLIENTS`; forgetting one only
    leaves its rest unused, never lets a request through)."""

    MAX_CLIENTS = 1024

    def __init__(self) -> None:
        self._by_client: dict[str, _Lease] = {}
        self.lock = threading.Lock()

    def take(self, client_id: str, window_start: int) -> _Lease | None:
        """One more request of ``client_id`` on its lease, if it has one with room left."""
        lease = self._by_client.get(client_id)
        if lease is None or lease.window_start != window_start or lease.used >= lease.granted:
            return None
        lease.used += 1
        return lease

    def keep(self, client_id: str, lease: _Lease) -> None:
        if client_id not in self._by_client and len(self._by_client) >= self.MAX_CLIENTS:
            self._by_client.clear()
        self._by_client[client_id] = lease


def lease_size(left: int) -> int:
    """How many requests to take from the shared count when ``left`` remain in the window:
    a share of what is left, so that the last requests of a window go out one by one (the
    most a process can leave unused when its client stops is what its last lease had)."""
    return max(1, min(LEASE_MAX, left // LEASE_SHARE))


class RateLimiter:
    """Counts requests per client against the shared ``counts`` (``rates.db``), through
    ``leases``, this process's (a fresh, empty one by default); ``spent`` is what this process
    remembers of the clients it refused (likewise)."""

    def __init__(self, *, counts: RateCountRepository, clock: Clock,
                 limit: int = DEFAULT_LIMIT, window: int = WINDOW,
                 spent: SpentWindows | None = None, leases: Leases | None = None) -> None:
        if limit < 1 or window < 1:
            raise ValueError("the limit and the window are positive")
        self._counts = counts
        self._clock = clock
        self.limit = limit
        self.window = window
        self._spent = spent if spent is not None else SpentWindows()
        self._leases = leases if leases is not None else Leases()

    def hit(self, client_id: str) -> Allowance:
        """Count one request of ``client_id``; :class:`RateLimitedError` past the limit."""
        allowance = self.count(client_id)
        if allowance.exceeded:
            raise allowance.refusal()
        return allowance

    def count(self, client_id: str) -> Allowance:
        """Count one request of ``client_id`` and say whether it is past the limit, without
        refusing it (for a caller that must do something else before it refuses).

        Served from this process's lease while it lasts; else a new lease is taken from the
        shared count, in one write transaction of the counters (``counts.take_lease``).
        ``remaining`` is what is left as far as this process knows: other processes may hold
        leases taken since."""
        now = int(self._clock())
        start = now - now % self.window
        reset_in = start + self.window - now
        with self._leases.lock:
            lease = self._leases.take(client_id, start)
            if lease is None:
                lease = self._new_lease(client_id, start)
                self._leases.keep(client_id, lease)
        if lease.used > lease.granted:
            self._spent.mark(client_id, start + self.window)
        return Allowance(self.limit, self.limit - lease.before - lease.used, reset_in)

    def _new_lease(self, client_id: str, start: int) -> _Lease:
        limit = self.limit
        before, size = self._counts.take_lease(client_id, start,
                                               lambda counted: lease_size(limit - counted))
        granted = max(0, min(size, limit - before))
        # This request is the lease's first; past the limit (nothing granted) it is counted
        # all the same, and refused.
        return _Lease(start, granted, 1, before)

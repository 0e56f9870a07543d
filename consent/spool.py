"""Access spools: where a web worker records a brand read before the data leaves, merged into
the ledger within a bounded delay (the maximum merge delay of RFC 6962's logs).

Why not append to the ledger at once: every brand read is a ledger entry, and two workers
appending to the one shared ``ledger.db`` take turns at its write lock; each commit of the one
makes the other drop its page cache of the file, which SQLCipher then re-reads, authenticates
and decrypts page by page. That cost bounded the brand API to a third of a bare endpoint's
throughput (issue 4's measurements). A spool is one worker's own file: one INSERT per read, no
lock shared with anyone, no cache lost; the ledger takes the reads in batches.

The guarantee, in order:

1. The read is committed to the worker's spool before the response is sent: a read that cannot
   be recorded is not served (as before). The spool is a SQLCipher file under the vault home
   (``spool/<id>.db``), keyed with its own subkey of the master key, mode 0600.
2. Within :data:`MAX_MERGE_DELAY` seconds, the ledger keeper (``vrmvault serve`` runs it) appends
   it to the Merkle ledger with the time the read happened; from then on it is covered by the
   tree and by the next signed checkpoint. Anyone who reads the ledger merges what is pending
   first (:meth:`SpoolDirectory.merge_all`): the member's access page, the ledger commands and
   the console see every read at once.
3. Exactly once: the ledger records, per spool, the last row it took (``spool_marks``), in the
   transaction that appends the rows. A crash between that commit and the spool's trimming
   leaves rows the mark already covers; they are skipped, never appended twice.

What the delay leaves open: until its merge, a read is protected by SQLCipher's page
authentication of the spool, not yet by the tree. Someone holding the master key could delete
it in that second without a trace; once merged, removing it breaks the tree.

A writer holds an exclusive ``flock`` on ``<id>.lock`` for its life; a merger that can take that
lock knows the writer is gone, and removes the spool once it has taken all of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import StoreNotInitialisedError
from vault.home import VaultHome
from vault.keys import MasterKey
from vault.storage import Database

from .errors import ConsentInputError
from .events import Event, EventTag, canonical_details, check_tag

if TYPE_CHECKING:
    from .ledger import Ledger

SPOOL_DIRECTORY = "spool"
KEY_PURPOSE = "access-spool"
MAX_MERGE_DELAY = 1.0        # seconds: every read is in the Merkle ledger within this
MERGE_EVERY = 0.25           # seconds between the keeper's passes (vrmvault serve)
MERGE_BATCH = 256            # rows per ledger transaction: the workers' leases wait no longer
_YEAR_10000 = 253_402_300_800   # Unix seconds

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    -- 1, 2, 3, ...: the order of the reads in this spool, numbered by its one writer (so
    -- never reused once trimmed: the ledger's mark says which were merged)
    n        INTEGER PRIMARY KEY,
    at       REAL NOT NULL,            -- when the read happened, Unix seconds
    tag      TEXT NOT NULL,
    actor    TEXT NOT NULL,
    details  TEXT NOT NULL             -- JSON, as in the ledger entry (pseudonyms, no values)
);
"""

# Ledger migration 3 (consent/ledger.py): the last spool row each spool's merges took.
MARKS_MIGRATION_SQL = """
        CREATE TABLE spool_marks (
            spool           TEXT PRIMARY KEY,   -- the spool's file name, less '.db'
            merged_through  INTEGER NOT NULL    -- its last row in the ledger
        ) WITHOUT ROWID;
"""


def _spool_id_ok(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


@dataclass(frozen=True)
class Backlog:
    """The reads waiting in the spools: how many, when the oldest was served, in how many
    spools (one per live web worker, and those of ended ones not yet merged)."""

    reads: int
    oldest_at: float | None
    spools: int

    def behind(self, now: float) -> bool:
        """Whether a read has waited longer than the maximum merge delay (the keeper is not
        running, or cannot merge)."""
        return self.oldest_at is not None and now - self.oldest_at > MAX_MERGE_DELAY


class SpoolDirectory:
    """The spools of one vault home: ``<home>/spool``, one file per writer."""

    def __init__(self, home: VaultHome, master: MasterKey) -> None:
        self.path = home.root / SPOOL_DIRECTORY
        self._key = master.derive(KEY_PURPOSE)

    def writer(self) -> SpoolWriter:
        """A new spool for this process, locked until it is closed."""
        self.path.mkdir(mode=0o700, exist_ok=True)
        spool_id = secrets.token_hex(16)
        lock = _lock_file(self.path / f"{spool_id}.lock")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            database = Database.open(self.path / f"{spool_id}.db", self._key, create=True)
        except BaseException:
            os.close(lock)
            raise
        try:
            database.execute(_SCHEMA)
        except BaseException:
            database.close()
            os.close(lock)
            raise
        return SpoolWriter(spool_id, database, lock)

    def spool_ids(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.db") if _spool_id_ok(p.stem))

    def pending(self) -> int:
        """How many rows all spools hold (merged or not: a spool is trimmed after its merge)."""
        return self.backlog().reads

    def backlog(self) -> Backlog:
        """What waits in the spools, for compliance to see that the keeper keeps up."""
        reads, oldest, spools = 0, None, 0
        for spool_id in self.spool_ids():
            with self._opened(spool_id) as database:
                if database is not None:
                    spools += 1
                    count, first = database.one("SELECT count(*), min(at) FROM pending")
                    reads += count
                    if first is not None and (oldest is None or first < oldest):
                        oldest = first
        return Backlog(reads, oldest, spools)

    def merge_all(self, ledger: Ledger) -> int:
        """Append every spool's unmerged reads to ``ledger``; remove the spools whose writers
        are gone once all of theirs is in. The number of entries appended.

        A spool that cannot be merged (its file damaged, say) does not hold up the others: they
        are merged, then its error is raised (so a page or a command reports it, and the keeper
        says so at every pass)."""
        appended = 0
        failed: Exception | None = None
        for spool_id in self.spool_ids():
            try:
                appended += self._merge_one(ledger, spool_id)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
        return appended

    def _merge_one(self, ledger: Ledger, spool_id: str) -> int:
        lock_path = self.path / f"{spool_id}.lock"
        gone = _writer_gone(lock_path)
        appended = 0
        try:
            with self._opened(spool_id) as database:
                if database is not None:
                    appended = merge(ledger, spool_id, database)
            if gone is not None:
                for suffix in (".db", ".db-wal", ".db-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        (self.path / (spool_id + suffix)).unlink()
                with contextlib.suppress(FileNotFoundError):
                    lock_path.unlink()
        finally:
            if gone is not None:
                os.close(gone)
        return appended

    @contextlib.contextmanager
    def _opened(self, spool_id: str) -> Iterator[Database | None]:
        try:
            database = Database.open(self.path / f"{spool_id}.db", self._key)
        except StoreNotInitialisedError:
            yield None       # removed by another merger since it was listed
            return
        try:
            # A file another merger removed between the listing and the opening is created
            # anew, empty: give it the table, so that it merges as empty and is removed.
            database.execute(_SCHEMA)
            yield database
        finally:
            database.close()


def merge(ledger: Ledger, spool_id: str, spool: Database) -> int:
    """Append the rows of ``spool`` not yet in ``ledger``, in order, with their mark, then trim
    what the mark covers. Safe to repeat and to run in several processes at once: the mark is
    read and moved under the ledger's write lock."""
    appended = 0
    while True:
        with ledger.transaction():
            row = ledger.database.one("SELECT merged_through FROM spool_marks WHERE spool = ?",
                                      (spool_id,))
            mark = row[0] if row is not None else 0
            rows = spool.all("SELECT n, at, tag, actor, details FROM pending WHERE n > ?"
                             " ORDER BY n LIMIT ?", (mark, MERGE_BATCH))
            if rows:
                ledger.record_events([
                    Event(check_tag(EventTag(tag)), actor, json.loads(details), at=at)
                    for _, at, tag, actor, details in rows])
                mark = rows[-1][0]
                ledger.database.execute(
                    "INSERT INTO spool_marks (spool, merged_through) VALUES (?, ?)"
                    " ON CONFLICT (spool) DO UPDATE SET merged_through = excluded.merged_through",
                    (spool_id, mark))
        if mark:
            spool.execute("DELETE FROM pending WHERE n <= ?", (mark,))
        appended += len(rows)
        if len(rows) < MERGE_BATCH:
            return appended


class SpoolWriter:
    """One process's spool: :meth:`append` commits one read. Thread-safe; close it."""

    def __init__(self, spool_id: str, database: Database, lock: int) -> None:
        self.spool_id = spool_id
        self.database = database
        self._mutex = threading.Lock()
        self._last = 0           # a writer's spool is always new: its rows start at 1
        self.pid = os.getpid()
        # The lock goes with the writer, closed or collected (a web worker keeps its writer
        # for its life; the flock then ends with the process).
        self._release = weakref.finalize(self, os.close, lock)

    def append(self, event: Event, at: float) -> None:
        """Commit ``event`` (a brand read) at time ``at``; raises if it cannot be written."""
        # Checked as the ledger will check it (ConsentInputError, PersonalDataError): a row the
        # ledger would refuse must never reach a spool, where it would stop every later merge.
        details = canonical_details(event)
        if not 0 <= at < _YEAR_10000:       # NaN too: the ledger could not write its time
            raise ConsentInputError("a read's time is Unix seconds between 1970 and 9999")
        with self._mutex:
            # Numbered here, not by AUTOINCREMENT: its sequence table is a second page
            # written per read (a third of the cost of the append).
            self.database.execute(
                "INSERT INTO pending (n, at, tag, actor, details) VALUES (?, ?, ?, ?, ?)",
                (self._last + 1, at, EventTag(event.tag).value, event.actor, details))
            self._last += 1

    def close(self) -> None:
        try:
            self.database.close()
        finally:
            self._release()      # releases the flock: mergers may now remove the spool


def _lock_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _writer_gone(path: Path) -> int | None:
    """The lock of a spool whose writer has ended, held now; ``None`` while the writer lives."""
    try:
        lock = _lock_file(path)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return None
    return lock


__all__ = ["MAX_MERGE_DELAY", "Backlog", "SpoolDirectory", "SpoolWriter", "merge"]

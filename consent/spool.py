"""Access spools: where a web worker records a brand read before the data leaves, merged into
the ledger within a bounded delay (the maximum merge delay of RFC 6962's logs).

Why not append to the ledger at once: every brand read is a ledger entry, and two workers
appending to the one shared ``ledger.db`` take turns at its write lock; each commit of the one
makes the other drop its page cache of the file, which SQLCipher then re-reads, authenticates
and decrypts page by page. That cost bounded the brand API to a third of a bare endpoint's
throughput (bench/brand_api.py). A spool is one worker's own file, written by nobody else;
the ledger takes its reads in batches.

Why not a SQLCipher file: a spool is only ever appended to by its writer and read front to back
by a merger, and a SQLite commit per read (B-tree, page codec, WAL index, locks) cost a sixth of
the brand API's throughput, measured with bench/brand_api.py. A
spool is therefore a log of sealed records, each one ``os.write`` of:

    n (8 bytes, big-endian) | length of the sealed text (4 bytes) | AES-256-GCM(sealed text)

after a 9-byte header (:data:`MAGIC`). ``n`` counts the spool's records from 1. Every spool has
its own key, HKDF-SHA256 (RFC 5869) of the master key's ``access-spool`` subkey with the spool's
id, so the nonce is ``n`` itself (a counter nonce, RFC 5116 sec. 3.2: never repeated under one
key); the associated data binds a record to its spool and its place. A record moved, dropped
from the middle, changed or written without the key fails its merge (:class:`SpoolDamagedError`);
what a record holds (time, tag, actor, details) is sealed.

The guarantee, in order:

1. The read is written to the worker's spool before the response is sent: a read that cannot
   be recorded is not served (as before). ``os.write`` returns once the kernel holds the
   record, so it survives the worker's crash; like the ledger's own commits
   (``synchronous=NORMAL``), not a power cut. The spool lives under the vault home
   (``spool/<id>.log``), mode 0600 in a 0700 directory.
2. Within :data:`MAX_MERGE_DELAY` seconds, the ledger keeper (``vrmvault serve`` runs it) appends
   it to the Merkle ledger with the time the read happened; from then on it is covered by the
   tree and by the next signed checkpoint. Anyone who reads the ledger merges what is pending
   first (:meth:`SpoolDirectory.merge_all`): the member's access page, the ledger commands and
   the console see every read at once.
3. Exactly once: the ledger store records, per spool, the last record it took (its mark,
   :meth:`consent.repositories.LedgerRepository.spool_mark`), in the transaction that appends
   the records; a record at or below the mark is never appended
   again, whoever merges and however often.

What the delay leaves open: until its merge, a read is protected by its seal, not yet by the
tree. Someone holding the master key could cut it from the end of its spool in that second
without a trace; once merged, removing it breaks the tree.

A writer holds an exclusive ``flock`` on ``<id>.lock`` for its life. It starts a new spool
once its file holds :data:`SPOOL_BYTES` (its old one then looks ended); a merger that can take a
spool's lock knows its writer is gone, and removes the spool once it has taken all of it. A
record cut short at the end of an ended writer's spool was never acknowledged (the writer died
inside its ``os.write``), so its read was not served: it is dropped with the spool.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.home import VaultHome
from vault.keys import MasterKey

from .errors import ConsentInputError, SpoolDamagedError
from .events import Event, EventTag, canonical_details, check_tag

if TYPE_CHECKING:
    from .ledger import Ledger

SPOOL_DIRECTORY = "spool"
KEY_PURPOSE = "access-spool"
MAX_MERGE_DELAY = 1.0        # seconds: every read is in the Merkle ledger within this
MERGE_EVERY = 0.25           # seconds between the keeper's passes (vrmvault serve)
MERGE_BATCH = 256            # records per ledger transaction: other writers wait no longer
SPOOL_BYTES = 1 << 20        # a writer starts a new spool past this (about 2,500 reads)
MAGIC = b"VRMSPOOL\x01"       # a spool's first bytes: what it is, and the version of its records
MAX_RECORD = 1 << 16         # bytes of sealed text: far above a read's (some hundreds)
_HEADER = struct.Struct(">QI")          # n, length of the sealed text
_YEAR_10000 = 253_402_300_800   # Unix seconds
_HEAD = json.JSONEncoder(ensure_ascii=False)
_SUFFIX = ".log"



def _spool_id_ok(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _aead(key: bytes, spool_id: str) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"vrmvault/v1/access-spool/" + spool_id.encode()).derive(key))


def _nonce(n: int) -> bytes:
    return n.to_bytes(12, "big")


def _associated(spool_id: str, n: int) -> bytes:
    return MAGIC + spool_id.encode() + n.to_bytes(8, "big")


@dataclass(frozen=True)
class _Record:
    n: int
    at: float
    event: Event


class _Reader:
    """The complete records of one spool file, front to back, from where it left off: a merger
    keeps one per spool between its passes, so that a pass reads only what was added since.

    Damage stops a spool at the damaged record: the records before it are merged, and from
    there every merge raises :class:`SpoolDamagedError` (so the keeper reports it each pass)."""

    def __init__(self, path: Path, spool_id: str, key: bytes) -> None:
        self.path = path
        self.spool_id = spool_id
        self._aead = _aead(key, spool_id)
        self._offset = 0          # just past the last record read (0: nothing read yet)
        self.last = 0             # that record's n
        self._pending: list[tuple[int, bytes]] = []     # read, not yet in the ledger: (n, sealed)
        self.damage: str | None = None                  # where the records stop making sense

    def read_more(self) -> None:
        """Read the complete records written since the last call. An incomplete record at the
        end is left for the next call (its writer may be writing it now)."""
        if self.damage is not None:
            return
        try:
            with open(self.path, "rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return               # removed by another merger
        at = 0
        if self._offset == 0:
            if len(data) < len(MAGIC):
                return
            if data[:len(MAGIC)] != MAGIC:
                self.damage = f"spool {self.spool_id} is not a spool of this version"
                return
            at = len(MAGIC)
        last = self.last
        while len(data) - at >= _HEADER.size:
            n, length = _HEADER.unpack_from(data, at)
            if n != last + 1 or not 16 <= length <= MAX_RECORD:
                self.damage = f"spool {self.spool_id}: record {last + 1} is missing or damaged"
                break
            end = at + _HEADER.size + length
            if end > len(data):
                break
            self._pending.append((n, data[at + _HEADER.size:end]))
            last, at = n, end
        self._offset += at
        self.last = last

    def take(self, after: int, limit: int) -> list[_Record]:
        """Up to ``limit`` records numbered above ``after``, opened, in order: those before
        any damage; :class:`SpoolDamagedError` once there are none."""
        self.taken_through(after)
        taken = []
        for n, sealed in self._pending[:limit]:
            try:
                text = self._aead.decrypt(_nonce(n), sealed, _associated(self.spool_id, n))
                head, _, details_text = text.decode().partition("\n")
                at, tag, actor = json.loads(head)
                details = json.loads(details_text)
                if not isinstance(details, dict):
                    raise TypeError("the details are not a JSON object")
                event = Event(check_tag(EventTag(tag)), actor, details, at=at,
                              details_text=details_text)
            except (InvalidTag, ValueError, TypeError):
                self.damage = f"spool {self.spool_id}: record {n} does not open"
                break
            taken.append(_Record(n, at, event))
        if not taken and self.damage is not None:
            raise SpoolDamagedError(self.damage)
        return taken

    def taken_through(self, n: int) -> None:
        """Records up to ``n`` are in the ledger: forget them."""
        if self._pending:
            # Numbered one by one: record m is at index m - (the first's number).
            del self._pending[:max(0, n - self._pending[0][0] + 1)]


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
    """The spools of one vault home: ``<home>/spool``, one file per writer and spool."""

    def __init__(self, home: VaultHome, master: MasterKey) -> None:
        self.path = home.root / SPOOL_DIRECTORY
        self._key = master.derive(KEY_PURPOSE)
        self._readers: dict[str, _Reader] = {}      # kept between passes by a long merger

    def writer(self) -> SpoolWriter:
        """A new spool for this process, locked until it is closed."""
        return SpoolWriter(self)

    def _new_spool(self) -> tuple[str, int, int]:
        """A fresh spool: its id, its held lock and its file, the header written."""
        # The home too, if nothing made it yet (on PostgreSQL a host's home holds no store).
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.mkdir(mode=0o700, exist_ok=True)
        # Milliseconds first: spools sort (and merge) in the order they were begun, so a
        # writer's full spool goes in before the one it moved on to.
        spool_id = f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
        lock = _lock_file(self.path / f"{spool_id}.lock")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            file = os.open(self.path / f"{spool_id}{_SUFFIX}",
                           os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                           0o600)
        except BaseException:
            os.close(lock)
            raise
        try:
            _write_all(file, MAGIC)
        except BaseException:
            os.close(file)
            os.close(lock)
            raise
        return spool_id, lock, file

    def spool_ids(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.iterdir()
                      if p.suffix == _SUFFIX and _spool_id_ok(p.stem))

    def pending(self, ledger: Ledger) -> int:
        """How many reads the spools hold that ``ledger`` has not taken yet."""
        return self.backlog(ledger).reads

    def backlog(self, ledger: Ledger) -> Backlog:
        """What waits in the spools, for compliance to see that the keeper keeps up (reads
        ``ledger``'s marks; merges nothing)."""
        marks = ledger.store.spool_marks()
        reads, oldest, spools = 0, None, 0
        for spool_id in self.spool_ids():
            count, first = self._waiting(spool_id, marks.get(spool_id, 0))
            spools += 1
            reads += count
            if first is not None and (oldest is None or first < oldest):
                oldest = first
        return Backlog(reads, oldest, spools)

    def _waiting(self, spool_id: str, mark: int) -> tuple[int, float | None]:
        """How many of a spool's reads are above ``mark``, and when the first was served. A
        damaged spool waits (at least one read) since it was last written: it will not merge."""
        reader = self._reader(spool_id)
        try:
            reader.read_more()
            count = max(0, reader.last - mark)
            if count:
                return count, reader.take(mark, 1)[0].at
            if reader.damage is not None:
                raise SpoolDamagedError(reader.damage)
            return 0, None
        except SpoolDamagedError:
            try:
                written = reader.path.stat().st_mtime
            except FileNotFoundError:
                return 0, None
            return max(1, reader.last - mark), written

    def merge_all(self, ledger: Ledger) -> int:
        """Append every spool's unmerged reads to ``ledger``; remove the spools whose writers
        are gone once all of theirs is in. The number of entries appended.

        A spool that cannot be merged (its file damaged, say) does not hold up the others: they
        are merged, then its error is raised (so a page or a command reports it, and the keeper
        says so at every pass)."""
        appended = 0
        failed: Exception | None = None
        spool_ids = self.spool_ids()
        for gone in set(self._readers) - set(spool_ids):       # removed by another merger
            del self._readers[gone]
        for spool_id in spool_ids:
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
        try:
            appended = merge(ledger, self._reader(spool_id))
            if gone is not None:
                # Its writer has ended: all of it is in (an incomplete record at its end was
                # never acknowledged, see the module docstring).
                with contextlib.suppress(FileNotFoundError):
                    (self.path / f"{spool_id}{_SUFFIX}").unlink()
                with contextlib.suppress(FileNotFoundError):
                    lock_path.unlink()
                self._readers.pop(spool_id, None)
        finally:
            if gone is not None:
                os.close(gone)
        return appended

    def _reader(self, spool_id: str) -> _Reader:
        reader = self._readers.get(spool_id)
        if reader is None:
            reader = self._readers[spool_id] = _Reader(
                self.path / f"{spool_id}{_SUFFIX}", spool_id, self._key)
        return reader


def merge(ledger: Ledger, reader: _Reader) -> int:
    """Append the records of ``reader``'s spool not yet in ``ledger``, in order, with their
    mark. Safe to repeat and to run in several processes at once: the mark is read and moved
    under the ledger's write lock."""
    reader.read_more()
    appended = 0
    while True:
        with ledger.transaction():
            mark = ledger.store.spool_mark(reader.spool_id)
            records = reader.take(mark, MERGE_BATCH)
            if records:
                ledger.record_events([record.event for record in records])
                mark = records[-1].n
                ledger.store.set_spool_mark(reader.spool_id, mark)
        reader.taken_through(mark)
        appended += len(records)
        if len(records) < MERGE_BATCH:
            if reader.damage is not None:     # what came before it is in; it stops here
                raise SpoolDamagedError(reader.damage)
            return appended


class SpoolWriter:
    """One process's spool: :meth:`append` writes one read. Thread-safe; close it.

    It starts a new spool (a new id, lock and file) once its file holds :data:`SPOOL_BYTES`,
    and lets go of the full one, which mergers then take and remove."""

    def __init__(self, directory: SpoolDirectory) -> None:
        self._directory = directory
        self._mutex = threading.Lock()
        self.pid = os.getpid()
        self._open(*directory._new_spool())

    def _open(self, spool_id: str, lock: int, file: int) -> None:
        self.spool_id = spool_id
        self._file = file
        self._aead = _aead(self._directory._key, spool_id)
        self._last = 0           # a spool is always new: its records start at 1
        self._size = len(MAGIC)
        # The lock and the file go with the writer, closed or collected (a web worker keeps
        # its writer for its life; the flock then ends with the process).
        self._release = weakref.finalize(self, _close_both, file, lock)

    def append(self, event: Event, at: float) -> None:
        """Write ``event`` (a brand read) at time ``at``; raises if it cannot be written."""
        # Checked as the ledger will check it (ConsentInputError, PersonalDataError): a record
        # the ledger would refuse must never reach a spool, where it would stop every merge.
        details = canonical_details(event)
        if not 0 <= at < _YEAR_10000:       # NaN too: the ledger could not write its time
            raise ConsentInputError("a read's time is Unix seconds between 1970 and 9999")
        # [at, tag, actor], a line break, then the details' canonical text as it is (JSON text
        # holds no raw line break): the merger builds the ledger body around it.
        tag = event.tag if type(event.tag) is EventTag else EventTag(event.tag)
        text = (_HEAD.encode([at, tag.value, event.actor]) + "\n"
                + details).encode()
        with self._mutex:
            n = self._last + 1
            sealed = self._aead.encrypt(_nonce(n), text, _associated(self.spool_id, n))
            record = _HEADER.pack(n, len(sealed)) + sealed
            try:
                _write_all(self._file, record)
            except BaseException:
                # Cut back what part of the record was written, so the next one follows the
                # last whole record; if even that fails, this spool takes nothing more.
                try:
                    os.ftruncate(self._file, self._size)
                except OSError:
                    self._file = -1
                raise
            self._last = n
            self._size += len(record)
            if self._size >= SPOOL_BYTES:
                self._start_next()

    def _start_next(self) -> None:
        try:
            fresh = self._directory._new_spool()
        except OSError:
            return               # the full spool takes more; a later read tries again
        release = self._release
        self._open(*fresh)
        release()

    def close(self) -> None:
        self._release()          # releases the flock: mergers may now remove the spool


def _write_all(file: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(file, view):]


def _close_both(file: int, lock: int) -> None:
    try:
        if file >= 0:
            os.close(file)
    finally:
        os.close(lock)


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

"""The SQLCipher connection: the one module that talks to the driver.

Invariants:
- Only this module imports ``sqlcipher3``; every other module gets a :class:`Database`.
- A store is opened with a raw 256-bit key (``PRAGMA key = "x'…'"``), so no passphrase derivation
  runs per open, and the key is checked before anything else is read.
- Pages are authenticated with HMAC-SHA256 (:data:`PAGE_HMAC`), not SQLCipher 4's default
  HMAC-SHA512: on a CPU with SHA extensions it is the cheaper of the two for every page written
  and read, and as strong a MAC. A store made before (:data:`LEGACY_PAGE_HMAC`) is opened as it
  is: the key is tried with the one, then the other, and only a key that opens neither is wrong.
- Every connection runs in WAL mode with foreign keys on, ``secure_delete`` on (freed pages are
  overwritten, so erased rows do not linger in the file) and a sized page cache; pages stay at
  SQLCipher's default 4 KiB. The WAL is copied back into the store once it holds SQLite's default
  of 1,000 pages, or more for a store opened with ``checkpoint_pages`` (the ledger: an append of
  a batch writes a page in the member-ordered search index per member it names, the same pages
  batch after batch, and each checkpoint copies and syncs them once however many commits wrote
  them).
- SQL is parameterised, always; transactions are explicit (``BEGIN IMMEDIATE``), so a writer takes
  the write lock before it reads what it is about to change.
- A connection may be kept and reused (a web worker's, across requests), by one thread at a time;
  outside an explicit transaction no read transaction stays open (every statement runs in
  autocommit mode and its cursor is dropped or exhausted), so each statement sees every commit
  made before it, by any process. :meth:`Database.end_use` rolls back what a failed caller left.
- What a kept connection remembers between requests (:meth:`Database.memoized`) is valid only
  while the store is exactly as it was when it was read: any commit, by any connection, forgets
  all of it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlcipher3

from ..errors import ConstraintViolationError, StoreError, StoreNotInitialisedError, WrongKeyError
from ..keys import KEY_BYTES
from ..transactions import Transactions

DEFAULT_CACHE_KIB = 64 * 1024
DEFAULT_CHECKPOINT_PAGES = 1000         # SQLite's own default
# SQLCipher's log level is the process's, not the connection's: one key check at a time.
# Page authentication of new stores, and of stores made before it was chosen (SQLCipher 4's
# default), which are still opened as they are.
PAGE_HMAC = "HMAC_SHA256"
LEGACY_PAGE_HMAC = "HMAC_SHA512"
_QUIET_LOG = threading.Lock()
_LOG_LEVELS = {name: name for name in ("NONE", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")}
BUSY_TIMEOUT_MS = 10_000
# Waits between tries for the write lock (seconds), the last one repeated: see _begin_write.
_WRITE_LOCK_WAITS = (0.00005, 0.0001, 0.0002, 0.0005, 0.001)
_SQLITE_BUSY = 5

Row = sqlcipher3.Row
T = TypeVar("T")


class Database(Transactions):
    """A SQLCipher connection with the project's pragmas; use :meth:`open`."""

    engine = "sqlcipher"

    def __init__(self, connection: Any, path: Path, *, encrypted: bool) -> None:
        super().__init__()
        self._connection = connection
        self.path = path
        self.encrypted = encrypted
        self._snapshot_version: int | None = None

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: os.PathLike[str] | str,
        key: bytes,
        *,
        create: bool = False,
        cache_kib: int = DEFAULT_CACHE_KIB,
        checkpoint_pages: int = DEFAULT_CHECKPOINT_PAGES,
    ) -> Database:
        """Open (or with ``create=True`` create) the encrypted store at ``path`` with ``key``;
        its WAL is copied back into it each time it holds ``checkpoint_pages`` pages."""
        if len(key) != KEY_BYTES:
            raise WrongKeyError("a store key is exactly 32 bytes")
        return cls._open(Path(path), key, create=create, cache_kib=cache_kib,
                         checkpoint_pages=checkpoint_pages)

    @classmethod
    def unsafe_open_plaintext(
        cls, path: os.PathLike[str] | str, *, create: bool = False,
        cache_kib: int = DEFAULT_CACHE_KIB,
    ) -> Database:
        """Open a store with SQLCipher's encryption OFF.

        .. warning:: For the encryption-overhead benchmark only, which must run the very same
           storage code with encryption off. Nothing in the product calls this.
        """
        return cls._open(Path(path), None, create=create, cache_kib=cache_kib)

    @staticmethod
    def _settings(connection: Any, cache_kib: int, checkpoint_pages: int) -> None:
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            "secure_delete = ON",
            "temp_store = MEMORY",
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            f"cache_size = -{int(cache_kib)}",
            f"wal_autocheckpoint = {int(checkpoint_pages)}",
        ):
            connection.execute(f"PRAGMA {pragma}")

    @classmethod
    def _open(cls, path: Path, key: bytes | None, *, create: bool, cache_kib: int,
              checkpoint_pages: int = DEFAULT_CHECKPOINT_PAGES) -> Database:
        if not create and not path.exists():
            raise StoreNotInitialisedError(f"no store at {path}; run 'vrmvault init' first")
        connection = _keyed(path, key, PAGE_HMAC)
        if connection is None and key is not None:
            # A new store always opens with PAGE_HMAC (nothing to check yet): this is a store
            # made before it, or a wrong key.
            connection = _keyed(path, key, LEGACY_PAGE_HMAC)
        if connection is None:
            raise WrongKeyError(f"the key does not open the store at {path}")
        try:
            with _quiet(connection):        # a failing page is told once, by the error
                cls._settings(connection, cache_kib, checkpoint_pages)
        except sqlcipher3.DatabaseError as exc:
            # The key opened the first page, and a page past it failed (a file cut short).
            damage = _damage(connection)
            connection.close()
            raise StoreError(f"the store at {path} is damaged"
                             f" ({damage[0] if damage else exc})") from exc
        connection.row_factory = sqlcipher3.Row
        if create:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        return cls(connection, path, encrypted=key is not None)

    # -- statements ----------------------------------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        try:
            return self._connection.execute(sql, parameters)
        except sqlcipher3.Error as exc:
            raise _refused(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        try:
            return self._connection.executemany(sql, rows)
        except sqlcipher3.Error as exc:
            raise _refused(exc) from exc

    def one(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        cursor = self.execute(sql, parameters)
        try:
            return cursor.fetchone()
        except sqlcipher3.Error as exc:     # a page that fails to read or decrypt mid-query
            raise _refused(exc) from exc

    def all(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        cursor = self.execute(sql, parameters)
        try:
            return cursor.fetchall()
        except sqlcipher3.Error as exc:
            raise _refused(exc) from exc

    def _store_version(self) -> tuple[int, int]:
        """SQLite's ``PRAGMA data_version`` (it moves with every commit by another connection)
        and this connection's ``total_changes`` (every row it wrote, committed or not). Inside
        :meth:`snapshot` the pragma runs once and both are those of the snapshot; elsewhere it
        runs per call."""
        return (self._data_version(), self._connection.total_changes)

    def _written(self) -> int:
        return int(self._connection.total_changes)

    def _data_version(self) -> int:
        if not self._reading:
            return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        if self._snapshot_version is None:
            # Within one read transaction the value is that of its snapshot.
            self._snapshot_version = int(
                self._connection.execute("PRAGMA data_version").fetchone()[0])
        return self._snapshot_version

    # -- transactions (vault/transactions.py): SQLite's begin, commit and rollback ------------
    # A snapshot (a read transaction) is also cheaper than the same statements one by one: when
    # another connection has committed, SQLite drops this connection's page cache at the start
    # of its next read transaction, and re-reads (and SQLCipher decrypts) every page again;
    # inside one that happens once, not per statement.
    def _begin_read(self) -> None:
        self.execute("BEGIN DEFERRED")

    def _end_read(self) -> None:
        self._snapshot_version = None
        self.execute("COMMIT")

    def _commit(self) -> None:
        self.execute("COMMIT")

    def _rollback(self) -> None:
        self._forget_memo()
        self._connection.rollback()

    def _begin_write(self) -> None:
        """``BEGIN IMMEDIATE``, waiting for the write lock in steps of 50 µs to 1 ms.

        SQLite's own busy handler sleeps 1, 2, 5, 10, 15... ms between tries. Gunicorn workers
        that each commit a short transaction per request (the brand API: its ledger entry and
        rate count) collide on the write lock often, and each collision then cost a
        millisecond or more for a lock held a tenth of that. So the handler is off (timeout 0)
        while this polls, and back on for every other statement; the total wait is bounded by
        the same :data:`BUSY_TIMEOUT_MS`.
        """
        connection = self._connection
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
            tries = 0
            while True:
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    return
                except sqlcipher3.OperationalError as exc:
                    if (getattr(exc, "sqlite_errorcode", None) != _SQLITE_BUSY
                            or time.monotonic() >= deadline):
                        raise StoreError("the store refused a statement") from exc
                time.sleep(_WRITE_LOCK_WAITS[min(tries, len(_WRITE_LOCK_WAITS) - 1)])
                tries += 1
        except sqlcipher3.Error as exc:
            raise StoreError("the store refused a statement") from exc
        finally:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def end_use(self) -> bool:
        """Roll back a transaction left open (by a caller that failed half-way), so a kept
        connection goes back clean; whether there was one."""
        self._forget_transactions()
        self._snapshot_version = None
        if not self._connection.in_transaction:
            return False
        self._forget_memo()
        try:
            self._connection.rollback()
        except sqlcipher3.Error as exc:
            raise StoreError("the store could not roll back") from exc
        return True

    def checkpoint(self) -> None:
        """Fold the WAL back into the file and truncate it, so freed pages leave the WAL too."""
        self.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def damage(self) -> list[str]:
        """What is wrong with the file, page by page: every page whose HMAC fails (SQLCipher's
        ``cipher_integrity_check`` reads them all), then what SQLite's ``quick_check`` finds in
        its b-trees; empty for a sound store. Opening reads only the first page and a query
        only the pages it needs, so a damaged page is otherwise found when it is first read.
        SQLCipher's own log lines about each failed page are held back: the list tells them."""
        return _damage(self._connection)

    def vacuum_into(self, target: os.PathLike[str] | str) -> None:
        """Write a consistent copy of the store to ``target``, encrypted with the same key."""
        self.execute("VACUUM INTO ?", (str(target),))

    def close(self) -> None:
        self._connection.close()


def _keyed(path: Path, key: bytes | None, page_hmac: str) -> Any:
    """A connection to ``path`` keyed with ``key`` and ``page_hmac`` whose schema could be
    read, or ``None`` when they do not open it (SQLCipher's own log lines about the failed page
    check are held back, so a wrong key is told once, by the caller)."""
    try:
        # check_same_thread off: a kept connection may be lent to another thread (one at a
        # time) by the web layer's pool; SQLite itself is built serialised (thread-safe).
        connection = sqlcipher3.connect(
            str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    except sqlcipher3.Error as exc:
        raise StoreError(f"cannot open the store at {path}") from exc
    try:
        with _quiet(connection):
            if key is not None:
                # A 64-hex-digit blob literal is SQLCipher's raw-key form: no KDF per open.
                connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
                connection.execute(f"PRAGMA cipher_hmac_algorithm = {page_hmac}")
            # The header page is the first read that needs the key, and SQLCipher
            # authenticates every page it reads: a wrong key fails here, before SQLite
            # parses the schema (which the settings below make it do).
            connection.execute("PRAGMA schema_version").fetchone()
    except sqlcipher3.DatabaseError:
        connection.close()
        return None
    return connection


def damage_of(path: os.PathLike[str] | str, key: bytes) -> list[str]:
    """:meth:`Database.damage` of a store its key opens but which cannot be opened whole (a
    page its schema needs fails): read from its first page on, without its schema."""
    connection = _keyed(Path(path), key, PAGE_HMAC) or _keyed(Path(path), key, LEGACY_PAGE_HMAC)
    if connection is None:
        return ["its first page cannot be read"]
    try:
        return _damage(connection)
    finally:
        connection.close()


@contextlib.contextmanager
def _quiet(connection: Any) -> Iterator[None]:
    """SQLCipher's log lines (written straight to the process's stderr) held back on
    ``connection`` meanwhile: what fails is told by the error raised."""
    with _QUIET_LOG:
        level = connection.execute("PRAGMA cipher_log_level").fetchone()[0]
        connection.execute("PRAGMA cipher_log_level = NONE")
        try:
            yield
        finally:
            connection.execute(f"PRAGMA cipher_log_level = {_LOG_LEVELS.get(level, 'WARN')}")


def _damage(connection: Any) -> list[str]:
    found: list[str] = []
    with _quiet(connection):
        try:
            found = [row[0] for row in
                     connection.execute("PRAGMA cipher_integrity_check").fetchall()]
            if not found:
                found = [line for row in connection.execute("PRAGMA quick_check").fetchall()
                         for line in str(row[0]).splitlines() if row[0] != "ok"]
        except sqlcipher3.DatabaseError:
            found = found or ["a page cannot be read"]
    return found


def _refused(exc: Exception) -> StoreError | ConstraintViolationError:
    """The driver's error as the store's: a broken constraint the caller may handle, else a
    refusal that says nothing of the statement (no SQL or values in messages)."""
    if isinstance(exc, sqlcipher3.IntegrityError):
        return ConstraintViolationError(str(exc))
    return StoreError("the store refused a statement")

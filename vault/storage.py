"""The one module that talks to SQLCipher.

Invariants:
- Only this module imports ``sqlcipher3``; every other module gets a :class:`Database`.
- A store is opened with a raw 256-bit key (``PRAGMA key = "x'…'"``), so no passphrase derivation
  runs per open, and the key is checked before anything else is read.
- Every connection runs in WAL mode with foreign keys on, ``secure_delete`` on (freed pages are
  overwritten, so erased rows do not linger in the file) and a sized page cache; pages stay at
  SQLCipher's default 4 KiB.
- SQL is parameterised, always; transactions are explicit (``BEGIN IMMEDIATE``), so a writer takes
  the write lock before it reads what it is about to change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3

from .errors import StoreError, StoreNotInitialisedError, WrongKeyError

KEY_BYTES = 32
DEFAULT_CACHE_KIB = 64 * 1024
BUSY_TIMEOUT_MS = 10_000

Row = sqlcipher3.Row


class ConstraintViolation(Exception):
    """A UNIQUE, FOREIGN KEY or CHECK constraint refused a write (translated from the driver)."""


class Database:
    """A SQLCipher connection with the project's pragmas; use :meth:`open`."""

    def __init__(self, connection: Any, path: Path, *, encrypted: bool) -> None:
        self._connection = connection
        self.path = path
        self.encrypted = encrypted
        self._depth = 0

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: os.PathLike[str] | str,
        key: bytes,
        *,
        create: bool = False,
        cache_kib: int = DEFAULT_CACHE_KIB,
    ) -> Database:
        """Open (or with ``create=True`` create) the encrypted store at ``path`` with ``key``."""
        if len(key) != KEY_BYTES:
            raise WrongKeyError("a store key is exactly 32 bytes")
        return cls._open(Path(path), key, create=create, cache_kib=cache_kib)

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

    @classmethod
    def _open(cls, path: Path, key: bytes | None, *, create: bool, cache_kib: int) -> Database:
        if not create and not path.exists():
            raise StoreNotInitialisedError(f"no store at {path}; run 'vrmvault init' first")
        try:
            connection = sqlcipher3.connect(
                str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlcipher3.Error as exc:
            raise StoreError(f"cannot open the store at {path}") from exc
        try:
            if key is not None:
                # A 64-hex-digit blob literal is SQLCipher's raw-key form: no KDF per open.
                connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            # Reading the schema is the first thing that needs the key: a wrong key fails here.
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            connection.close()
            raise WrongKeyError(f"the key does not open the store at {path}") from exc
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            "secure_delete = ON",
            "temp_store = MEMORY",
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            f"cache_size = -{int(cache_kib)}",
        ):
            connection.execute(f"PRAGMA {pragma}")
        connection.row_factory = sqlcipher3.Row
        if create:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        return cls(connection, path, encrypted=key is not None)

    # -- statements ----------------------------------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        try:
            return self._connection.execute(sql, parameters)
        except sqlcipher3.IntegrityError as exc:
            raise ConstraintViolation(str(exc)) from exc
        except sqlcipher3.Error as exc:
            raise StoreError("the store refused a statement") from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        try:
            return self._connection.executemany(sql, rows)
        except sqlcipher3.IntegrityError as exc:
            raise ConstraintViolation(str(exc)) from exc
        except sqlcipher3.Error as exc:
            raise StoreError("the store refused a statement") from exc

    def one(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return self.execute(sql, parameters).fetchone()

    def all(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self.execute(sql, parameters).fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """A write transaction; nested uses join the outer one. Rolls back on any exception."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._connection.rollback()
            raise
        self._depth = 0
        self.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def checkpoint(self) -> None:
        """Fold the WAL back into the file and truncate it, so freed pages leave the WAL too."""
        self.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def vacuum_into(self, target: os.PathLike[str] | str) -> None:
        """Write a consistent copy of the store to ``target``, encrypted with the same key."""
        self.execute("VACUUM INTO ?", (str(target),))

    def close(self) -> None:
        self._connection.close()
